"""Synthetic land parcels whose totals reproduce the plan's published figures.

Inside the Miyun park (Z1 = C2 + C3) the parcels tile the park exactly and are grouped so that
(plan section 一（二）6, land_facts F01-F06):

- planned area 1000.84 ha; planned industrial land (M1/M2) 358.71 ha;
- built urban-construction land 462.36 ha, of which built industrial land 278.15 ha;
- revenue / built urban-construction ha = 8311 万元/公顷; output / built industrial ha = 5934.

Each group's area is hit exactly by taking Voronoi cells in a fixed order and cutting the last
one to size. The A1 re-designation (108 ha, planned F3, proposed A35/M1) and the Annex 1
projects with a stated land area are parcels of their own. The farmer bases get parcels too,
with their land change (current -> planned) and no economics. Every parcel is ``synthetic``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ...core.crs import WORK_CRS
from .enterprise import add_enterprise_attributes
from .plan_features import HA, seed_for
from .shapes import (
    calibrate,
    cut_by_area,
    irregular_outline,
    random_points_in,
    voronoi_tessellation,
)

CELL_HA = 3.0  # typical synthetic parcel size
BASE_CELL_HA = 4.0
BUILT_INDUSTRIAL_TO_CHANGE_HA = 20.0  # built industrial parcels planned for another use (腾退)
EMPLOYEE_OUTPUT_10K = 83.0  # 2020 industrial output per employee (Table 2-1), 万元/人
EMPLOYEE_REVENUE_10K = 100.0  # assumed revenue per employee for services

# Annex 1 projects with a stated land area: site zone, sector, status (from the project list).
PROJECT_SITES = {
    "J06": ("P3", "intelligent_manufacturing", "under_construction"),
    "J07": ("P2", "intelligent_manufacturing", "under_construction"),
    "J09": ("P3", "services", "under_construction"),
    "J10": ("P1", "pharma_health", "under_construction"),
    "J11": ("ZONE_B", "traditional", "under_construction"),
    "J12": ("ZONE_B", "digital", "built"),
    "J13": ("ZONE_B", "pharma_health", "unbuilt"),
    "J15": ("P1", "pharma_health", "unbuilt"),
}
ZONE_SECTORS = {
    "P1": ("pharma_health",),
    "P2": ("intelligent_manufacturing",),
    "P3": ("energy_environment",),
    "ZONE_B": ("traditional", "digital", "intelligent_manufacturing", "other"),
    "C3": ("services", "digital"),
}
SECTOR_YIELD = {  # relative revenue per ha by sector (synthetic spread around the park average)
    "pharma_health": 1.6,
    "digital": 1.4,
    "services": 1.2,
    "intelligent_manufacturing": 1.0,
    "energy_environment": 1.0,
    "other": 0.8,
    "traditional": 0.6,
}
BUILT_SERVICES_USES = {"B": 0.38, "A": 0.12, "R": 0.17, "G": 0.12, "S": 0.13, "U": 0.04, "W": 0.04}
UNBUILT_PLANNED_USES = {
    "S": 0.2,
    "G": 0.25,
    "B": 0.14,
    "R": 0.1,
    "A": 0.08,
    "U": 0.05,
    "W": 0.08,
    "X": 0.1,
}
ENTERPRISE_USES = {"M1", "M2", "B", "W", "A35"}
# Farmer bases: (current, planned, weight) per cell, following each base's land change.
BASE_LAND = {
    "B1": (("M1", "M1", 0.5), ("W", "W", 0.3), ("E2", "M1", 0.2)),
    "B2": (("M1", "M1", 0.6), ("E2", "M1", 0.4)),
    "B3": (("M1", "M1", 0.7), ("E2", "M1", 0.3)),
    "B4": (("M1", "F3", 0.8), ("W", "F3", 0.2)),
    "B5": (("M1", "M1", 0.6), ("W", "W", 0.2), ("E2", "M1", 0.2)),
    "B6": (("M1", "W", 0.35), ("E2", "B", 0.35), ("W", "M1", 0.3)),
    "B7": (("M1", "LB", 0.6), ("E2", "LB", 0.4)),
}


@dataclass(frozen=True)
class ParkTargets:
    """The plan's figures for the Miyun park, from land_facts."""

    planned_ha: float
    planned_industrial_ha: float
    built_construction_ha: float
    built_industrial_ha: float
    revenue_per_ha: float
    output_per_ha: float

    @classmethod
    def from_land_facts(cls, facts: pd.DataFrame) -> ParkTargets:
        expected = {
            "F01": "规划面积",
            "F02": "规划工业用地面积",
            "F03": "已建成城镇建设用地面积",
            "F04": "已建成工业用地面积",
            "F05": "2020年已建成城镇建设用地单位面积收入",
            "F06": "2020年已建成工业用地单位面积产值",
        }
        rows = facts.set_index("fact_code")
        for code, name in expected.items():
            if rows.loc[code, "fact_zh"] != name:
                raise ValueError(
                    f"land_facts {code} is '{rows.loc[code, 'fact_zh']}', expected {name}"
                )
        value = lambda code: float(rows.loc[code, "value"])  # noqa: E731
        return cls(*(value(code) for code in expected))


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[rng.choice(len(keys), p=p / p.sum())]


