"""Measures every layer shares: hectares and 亩, planar areas in EPSG:4548, geodesic areas on
the CGCS2000 ellipsoid (pyproj.Geod) for the cross-check. Never in EPSG:4326 or 3857."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod

from .catalogue import CATALOGUE
from .crs import WORK_CRS, require_projected

M2_PER_HA = 10_000.0
MU_PER_HA = float(CATALOGUE.mu_per_ha)
# The ellipsoid of the work CRS's own datum (CGCS2000), for geodesic areas.
GEOD: Geod = WORK_CRS.get_geod()
GEOGRAPHIC = WORK_CRS.geodetic_crs


def planar_area_ha(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Area of each feature in hectares, measured in EPSG:4548 (raises in any other CRS)."""
    require_projected(gdf, layer=getattr(gdf, "attrs", {}).get("layer", "input"))
    return pd.Series(gdf.geometry.area / M2_PER_HA, index=gdf.index, name="area_ha")


def geodesic_area_ha(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Area of each feature in hectares on the CGCS2000 ellipsoid (pyproj.Geod)."""
    geographic = gdf.geometry.to_crs(GEOGRAPHIC)
    areas = [
        abs(GEOD.geometry_area_perimeter(g)[0]) if g is not None else float("nan")
        for g in geographic.values
    ]
    return pd.Series(areas, index=gdf.index, name="geodesic_area_ha") / M2_PER_HA


def ha_to_mu(hectares: pd.Series | float) -> pd.Series | float:
    """Hectares to 亩 (1 ha = 15 亩)."""
    return hectares * MU_PER_HA


def beyond_tolerance(measured, stated, tolerance: float):
    """True where a measured figure is off a stated one by more than the relative ``tolerance``
    (and where the stated figure is 0); False where nothing is stated. Scalars or Series.

    The one verdict "measured vs stated beyond tolerance": validation's area warning, the plan
    checks and the report's conclusion all read it.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.divide(abs(measured - stated), abs(stated))
    return pd.notna(stated) & ((stated == 0) | (relative > tolerance))
