"""Schematic control lines (三区三线) for the default GeoPackage.

The official lines live in the 国土空间规划“一张图” system and are not available offline. These
are placeholders placed plausibly, so that the compliance analysis has something to find:

- drinking-water source protection (饮用水水源保护区) around Miyun Reservoir, which supplies
  Beijing: a grade-1 zone over the reservoir (the label point of ``places``), reaching into
  the Jinhu base B7 on its north-eastern shore, and a grade-2 ring around it (same line
  type, so the ring leaves the grade-1 zone out);
- ecological red lines (生态保护红线) over the northern mountains (Gubeikou, Wuling-Yunmeng)
  and a riverside corridor along the Chaobai river that clips the Binhe base B2;
- urban development boundaries (城镇开发边界) around the new town, the development zone and
  the towns, leaving the eastern strip of the development zone C2 outside;
- permanent basic farmland (永久基本农田) on the southern plain, one patch over the farmland
  (E2) the Julong base B3 is to build on.

Every line says it is schematic (``geom_source`` = schematic, ``provenance``). Deterministic:
seeds derive from the line codes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from ...core.crs import WORK_CRS
from .plan_features import INSET_M, seed_for
from .shapes import irregular_outline, largest_part
from .sources import Sources

PROVENANCE = (
    "示意 schematic placeholder drawn by miyun-spatial init-default near named places; "
    "not the official line of the 国土空间规划“一张图” system"
)
SOURCE = "miyun-spatial default data (schematic)"


def _blob(code: str, center, radius: float, *, elongation=1.2, angle=0.0, rough=0.2):
    rng = np.random.default_rng(seed_for(code))
    return irregular_outline(
        center, radius, rng, roughness=rough, elongation=elongation, angle_deg=angle
    )


def _xy(sources: Sources, name_zh: str) -> tuple[float, float]:
    point = sources.places.loc[sources.places["name_zh"] == name_zh].geometry.iloc[0]
    return float(point.x), float(point.y)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    geom = shapely.make_valid(geom)
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 1.0]
    return shapely.normalize(shapely.union_all(parts))


def control_lines(
    sources: Sources, outlines: dict[str, BaseGeometry], parcels: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The schematic control-line layer (EPSG:4548), about 14 lines of four types."""
    district = shapely.union_all(sources.district.geometry.values)
    inside = district.buffer(-INSET_M)
    reservoir = _xy(sources, "密云水库")
    rx, ry = reservoir
    lines: list[tuple[str, str, str, str | None, BaseGeometry]] = []

    # 1. water protection around the reservoir: grade 1 over it (and into B7), grade 2 around
    b7 = outlines["B7"]
    b7_west = shapely.Point(b7.bounds[0], b7.centroid.y).buffer(b7.bounds[2] - b7.bounds[0])
    grade1 = shapely.union_all(
        [_blob("WP1", (rx + 1500, ry + 1200), 6500, elongation=1.45, angle=25), b7_west]
    )
    grade2 = _blob("WP2", (rx + 1500, ry + 1500), 11500, elongation=1.35, angle=25)
    grade2 = grade2.difference(grade1)
    lines += [
        ("WP1", "water_protection", "密云水库一级保护区（示意）", "一级", grade1),
        ("WP2", "water_protection", "密云水库二级保护区（示意）", "二级", grade2),
    ]

    # 2. ecological red lines: northern mountains, the western mountains, a river corridor
    gubeikou = _xy(sources, "古北口镇")
    shicheng = _xy(sources, "石城镇")
    xinchengzi = _xy(sources, "新城子镇")
    b2 = outlines["B2"]
    corridor = affinity.rotate(
        shapely.box(
            b2.bounds[2] - 350, b2.bounds[1] - 3000, b2.bounds[2] + 450, b2.bounds[3] + 3000
        ),
        12,
        origin=(b2.bounds[2], b2.centroid.y),
    )
    lines += [
        ("ER1", "ecological_redline", "古北口—雾灵山生态保护红线（示意）", None,
         _blob("ER1", (gubeikou[0] + 3000, gubeikou[1] + 4000), 9000, elongation=1.6, angle=-10)),
        ("ER2", "ecological_redline", "云蒙山生态保护红线（示意）", None,
         _blob("ER2", (shicheng[0] - 4000, shicheng[1] + 5000), 6000, elongation=1.3, angle=60)),
        ("ER3", "ecological_redline", "新城子山区生态保护红线（示意）", None,
         _blob("ER3", (xinchengzi[0] + 2000, xinchengzi[1] + 1000), 6500, elongation=1.2)),
        ("ER4", "ecological_redline", "潮白河滨河生态廊道生态保护红线（示意）", None, corridor),
    ]  # fmt: skip

    # 3. urban development boundaries: the new town and development zone (C2's eastern strip
    # left out), the towns with farmer bases
    c2, c3 = outlines["C2"], outlines["C3"]
    c2_kept = shapely.clip_by_rect(c2.buffer(150), -1e9, -1e9, c2.bounds[2] - 700, 1e10)
    new_town = shapely.union_all(
        [
            c2_kept,
            c3.buffer(250),
            shapely.Point(_xy(sources, "鼓楼街道")).buffer(1800),
            shapely.Point(_xy(sources, "十里堡镇")).buffer(1300),
        ]
    )
    lines += [
        ("UB1", "urban_boundary", "密云新城及经济开发区城镇开发边界（示意）", None, new_town),
        ("UB2", "urban_boundary", "穆家峪镇城镇开发边界（示意）", None,
         _blob("UB2", _xy(sources, "穆家峪镇"), 1300)),
        ("UB3", "urban_boundary", "巨各庄镇城镇开发边界（示意）", None,
         _blob("UB3", (outlines["B3"].centroid.x - 600, outlines["B3"].centroid.y), 900)),
        ("UB4", "urban_boundary", "溪翁庄镇城镇开发边界（示意）", None,
         _blob("UB4", _xy(sources, "溪翁庄镇"), 1000)),
        ("UB5", "urban_boundary", "太师屯镇城镇开发边界（示意）", None,
         _blob("UB5", (b7.centroid.x + 1500, b7.centroid.y - 900), 1100)),
        ("UB6", "urban_boundary", "怀柔科学城东区（密云）城镇开发边界（示意）", None,
         shapely.union_all([outlines["N1"].buffer(200), outlines["N2"].buffer(200)])),
    ]  # fmt: skip

    # 4. permanent basic farmland on the southern plain; PF3 over B3's farmland (E2) parcels
    b3 = outlines["B3"]
    e2_in_b3 = parcels[(parcels["current_use"] == "E2") & parcels.intersects(b3)]
    b3_farm = shapely.union_all(e2_in_b3.geometry.values).buffer(60) if len(e2_in_b3) else b3
    urban = shapely.union_all([g for _c, t, _n, _g, g in lines if t == "urban_boundary"])
    lines += [
        ("PF1", "permanent_farmland", "东邵渠镇永久基本农田（示意）", None,
         _blob("PF1", _xy(sources, "东邵渠镇"), 2600, elongation=1.4, angle=15)),
        ("PF2", "permanent_farmland", "大城子镇永久基本农田（示意）", None,
         _blob("PF2", (_xy(sources, "大城子镇")[0] - 2500, _xy(sources, "大城子镇")[1] - 2000),
               1800)),
        ("PF3", "permanent_farmland", "巨各庄镇永久基本农田（示意）", None,
         b3_farm.difference(urban.buffer(-300))),
    ]  # fmt: skip

    rows = []
    for code, line_type, name, grade, geom in lines:
        shape = _polygonal(geom.intersection(inside))
        if line_type == "permanent_farmland":  # farmland stays out of the new town
            shape = _polygonal(shape.difference(new_town))
        rows.append((code, line_type, name, grade, largest_part(shape) if code == "ER4" else shape))
    frame = gpd.GeoDataFrame(
        {
            "line_code": [r[0] for r in rows],
            "line_type": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "grade": [r[3] for r in rows],
            "source": [SOURCE] * len(rows),
            "provenance": [PROVENANCE] * len(rows),
            "geom_source": ["schematic"] * len(rows),
        },
        geometry=[shapely.MultiPolygon(list(shapely.get_parts(r[4]))) for r in rows],
        crs=WORK_CRS,
    )
    return frame.astype({c: object for c in frame.columns if c != "geometry"})