def _site_for(
    region: BaseGeometry, area_m2: float, rng: np.random.Generator
) -> tuple[float, float]:
    """A point deep enough inside ``region`` to hold a parcel of ``area_m2``."""
    radius = math.sqrt(area_m2 / math.pi)
    candidates = random_points_in(region, 200, rng)
    depth = [
        region.exterior.distance(shapely.Point(p))
        if region.geom_type == "Polygon"
        else region.boundary.distance(shapely.Point(p))
        for p in candidates
    ]
    for point, d in zip(candidates, depth, strict=True):
        if d > 1.6 * radius:
            return float(point[0]), float(point[1])
    best = int(np.argmax(depth))
    return float(candidates[best][0]), float(candidates[best][1])


def project_parcels(projects: pd.DataFrame, zones: dict[str, BaseGeometry], avoid: BaseGeometry):
    """One parcel per Annex 1 project with a stated land area, exactly that area (亩 / 15)."""
    records, taken = [], avoid
    for code, (zone, sector, status) in PROJECT_SITES.items():
        project = projects.loc[projects.code == code].iloc[0]
        area = float(project.stated_land_mu) / 15.0 * HA
        rng = np.random.default_rng(seed_for(f"parcel-{code}"))
        room = zones[zone].difference(taken.buffer(30)).buffer(-20)
        center = _site_for(room, area, rng)
        outline = irregular_outline(
            center,
            math.sqrt(area / math.pi),
            rng,
            vertices=7,
            roughness=0.12,
            elongation=1.35,
            angle_deg=rng.uniform(0, 180),
        )
        geom = calibrate(
            lambda s, o=outline, c=center, r=room: shapely.affinity.scale(
                o, s, s, origin=c
            ).intersection(r),
            area,
        )
        taken = taken.union(geom)
        built = status == "built"
        records.append(
            {
                "parcel_code": f"C2-{code}",
                "zone": zone,
                "current_use": "M1"
                if built
                else ("M1" if status == "under_construction" else "E2"),
                "planned_use": "M1",
                "proposed_use": None,
                "status": status,
                "enterprise": project.owner_zh,
                "sector": sector,
                "project_code": code,
                "geometry": geom,
            }
        )
    return records


def _take_exact(pool: list[dict], target_m2: float, rng: np.random.Generator) -> list[dict]:
    """Take cells from the front of ``pool`` until their area is exactly ``target_m2``.

    The last cell is cut to size and its remainder goes back to the front of the pool.
    """
    taken, remaining = [], target_m2
    while remaining > 1e-6 * target_m2:
        if not pool:
            raise ValueError(f"not enough parcels to place {target_m2 / HA:.2f} ha")
        cell = pool.pop(0)
        if cell["geometry"].area <= remaining:
            taken.append(cell)
            remaining -= cell["geometry"].area
            continue
        piece, rest = cut_by_area(cell["geometry"], remaining, angle_deg=float(rng.uniform(0, 180)))
        taken.append(cell | {"geometry": piece})
        pool.insert(0, cell | {"geometry": rest})
        remaining = 0.0
    return taken


def _cells(region: BaseGeometry, zone_of, prefix: str, cell_ha: float) -> list[dict]:
    count = max(2, round(region.area / (cell_ha * HA)))
    cells = voronoi_tessellation(region, count, np.random.default_rng(seed_for(prefix)))
    return [{"zone": zone_of(c), "geometry": c, "prefix": prefix} for c in cells]


