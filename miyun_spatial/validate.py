"""Check a GeoPackage against the catalogue and the plan's spatial rules; returns findings, never prints.

Every finding names the layer, the feature (fid and code) and the fix. Levels: ``error`` (the
data cannot be trusted for metrics), ``warning`` (worth a look), ``info`` (state of the data).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from .catalogue import CATALOGUE, FieldSpec, LayerSpec
from .crs import WORK_CRS, crs_problem
from .metrics.overlay import _chunked
from .store import PlanData
from .validate_overlap import interior_pairs

LEVELS = ("error", "warning", "info")
DEFAULT_AREA_TOLERANCE = 0.05
OVERLAP_MIN_M2 = 1.0  # overlaps smaller than this are snapping noise
OUTSIDE_TOLERANCE = 0.001  # share of a feature's area allowed outside its container
LONG_NAME = 120  # characters; names longer than this break labels and tables
LONG_TEXT = 2000
PARALLEL_FEATURES = 50_000  # features beyond which per-feature GEOS tests run in threads
_MARKUP = re.compile(r"<[a-zA-Z/!]|javascript:|on[a-z]+\s*=", re.IGNORECASE)
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


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    layer: str | None
    message: str
    hint: str = ""
    fid: int | None = None
    code: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def where(self) -> str:
        parts = [self.layer or "(file)"]
        if self.fid is not None:
            parts.append(f"fid {self.fid}")
        if self.code:
            parts.append(str(self.code))
        return " / ".join(parts)


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    columns = ["level", "check", "layer", "fid", "code", "message", "hint"]
    frame = pd.DataFrame([f.to_dict() for f in findings], columns=columns)
    frame["fid"] = pd.array(frame["fid"].tolist(), dtype="Int64")  # 3, not 3.0, beside blanks
    return frame


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level == "error" for f in findings)


def validate(plan: PlanData, *, area_tolerance: float = DEFAULT_AREA_TOLERANCE) -> list[Finding]:
    """Every finding for ``plan``, errors first."""
    from .validate_input import input_findings  # it builds on this module's Finding

    token = _MEMO.set({})  # validity and usable layers, computed once per run
    try:
        return _validate(plan, area_tolerance, input_findings)
    finally:
        _MEMO.reset(token)


# Within one validate() call: id(frame) -> (frame, validity mask), ("usable", name) -> frame.
# The frame is kept alongside its mask, so that its id cannot be reused meanwhile.
_MEMO: ContextVar[dict | None] = ContextVar("miyun_validate_memo", default=None)


def _validity(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(present, valid) masks of ``frame``'s geometries: not null or empty / also valid."""
    memo = _MEMO.get()
    if memo is not None and id(frame) in memo:
        return memo[id(frame)][1]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    valid = present.copy()
    valid[present] = _chunked(shapely.is_valid, geoms[present], min_items=PARALLEL_FEATURES)
    if memo is not None:
        memo[id(frame)] = (frame, (present, valid))
    return present, valid


def _validate(plan: PlanData, area_tolerance: float, input_findings) -> list[Finding]:
    findings: list[Finding] = list(input_findings(plan))
    for spec in CATALOGUE.layers:
        if spec.name not in plan.info:
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
            findings.extend(_check_features(plan, spec))
    findings.extend(_check_stored_types(plan))
    findings.extend(_check_references(plan))
    findings.extend(_check_geometry_rules(plan, area_tolerance))
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


@functools.cache
def convertible(crs: CRS | None) -> bool:
    """True when coordinates in ``crs`` can be converted to the work CRS (EPSG:4548)."""
    if crs is None:
        return False
    try:
        Transformer.from_crs(crs, WORK_CRS, always_xy=True)
    except ProjError:
        return False
    return True


def _label(frame: pd.DataFrame, spec: LayerSpec, fid) -> str | None:
    if spec.id_field in frame.columns:
        value = frame.at[fid, spec.id_field]
        return None if _is_null(value) else str(value)
    return None


