"""Metric tables as report tables: shown whole, labelled, and capped where they list parcels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ...core.catalogue import CATALOGUE
from ...core.plan import PlanData
from .model import Table, column_for, make_table

MAX_PARCEL_ROWS = 200  # parcels listed per report table; the CSVs list every parcel


def metric_table(key: str, zh: str, en: str, frame: pd.DataFrame, *, note: str = "") -> Table:
    """A metric table shown whole: index levels first, every column labelled."""
    flat = frame.reset_index()
    for name in flat.columns:
        if pd.api.types.is_bool_dtype(flat[name]):
            flat[name] = flat[name].map({True: "是 yes", False: "否 no"}).astype(object)
    columns = [column_for(str(name)) for name in flat.columns]
    return make_table(key, zh, en, flat, tuple(columns), note=note)


def missing(tables: Mapping[str, pd.DataFrame], names: tuple[str, ...]) -> tuple[str, ...]:
    absent = [n for n in names if n not in tables]
    return (f"Not computed: {', '.join(absent)} (metrics unavailable).",) if absent else ()


def zone_names(plan: PlanData) -> dict[tuple[str, str], str]:
    """(layer, code) -> Chinese name of every plan feature."""
    names = {}
    for spec in CATALOGUE.plan_layers:
        frame = plan.layers.get(spec.name)
        if frame is not None and "name_zh" in frame.columns:
            for code, name in zip(frame[spec.id_field], frame["name_zh"], strict=True):
                names[(spec.name, str(code))] = "" if name is None else str(name)
    return names


def cap_rows(
    frame: pd.DataFrame,
    *,
    by: list[str],
    ascending: list[bool],
    where: pd.Series | None = None,
) -> tuple[pd.DataFrame, bool]:
    """The rows of ``frame`` (those ``where`` is true, if given) whole when they are at most
    MAX_PARCEL_ROWS, else their first MAX_PARCEL_ROWS by ``by`` (a stable sort).

    Only the sort keys are copied and sorted, never the whole frame: a parcel table of 10^6
    rows costs its key columns, and the rows listed.
    """
    positions = np.arange(len(frame)) if where is None else np.flatnonzero(where.to_numpy())
    if len(positions) <= MAX_PARCEL_ROWS:
        return (frame if where is None else frame.iloc[positions]), False
    return frame.iloc[positions[_first_rows(frame, positions, by, ascending)]], True


def _first_rows(
    frame: pd.DataFrame, positions: np.ndarray, by: list[str], ascending: list[bool]
) -> np.ndarray:
    """The first MAX_PARCEL_ROWS of ``positions`` in the order of a stable sort by ``by``,
    missing values last (as ``sort_values(kind="stable", na_position="last")``)."""
    keys = [frame[column].to_numpy()[positions] for column in by]
    if all(k.dtype.kind in "biuf" for k in keys):  # numbers and flags: one numpy lexsort
        signed = [
            k.astype(float) if up else -k.astype(float)  # -NaN is NaN: still sorted last
            for k, up in zip(keys, ascending, strict=True)
        ]
        return np.lexsort(signed[::-1])[:MAX_PARCEL_ROWS]
    table = pd.DataFrame(dict(zip(by, keys, strict=True)))
    order = table.sort_values(by, ascending=ascending, kind="stable", na_position="last").index
    return order.to_numpy()[:MAX_PARCEL_ROWS]


def present(values: pd.Series) -> pd.Series:
    """``values.notna()``; a column of Python objects is tested without taking a reference to
    each of them (a forked worker that did would copy every memory page they sit on: about
    60 MB for a column of 10^6 distinct strings)."""
    if values.dtype != object:
        return values.notna()
    array = values.to_numpy()
    try:  # None, or a value unequal to itself: NaN, NaT
        missing = np.equal(array, None) | np.not_equal(array, array)
    except TypeError:  # pd.NA has no truth value: the ordinary test
        return values.notna()
    return pd.Series(~missing, index=values.index, name=values.name)


def cap_note(csv_name: str) -> str:
    return (
        f"仅列出前 {MAX_PARCEL_ROWS} 个地块，完整列表见 {csv_name}。 Only {MAX_PARCEL_ROWS} "
        f"parcels are listed here; {csv_name} beside this report lists every one."
    )