def park_parcels(
    outlines: dict[str, BaseGeometry], projects: pd.DataFrame, targets: ParkTargets
) -> list[dict]:
    """Parcels tiling Z1 with attributes whose totals equal ``targets`` (areas exact)."""
    c2, c3, a1 = outlines["C2"], outlines["C3"], outlines["A1"]
    zone_b = c2.difference(outlines["ZONE_A"])
    zones = {"P1": outlines["P1"], "P2": outlines["P2"], "P3": outlines["P3"], "ZONE_B": zone_b}
    projects_recs = project_parcels(projects, zones, a1)
    taken = shapely.union_all([a1] + [r["geometry"] for r in projects_recs])

    def zone_of(cell: BaseGeometry) -> str:
        point = cell.representative_point()
        return next((name for name, z in zones.items() if z.contains(point)), "C2")

    a1_cells = _cells(a1, zone_of, "A1", CELL_HA)
    c2_cells = _cells(c2.difference(taken), zone_of, "C2", CELL_HA)
    c3_cells = _cells(c3, lambda _c: "C3", "C3", CELL_HA)
    rng = np.random.default_rng(seed_for("park-parcels"))

    c2_center, c3_center = c2.centroid, c3.centroid
    c2_cells.sort(key=lambda c: c["geometry"].centroid.distance(c2_center))
    c3_cells.sort(key=lambda c: c["geometry"].centroid.distance(c3_center))

    built_projects = sum(r["geometry"].area for r in projects_recs if r["status"] == "built")
    unbuilt_projects = sum(r["geometry"].area for r in projects_recs if r["status"] != "built")
    built_services_m2 = (targets.built_construction_ha - targets.built_industrial_ha) * HA
    change_m2 = BUILT_INDUSTRIAL_TO_CHANGE_HA * HA
    built_ind_m2 = targets.built_industrial_ha * HA - change_m2 - built_projects
    planned_ind_unbuilt_m2 = (
        targets.planned_industrial_ha * HA - built_ind_m2 - built_projects - unbuilt_projects
    )

    records: list[dict] = []
    pool = c3_cells + c2_cells
    for cell in _take_exact(pool, built_services_m2, rng):
        use = _pick(rng, BUILT_SERVICES_USES)
        records.append(cell | {"current_use": use, "planned_use": use, "status": "built"})
    pool = [c for c in pool if c["prefix"] == "C2"] + [c for c in pool if c["prefix"] == "C3"]
    for cell in _take_exact(pool, built_ind_m2, rng):
        use = "M2" if rng.random() < 0.15 else "M1"
        records.append(cell | {"current_use": use, "planned_use": use, "status": "built"})
    for cell in _take_exact(pool, change_m2, rng):
        planned = "B" if rng.random() < 0.6 else "A35"
        records.append(
            cell
            | {
                "current_use": "M1",
                "planned_use": planned,
                "status": "built",
                "sector": "traditional",
            }
        )
    for cell in _take_exact(pool, planned_ind_unbuilt_m2, rng):
        building = rng.random() < 0.35
        records.append(
            cell
            | {
                "current_use": "M1" if building else "E2",
                "planned_use": "M1",
                "status": "under_construction" if building else "unbuilt",
            }
        )
    for cell in pool:
        records.append(
            cell
            | {
                "current_use": "E2",
                "planned_use": _pick(rng, UNBUILT_PLANNED_USES),
                "status": "unbuilt",
            }
        )
    for cell in a1_cells:
        proposed = "A35" if cell["zone"] == "P1" else "M1"
        records.append(
            cell
            | {
                "current_use": "E2",
                "planned_use": "F3",
                "proposed_use": proposed,
                "status": "unbuilt",
            }
        )
    for record in records:
        _add_enterprise(record, rng)
    return _number(records, "C2") + projects_recs


def _add_enterprise(record: dict, rng: np.random.Generator) -> None:
    has_firm = record["status"] == "built" and record["current_use"] in ENTERPRISE_USES
    if not has_firm and record["status"] != "under_construction":
        return
    choices = ZONE_SECTORS.get(record["zone"], ZONE_SECTORS["ZONE_B"])
    if record["current_use"] in ("B", "A35"):
        choices = ZONE_SECTORS["C3"]
    record.setdefault("sector", choices[int(rng.integers(len(choices)))])
    record["enterprise"] = "示例企业（合成）"


def _number(records: list[dict], _default: str) -> list[dict]:
    """Parcel codes by zone prefix, numbered north-west to south-east."""
    out = []
    for prefix in ("A1", "C2", "C3"):
        group = [r for r in records if r["prefix"] == prefix]
        group.sort(key=lambda r: (-round(r["geometry"].centroid.y, -2), r["geometry"].centroid.x))
        for n, record in enumerate(group, start=1):
            code = f"{prefix}-{n:03d}"
            if record.get("enterprise") == "示例企业（合成）":
                record["enterprise"] = f"示例企业 {code}（合成）"
            out.append(record | {"parcel_code": code})
    return out


