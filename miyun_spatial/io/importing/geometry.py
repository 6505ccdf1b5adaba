"""Geometries of a delivery -> the catalogue layer's geometry type, every change reported.

Z/M are dropped (with a note); closed CAD polylines become polygons; single parts become
multi-polygons (polygon layers) or multi-points of one point become points (point layers).
Invalid geometries are an error naming the features unless ``repair`` is given, in which case
``shapely.make_valid`` repairs them and the area change is reported. Features of another
geometry type are an error, except in DXF drawings, whose annotations (texts, open lines) are
left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...core.errors import DataError

MAX_LISTED = 5
SLIVER_M2 = 1.0  # polygons smaller than this are slivers
THIN_RATIO = 0.02  # 4*pi*area/perimeter^2 below this: a thin sliver


@dataclass
class GeometryResult:
    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dropped: int = 0


def _names(index) -> str:
    shown = ", ".join(str(i) for i in list(index)[:MAX_LISTED])
    more = f" and {len(index) - MAX_LISTED} more" if len(index) > MAX_LISTED else ""
    return shown + more


def _closed_lines_to_polygons(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    out = geoms.copy()
    types = shapely.get_type_id(out)
    lines = (types == shapely.GeometryType.LINESTRING) & shapely.is_closed(out)
    if lines.any():
        out[lines] = [shapely.Polygon(shapely.get_coordinates(g)) for g in out[lines]]
    return out, int(lines.sum())


def _polygonal(geom):
    """The polygonal part of a geometry collection (after make_valid), or None."""
    if geom is None:
        return None
    kind = shapely.get_type_id(geom)
    if kind in (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON):
        return geom
    parts = [
        p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon | shapely.MultiPolygon)
    ]
    if not parts:
        return None
    return shapely.union_all(parts)


def conform_geometries(
    frame: gpd.GeoDataFrame, geometry: str, *, repair: bool, is_cad: bool, where: str
) -> GeometryResult:
    """Fit ``frame``'s geometries to ``geometry`` (``polygon`` or ``point``); see module doc."""
    result = GeometryResult(frame)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    missing = pd.isna(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise DataError(
            f"{where}: features {_names(frame.index[missing])} have no geometry; draw or delete them"
        )
    z = shapely.has_z(geoms)
    if z.any():
        result.notes.append(f"Z dropped from {int(z.sum())} features (2D only)")
    has_m = getattr(shapely, "has_m", None)
    m = has_m(geoms) if has_m is not None else z & False
    if m.any():
        result.notes.append(f"M dropped from {int(m.sum())} features")
    if (z | m).any():  # a 2D copy only where needed: each copy of 300k polygons is ~150 MB
        geoms = geoms.copy()
        geoms[z | m] = shapely.force_2d(geoms[z | m])
    if geometry == "polygon":
        geoms, closed = _closed_lines_to_polygons(geoms)
        if closed:
            result.notes.append(f"{closed} closed polylines read as polygons")
        ok = np.isin(
            shapely.get_type_id(geoms),
            [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
        )
        collections = shapely.get_type_id(geoms) == shapely.GeometryType.GEOMETRYCOLLECTION
        if collections.any():
            geoms[collections] = [_polygonal(g) for g in geoms[collections]]
            ok |= collections & ~pd.isna(geoms)
    else:
        multi = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOINT
        single = multi & (shapely.get_num_geometries(geoms) == 1)
        if single.any():
            geoms[single] = shapely.get_geometry(geoms[single], 0)
        ok = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    if not ok.all():
        kinds = pd.Series(shapely.get_type_id(geoms[~ok])).map(
            lambda t: shapely.GeometryType(t).name.lower() if t >= 0 else "none"
        )
        summary = ", ".join(f"{n} {k}" for k, n in kinds.value_counts().items())
        if not is_cad:
            raise DataError(
                f"{where}: layer needs {geometry}s but features {_names(frame.index[~ok])} are "
                f"not ({summary}); import them into a layer of that geometry or convert them"
            )
        result.notes.append(
            f"left out {int((~ok).sum())} CAD entities that are not {geometry}s ({summary})"
        )
        result.dropped = int((~ok).sum())
        frame = frame[ok]
        geoms = geoms[ok]
        if not len(frame):
            raise DataError(f"{where}: the drawing has no {geometry}s to import")
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        if not repair:
            first = f"feature {frame.index[invalid][0]}: {reasons[0]}"
            raise DataError(
                f"{where}: {int(invalid.sum())} invalid geometries (features "
                f"{_names(frame.index[invalid])}; {first}); fix them or add --repair (make_valid)"
            )
        before = shapely.area(geoms[invalid])
        fixed = np.array([_polygonal(g) for g in shapely.make_valid(geoms[invalid])], dtype=object)
        lost = pd.isna(fixed)
        if lost.any():
            raise DataError(
                f"{where}: features {_names(frame.index[invalid][lost])} have no area left after "
                "make_valid; delete or redraw them"
            )
        geoms[invalid] = fixed
        change = float(np.abs(shapely.area(fixed) - before).sum())
        result.notes.append(
            f"repaired {int(invalid.sum())} invalid geometries with make_valid (features "
            f"{_names(frame.index[invalid])}; area changed by {change:,.1f} m² in total)"
        )
    if geometry == "polygon":
        area = shapely.area(geoms)
        perimeter = shapely.length(geoms)
        thin = np.where(perimeter > 0, 4 * np.pi * area / np.maximum(perimeter, 1e-12) ** 2, 0)
        slivers = (area < SLIVER_M2) | (thin < THIN_RATIO)
        if slivers.any():
            result.warnings.append(
                f"{int(slivers.sum())} sliver polygons (area < {SLIVER_M2:g} m² or very thin): "
                f"features {_names(frame.index[slivers])}"
            )
    out = frame.copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    result.frame = out
    return result


GAP_GRID_M = 0.01  # union on a 1 cm grid: snapping noise between neighbours is no gap
COVERAGE_CHUNK = 20_000  # parcels united at a time


def union_on_grid(geoms: np.ndarray) -> shapely.Geometry:
    """The union of ``geoms`` on the ``GAP_GRID_M`` grid.

    Parcels that share their boundary vertices (a survey's topology) form a coverage: their
    coordinates rounded to the grid are united edge by edge, in spatially ordered chunks and
    then the chunks' unions (about a second at 300 000 parcels, a few MB at a time). A union is
    kept only if it is valid and its area is the sum of its parts (no overlap); anything else
    (overlaps, the vertex of one parcel on another's edge) takes the general overlay, ~20x
    slower.
    """
    order = np.argsort(gpd.GeoSeries(geoms).hilbert_distance().to_numpy(), kind="stable")
    parts = []
    for start in range(0, len(order), COVERAGE_CHUNK):
        chunk = shapely.set_precision(
            geoms[order[start : start + COVERAGE_CHUNK]], GAP_GRID_M, mode="pointwise"
        )
        parts.append(_coverage_union(chunk))
        if parts[-1] is None:
            return shapely.union_all(geoms, grid_size=GAP_GRID_M)
    union = _coverage_union(np.array(parts, dtype=object)) if len(parts) > 1 else parts[0]
    return union if union is not None else shapely.union_all(geoms, grid_size=GAP_GRID_M)


def _coverage_union(geoms: np.ndarray) -> shapely.Geometry | None:
    """The coverage union of ``geoms``, or None when they are not an edge-matched coverage."""
    try:
        union = shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:  # not noded as a coverage
        return None
    parts = float(shapely.area(geoms).sum())
    same_area = abs(union.area - parts) <= max(SLIVER_M2, parts * 1e-9)
    return union if same_area and union.is_valid else None  # overlaps: invalid or smaller


def gaps(frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None = None) -> list[str]:
    """Gaps between polygons (holes in their union), with the zone codes they lie in.

    ``zones``: indexed by code; a gap is reported in the zone holding its representative point.
    """
    geoms = np.asarray(frame.geometry.array, dtype=object)
    if not len(geoms):
        return []
    union = union_on_grid(geoms)
    holes = [
        shapely.Polygon(ring)
        for part in shapely.get_parts(union)
        if isinstance(part, shapely.Polygon)
        for ring in part.interiors
    ]
    holes = [h for h in holes if h.area > SLIVER_M2]
    if not holes:
        return []
    total = sum(h.area for h in holes)
    largest = max(holes, key=lambda h: h.area)
    where = ""
    if zones is not None and len(zones):
        points = shapely.point_on_surface(np.array(holes, dtype=object))
        inside = sorted(
            {
                str(code)
                for code, zone in zones.geometry.items()
                if shapely.intersects(zone, points).any()
            }
        )
        where = f", inside zones {', '.join(inside)}" if inside else ""
    x, y = largest.representative_point().coords[0]
    return [
        f"{len(holes)} gaps between the polygons (holes in their union), {total:,.0f} m² in "
        f"total, the largest {largest.area:,.0f} m² near x={x:,.0f} y={y:,.0f} (EPSG:4548){where}"
    ]
