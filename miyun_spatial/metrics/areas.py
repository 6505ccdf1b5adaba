"""Areas of plan features in hectares and 亩, planar (EPSG:4548) with a geodesic cross-check."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.crs import require_projected
from ..core.measure import geodesic_area_ha, ha_to_mu, planar_area_ha


def _category(frame: pd.DataFrame, layer: str) -> pd.Series:
    field = CATALOGUE[layer].category_field
    if field and field in frame.columns:
        return frame[field].astype(object)
    return pd.Series(None, index=frame.index, dtype=object)


def feature_areas(layers: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Area of every plan feature: one row per (layer, code), in ha and 亩, vs the stated area.

    ``layers`` maps plan layer names to GeoDataFrames in EPSG:4548. Columns: name_zh, name_en,
    category, area_ha, area_mu, geodesic_area_ha, planar_geodesic_diff_pct, stated_area_ha,
    stated_diff_pct, geom_source, area_basis.
    """
    parts = []
    for spec in CATALOGUE.plan_layers:
        if spec.name not in layers:
            continue
        gdf = layers[spec.name]
        require_projected(gdf, layer=spec.name)
        area = planar_area_ha(gdf)
        geodesic = geodesic_area_ha(gdf)
        stated = pd.to_numeric(gdf.get("stated_area_ha"), errors="coerce")
        parts.append(
            pd.DataFrame(
                {
                    "layer": spec.name,
                    "code": gdf["code"].astype(str),
                    "name_zh": gdf["name_zh"],
                    "name_en": gdf["name_en"],
                    "category": _category(gdf, spec.name),
                    "area_ha": area,
                    "area_mu": ha_to_mu(area),
                    "geodesic_area_ha": geodesic,
                    "planar_geodesic_diff_pct": (area - geodesic) / geodesic * 100,
                    "stated_area_ha": stated,
                    "stated_diff_pct": (area - stated) / stated * 100,
                    "geom_source": gdf.get("geom_source"),
                    "area_basis": gdf.get("area_basis"),
                }
            )
        )
    table = pd.concat(parts, ignore_index=True)
    return table.set_index(["layer", "code"])
