"""Findings about input that is broken rather than wrong: undecodable values, empty layers,
geometries of the wrong kind, coordinates far outside the CRS's area of use (swapped axes),
and planar areas the geodesic cross-check contradicts.

Part of :func:`validate.validate` (its first findings); each names the layer, the feature and
the fix. Kept apart from ``validate.py``'s catalogue and plan-rule checks.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from ..core.catalogue import CATALOGUE, LayerSpec
from ..core.crs import WORK_CRS, has_no_crs
from ..core.errors import DataError
from ..core.measure import geodesic_area_ha
from ..core.plan import PlanData
from .common import Finding, _label
from .rules import _usable

# China's extent (mainland and islands), for CRSs whose area of use is the world
CHINA_BOUNDS = (73.4, 18.1, 135.1, 53.6)  # west, south, east, north in degrees
AREA_OF_USE_MARGIN = 0.1  # degrees
# planar (EPSG:4548) and geodesic (CGCS2000 ellipsoid) areas agree within 0.05 % across the
# whole 3-degree zone; beyond this the coordinates or the CRS are wrong
PLANAR_GEODESIC_TOLERANCE = 0.01
_KINDS = {
    "polygon": ("Polygon", "MultiPolygon"),
    "point": ("Point",),  # a one-part MultiPoint is read as its Point (single_parts)
}
_TYPE_NAMES = dict(enumerate(("Point", "LineString", "LinearRing", "Polygon", "MultiPoint")))
_TYPE_NAMES |= {5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
_SWAP_HINT = (
    "x and y look swapped (EPSG:4548 lists northing first in its definition, and a tool that "
    "followed it wrote the axes the other way): swap them (QGIS: Processing > Swap X and Y "
    "coordinates) and run again"
)


def refuse_broken_input(plan: PlanData) -> PlanData:
    """Raise DataError (first error: layer, feature, fix) if the input itself is broken.

    For the commands that compute without a full validation (areas, mix, yield,
    adjustments): a point in a polygon layer or swapped axes would give wrong numbers.
    """
    errors = [f for f in input_findings(plan) if f.level == "error"]
    if errors:
        first = errors[0]
        raise DataError(
            f"{plan.path}: {len(errors)} errors in the input, the first: {first.where}: "
            f"{first.message} (fix: {first.hint}); nothing was computed. Run "
            f"'miyun-spatial validate {plan.path}' for the full list"
        )
    return plan


def input_findings(plan: PlanData) -> Iterator[Finding]:
    """Every finding about broken input, layer by layer."""
    yield from check_damage(plan)
    for spec in CATALOGUE.layers:
        frame = plan.layers.get(spec.name)
        if frame is None:
            continue
        if not len(frame):
            yield Finding(
                "error",
                "empty_layer",
                spec.name,
                f"layer '{spec.name}' ({spec.title_en}) has no features",
                "restore its features from the default geodata/miyun.gpkg (or undo the delete "
                "in QGIS)",
            )
            continue
        if spec.is_spatial and isinstance(frame, gpd.GeoDataFrame):
            yield from check_geometry_kinds(frame, spec)
            yield from check_area_of_use(frame, spec)
    yield from check_planar_vs_geodesic(plan)


def check_damage(plan: PlanData) -> Iterator[Finding]:
    """Text that is not UTF-8 and geometry blobs that cannot be decoded (read as null)."""
    for d in plan.damaged:
        spec = CATALOGUE.get(d.layer)
        frame = plan.layers.get(d.layer)
        code = _label(frame, spec, d.fid) if spec is not None and frame is not None else None
        if d.kind == "text_encoding":
            yield Finding(
                "error",
                "text_encoding",
                d.layer,
                f"field '{d.field}': {d.detail}; read as empty",
                "type the text again in QGIS, or import the source again as UTF-8 (it was "
                "saved in another encoding, e.g. GBK)",
                d.fid,
                code,
            )
        else:
            yield Finding(
                "error",
                "geometry_corrupt",
                d.layer,
                f"field '{d.field}': {d.detail}; read as no geometry",
                "draw the feature's geometry again in QGIS, or restore it from a backup",
                d.fid,
                code,
            )


def check_geometry_kinds(frame: gpd.GeoDataFrame, spec: LayerSpec) -> Iterator[Finding]:
    """A point or a line in a polygon layer (and the like): it has no area, so it is an error."""
    allowed = _KINDS.get(spec.geometry or "")
    if not allowed:
        return
    geoms = frame.geometry.values
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    names = np.array([_TYPE_NAMES.get(k, "") for k in shapely.get_type_id(geoms)], dtype=object)
    wrong = present & ~np.isin(names, allowed)
    for fid, kind, geom in zip(frame.index[wrong], names[wrong], geoms[wrong], strict=True):
        if kind == "MultiPoint" and spec.geometry == "point":
            yield Finding(
                "error",
                "geometry_kind",
                spec.name,
                f"feature is a MultiPoint of {shapely.get_num_geometries(geom)} points in a "
                "point layer: it has no one location",
                "keep one point, or make one feature per point (QGIS: Vector > Geometry Tools "
                "> Multipart to Singleparts, then give each its own code)",
                int(fid),
                _label(frame, spec, fid),
            )
            continue
        ring = kind in ("LineString", "LinearRing") and shapely.is_closed(geom)
        shape = "a closed LineString (a ring)" if ring else f"a {kind}"
        yield Finding(
            "error",
            "geometry_kind",
            spec.name,
            f"feature is {shape} in a {spec.geometry} layer: it has no "
            f"{'area' if spec.geometry == 'polygon' else 'point location'} and would count as "
            f"{'0 ha' if spec.geometry == 'polygon' else 'nothing'}",
            f"draw it again as a {spec.geometry} (QGIS: Vector > Geometry Tools > Lines to "
            "Polygons for a closed line) or move it to the right layer",
            int(fid),
            _label(frame, spec, fid),
        )


def _bounds_of_use(crs: CRS) -> tuple[tuple[float, float, float, float], str]:
    area = crs.area_of_use
    world = area is None or (area.east - area.west >= 359 and area.north - area.south >= 170)
    if world:
        return CHINA_BOUNDS, "China"
    return (area.west, area.south, area.east, area.north), f"the area of use of {_crs_name(crs)}"


def _crs_name(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def _inside(lon: np.ndarray, lat: np.ndarray, bounds) -> np.ndarray:
    west, south, east, north = bounds
    m = AREA_OF_USE_MARGIN
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(lon)
            & np.isfinite(lat)
            & (lon >= west - m)
            & (lon <= east + m)
            & (lat >= south - m)
            & (lat <= north + m)
        )


def _to_degrees(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if crs.is_geographic:
        lon, lat = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(x, y)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    to_geo = Transformer.from_crs(crs, crs.geodetic_crs or "EPSG:4326", always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = to_geo.transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def check_area_of_use(frame: gpd.GeoDataFrame, spec: LayerSpec) -> Iterator[Finding]:
    """Features far outside the CRS's area of use (or outside China): swapped axes, wrong CRS."""
    crs = frame.crs
    if crs is None or has_no_crs(crs):
        return
    geoms = frame.geometry.values
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    bounds = shapely.bounds(geoms[present])
    x = (bounds[:, 0] + bounds[:, 2]) / 2
    y = (bounds[:, 1] + bounds[:, 3]) / 2
    try:
        (use, where) = _bounds_of_use(crs)
        lon, lat = _to_degrees(crs, x, y)
        inside = _inside(lon, lat, use) & _inside(lon, lat, CHINA_BOUNDS)
        if inside.all():
            return
        swapped_lon, swapped_lat = _to_degrees(crs, y, x)
        swapped_in = _inside(swapped_lon, swapped_lat, use)
        swapped_in &= _inside(swapped_lon, swapped_lat, CHINA_BOUNDS)
    except (ProjError, ValueError):
        return  # an unusable CRS is reported by the schema check
    fids = frame.index[present]
    west, south, east, north = use
    for i in np.flatnonzero(~inside):
        fid = fids[i]
        at = (
            f"{lon[i]:.2f}°E {lat[i]:.2f}°N"
            if np.isfinite(lon[i]) and np.isfinite(lat[i])
            else f"x {x[i]:.0f}, y {y[i]:.0f} (no place on Earth)"
        )
        yield Finding(
            "error",
            "outside_crs_area",
            spec.name,
            f"feature lies at {at}, outside {where} ({west:g}–{east:g}°E, {south:g}–{north:g}°N)"
            + ("" if where == "China" else " or outside China"),
            _SWAP_HINT
            if swapped_in[i]
            else f"check the layer's CRS ({_crs_name(crs)}): the coordinates do not belong to it",
            int(fid),
            _label(frame, spec, fid),
        )


