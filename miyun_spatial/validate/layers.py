"""Check a GeoPackage against the catalogue and the plan's spatial rules; returns findings, never prints.

Every finding names the layer, the feature (fid and code) and the fix. Levels: ``error`` (the
data cannot be trusted for metrics), ``warning`` (worth a look), ``info`` (state of the data).

This module checks the catalogue (layers, fields, types, values, codes, references); the
spatial rules are in ``validate_rules`` (overlap candidates: ``validate_overlap``), broken
input in ``validate_input``, the Finding and what they share in ``validate_common``.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import shapely

from ..core.catalogue import CATALOGUE, FieldSpec, LayerSpec
from ..core.code_text import NORMALISED, typed_as
from ..core.crs import WORK_CRS, crs_problem
from ..core.plan import PlanData
from ..core.scenario import scenarios_of
from .common import (
    DEFAULT_AREA_TOLERANCE,
    LEVELS,
    OUTSIDE_TOLERANCE,
    OVERLAP_MIN_M2,
    PARALLEL_FEATURES,
    Finding,
    _is_null,
    _label,
    convertible,
    findings_frame,
    first_error,
    has_errors,
    summary_counts,
)
from .control_lines import control_line_findings
from .input import input_findings
from .rules import _MEMO, _check_geometry_rules, _usable, _validity
from .scenarios import scenario_findings
from .text import not_matching, with_markup

LONG_NAME = 120  # characters; names longer than this break labels and tables
LONG_TEXT = 2000
_FIONA_TYPES = {
    "text": ("str",),
    "integer": ("int", "int32", "int64"),
    "real": ("float", "int", "int32", "int64"),
    "boolean": ("bool", "int", "int32", "int64"),
    "date": ("date", "datetime", "str"),
}
_GEOMETRY_TYPES = {
    "polygon": ("Polygon", "MultiPolygon", "3D Polygon", "3D MultiPolygon"),
    "point": ("Point", "MultiPoint", "3D Point", "3D MultiPoint"),
}


def validate(
    plan: PlanData,
    *,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    known: dict | None = None,
) -> list[Finding]:
    """Every finding for ``plan``, errors first.

    ``known``: a dict the caller keeps between validations of versions of the same data (the
    scenarios): each layer's own value checks are kept there and reused for a layer whose
    frame and field types are the very objects checked before.
    """
    token = _MEMO.set({})  # validity and usable layers, computed once per run
    try:
        return _validate(plan, area_tolerance, {} if known is None else known)
    finally:
        _MEMO.reset(token)


def _features_once(plan: PlanData, spec: LayerSpec, known: dict) -> list[Finding]:
    frame, info = plan.layers[spec.name], plan.info[spec.name]
    seen = known.get(spec.name)
    if seen is not None and seen[0] is frame and seen[1] is info:
        return [f for part in seen[2].values() for f in part]
    parts = _check_features(plan, spec, seen)
    known[spec.name] = (frame, info, parts)
    return [f for part in parts.values() for f in part]


def _validate(plan: PlanData, area_tolerance: float, known: dict) -> list[Finding]:
    findings: list[Finding] = list(input_findings(plan))
    for spec in CATALOGUE.layers:
        if spec.name not in plan.info:
            if spec.optional:
                continue  # an optional layer (control_lines, scenarios) may be absent
            findings.append(
                Finding(
                    "error",
                    "missing_layer",
                    spec.name,
                    f"layer '{spec.name}' ({spec.title_en}) is missing",
                    "restore it from the default geodata/miyun.gpkg (or 'miyun-spatial init-default')",
                )
            )
            continue
        findings.extend(_check_schema(plan, spec))
        if spec.name in plan.layers:
            findings.extend(_features_once(plan, spec, known))
    findings.extend(_check_stored_types(plan))
    findings.extend(_check_references(plan))
    findings.extend(_check_geometry_rules(plan, area_tolerance))
    findings.extend(control_line_findings(plan, with_markup))
    # a bad what-if is worth a look but does not stop the base ('scenarios' refuses it)
    findings.extend(scenario_findings(plan, scenarios_of(plan.layers), level="warning"))
    order = {level: i for i, level in enumerate(LEVELS)}
    return sorted(findings, key=lambda f: order[f.level])


def _check_schema(plan: PlanData, spec: LayerSpec) -> Iterator[Finding]:
    info = plan.info[spec.name]
    expected = _GEOMETRY_TYPES.get(spec.geometry or "", ())
    if spec.is_spatial and info.geometry_type not in expected:
        yield Finding(
            "error",
            "geometry_type",
            spec.name,
            f"geometry type is {info.geometry_type or 'none'}, expected {spec.geometry}",
            f"recreate the layer with {spec.geometry} geometries",
        )
    if not spec.is_spatial and info.geometry_type is not None:
        yield Finding(
            "warning",
            "geometry_type",
            spec.name,
            f"attribute table has a {info.geometry_type} geometry column",
            "it is ignored",
        )
    if spec.is_spatial:
        problem = crs_problem(info.crs)
        if problem and info.crs is None:
            yield Finding(
                "error",
                "crs_missing",
                spec.name,
                f"layer {problem}",
                f"assign its real CRS (normally {WORK_CRS.to_string()}) in QGIS: "
                "Layer Properties > Source",
            )
        elif problem and not convertible(info.crs):
            yield Finding(
                "error",
                "crs_unusable",
                spec.name,
                f"layer {problem}, which cannot be converted to {WORK_CRS.to_string()}",
                f"assign the CRS the coordinates are really in (normally {WORK_CRS.to_string()}) "
                "in QGIS: Layer Properties > Source",
            )
        elif problem:
            yield Finding(
                "warning",
                "crs_not_work",
                spec.name,
                f"layer {problem}",
                f"it is reprojected to {WORK_CRS.to_string()} for every computation; "
                "store it in EPSG:4548 to silence this",
            )
    for f in spec.fields:
        if f.name not in info.fields:
            if f.absent_ok and not f.required:
                continue
            level = "error" if f.required else "warning"
            yield Finding(
                level,
                "missing_field",
                spec.name,
                f"field '{f.name}' ({f.label_en}) is missing",
                f"add a {f.type} field named '{f.name}' (check for a rename)",
            )
            continue
        actual = info.fields[f.name].split(":")[0]
        if actual not in _FIONA_TYPES[f.type]:
            yield Finding(
                "error",
                "field_type",
                spec.name,
                f"field '{f.name}' is of type {actual}, expected {f.type}",
                f"convert the field to {f.type} (in QGIS: Refactor fields)",
            )


def _check_features(plan: PlanData, spec: LayerSpec, seen=None) -> dict[str, list[Finding]]:
    """The layer's own findings by part: its geometries, each field's values, typed codes.

    ``seen``: (frame, info, parts) of an earlier check of the same layer (``known``); a field
    that gave no finding then and holds the very same values and type now gives none again.
    """
    frame = plan.layers[spec.name]
    info_fields = plan.info[spec.name].fields
    parts: dict[str, list[Finding]] = {}
    if spec.is_spatial and isinstance(frame, gpd.GeoDataFrame):
        parts[" geometry"] = list(_check_geometries(frame, spec))
    for f in spec.fields:
        kind = info_fields.get(f.name, "")
        if f.name not in frame.columns or kind.split(":")[0] not in (_FIONA_TYPES[f.type]):
            continue
        if seen is not None and _unchanged_and_clean(frame, kind, f.name, seen):
            parts[f.name] = []
            continue
        parts[f.name] = list(_check_values(frame, spec, f))
    parts[" typed"] = list(_check_typed_codes(frame, spec))
    return parts


def _unchanged_and_clean(frame: pd.DataFrame, kind: str, name: str, seen) -> bool:
    before, info, parts = seen
    return (
        parts.get(name) == []
        and info.fields.get(name) == kind
        and name in before.columns
        and frame[name].equals(before[name])
    )


def _check_typed_codes(frame: pd.DataFrame, spec: LayerSpec) -> Iterator[Finding]:
    """One warning per field whose codes were typed in full-width (or other compatibility)
    forms and are read in their NFKC form (``code_text``)."""
    for field, typed in frame.attrs.get(NORMALISED, {}).items():
        fid = min(typed)
        shown = ", ".join(f"'{t}'" for t in list(typed.values())[:3])
        yield Finding(
            "warning",
            "code_normalised",
            spec.name,
            f"{len(typed)} value{'s' if len(typed) > 1 else ''} of '{field}' typed in "
            f"full-width or compatibility forms ({shown}) read as '{frame.at[fid, field]}'"
            f"{' etc.' if len(typed) > 1 else ''} (Unicode NFKC)",
            "retype them in half-width (ASCII) letters and digits",
            int(fid),
            _label(frame, spec, fid),
        )


def _check_geometries(frame: gpd.GeoDataFrame, spec: LayerSpec) -> Iterator[Finding]:
    geoms = frame.geometry.values
    present, valid = _validity(frame)
    for fid in frame.index[~present]:
        yield Finding(
            "error",
            "geometry_empty",
            spec.name,
            "feature has no geometry (null or empty)",
            "draw its geometry or delete the feature",
            int(fid),
            _label(frame, spec, fid),
        )
    invalid = present & ~valid
    for fid, geom in zip(frame.index[invalid], geoms[invalid], strict=True):
        yield Finding(
            "error",
            "geometry_invalid",
            spec.name,
            f"invalid geometry: {shapely.is_valid_reason(geom)}",
            "fix it in QGIS (Vector > Geometry Tools > Fix Geometries, or edit the vertex "
            "named in the reason)",
            int(fid),
            _label(frame, spec, fid),
        )


def _check_values(frame: pd.DataFrame, spec: LayerSpec, f: FieldSpec) -> Iterator[Finding]:
    values = frame[f.name]
    null = values.isna()
    if f.required:
        for fid in frame.index[null]:
            yield Finding(
                "error",
                "required_null",
                spec.name,
                f"required field '{f.name}' is empty",
                f"fill in {f.label_en.lower()}",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.values:
        bad = ~null & ~values.isin(f.allowed)
        allowed = ", ".join(f"{v.value} ({v.label_zh})" for v in f.values)
        for fid in frame.index[bad]:
            yield Finding(
                "error",
                "unknown_value",
                spec.name,
                f"'{f.name}' has unknown value '{values[fid]}'",
                f"use one of: {allowed}",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.min is not None and f.type in ("real", "integer"):
        numeric = pd.to_numeric(values, errors="coerce")
        for fid in frame.index[numeric < f.min]:
            yield Finding(
                "error",
                "below_minimum",
                spec.name,
                f"'{f.name}' is {values[fid]}, below the minimum {f.min:g}",
                "correct the value (a negative amount is not possible)",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.unique:
        dup = ~null & values.duplicated(keep=False)
        notes = _typed_notes(frame, f.name, values[dup])
        for fid in frame.index[dup]:
            yield Finding(
                "error",
                "duplicate_code",
                spec.name,
                f"'{f.name}' value '{values[fid]}' is used by more than one feature"
                + notes.get(values[fid], ""),
                "give each feature its own code",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.name == spec.id_field and spec.code_pattern:
        for fid in not_matching(values[~null], spec.code_pattern):
            yield Finding(
                "warning",
                "code_pattern",
                spec.name,
                f"code '{values[fid]}' does not follow the pattern {spec.code_pattern}",
                "rename it so that reports sort and link it properly",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.type == "text" and f.pattern:
        for fid in not_matching(values[~null], f.pattern):
            yield Finding(
                "error",
                "bad_format",
                spec.name,
                f"'{f.name}' value '{values[fid]}' is not of the form {f.pattern}",
                "correct the value",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.type == "text":
        text = values[~null].astype(str)
        for fid in with_markup(text):
            yield Finding(
                "warning",
                "markup_in_text",
                spec.name,
                f"'{f.name}' contains HTML or script markup",
                "it is shown as plain text on maps and reports; remove it if unintended",
                int(fid),
                _label(frame, spec, fid),
            )
        limit = LONG_NAME if f.name.startswith("name") or f.name == spec.id_field else LONG_TEXT
        limit = f.max_length or limit
        for fid in text.index[text.str.len() > limit]:
            yield Finding(
                "warning",
                "long_text",
                spec.name,
                f"'{f.name}' is {len(text[fid])} characters long",
                f"shorten it to under {limit} characters; maps and reports truncate it",
                int(fid),
                _label(frame, spec, fid),
            )


def _typed_notes(frame: pd.DataFrame, field: str, duplicates: pd.Series) -> dict[str, str]:
    """Value -> a note naming how its features typed it, for duplicates that NFKC made
    (``code_text``): "(typed 'B1', 'Ｂ１'; codes are compared in NFKC form)"."""
    if not frame.attrs.get(NORMALISED, {}).get(field):
        return {}
    notes = {}
    for value, group in duplicates.groupby(duplicates, sort=False):
        typed = [typed_as(frame, field, fid) or value for fid in group.index]
        if len(set(typed)) > 1:
            shown = ", ".join(f"'{t}'" for t in dict.fromkeys(typed))
            notes[value] = f" (typed {shown}; codes are compared in NFKC form)"
    return notes


def _check_stored_types(plan: PlanData) -> Iterator[Finding]:
    """Text stored in numeric columns (GDAL would read it as 0; the store reads it as null)."""
    for cell in plan.bad_cells:
        spec = CATALOGUE.get(cell.layer)
        frame = plan.layers.get(cell.layer)
        code = _label(frame, spec, cell.fid) if spec is not None and frame is not None else None
        shown = cell.value if len(cell.value) <= 40 else cell.value[:40] + "…"
        yield Finding(
            "error",
            "non_numeric",
            cell.layer,
            f"'{cell.field}' holds the text '{shown}' but is a {cell.declared} field",
            f"enter a number in '{cell.field}' or leave it empty (in QGIS: open the attribute "
            "table and retype the value)",
            cell.fid,
            code,
        )


def _check_references(plan: PlanData) -> Iterator[Finding]:
    for spec in CATALOGUE.layers:
        frame = plan.layers.get(spec.name)
        if frame is None:
            continue
        for f in spec.fields:
            if not f.ref or f.name not in frame.columns or f.ref_layer not in plan.layers:
                continue
            target = plan.layers[f.ref_layer]
            if f.ref_field not in target.columns:
                continue
            known = set(target[f.ref_field].dropna().astype(str))
            values = frame[f.name]
            broken = values.notna() & ~values.astype(str).isin(known)
            for fid in frame.index[broken]:
                yield Finding(
                    "error",
                    "broken_reference",
                    spec.name,
                    f"'{f.name}' = '{values[fid]}' matches no {f.ref_layer}.{f.ref_field}",
                    f"use a code that exists in layer '{f.ref_layer}'",
                    int(fid),
                    _label(frame, spec, fid),
                )


__all__ = [
    "DEFAULT_AREA_TOLERANCE",
    "LEVELS",
    "OUTSIDE_TOLERANCE",
    "OVERLAP_MIN_M2",
    "PARALLEL_FEATURES",
    "Finding",
    "_is_null",
    "_label",
    "_usable",
    "_validity",
    "convertible",
    "findings_frame",
    "first_error",
    "has_errors",
    "summary_counts",
    "validate",
]
