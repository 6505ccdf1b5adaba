"""Check every scenario edit against the catalogue and the base data; findings, never prints.

Each finding is one line naming the scenario, the edit and the fix: an unknown scenario, layer,
feature or field, a value outside the field's allowed values (or not a number, or naming a
code its reference layer lacks), an empty required value, an unreadable or invalid outline.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import shapely

from ..core.catalogue import CATALOGUE, FieldSpec, LayerSpec
from ..core.plan import PlanData
from ..core.scenario import EDITS, GEOMETRY, SCENARIOS, Edit, Scenario, ScenarioSet
from .common import Finding

CHECK = "scenario_edit"
# layers a scenario cannot edit: the scenarios themselves
NOT_EDITABLE = (SCENARIOS.name, EDITS.name)
_POLYGONS = ("Polygon", "MultiPolygon")
RESERVED = ("base", "key", "group", "indicator", "unit")  # the matrix's own columns


def scenario_findings(
    plan: PlanData, scenarios: ScenarioSet, *, level: str = "error"
) -> list[Finding]:
    """Every problem of ``scenarios`` on the base ``plan``, at ``level``."""
    found: list[Finding] = []
    layer_codes: dict[str, tuple[pd.Series, set[str]]] = {}  # each layer's codes, made once
    for edit in scenarios.orphans:
        known = ", ".join(scenarios.codes) or "none"
        found.append(
            _finding(
                level,
                edit,
                f"names unknown scenario '{edit.scenario}'",
                f"use a scenario_code of the scenarios table (known: {known}) or add the scenario",
            )
        )
    seen: set[str] = set()
    for scenario in scenarios.scenarios:
        if scenario.code in seen:
            found.append(_scenario_finding(level, scenario, "is defined twice", "rename one"))
        seen.add(scenario.code)
        found.extend(_scenario_problems(level, scenario))
        codes: set[str] = set()
        for edit in scenario.edits:
            if edit.code in codes:
                found.append(
                    _finding(level, edit, "is used twice", "give each edit its own edit_code")
                )
            codes.add(edit.code)
            problem = edit_problem(plan, edit, layer_codes)
            if problem:
                found.append(_finding(level, edit, *problem))
    return found


def _scenario_problems(level: str, scenario: Scenario) -> Iterator[Finding]:
    pattern = SCENARIOS.code_pattern or ""
    if not scenario.code or not pd.Series([scenario.code]).str.fullmatch(pattern).all():
        yield _scenario_finding(
            level,
            scenario,
            "has a code that is not letters, digits, '-' and '_'",
            "rename it (the code names its map page), e.g. S1",
        )
    if scenario.code.lower() in RESERVED:
        yield _scenario_finding(
            level, scenario, "has a code the comparison table uses itself", "rename it, e.g. S1"
        )
    allowed = SCENARIOS.field("provenance").allowed
    if scenario.provenance not in allowed:
        yield _scenario_finding(
            level,
            scenario,
            f"has unknown provenance '{scenario.provenance}'",
            f"use one of: {', '.join(allowed)}",
        )


def edit_problem(
    plan: PlanData, edit: Edit, layer_codes: dict | None = None
) -> tuple[str, str] | None:
    """(what is wrong, the fix) for one edit, or None; ``layer_codes`` (layer -> its codes and
    their set) is filled and reused across calls (at 300 000 parcels each set costs 0.7 s)."""
    spec = CATALOGUE.get(edit.layer)
    if spec is None or edit.layer in NOT_EDITABLE:
        editable = ", ".join(n for n in CATALOGUE.names if n not in NOT_EDITABLE)
        return f"names unknown layer '{edit.layer}'", f"use one of: {editable}"
    if edit.layer not in plan.layers:
        return f"edits layer '{edit.layer}', which the data lack", "restore the layer or drop it"
    cache = {} if layer_codes is None else layer_codes
    if edit.layer not in cache:
        frame = plan.layers[edit.layer]
        ids = frame[spec.id_field].astype(str) if spec.id_field in frame.columns else pd.Series()
        cache[edit.layer] = (ids, set(ids))
    codes, known = cache[edit.layer]
    if edit.feature not in known:
        return (
            f"names unknown feature '{edit.feature}' of '{edit.layer}'",
            f"use a {spec.id_field} of the layer (e.g. {', '.join(codes.head(3))})",
        )
    if edit.field == GEOMETRY:
        return _geometry_problem(spec, edit)
    if edit.geometry_wkt:
        return "has geometry_wkt but its field is not 'geometry'", "set field to 'geometry'"
    if not spec.has_field(edit.field):
        fields = ", ".join(f for f in spec.field_names if f != spec.id_field)
        extra = ", geometry" if spec.geometry == "polygon" else ""
        return f"names unknown field '{edit.field}' of '{edit.layer}'", f"use {fields}{extra}"
    if edit.field == spec.id_field:
        return f"edits the code field '{edit.field}'", "edit another field (codes are identities)"
    return value_problem(plan, spec.field(edit.field), edit.value)


def value_problem(plan: PlanData, f: FieldSpec, value: str | None) -> tuple[str, str] | None:
    """What is wrong with ``value`` (text, None = null) for field ``f``, or None."""
    if value is None or value == "":
        if f.required:
            return f"empties required field '{f.name}'", f"give a value of {f.label_en.lower()}"
        return None
    if f.values and value not in f.allowed:
        allowed = ", ".join(f"{v.value} ({v.label_zh})" for v in f.values)
        return f"sets '{f.name}' to unknown value '{value}'", f"use one of: {allowed}"
    if f.type in ("real", "integer"):
        number = parse_number(value, f.type)
        if number is None:
            return f"sets {f.type} field '{f.name}' to '{value}'", "give a number"
        if f.min is not None and number < f.min:
            return f"sets '{f.name}' to {value}, below the minimum {f.min:g}", "give a larger value"
    if f.type == "boolean" and value.lower() not in ("true", "false", "1", "0"):
        return f"sets boolean field '{f.name}' to '{value}'", "use true or false"
    if f.ref and f.ref_layer in plan.layers:
        target = plan.layers[f.ref_layer]
        if f.ref_field in target.columns and value not in set(target[f.ref_field].astype(str)):
            known = ", ".join(target[f.ref_field].astype(str).head(8))
            return (
                f"sets '{f.name}' to '{value}', which is no {f.ref}",
                f"use one of: {known}{', ...' if len(target) > 8 else ''}",
            )
    return None


def parse_number(value: str, kind: str) -> float | int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if not np.isfinite(number):
        return None
    if kind == "integer":
        return int(number) if number == int(number) else None
    return number


def _geometry_problem(spec: LayerSpec, edit: Edit) -> tuple[str, str] | None:
    if spec.geometry != "polygon":
        return f"replaces the outline of '{edit.layer}', which has none", "edit a polygon layer"
    if not edit.geometry_wkt:
        return "replaces the outline without geometry_wkt", "give a WKT polygon in EPSG:4548"
    try:
        geom = shapely.from_wkt(edit.geometry_wkt)
    except shapely.errors.GEOSException as exc:
        return (
            f"has unreadable geometry_wkt ({str(exc).splitlines()[0][:80]})",
            "give a WKT POLYGON or MULTIPOLYGON in EPSG:4548",
        )
    if geom is None or geom.is_empty or geom.geom_type not in _POLYGONS:
        kind = "an empty geometry" if geom is None or geom.is_empty else geom.geom_type
        return f"has geometry_wkt of {kind}", "give a WKT POLYGON or MULTIPOLYGON in EPSG:4548"
    if not geom.is_valid:
        return (
            f"has an invalid outline ({shapely.is_valid_reason(geom)})",
            "fix it (in QGIS: Fix Geometries) and copy its WKT again",
        )
    xmin, ymin, xmax, ymax = geom.bounds
    if not (xmin > 3.0e5 and xmax < 7.0e5 and ymin > 4.2e6 and ymax < 4.8e6):
        return (
            "has an outline outside the range of EPSG:4548 near Miyun",
            "give coordinates in EPSG:4548 (metres, x about 500000, y about 4480000)",
        )
    return None


def _finding(level: str, edit: Edit, message: str, hint: str) -> Finding:
    return Finding(
        level,
        CHECK,
        EDITS.name,
        f"scenario '{edit.scenario}' edit '{edit.code}' "
        f"({edit.layer} {edit.feature} {edit.field}) {message}",
        hint,
        edit.fid,
        None,
    )


def _scenario_finding(level: str, scenario: Scenario, message: str, hint: str) -> Finding:
    return Finding(
        level, CHECK, SCENARIOS.name, f"scenario '{scenario.code}' {message}", hint, scenario.fid
    )
