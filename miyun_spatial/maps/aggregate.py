"""Keep pages small when parcel layers are large: dissolve parcels that look the same.

Beyond ``MAX_EMBEDDED`` polygons a page gets slow to load and to pan, so parcels are dissolved
by their display classes within square grid cells (a local, bounded dissolve: polygons stay
near their parcels and no single polygon spans the district). Areas are summed from the
parcels' own areas in EPSG:4548, before any display simplification.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import require_projected
from ..metrics.areas import planar_area_ha

log = logging.getLogger(__name__)

MAX_EMBEDDED = 20_000  # polygons per page beyond which parcels are aggregated
CELL_M = 1_000.0


def aggregate_parcels(
    parcels: gpd.GeoDataFrame, keys: pd.DataFrame, *, cell_m: float = CELL_M
) -> gpd.GeoDataFrame:
    """Dissolve ``parcels`` by the columns of ``keys`` (same index) within grid cells.

    Returns one row per (key values, cell) with the keys' columns, ``parcels`` (count),
    ``area_ha`` (sum of the parcels' planar areas) and the dissolved geometry (EPSG:4548).
    """
    require_projected(parcels, layer="land_parcels")
    points = parcels.geometry.representative_point()
    frame = keys.astype(object).fillna("—").copy()
    frame["_cx"] = np.floor(points.x / cell_m).astype("int64")
    frame["_cy"] = np.floor(points.y / cell_m).astype("int64")
    frame["area_ha"] = planar_area_ha(parcels)
    frame["parcels"] = 1
    groups = gpd.GeoDataFrame(frame, geometry=parcels.geometry, crs=parcels.crs).dissolve(
        by=[*keys.columns, "_cx", "_cy"],
        aggfunc={"area_ha": "sum", "parcels": "sum"},
        as_index=False,
    )
    groups.index = pd.RangeIndex(len(groups), name="group")
    log.info(
        "aggregated %d parcels into %d polygons for display (%g m cells)",
        len(parcels),
        len(groups),
        cell_m,
    )
    return groups.drop(columns=["_cx", "_cy"])
