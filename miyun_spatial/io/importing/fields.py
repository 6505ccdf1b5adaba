"""Source fields -> catalogue fields: by name, by a known alias (``aliases.json``), by ``--field``.

Values are cast to the catalogue's types; a value that cannot be cast is an error naming the
feature and field. Fields the source lacks are filled by ``--set FIELD=VALUE`` or by a small
set of documented defaults (each reported); a required field still missing is an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from ...core.catalogue import LayerSpec
from ...core.errors import DataError, InputError

MAX_LISTED = 5


@cache
def aliases() -> dict:
    """The alias registry (``aliases.json``), loaded once."""
    return json.loads(files(__package__).joinpath("aliases.json").read_text(encoding="utf-8"))


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """``("a=b", ...)`` -> ``{"a": "b"}``; a pair without ``=`` is a usage error."""
    out = {}
    for pair in pairs:
        target, sep, value = pair.partition("=")
        if not sep or not target.strip():
            raise InputError(f"{option} {pair}: write TARGET=VALUE, e.g. {option} current_use=DLBM")
        out[target.strip()] = value.strip()
    return out


def find_column(columns, names) -> str | None:
    """The first of ``names`` among ``columns`` (case-insensitive), or None."""
    lower = {str(c).lower(): c for c in columns}
    for name in names:
        if str(name).lower() in lower:
            return lower[str(name).lower()]
    return None


@dataclass
class FieldMapping:
    """target field -> (source field or None, how it was filled), plus what was left over."""

    sources: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)

    def source_of(self, target: str) -> str | None:
        return self.sources.get(target, (None, ""))[0]


def resolve_fields(
    columns, spec: LayerSpec, explicit: Mapping[str, str], *, class_field: str | None
) -> FieldMapping:
    """Which source column fills each catalogue field of ``spec``.

    ``class_field`` (the layer's land-use class field for the chosen classification) also
    takes the class-code aliases (DLBM, YDYHDM, ... and DXF's ``Layer``).
    """
    columns = [c for c in columns if c != "geometry"]
    unknown = [t for t in explicit if not spec.has_field(t)]
    if unknown:
        raise InputError(
            f"--field {unknown[0]}=...: layer '{spec.name}' has no field '{unknown[0]}'; "
            f"its fields: {', '.join(spec.field_names)}"
        )
    mapping = FieldMapping()
    registry = aliases()
    for f in spec.fields:
        if f.name in explicit:
            source = find_column(columns, [explicit[f.name]])
            if source is None:
                raise InputError(
                    f"--field {f.name}={explicit[f.name]}: the source has no field "
                    f"'{explicit[f.name]}'; its fields: {', '.join(map(str, columns))}"
                )
            mapping.sources[f.name] = (source, "--field")
            continue
        source = find_column(columns, [f.name])
        if source is not None:
            mapping.sources[f.name] = (source, "same name")
            continue
        names = list(registry["fields"].get(f.name, ()))
        if f.name == class_field:
            names += registry["class_code"]
        source = find_column(columns, names)
        if source is not None:
            mapping.sources[f.name] = (source, "alias")
    used = {s for s, _how in mapping.sources.values()}
    mapping.unused = [str(c) for c in columns if c not in used]
    return mapping


def _text(values: pd.Series) -> pd.Series:
    def one(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return None
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None

    return values.map(one).astype(object)


def cast(values: pd.Series, kind: str, *, where: str, name: str) -> pd.Series:
    """``values`` as the catalogue type ``kind``; a value that does not fit raises DataError."""
    if kind == "text":
        return _text(values)
    if kind in ("real", "integer"):
        blank = values.isna() | values.astype(str).str.strip().eq("")
        numbers = pd.to_numeric(values.where(~blank), errors="coerce")
        bad = numbers.isna() & ~blank
        if kind == "integer":
            bad |= numbers.notna() & (numbers % 1 != 0)
        if bad.any():
            first = values[bad].iloc[0]
            raise DataError(
                f"{where}: field '{name}' holds {first!r}, not a {kind} number (features "
                f"{', '.join(map(str, values.index[bad][:MAX_LISTED]))}); fix the values or map "
                "another field with --field"
            )
        return numbers.astype("float64" if kind == "real" else "Int64")
    if kind == "boolean":
        text = values.astype(str).str.strip().str.lower()
        return text.isin(("1", "true", "yes", "y", "是")).astype("boolean").where(values.notna())
    return values


def defaults(spec: LayerSpec, frame: pd.DataFrame, context: Mapping) -> dict[str, tuple]:
    """Values for fields the source lacks: field -> (values or constant, reason).

    ``context``: ``classification``, ``gcj02`` (digitized on a web map), ``groups`` (plan class
    -> group of land_use_classes).
    """
    out: dict[str, tuple] = {}
    names = set(spec.field_names)
    if spec.name == "land_parcels":
        out["parcel_code"] = (
            pd.Series([f"IMP-{i}" for i in frame.index], index=frame.index),
            "no parcel id in the source: IMP-<source feature id>",
        )
        has = {c for c in ("current_use", "planned_use") if c in frame.columns}
        if has == {"current_use"}:
            out["planned_use"] = (
                frame["current_use"],
                "the delivery has no planned use: planned_use = current_use until a plan is "
                "imported (give --field planned_use=FIELD where the plan's class is)",
            )
        if has == {"planned_use"}:
            out["current_use"] = (
                frame["planned_use"],
                "the delivery has no current use: current_use = planned_use (give --field "
                "current_use=FIELD where the survey's class is)",
            )
        if has:
            current = frame["current_use" if "current_use" in has else "planned_use"]
            groups = context.get("groups", {})
            out["status"] = (
                current.map(lambda c: "built" if groups.get(c) == "construction" else "unbuilt"),
                "no build status in the source: construction land in current use = built, "
                "other land = unbuilt",
            )
        out["data_basis"] = (
            "surveyed",
            "data_basis = surveyed (a delivery, not synthetic; --set data_basis=reported for "
            "figures reported by enterprises)",
        )
    if {"geom_source", "position_confidence"} <= names:
        confidence = "medium" if context.get("gcj02") else "high"
        out["geom_source"] = ("imported", "geom_source = imported")
        out["position_confidence"] = (
            confidence,
            f"position_confidence = {confidence}"
            + (" (digitized on a GCJ-02 web map)" if context.get("gcj02") else " (a delivery)"),
        )
    if "area_basis" in names and "stated_area_ha" in frame.columns:
        out["area_basis"] = (
            frame["stated_area_ha"].notna().map({True: "stated", False: "assumed"}),
            "area_basis = stated where stated_area_ha is given, else assumed",
        )
    return out
