"""Geometry primitives for schematic digitizing: irregular outlines, exact-area calibration,
area-exact cuts and Voronoi parcel tessellations. All coordinates are metres (EPSG:4548).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

AREA_RTOL = 1e-9


def irregular_outline(
    center: tuple[float, float],
    radius: float,
    rng: np.random.Generator,
    *,
    vertices: int = 56,
    roughness: float = 0.22,
    elongation: float = 1.0,
    angle_deg: float = 0.0,
) -> Polygon:
    """A star-shaped, smoothly irregular outline around ``center`` (never a circle or a square).

    The radius varies with a few low harmonics of random phase; ``elongation`` stretches the
    outline along ``angle_deg`` (counter-clockwise from east) while keeping its area.
    """
    theta = np.linspace(0.0, 2.0 * math.pi, vertices, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 6):
        r += (
            rng.uniform(0.3, 1.0)
            * roughness
            / (k - 1)
            * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
        )
    r *= radius
    xs = r * np.cos(theta) * elongation
    ys = r * np.sin(theta) / elongation
    shape = Polygon(np.column_stack([xs, ys]))
    shape = affinity.rotate(shape, angle_deg, origin=(0, 0))
    return affinity.translate(shape, *center)


def calibrate(shape_at: Callable[[float], BaseGeometry], target_area: float, *, hi: float = 4.0):
    """Find the scale ``s`` at which ``shape_at(s)`` has ``target_area`` (bisection) and return the shape.

    ``shape_at`` must grow monotonically with ``s`` (a scaled outline, clipped to fixed bounds).
    """
    lo = 0.0
    while shape_at(hi).area < target_area:
        hi *= 2.0
        if hi > 1e3:
            raise ValueError(f"cannot reach {target_area:.1f} m2: the space available is too small")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        area = shape_at(mid).area
        if abs(area - target_area) <= AREA_RTOL * target_area:
            break
        lo, hi = (mid, hi) if area < target_area else (lo, mid)
    shape = shape_at(mid)
    return shape if shape.is_valid else shapely.make_valid(shape)


def scaled(outline: BaseGeometry, origin: tuple[float, float]) -> Callable[[float], BaseGeometry]:
    """``s -> outline`` scaled by ``s`` about ``origin``."""
    return lambda s: affinity.scale(outline, s, s, origin=origin)


def cut_by_area(geom: BaseGeometry, target_area: float, *, angle_deg: float = 0.0):
    """Cut ``geom`` with a straight line so that the first piece has ``target_area``.

    The line runs perpendicular to ``angle_deg``; the first piece lies on the side the angle
    points away from (angle 0: the west piece; 90: the south piece). Returns (piece, rest).
    """
    if target_area <= 0:
        return shapely.Polygon(), geom
    if target_area >= geom.area * (1 - AREA_RTOL):
        return geom, shapely.Polygon()
    turned = affinity.rotate(geom, -angle_deg, origin=(0, 0))
    minx, miny, maxx, maxy = turned.bounds
    lo, hi = minx, maxx
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        area = shapely.clip_by_rect(turned, minx - 1, miny - 1, mid, maxy + 1).area
        if abs(area - target_area) <= AREA_RTOL * target_area:
            break
        lo, hi = (mid, hi) if area < target_area else (lo, mid)
    piece = shapely.clip_by_rect(turned, minx - 1, miny - 1, mid, maxy + 1)
    rest = shapely.clip_by_rect(turned, mid, miny - 1, maxx + 1, maxy + 1)
    back = lambda g: affinity.rotate(g, angle_deg, origin=(0, 0))  # noqa: E731
    return back(piece), back(rest)


def random_points_in(geom: BaseGeometry, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` uniformly random points inside ``geom`` (rejection sampling), as an (n, 2) array."""
    minx, miny, maxx, maxy = geom.bounds
    prepared = shapely.prepared.prep(geom)
    found: list[tuple[float, float]] = []
    while len(found) < count:
        xs = rng.uniform(minx, maxx, count * 2)
        ys = rng.uniform(miny, maxy, count * 2)
        for x, y in zip(xs, ys, strict=True):
            if prepared.contains(shapely.Point(x, y)):
                found.append((x, y))
                if len(found) == count:
                    break
    return np.array(found)


def voronoi_tessellation(
    region: BaseGeometry, count: int, rng: np.random.Generator, *, relax: int = 2
) -> list[BaseGeometry]:
    """Tile ``region`` with ``count`` Voronoi cells of random, Lloyd-relaxed seeds.

    The cells cover the region exactly (their areas add up to the region's area), ordered
    north-west to south-east so that codes derived from the order read like a map.
    """
    if count <= 1:
        return [region]
    seeds = random_points_in(region, count, rng)
    for iteration in range(relax + 1):
        diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=region)
        cells = [cell.intersection(region) for cell in diagram.geoms]
        cells = [c for c in cells if not c.is_empty and c.area > 0]
        if iteration < relax:
            seeds = np.array([_inside_point(c) for c in cells])
    cells = [_polygonal(c) for c in cells]
    return sorted(cells, key=lambda c: (-round(c.centroid.y, -2), c.centroid.x))


def _inside_point(cell: BaseGeometry) -> tuple[float, float]:
    point = cell.centroid if cell.contains(cell.centroid) else cell.representative_point()
    return point.x, point.y


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Drop any lines or points an intersection left behind; keep only the polygon parts."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def largest_part(geom: BaseGeometry) -> BaseGeometry:
    """The largest polygon of a multipart geometry (slivers from a difference are dropped)."""
    parts = getattr(geom, "geoms", None)
    return max(parts, key=lambda g: g.area) if parts else geom