def _is_null(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _check_features(plan: PlanData, spec: LayerSpec) -> Iterator[Finding]:
    frame = plan.layers[spec.name]
    info_fields = plan.info[spec.name].fields
    if spec.is_spatial and isinstance(frame, gpd.GeoDataFrame):
        yield from _check_geometries(frame, spec)
    for f in spec.fields:
        if (
            f.name not in frame.columns
            or info_fields.get(f.name, "").split(":")[0] not in (_FIONA_TYPES[f.type])
        ):
            continue
        yield from _check_values(frame, spec, f)


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
        for fid in frame.index[dup]:
            yield Finding(
                "error",
                "duplicate_code",
                spec.name,
                f"'{f.name}' value '{values[fid]}' is used by more than one feature",
                "give each feature its own code",
                int(fid),
                _label(frame, spec, fid),
            )
    if f.name == spec.id_field and spec.code_pattern:
        for fid in _not_matching(values[~null], spec.code_pattern):
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
        for fid in _not_matching(values[~null], f.pattern):
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
        for fid in _with_markup(text):
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


def _with_markup(text: pd.Series) -> pd.Index:
    """Index labels of ``text`` that contain markup (``_MARKUP``), in order.

    Markup needs '<', ':' or '='; only values holding one of them (found by fast literal
    scans) meet the regular expression.
    """
    maybe = np.zeros(len(text), dtype=bool)
    for char in "<:=":
        maybe |= text.str.contains(char, regex=False).to_numpy(dtype=bool)
    candidates = text[maybe]
    return candidates.index[candidates.str.contains(_MARKUP)]


def _not_matching(values: pd.Series, pattern: str) -> pd.Index:
    """Index labels of ``values`` whose text ``re.match(pattern)`` rejects, in order.

    On long text columns Arrow's RE2 first finds the values that surely match (for patterns
    RE2 matches no more often than Python: no escapes but ``\\d``, no negated classes, no
    flags); Python's ``re`` judges the rest.
    """
    regex = re.compile(pattern)
    ok = np.zeros(len(values), dtype=bool)
    if len(values) >= PARALLEL_FEATURES and _positive_only(pattern):
        text = _arrow_text(values)
        if text is not None:
            try:
                found = pc.match_substring_regex(text, f"^(?:{pattern})")
                ok = found.to_numpy(zero_copy_only=False).astype(bool)
            except pa.ArrowInvalid:  # syntax RE2 does not take: Python alone
                pass
    rest = np.flatnonzero(~ok)
    text = values.iloc[rest].astype(object).map(str).tolist()
    ok[rest] = np.fromiter((regex.match(v) is not None for v in text), dtype=bool, count=len(text))
    return values.index[~ok]


def _positive_only(pattern: str) -> bool:
    """True for patterns whose RE2 matches are Python matches too (ASCII classes, ``\\d``,
    literals, quantifiers, anchors: RE2's ``\\d`` and ``$`` accept less, never more)."""
    rest = pattern.replace("\\d", "")
    return "\\" not in rest and "[^" not in rest and "(?" not in rest


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """``values`` (no missing values) as an Arrow string array, or None unless all are text."""
    if isinstance(values.dtype, pd.StringDtype):
        return pa.array(values.array, type=pa.large_string(), from_pandas=True)
    data = np.asarray(values, dtype=object)
    if pd.api.types.infer_dtype(data, skipna=False) != "string":
        return None
    return pa.array(data, type=pa.large_string())


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


def _usable(plan: PlanData, name: str) -> gpd.GeoDataFrame | None:
    """The layer's valid, non-empty features in EPSG:4548, or None when it cannot be measured."""
    memo = _MEMO.get()
    if memo is not None and ("usable", name) in memo:
        return memo["usable", name]
    frame = plan.layers.get(name)
    if not isinstance(frame, gpd.GeoDataFrame) or not convertible(frame.crs):
        return None
    _present, valid = _validity(frame)
    if not valid.all():
        frame = frame[valid]
    usable = frame if frame.crs.equals(WORK_CRS) else frame.to_crs(WORK_CRS)
    if memo is not None:
        memo["usable", name] = usable
    return usable


def _check_geometry_rules(plan: PlanData, tolerance: float) -> Iterator[Finding]:
    district = _usable(plan, "district")
    boundary = (
        shapely.union_all(district.geometry.values)
        if district is not None and len(district)
        else None
    )
    for spec in CATALOGUE.layers:
        frame = _usable(plan, spec.name)
        if frame is None or not len(frame):
            continue
        rules = spec.rules
        if rules.get("no_overlap"):
            yield from _overlaps(frame, spec)
        if rules.get("inside_district") and boundary is not None:
            yield from _outside(frame, spec, boundary, "district", "outside_district")
        if rules.get("within_ref"):
            yield from _within_parent(plan, frame, spec, rules["within_ref"])
        if rules.get("same_geometry_ref"):
            yield from _same_geometry(plan, frame, spec, rules["same_geometry_ref"])
        if spec.role == "plan":
            yield from _stated_areas(frame, spec, tolerance)
        yield from _provenance_counts(frame, spec)


def _overlaps(frame: gpd.GeoDataFrame, spec: LayerSpec) -> Iterator[Finding]:
    geoms = np.asarray(frame.geometry.values)
    left, right = interior_pairs(geoms)
    if not len(left):
        return
    # The overlap of two features is at most the overlap of their bounding boxes: pairs whose
    # boxes share <= OVERLAP_MIN_M2 (neighbours of a tiling) need no costly intersection.
    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    lo = np.maximum(bounds[left, :2], bounds[right, :2])
    hi = np.minimum(bounds[left, 2:], bounds[right, 2:])
    box_overlap = np.prod(np.clip(hi - lo, 0, None), axis=1)
    keep = box_overlap > OVERLAP_MIN_M2
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    for i, j, area in zip(left, right, areas, strict=True):
        if area <= OVERLAP_MIN_M2:
            continue
        fid_i, fid_j = frame.index[i], frame.index[j]
        other = _label(frame, spec, fid_j) or f"fid {fid_j}"
        yield Finding(
            "error",
            "overlap",
            spec.name,
            f"overlaps {other} by {area / 10_000:.4f} ha ({area:.0f} m²)",
            "remove the overlap (QGIS: Vector > Geometry Tools > Check Validity / "
            "topology checker); overlapping features are counted twice",
            int(fid_i),
            _label(frame, spec, fid_i),
        )


def _outside(frame, spec, container, what: str, check: str) -> Iterator[Finding]:
    areas = frame.geometry.area.to_numpy()
    outside = _area_outside(np.asarray(frame.geometry.values), container)
    with np.errstate(divide="ignore", invalid="ignore"):
        flagged = np.flatnonzero((areas > 0) & (outside / areas > OUTSIDE_TOLERANCE))
    for k in flagged:  # the few features partly outside, in layer order
        fid, total, out = frame.index[k], areas[k], outside[k]
        if total > 0 and out / total > OUTSIDE_TOLERANCE:
            level = "error" if out / total > 0.5 else "warning"
            yield Finding(
                level,
                check,
                spec.name,
                f"{out / total:.1%} of the feature ({out / 10_000:.2f} ha) lies outside the {what}",
                "move or reshape it; if the whole layer is off, check its CRS",
                int(fid),
                _label(frame, spec, fid),
            )


def _area_outside(geoms: np.ndarray, container) -> np.ndarray:
    """Area of each of ``geoms`` outside ``container`` (m²).

    The container is prepared and tested with ``covers`` first: features it covers (nearly
    all of them) are 0 without any overlay; only the others pay for an exact difference.
    """
    wkb = shapely.to_wkb(container)
    outside = np.zeros(len(geoms))
    covered = _chunked(lambda g: _covered_by(wkb, g), geoms, min_items=PARALLEL_FEATURES)
    rest = np.flatnonzero(~covered)
    if len(rest):
        outside[rest] = shapely.area(shapely.difference(geoms[rest], container))
    return outside


def _covered_by(container_wkb: bytes, geoms: np.ndarray) -> np.ndarray:
    """``covers(container, geoms)`` on a private prepared copy (one per thread)."""
    container = shapely.from_wkb(container_wkb)
    shapely.prepare(container)
    return shapely.covers(container, geoms)


def _codes_to_geoms(frame: gpd.GeoDataFrame | None, id_field: str) -> dict[str, object]:
    if frame is None or id_field not in frame.columns:
        return {}
    return dict(zip(frame[id_field].astype(str), frame.geometry.values, strict=True))


def _within_parent(plan: PlanData, frame, spec: LayerSpec, field_name: str) -> Iterator[Finding]:
    ref = spec.field(field_name)
    parents = _codes_to_geoms(_usable(plan, ref.ref_layer), ref.ref_field)
    if field_name not in frame.columns:
        return
    for fid, parent_code, geom in zip(
        frame.index, frame[field_name], frame.geometry.values, strict=True
    ):
        parent = parents.get(str(parent_code))
        if parent is None or geom.area == 0:
            continue
        out = geom.difference(parent).area / geom.area
        if out > OUTSIDE_TOLERANCE:
            yield Finding(
                "error",
                "outside_parent",
                spec.name,
                f"{out:.1%} of the feature lies outside {ref.ref_layer} {parent_code}",
                f"reshape it to lie inside {parent_code}, or correct '{field_name}'",
                int(fid),
                _label(frame, spec, fid),
            )


def _same_geometry(plan: PlanData, frame, spec: LayerSpec, field_name: str) -> Iterator[Finding]:
    ref = spec.field(field_name)
    others = _codes_to_geoms(_usable(plan, ref.ref_layer), ref.ref_field)
    if field_name not in frame.columns:
        return
    for fid, other_code, geom in zip(
        frame.index, frame[field_name], frame.geometry.values, strict=True
    ):
        other = others.get(str(other_code)) if not _is_null(other_code) else None
        if other is None or geom.area == 0:
            continue
        mismatch = geom.symmetric_difference(other).area / geom.area
        if mismatch > OUTSIDE_TOLERANCE:
            yield Finding(
                "warning",
                "not_same_site",
                spec.name,
                f"differs from {ref.ref_layer} {other_code} by {mismatch:.1%} of its area",
                f"the plan says they are the same site: copy the geometry of {other_code}",
                int(fid),
                _label(frame, spec, fid),
            )


def _stated_areas(frame, spec: LayerSpec, tolerance: float) -> Iterator[Finding]:
    if "stated_area_ha" not in frame.columns:
        return
    stated = pd.to_numeric(frame["stated_area_ha"], errors="coerce")
    measured = frame.geometry.area / 10_000
    diff = (measured - stated) / stated
    for fid in frame.index[stated.notna() & (diff.abs() > tolerance)]:
        yield Finding(
            "warning",
            "area_vs_stated",
            spec.name,
            f"measured {measured[fid]:.2f} ha differs from the stated "
            f"{stated[fid]:.2f} ha by {diff[fid]:+.1%} (tolerance {tolerance:.0%})",
            "check the outline, or the stated area if the plan was revised",
            int(fid),
            _label(frame, spec, fid),
        )


def _provenance_counts(frame, spec: LayerSpec) -> Iterator[Finding]:
    """How much of a layer is still schematic (geometry) or synthetic (attributes)."""
    if "geom_source" in frame.columns:
        schematic = int((frame["geom_source"] == "schematic").sum())
        if schematic:
            yield Finding(
                "info",
                "schematic",
                spec.name,
                f"{schematic} of {len(frame)} features are schematic (not surveyed)",
                "replace them with surveyed outlines and set geom_source = surveyed",
            )
    if "data_basis" in frame.columns:
        synthetic = int((frame["data_basis"] == "synthetic").sum())
        if synthetic:
            yield Finding(
                "info",
                "synthetic",
                spec.name,
                f"{synthetic} of {len(frame)} features carry synthetic data",
                "replace them with surveyed or reported data and set data_basis",
            )


def summary_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(LEVELS, 0)
    for f in findings:
        counts[f.level] += 1
    return counts


def first_error(findings: Iterable[Finding]) -> str | None:
    """The first error as one line naming the layer, the feature and the fix, or None.

    E.g. "farmer_bases / fid 5 / B5: 'category' has unknown value 'upgarde' (fix: use one of:
    upgrade (提质升级), ...)".
    """
    error = next((f for f in findings if f.level == "error"), None)
    if error is None:
        return None
    fix = f" (fix: {error.hint})" if error.hint else ""
    return f"{error.where}: {error.message}{fix}"


__all__ = ["Finding", "findings_frame", "first_error", "has_errors", "summary_counts", "validate"]