def base_parcels(outlines: dict[str, BaseGeometry]) -> list[dict]:
    """Parcels tiling each farmer base, following its land change; no economics."""
    records = []
    for base, mix in BASE_LAND.items():
        rng = np.random.default_rng(seed_for(f"base-{base}"))
        cells = _cells(outlines[base], lambda _c, b=base: b, base, BASE_CELL_HA)
        weights = {i: w for i, (_c, _p, w) in enumerate(mix)}
        for n, cell in enumerate(cells, start=1):
            current, planned, _w = mix[int(_pick(rng, weights))]
            built = current not in ("E2", "E1")
            records.append(
                cell
                | {
                    "parcel_code": f"{base}-{n:02d}",
                    "current_use": current,
                    "planned_use": planned,
                    "status": "built" if built else "unbuilt",
                }
            )
    return records


def add_economics(
    parcels: pd.DataFrame, targets: ParkTargets, classes: pd.DataFrame
) -> pd.DataFrame:
    """Synthetic revenue, output and employees for built enterprise parcels inside the park.

    Per-hectare yields vary by sector (lognormal spread); totals are scaled so that revenue per
    built urban-construction ha and output per built industrial ha equal the plan's 2020 figures.
    """
    rng = np.random.default_rng(seed_for("economics"))
    out = parcels.copy()
    area_ha = out.geometry.area / HA
    in_park = out.parcel_code.str.match(r"^(C2|C3|A1)-")
    earning = in_park & (out.status == "built") & out.enterprise.notna() & out.project_code.isna()
    industrial = out.current_use.isin(_codes(classes, classes.counts_as_industrial == "yes"))
    construction = out.current_use.isin(_codes(classes, classes.group == "construction"))
    built_construction = in_park & (out.status == "built") & construction
    built_industrial = built_construction & industrial

    relative = out.sector.map(SECTOR_YIELD).fillna(1.0).astype(float)
    spread = np.exp(rng.normal(0.0, 0.55, len(out)))
    raw_revenue = (relative * spread * area_ha).where(earning, 0.0)
    revenue_total = targets.revenue_per_ha * area_ha[built_construction].sum()
    revenue = _scaled_to(raw_revenue, revenue_total, earning)

    ratio = pd.Series(rng.uniform(0.45, 1.0, len(out)), index=out.index)
    makes_output = earning & industrial
    output_total = targets.output_per_ha * area_ha[built_industrial].sum()
    output = _scaled_to((revenue * ratio).where(makes_output, 0.0), output_total, makes_output)

    productivity = np.where(industrial, EMPLOYEE_OUTPUT_10K, EMPLOYEE_REVENUE_10K)
    basis = np.where(industrial, output, revenue)
    employees = np.round(basis / productivity * rng.uniform(0.7, 1.3, len(out)))
    out["revenue_10k_cny"] = revenue.where(earning)
    out["output_10k_cny"] = output.where(makes_output)
    out["employees"] = pd.array(np.where(earning, employees, np.nan), dtype="Int64")
    return out


def _codes(classes: pd.DataFrame, mask: pd.Series) -> list[str]:
    return classes.loc[mask, "code"].tolist()


def _scaled_to(raw: pd.Series, total: float, mask: pd.Series) -> pd.Series:
    """Scale ``raw`` to ``total`` and round to 0.01 万元, putting the rounding residue on the largest."""
    scaled = (raw * (total / raw[mask].sum())).round(2)
    largest = scaled[mask].idxmax()
    scaled.loc[largest] = round(scaled.loc[largest] + (total - scaled[mask].sum()), 2)
    return scaled


def build_parcels(
    outlines: dict[str, BaseGeometry],
    projects: pd.DataFrame,
    targets: ParkTargets,
    classes: pd.DataFrame,
) -> gpd.GeoDataFrame:
    records = park_parcels(outlines, projects, targets) + base_parcels(outlines)
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs=WORK_CRS)
    for column in ("proposed_use", "enterprise", "sector", "project_code"):
        if column not in frame:
            frame[column] = None
    frame["data_basis"] = "synthetic"
    frame = add_economics(frame, targets, classes)
    frame = add_enterprise_attributes(frame)  # 亩均评价 / 低效用地 fields, own seed
    return frame.drop(columns=["zone", "prefix"])
