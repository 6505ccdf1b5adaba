"""Keep pages small when parcel layers are large: dissolve parcels that look the same.

Beyond ``MAX_EMBEDDED`` polygons a page gets slow to load and to pan, so parcels are dissolved
by their display classes within square grid cells (a local, bounded dissolve: polygons stay
near their parcels and no single polygon spans the district). Areas are summed from the
parcels' own areas in EPSG:4548, before any display simplification.

A page then embeds at most (grid cells x class combinations) polygons, whatever the number of
parcels. Parcels go to the cell of their bounding-box centre, and each group is merged with
GEOS' coverage union (linear in the edges: parcels that validation let through share edges
rather than overlap), falling back to a full union if the parcels are not a clean coverage.
The merged outlines are for display only.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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
    bounds = shapely.bounds(parcels.geometry.values)
    frame = keys.astype(object).fillna("—").copy()
    frame["_cx"] = np.floor((bounds[:, 0] + bounds[:, 2]) / 2 / cell_m).astype("int64")
    frame["_cy"] = np.floor((bounds[:, 1] + bounds[:, 3]) / 2 / cell_m).astype("int64")
    frame["area_ha"] = planar_area_ha(parcels)
    frame["parcels"] = 1
    cells = gpd.GeoDataFrame(frame, geometry=parcels.geometry, crs=parcels.crs)
    by = [*keys.columns, "_cx", "_cy"]
    aggfunc = {"area_ha": "sum", "parcels": "sum"}
    try:
        groups = cells.dissolve(by=by, aggfunc=aggfunc, as_index=False, method="coverage")
    except shapely.errors.GEOSException:
        log.info("parcels are not a clean coverage: dissolving them with a full union")
        groups = cells.dissolve(by=by, aggfunc=aggfunc, as_index=False)
    groups.index = pd.RangeIndex(len(groups), name="group")
    log.info(
        "aggregated %d parcels into %d polygons for display (%g m cells)",
        len(parcels),
        len(groups),
        cell_m,
    )
    return groups.drop(columns=["_cx", "_cy"])


AGGREGATED_NOTE = (
    "地块超过 {limit:,} 个：同类地块按 {cell:g} km 网格合并显示，面积为地块面积之和；"
    "逐地块数据见 {csv} 与 results.gpkg。 More than {limit:,} parcels: parcels of the same "
    "class are merged within {cell:g} km cells for display (areas are the parcels' own); "
    "{csv} and results.gpkg hold every parcel."
)


def aggregated_note(csv_name: str, *, cell_m: float = CELL_M) -> str:
    """The note a page shows when its parcels are aggregated (plain text; escape to embed)."""
    return AGGREGATED_NOTE.format(limit=MAX_EMBEDDED, cell=cell_m / 1000, csv=csv_name)


def add_aggregated_grades(target, inputs, parcels: gpd.GeoDataFrame, grades: pd.Series, *, name):
    """The yield page's parcels, aggregated: one polygon per grade within each grid cell.

    Popups give the grade, the number of parcels and their area; colours as for the parcels.
    """
    from ..palette import grade_colors, grade_labels
    from .fields import area_column, text_column
    from .layers import LayerStyle, add_layer
    from .pages.land_use import PARCEL_DECIMALS

    groups = aggregate_parcels(parcels, pd.DataFrame({"k": grades}))
    labels = grade_labels()
    columns = [
        text_column("_grade", "亩均等级 Grade", groups["k"].map(lambda g: labels.get(g, g))),
        text_column("_n", "地块数 Parcels", groups["parcels"].map(str)),
        area_column(groups["area_ha"]),
    ]
    return add_layer(
        target,
        key="yield_parcels",
        name=name,
        geometry=inputs.display(groups.geometry, decimals=PARCEL_DECIMALS),
        style=LayerStyle(color="#555555", weight=0.5, fill_opacity=0.8, colors=grade_colors()),
        classes=groups["k"],
        schematic=pd.Series(True, index=groups.index),
        columns=columns,
        tooltip=3,
    )
