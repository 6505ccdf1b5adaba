"""Schematic plan features (clusters, park-in-park, nodes, bases, park, sites, adjustment).

Each outline is an irregular shape placed at the anchor of ``placement_guide.csv`` and scaled
until its measured area equals the target area exactly, while staying inside the district and
clear of the features it must not overlap.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ...core.crs import WORK_CRS
from .shapes import calibrate, cut_by_area, irregular_outline, largest_part, scaled
from .sources import Sources, to_work_xy

HA = 10_000.0
ROAD_GAP_M = 40.0  # the width left between park-in-park bands (roads)
INSET_M = 50.0  # how far features stay inside the district boundary


@dataclass(frozen=True)
class Outline:
    """How to draw one feature: centre (WGS84), shape parameters and what to keep clear of."""

    center: tuple[float, float] | None = None  # None: use the placement guide's anchor
    elongation: float = 1.15
    angle_deg: float = 0.0
    roughness: float = 0.22
    inside: str = "district"  # "district" (inset), "district_edge" (may touch it) or a feature code
    avoid: tuple[str, ...] = ()
    gap_m: float = 100.0


# The drawing recipe, in drawing order. Centres differ from the guide's anchor only where the
# guide's placement text asks for it (C1 touches Huairou; B2 adjoins the development zone).
OUTLINES: dict[str, Outline] = {
    "C2": Outline(elongation=1.25, angle_deg=10),
    "C3": Outline(elongation=1.3, angle_deg=-35, avoid=("C2",), gap_m=150),
    "C1": Outline(
        center=(116.757, 40.392),
        elongation=1.45,
        angle_deg=18,
        roughness=0.16,
        inside="district_edge",
        avoid=("C2", "C3"),
        gap_m=300,
    ),
    "N1": Outline(center=(116.776, 40.381), elongation=1.2, angle_deg=60, inside="C1"),
    "N2": Outline(elongation=1.1, angle_deg=-20, inside="C1", avoid=("N1",)),
    "X1": Outline(elongation=1.2, angle_deg=30, inside="C1", avoid=("N1", "N2")),
    "B2": Outline(center=(116.835, 40.318), elongation=1.5, angle_deg=5, avoid=("C2",), gap_m=30),
    "B1": Outline(elongation=1.2, angle_deg=40, avoid=("C1", "C2", "C3")),
    "B3": Outline(elongation=1.3, angle_deg=-10, avoid=("C1", "C2", "C3")),
    "B4": Outline(elongation=1.2, angle_deg=75, avoid=("C1", "C2", "C3")),
    "B5": Outline(elongation=1.25, angle_deg=20, avoid=("C1", "C2", "C3", "B2")),
    "B6": Outline(elongation=1.3, angle_deg=-50, avoid=("C1", "C2", "C3")),
    "B7": Outline(elongation=1.2, angle_deg=15, avoid=("C1", "C2", "C3")),
}

# Park-in-park bands of zone A, north to south (plan 四（二）): P3 north of 水源西路, P1 between
# the river and 潮川三路, P2 south of 潮川三路.
ZONE_A_SHARE = 0.68  # zone A = the western part of C2
PARK_BANDS = ("P3", "P1", "P2")
BASE_CODES = ("B1", "B2", "B3", "B4", "B5", "B6", "B7")
# Expansion candidates of plan section 一（二）3: (code, source feature, status)
EXPANSION = (
    ("Z2", "N1", "included"),
    ("Z3", "N3", "proposed"),
    ("Z4", "X1", "policy_only"),
    ("Z5", "N2", "policy_only"),
    ("Z6", "N4", "policy_only"),
)
LAND_CHANGE_ZH = {
    "B2": "纳入密云经济开发区统一管理",
    "B4": "土地性质调整为多功能用地（F3）",
    "B6": "基地土地全部规划为城镇建设用地",
    "B7": "规划为战略留白用地，逐步退出",
}


def seed_for(code: str) -> int:
    """A stable random seed per feature code."""
    return zlib.crc32(code.encode("utf-8"))


def target_area_m2(sources: Sources, code: str) -> float:
    return float(sources.placement.loc[code, "target_area_ha"]) * HA


def draw_outlines(sources: Sources) -> dict[str, BaseGeometry]:
    """Every schematic outline, keyed by code, each exactly at its target area (EPSG:4548)."""
    district = shapely.union_all(sources.district.geometry.values)
    bounds = {"district": district.buffer(-INSET_M), "district_edge": district}
    drawn: dict[str, BaseGeometry] = {}
    for code, recipe in OUTLINES.items():
        guide = sources.placement.loc[code]
        lon, lat = recipe.center or (float(guide.anchor_lon), float(guide.anchor_lat))
        center = to_work_xy(lon, lat)
        target = target_area_m2(sources, code)
        outline = irregular_outline(
            center,
            math.sqrt(target / math.pi),
            np.random.default_rng(seed_for(code)),
            roughness=recipe.roughness,
            elongation=recipe.elongation,
            angle_deg=recipe.angle_deg,
        )
        inside = bounds.get(recipe.inside) or drawn[recipe.inside].buffer(-INSET_M)
        avoid = shapely.union_all([drawn[c].buffer(recipe.gap_m) for c in recipe.avoid])
        room = inside.difference(avoid) if recipe.avoid else inside
        grow = scaled(outline, center)
        drawn[code] = calibrate(lambda s, grow=grow, room=room: grow(s).intersection(room), target)
    drawn.update(_zone_a_features(sources, drawn["C2"]))
    return drawn


def _zone_a_features(sources: Sources, c2: BaseGeometry) -> dict[str, BaseGeometry]:
    """P3/P1/P2 as north-to-south bands of zone A (west part of C2), and A1 across P1/P2."""
    zone_a, _zone_b = cut_by_area(c2, ZONE_A_SHARE * c2.area, angle_deg=0)
    room = zone_a.buffer(-ROAD_GAP_M)
    out: dict[str, BaseGeometry] = {}
    for code in PARK_BANDS:
        band, room = cut_by_area(room, target_area_m2(sources, code), angle_deg=-90)
        out[code] = band
        room = room.difference(band.buffer(ROAD_GAP_M))
    below_p3 = largest_part(zone_a.difference(out["P3"].buffer(ROAD_GAP_M)))
    a1, _rest = cut_by_area(below_p3, target_area_m2(sources, "A1"), angle_deg=180)
    out["A1"] = a1
    out["ZONE_A"] = zone_a
    return out


def plan_layers(sources: Sources, outlines: dict[str, BaseGeometry]) -> dict[str, gpd.GeoDataFrame]:
    """The plan layers with their attributes, keyed by catalogue layer name."""
    ent = sources.entities
    rows: dict[str, list[dict]] = {}
    for code, row in ent.iterrows():
        layer = "land_adjustments" if row.layer == "land_use_adjustments" else row.layer
        if code == "Z1":
            geom = shapely.union_all([outlines["C2"], outlines["C3"]])
        elif code.startswith("N") and pd.notna(row.same_site_as):
            geom = outlines[row.same_site_as]
        else:
            geom = outlines[code]
        record = _common_attributes(sources, code, row) | _layer_attributes(code, row, layer)
        rows.setdefault(layer, []).append(record | {"geometry": geom})
    for code, source, status in EXPANSION:
        src = ent.loc[source]
        geom = outlines[src.same_site_as] if pd.notna(src.same_site_as) else outlines[source]
        record = _common_attributes(sources, source, src) | {
            "code": code,
            "name_zh": f"密云园扩区候选：{src.name_zh}",
            "name_en": f"Miyun Park expansion candidate: {src.name_en}",
            "plan_section": "一（二）3",
            "expansion_status": status,
            "source_code": source,
            "notes": f"same outline as {source}; "
            + _common_attributes(sources, source, src)["notes"],
        }
        rows["zgc_park"].append(record | {"geometry": geom})
    return {
        layer: gpd.GeoDataFrame(records, geometry="geometry", crs=WORK_CRS)
        for layer, records in rows.items()
    }


def _common_attributes(sources: Sources, code: str, row: pd.Series) -> dict:
    site = code if code in sources.placement.index else row.same_site_as
    guide = sources.placement.loc[site]
    stated = row.stated_area_ha
    basis = {"assumed_split": "assumed"}.get(guide.area_basis, guide.area_basis)
    note = (
        f"schematic outline digitized from the plan text near {guide.anchor_place}: "
        f"{guide.placement}; area calibrated to {float(guide.target_area_ha):g} ha ({basis})"
    )
    if pd.notna(guide.note):
        note += f"; {guide.note}"
    return {
        "code": code,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "plan_section": row.plan_section,
        "geom_source": "schematic",
        "position_confidence": guide.position_confidence,
        "stated_area_ha": float(stated) if pd.notna(stated) else None,
        "area_basis": basis,
        "location_zh": row.location_zh if pd.notna(row.location_zh) else None,
        "focus_zh": row.focus_zh if pd.notna(row.focus_zh) and row.focus_zh else None,
        "notes": note,
    }


def _layer_attributes(code: str, row: pd.Series, layer: str) -> dict:
    firms = row.anchor_firms_zh if pd.notna(row.anchor_firms_zh) else None
    if layer == "clusters":
        return {"anchor_firms_zh": firms}
    if layer == "park_in_park":
        return {"cluster_code": row.parent_id, "anchor_firms_zh": firms}
    if layer == "support_nodes":
        return {"base_code": row.same_site_as if pd.notna(row.same_site_as) else None}
    if layer == "farmer_bases":
        return {
            "category": row.category,
            "town_zh": row.town_zh,
            "direction_zh": row.focus_zh,
            "land_change_zh": LAND_CHANGE_ZH.get(code),
        }
    if layer == "zgc_park":
        return {"expansion_status": "current", "source_code": None}
    if layer == "other_sites":
        return {"cluster_code": row.parent_id}
    if layer == "land_adjustments":
        return {
            "cluster_code": row.parent_id,
            "from_use": "F3",
            "to_use_zh": "科研及工业用地（A35、M1）",
        }
    raise ValueError(f"no attribute recipe for layer {layer}")
