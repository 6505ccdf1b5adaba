"""The land-use fields of a delivery: which source field fills which class field, in which table.

``--classification`` is per field (``current_use=gbt21010``, ``planned_use=plan``) or bare (every
field); a field without a choice has its classification detected from its codes and names
(``detect``). The class-code alias (DLBM, YDYHDM ...) fills the class field its classification
belongs to: a survey (GB/T 21010) is current use, a plan (用地用海, the plan's classes) planned use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ...core.catalogue import LayerSpec
from .crosswalk import Classified, Crosswalk, classify
from .detect import ALL_FIELDS, Detection, detect
from .fields import aliases, find_column

CLASS_REF = "land_use_classes.code"


def class_fields(spec: LayerSpec) -> list[str]:
    return [f.name for f in spec.fields if f.ref == CLASS_REF]


def primary_class_field(spec: LayerSpec, classification: str) -> str | None:
    """The field the classification's codes fill: the survey is current use, a plan planned use."""
    names = class_fields(spec)
    if not names:
        return None
    if "current_use" in names:
        return "current_use" if classification == "gbt21010" else "planned_use"
    return names[0]


def guess_from_name(source: str | None) -> tuple[str, str]:
    """The classification a field's NAME suggests: only a tie-break, the data decide first."""
    name = str(source or "").upper()
    if name == "DLBM":
        return "gbt21010", "DLBM (地类编码) taken as GB/T 21010; give --classification to choose"
    if name in ("YDYHDM", "YDYHFLDM"):
        return "ydyh", f"{name} taken as 用地用海; give --classification to choose"
    return "plan", "taken as the plan's classes; give --classification to choose"


def name_column(columns, source: str, *, primary: bool) -> str | None:
    """The name beside a code field: DLBM -> DLMC, YDYHFLDM -> YDYHFLMC; else a known alias."""
    upper = source.upper()
    if upper.endswith(("BM", "DM")):
        paired = find_column(columns, [source[:-2] + "MC"])
        if paired is not None:
            return paired
    return find_column(columns, aliases()["class_name"]) if primary else None


def alias_target(
    frame: pd.DataFrame,
    spec: LayerSpec,
    taken: Mapping[str, str],
    choices: Mapping[str, str],
    crosswalks: Mapping[str, Crosswalk],
    overrides: Mapping[str, str],
    *,
    where: str,
) -> str | None:
    """The class field that the class-code alias column (DLBM, YDYHDM, CAD ``Layer``) fills.

    ``taken``: class field -> source column already found by name or ``--field``.
    """
    columns = [c for c in frame.columns if c != frame.geometry.name]
    free = [t for t in class_fields(spec) if t not in taken]
    source = find_column([c for c in columns if c not in taken.values()], aliases()["class_code"])
    if source is None or not free:
        return None
    named = [t for t in free if t in choices]
    if len(named) == 1:
        return named[0]
    key = choices.get(ALL_FIELDS)
    if key is None:
        names_at = name_column(columns, source, primary=True)
        key = detect(
            frame[source],
            frame[names_at] if names_at else None,
            crosswalks,
            overrides,
            given=None,
            fallback=guess_from_name(source),
            source=source,
            name_field=names_at,
            target=free[0],
            where=where,
        ).key
    target = primary_class_field(spec, key)
    return target if target in free else free[0]


@dataclass(frozen=True)
class FieldClasses:
    detection: Detection
    result: Classified
    name_field: str | None


def classify_field(
    frame: pd.DataFrame,
    target: str,
    source: str,
    area_m2: pd.Series,
    choices: Mapping[str, str],
    crosswalks: Mapping[str, Crosswalk],
    overrides: Mapping[str, str],
    *,
    primary: bool,
    where: str,
) -> FieldClasses:
    """The plan classes of ``target`` from the source field ``source``, in its classification."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    names_at = name_column(columns, source, primary=primary)
    names = frame[names_at] if names_at is not None else None
    detection = detect(
        frame[source],
        names,
        crosswalks,
        overrides,
        given=choices.get(target, choices.get(ALL_FIELDS)),
        fallback=guess_from_name(source),
        source=source,
        name_field=names_at,
        target=target,
        where=where,
    )
    result = classify(
        frame[source],
        names,
        area_m2,
        crosswalks[detection.key],
        overrides,
        where=f"{where} field {source}",
    )
    return FieldClasses(detection, result, names_at)
