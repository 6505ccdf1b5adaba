"""Coordinate reference systems: where areas are measured and where maps are drawn.

Plan layers are stored and measured in CGCS2000 / 3-degree Gauss-Krüger CM 117E (EPSG:4548);
maps are drawn in WGS84 (EPSG:4326). Nothing here measures in degrees or in Web Mercator.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import prcoords
from pyproj import CRS
from pyproj.exceptions import ProjError

from .catalogue import CATALOGUE
from .errors import CRSError

WORK_CRS = CRS.from_user_input(CATALOGUE.crs)
WEB_CRS = CRS.from_user_input(CATALOGUE.web_crs)
WEB_MERCATOR = CRS.from_epsg(3857)

log = logging.getLogger(__name__)


def has_no_crs(crs: CRS | None) -> bool:
    """True for a missing CRS and for GeoPackage's 'undefined' SRS ids (-1 and 0)."""
    return crs is None or (crs.is_engineering and crs.name.lower().startswith("undefined"))


def crs_problem(crs: CRS | None) -> str | None:
    """Describe why ``crs`` is not the work CRS, or None when it is."""
    if has_no_crs(crs):
        return "has no CRS"
    if crs.equals(WORK_CRS):
        return None
    if crs.is_geographic:
        return f"is in a geographic CRS ({_name(crs)}): areas in degrees are meaningless"
    if crs.equals(WEB_MERCATOR):
        return (
            "is in Web Mercator (EPSG:3857), which inflates areas about 1.72x at Miyun's latitude"
        )
    return f"is in {_name(crs)}, not {WORK_CRS.to_string()}"


def _name(crs: CRS) -> str:
    """'EPSG:4326' where the CRS has a code, else its name (never a whole WKT)."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def require_projected(gdf: gpd.GeoDataFrame, *, layer: str) -> None:
    """Raise CRSError unless ``gdf`` is in the work CRS (EPSG:4548)."""
    problem = crs_problem(gdf.crs)
    if problem:
        raise CRSError(
            f"layer '{layer}' {problem}; measure in {WORK_CRS.to_string()}: "
            "call to_work_crs() first (to_crs, never set_crs)"
        )


def to_work_crs(gdf: gpd.GeoDataFrame, *, layer: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4548, reprojecting explicitly (and saying so) when needed."""
    if has_no_crs(gdf.crs):
        raise CRSError(
            f"layer '{layer}' has no CRS: assign the CRS the coordinates are really in "
            f"(in QGIS: Layer Properties > Source > Assigned CRS, normally {WORK_CRS.to_string()})"
        )
    if gdf.crs.equals(WORK_CRS):
        return gdf
    log.warning("layer '%s' is in %s: reprojecting to %s", layer, _name(gdf.crs), WORK_CRS)
    try:
        return gdf.to_crs(WORK_CRS)
    except ProjError:
        raise CRSError(
            f"layer '{layer}' is in {_name(gdf.crs)}, which cannot be converted to "
            f"{WORK_CRS.to_string()}; assign the CRS its coordinates are really in "
            "(QGIS: Layer Properties > Source)"
        ) from None


def to_web_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 for display."""
    return gdf if gdf.crs is not None and gdf.crs.equals(WEB_CRS) else gdf.to_crs(WEB_CRS)


# GCJ-02 (Gaode/AMap, Tencent): China's obfuscated datum, offset by ~500 m from WGS84/CGCS2000.
# Shifts work on (n, 2) arrays of lon/lat, as shapely.transform passes them.


def _shift_points(coords: np.ndarray, shift) -> np.ndarray:
    out = np.empty_like(coords)
    for i, (lon, lat) in enumerate(coords):
        shifted = shift((lat, lon))
        out[i] = (shifted.lon, shifted.lat)
    return out


def wgs_to_gcj(coords: np.ndarray) -> np.ndarray:
    """WGS84 lon/lat -> GCJ-02, for display on Gaode tiles only (prcoords)."""
    return _shift_points(coords, prcoords.wgs_gcj)


def gcj_to_wgs(coords: np.ndarray) -> np.ndarray:
    """GCJ-02 lon/lat -> WGS84, for data digitized on Gaode (prcoords' iterative inverse)."""
    return _shift_points(coords, prcoords.gcj_wgs_bored)
