"""Control-line tables at scale (issue 22): the fast path (zone rows joined from the zone x
parcel pieces, covers fast path, intersections only for boundary pairs) must give the very
rows, areas and verdicts of a straightforward computation done here: every (changing parcel,
line) pair and every (zone, piece) pair intersected with shapely directly, and the rules of
control_rules.json applied row by row in plain Python. Data: build_scale's Voronoi parcels
(a few thousand) written to a GeoPackage, with control lines drawn here at random."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from build_scale import make_gpkg

from miyun_spatial.analysis.run import work_layers
from miyun_spatial.core.control_rules import CONTROL_RULES
from miyun_spatial.io import sources
from miyun_spatial.metrics import prepare
from miyun_spatial.metrics.control_lines import control_line_analysis

CRS = "EPSG:4548"
TYPES = ["ecological_redline", "permanent_farmland", "urban_boundary", "water_protection"]


def random_lines(parcels: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Blobs and strips of every line type over the parcels' extent, overlapping each other."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = parcels.total_bounds
    rows, geoms = [], []
    for i in range(14):
        kind = TYPES[i % len(TYPES)]
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        r = rng.uniform(0.05, 0.2) * (x1 - x0)
        if i % 3:
            geom = shapely.Point(cx, cy).buffer(r, quad_segs=int(rng.integers(4, 40)))
        else:
            geom = shapely.box(cx - r, cy - r / 4, cx + r, cy + r / 4)
        grade = ["一级", "二级"][i % 2] if kind == "water_protection" else None
        rows.append((f"T{i:02d}", kind, f"test line {i}", grade))
        geoms.append(shapely.MultiPolygon([geom]))
    frame = pd.DataFrame(rows, columns=["line_code", "line_type", "name", "grade"])
    frame["source"] = "test"
    frame["provenance"] = "drawn by tests/test_control_lines_scale.py"
    frame["geom_source"] = "schematic"
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)


def matches(rule, row, construction, farmland) -> bool:
    category = {
        "any": lambda use: True,
        "construction": lambda use: use in construction,
        "farmland": lambda use: use in farmland,
    }
    return (
        rule.side in ("any", row["side"])
        and rule.line_type in ("any", row["line_type"])
        and (not rule.grades or row["grade"] in rule.grades)
        and category[rule.from_](row["current_use"])
        and category[rule.to](row["planned_use"])
        and row["planned_use"] not in rule.except_to
    )


def reference(lines, parcels, zones, classes) -> pd.DataFrame:
    """control_line_conflicts by brute force: shapely per pair, rules row by row."""
    planned = parcels["planned_use"].astype(str)
    proposed = parcels.get("proposed_use")
    adjusted = planned.where(proposed.isna() | (proposed.astype(str) == ""), proposed.astype(str))
    current = parcels["current_use"].astype(str)
    changing = (current != planned) | (planned != adjusted)
    construction = set(
        classes.loc[classes["group"].isin(CONTROL_RULES.construction_groups), "code"].astype(str)
    )
    farmland = set(CONTROL_RULES.farmland_classes)
    urban = shapely.union_all(lines.geometry[lines["line_type"] == "urban_boundary"].to_numpy())
    rows = []
    for code in parcels.index[changing]:
        geom = parcels.geometry[code]
        base = {"parcel_code": code, "current_use": current[code], "planned_use": adjusted[code]}
        for line_code, line in lines.iterrows():
            piece = shapely.intersection(geom, line.geometry)
            if piece.area >= 1.0:
                rows.append({**base, "line_code": line_code, "line_type": line["line_type"],
                             "grade": line["grade"], "side": "inside", "geometry": piece})  # fmt: skip
        if adjusted[code] in construction:
            piece = shapely.difference(geom, urban)
            if piece.area >= 1.0:
                rows.append({**base, "line_code": CONTROL_RULES.outside_code,
                             "line_type": "urban_boundary", "grade": None, "side": "outside",
                             "geometry": piece})  # fmt: skip
    for row in rows:
        rule = next(r for r in CONTROL_RULES.rules if matches(r, row, construction, farmland))
        row["rule"], row["verdict"] = rule.id, rule.verdict
    out = [{**r, "layer": "parcels", "feature_code": r["parcel_code"],
            "area": r["geometry"].area} for r in rows]  # fmt: skip
    for name, frame in zones.items():
        for zone_code, zone in frame.geometry.items():
            for r in rows:
                area = shapely.intersection(zone, r["geometry"]).area
                if area >= 1.0:
                    out.append({**r, "layer": name, "feature_code": zone_code, "area": area})
    table = pd.DataFrame(out)
    table["overlap_ha"] = table["area"] / 10_000
    keys = ["layer", "feature_code", "parcel_code", "line_type", "line_code"]
    return table.set_index(keys)[["current_use", "planned_use", "overlap_ha", "rule", "verdict"]]


@pytest.mark.parametrize("pattern", ["patches", "fragmented"])
def test_fast_tables_equal_brute_force(tmp_path, pattern):
    gpkg = make_gpkg(tmp_path / "scale.gpkg", 2500, pattern=pattern)
    plan0 = sources.load(gpkg)
    lines = random_lines(plan0["land_parcels"].to_crs(CRS), seed=22)
    pyogrio.write_dataframe(
        lines, gpkg, layer="control_lines", driver="GPKG", layer_options={"OVERWRITE": "YES"}
    )
    plan = sources.load(gpkg)
    work = work_layers(plan)
    inputs = prepare(work, plan)
    tables = control_line_analysis(
        work["control_lines"], inputs.parcels, inputs.zones, inputs.classes, pieces=inputs.pieces
    ).tables
    got = tables["control_line_conflicts"]
    want = reference(lines.set_index("line_code"), inputs.parcels, inputs.zones, inputs.classes)
    assert len(got) > 500
    assert set(got.index.get_level_values("layer")) > {"parcels"}
    assert set(got["verdict"]) >= {"conflict", "conditional"}
    got_sorted, want_sorted = got.sort_index(), want.sort_index()
    assert got_sorted.index.equals(want_sorted.index)
    for column in ("current_use", "planned_use", "rule", "verdict"):
        assert (got_sorted[column].astype(str) == want_sorted[column].astype(str)).all(), column
    diff = (got_sorted["overlap_ha"] - want_sorted["overlap_ha"]).abs().max()
    assert diff < 1e-6
    assert np.allclose(got_sorted["overlap_mu"], got_sorted["overlap_ha"] * 15)
    # the summary's parcel rows: inside area per (parcel, line type), verdict counts
    summary = tables["control_line_summary"].xs("parcels", level="layer")
    own = want.xs("parcels", level="layer")
    inside = own[own.index.get_level_values("line_code") != CONTROL_RULES.outside_code]
    area = inside.groupby(level=["feature_code", "line_type"])["overlap_ha"].sum()
    conflicts = (own["verdict"] == "conflict").groupby(level=["feature_code", "line_type"]).sum()
    listed = summary.reindex(area.index)
    shown = listed["overlap_ha"].notna()
    assert np.allclose(listed["overlap_ha"][shown], area[shown], atol=1e-6, rtol=0)
    assert (
        listed["overlap_ha"].isna() == (area < 1e-4) & (conflicts.reindex(area.index) == 0)
    ).all()
    assert (summary["conflicts"].reindex(conflicts.index).fillna(0) == conflicts).all()