def check_planar_vs_geodesic(
    plan: PlanData, tolerance: float = PLANAR_GEODESIC_TOLERANCE
) -> Iterator[Finding]:
    """Plan features whose EPSG:4548 area and geodesic (ellipsoid) area disagree."""
    for spec in CATALOGUE.plan_layers:
        if spec.geometry != "polygon":
            continue
        frame = _usable(plan, spec.name)
        if frame is None or not len(frame):
            continue
        frame = frame[shapely.area(frame.geometry.values) > 0]
        if not frame.crs.equals(WORK_CRS) or not len(frame):
            continue
        with np.errstate(all="ignore"):
            planar = pd.Series(shapely.area(frame.geometry.values), index=frame.index) / 10_000
            geodesic = geodesic_area_ha(frame)
            diff = (planar - geodesic) / geodesic
        bad = ~np.isfinite(diff) | (diff.abs() > tolerance)
        for fid in frame.index[bad]:
            yield Finding(
                "error",
                "planar_vs_geodesic",
                spec.name,
                f"planar area {planar[fid]:,.2f} ha (EPSG:4548) and geodesic area "
                f"{geodesic[fid]:,.2f} ha differ by {diff[fid]:+.1%} (more than "
                f"{tolerance:.0%}): the measured areas would be wrong",
                "the feature lies far from Miyun or its coordinates are wrong: check the "
                "layer's CRS and axis order",
                int(fid),
                _label(frame, spec, fid),
            )
