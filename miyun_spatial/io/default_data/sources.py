"""Read the facts the default GeoPackage is built from (``geodata/sources``, see its PROVENANCE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ...core.crs import WORK_CRS
from ...core.paths import PACKAGE_ROOT

DEFAULT_SOURCES = PACKAGE_ROOT.parent / "geodata" / "sources"


@dataclass(frozen=True)
class Sources:
    entities: pd.DataFrame  # index: entity id (C1, P1, ...)
    placement: pd.DataFrame  # index: entity id
    land_facts: pd.DataFrame
    indicators: pd.DataFrame
    zgc_parks: pd.DataFrame
    projects: pd.DataFrame
    project_totals: pd.DataFrame
    land_use_classes: pd.DataFrame
    district: gpd.GeoDataFrame  # EPSG:4548
    places: gpd.GeoDataFrame  # EPSG:4548


def read_sources(folder: Path = DEFAULT_SOURCES) -> Sources:
    csv = lambda name: pd.read_csv(folder / name, dtype_backend="numpy_nullable")  # noqa: E731
    places = csv("miyun_places_wgs84.csv")
    places = gpd.GeoDataFrame(
        places, geometry=gpd.points_from_xy(places.lon, places.lat), crs="EPSG:4326"
    ).to_crs(WORK_CRS)
    return Sources(
        entities=csv("plan_entities.csv").set_index("id"),
        placement=csv("placement_guide.csv").set_index("code"),
        land_facts=csv("land_facts.csv"),
        indicators=csv("indicators.csv"),
        zgc_parks=csv("zgc_parks_2020.csv"),
        projects=csv("projects_annex1.csv"),
        project_totals=csv("projects_annex1_stated_totals.csv"),
        land_use_classes=csv("land_use_classes.csv"),
        district=gpd.read_file(folder / "miyun_district_wgs84.geojson").to_crs(WORK_CRS),
        places=places,
    )


def to_work_xy(lon: float, lat: float) -> tuple[float, float]:
    """Project one WGS84 point to EPSG:4548 metres."""
    point = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs="EPSG:4326").to_crs(WORK_CRS)
    return float(point.x.iloc[0]), float(point.y.iloc[0])
