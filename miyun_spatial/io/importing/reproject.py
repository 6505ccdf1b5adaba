"""Reprojection of an import's geometries chunk by chunk, into the array that holds them.

geopandas ``to_crs`` builds the whole reprojected array beside the source's (and copies the
frame): at 300 000 shapely polygons two copies of ~230 MB each are alive at once. Here the
geometries are transformed ``CHUNK`` at a time and each chunk is put back where it came from,
so the old geometries are freed as the new ones are made. Every coordinate goes through the
same pyproj transformer as ``to_crs`` (``Transformer.from_crs(..., always_xy=True)``, 2D and
3D geometries apart), so the result is the same to the last bit.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer

CHUNK = 25_000  # geometries transformed at a time


def _transform(data: np.ndarray, func) -> np.ndarray:
    """``data`` with every coordinate through ``func`` (as geopandas.array.transform)."""
    has_z = shapely.has_z(data)
    result = np.empty_like(data)
    flat = data[~has_z]
    coords = shapely.get_coordinates(flat, include_z=False)
    result[~has_z] = shapely.set_coordinates(flat, np.array(func(coords[:, 0], coords[:, 1])).T)
    if has_z.any():
        deep = data[has_z]
        coords = shapely.get_coordinates(deep, include_z=True)
        moved = func(coords[:, 0], coords[:, 1], coords[:, 2])
        result[has_z] = shapely.set_coordinates(deep, np.array(moved).T)
    return result


def reproject_in_place(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """The object array ``geoms`` (shapely geometries or None) moved from ``source`` to
    ``target`` in place, ``CHUNK`` at a time; the caller must own the array."""
    transformer = Transformer.from_crs(source, target, always_xy=True)
    for start in range(0, len(geoms), CHUNK):
        chunk = geoms[start : start + CHUNK]  # a view: assigning into it changes geoms
        chunk[:] = _transform(chunk, transformer.transform)
    return geoms


__all__ = ["CHUNK", "reproject_in_place"]
