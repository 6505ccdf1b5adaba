"""The plan's spatial rules: no overlaps, inside the district, inside the parent zone, the same
site as a referenced feature, stated areas, provenance counts.

Part of :func:`validate.validate`. Each layer's validity is computed once per run
(``_validity``, memoised for the duration of a ``validate`` call) and the usable features
(valid, non-empty, in EPSG:4548) taken once per layer (``_usable``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.catalogue import CATALOGUE, LayerSpec
from ..core.crs import WORK_CRS
from ..core.measure import M2_PER_HA, beyond_tolerance
from ..core.parallel import chunked
from ..core.plan import PlanData
from .common import (
    OUTSIDE_TOLERANCE,
    OVERLAP_MIN_M2,
    PARALLEL_FEATURES,
    Finding,
    _is_null,
    _label,
    convertible,
)
from .overlap import overlapping_pairs

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
    valid[present] = chunked(shapely.is_valid, geoms[present], min_items=PARALLEL_FEATURES)
    if memo is not None:
        memo[id(frame)] = (frame, (present, valid))
    return present, valid


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
    # The overlap of two features is at most the overlap of their bounding boxes: pairs whose
    # boxes share <= OVERLAP_MIN_M2 (neighbours of a tiling) are left out before any predicate.
    for i, j, area in overlapping_pairs(geoms, OVERLAP_MIN_M2):
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
    covered = chunked(lambda g: _covered_by(wkb, g), geoms, min_items=PARALLEL_FEATURES)
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


def _with_referenced(plan: PlanData, frame, spec: LayerSpec, field_name: str):
    """(fid, code, geometry, the referenced feature's geometry) of each feature of ``frame``
    with an area whose ``field_name`` names a usable feature of the layer it refers to."""
    ref = spec.field(field_name)
    referenced = _codes_to_geoms(_usable(plan, ref.ref_layer), ref.ref_field)
    if field_name not in frame.columns:
        return
    for fid, code, geom in zip(frame.index, frame[field_name], frame.geometry.values, strict=True):
        other = None if _is_null(code) else referenced.get(str(code))
        if other is not None and geom.area != 0:
            yield fid, code, geom, other


def _within_parent(plan: PlanData, frame, spec: LayerSpec, field_name: str) -> Iterator[Finding]:
    ref_layer = spec.field(field_name).ref_layer
    for fid, parent_code, geom, parent in _with_referenced(plan, frame, spec, field_name):
        out = geom.difference(parent).area / geom.area
        if out > OUTSIDE_TOLERANCE:
            yield Finding(
                "error",
                "outside_parent",
                spec.name,
                f"{out:.1%} of the feature lies outside {ref_layer} {parent_code}",
                f"reshape it to lie inside {parent_code}, or correct '{field_name}'",
                int(fid),
                _label(frame, spec, fid),
            )


def _same_geometry(plan: PlanData, frame, spec: LayerSpec, field_name: str) -> Iterator[Finding]:
    ref_layer = spec.field(field_name).ref_layer
    for fid, other_code, geom, other in _with_referenced(plan, frame, spec, field_name):
        mismatch = geom.symmetric_difference(other).area / geom.area
        if mismatch > OUTSIDE_TOLERANCE:
            yield Finding(
                "warning",
                "not_same_site",
                spec.name,
                f"differs from {ref_layer} {other_code} by {mismatch:.1%} of its area",
                f"the plan says they are the same site: copy the geometry of {other_code}",
                int(fid),
                _label(frame, spec, fid),
            )


def _stated_areas(frame, spec: LayerSpec, tolerance: float) -> Iterator[Finding]:
    if "stated_area_ha" not in frame.columns:
        return
    stated = pd.to_numeric(frame["stated_area_ha"], errors="coerce")
    measured = frame.geometry.area / M2_PER_HA
    diff = (measured - stated) / stated
    for fid in frame.index[beyond_tolerance(measured, stated, tolerance)]:
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
