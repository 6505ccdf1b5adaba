"""``mix``, ``yield`` and ``adjustments`` as a user runs them; bad input; the input is untouched."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import sha256
from gpkg_edit import set_value, sql


def run_json(cli, *args):
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_mix_json_adds_up_to_the_zone_area(cli, default_gpkg):
    rows = run_json(cli, "mix", default_gpkg, "--layer", "zgc_park", "--use", "planned")
    assert {r["layer"] for r in rows} == {"zgc_park"} and {r["use"] for r in rows} == {"planned"}
    z1 = [r for r in rows if r["zone"] == "Z1"]
    assert sum(r["area_ha"] for r in z1) == pytest.approx(1000.84, abs=0.01)
    assert sum(r["share"] for r in z1) == pytest.approx(1.0)
    assert any(r["class"] == "uncovered" for r in z1)


def test_mix_indices_csv_and_text_table(cli, default_gpkg):
    result = cli("mix", default_gpkg, "--layer", "farmer_bases", "--indices", "--csv")
    assert result.returncode == 0, result.stderr
    rows = {(r["zone"], r["use"]): r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert len(rows) == 7 * 3
    jinhu = rows[("B7", "planned")]  # planned entirely as strategic reserve (LB): one class
    assert float(jinhu["entropy"]) == 0.0 and float(jinhu["hhi"]) == 1.0
    text = cli("mix", default_gpkg, "--layer", "land_adjustments")
    assert text.returncode == 0 and "share_%" in text.stdout
    # codes shown Chinese first, as on the maps: classes, the uncovered rest, the use
    for label in ("A35 科研用地", "无地块 not covered by parcels", "调整后用地 use after"):
        assert label in text.stdout, label


def test_yield_reproduces_the_plans_2020_figures(cli, default_gpkg):
    rows = run_json(cli, "yield", default_gpkg, "--layer", "zgc_park")
    z1 = next(r for r in rows if r["zone"] == "Z1")
    assert z1["revenue_per_ha"] == pytest.approx(8311.0, abs=0.01)
    assert z1["output_per_ha"] == pytest.approx(5934.0, abs=0.01)
    assert z1["target_revenue_per_ha"] == 12000.0


def test_yield_benchmark_and_low_efficiency_parcels(cli, default_gpkg):
    bench = run_json(cli, "yield", default_gpkg, "--table", "benchmark")
    miyun = next(r for r in bench if r["park_zh"] == "密云园")
    assert miyun["revenue_rank"] == 15 and miyun["is_miyun"] is True
    result = cli(
        "yield", default_gpkg, "--layer", "zgc_park", "--table", "parcels", "--low-efficiency",
        "--grades", "1.0,0.8,0.5", "--csv",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(r["grade"] == "D" and r["status"] == "built" for r in rows)
    assert all(float(r["pct_of_target"]) < 50.0 for r in rows)


def test_bad_grades_are_a_usage_error(cli, default_gpkg):
    result = cli("yield", default_gpkg, "--grades", "0.4,0.7,1.0")
    assert result.returncode == 2
    assert "decrease" in result.stderr and "Traceback" not in result.stderr


def test_adjustments_totals_and_transitions(cli, default_gpkg):
    totals = run_json(cli, "adjustments", default_gpkg, "--layer", "land_adjustments")
    (a1,) = totals
    assert a1["code"] == "A1" and a1["changed_ha"] == pytest.approx(108.0, rel=0.005)
    result = cli(
        "adjustments", default_gpkg, "--layer", "land_adjustments", "--table", "transitions",
        "--kind", "planned_to_adjusted", "--changes-only", "--csv",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["from_use"], r["to_use"]) for r in rows} == {("F3", "A35"), ("F3", "M1")}
    assert sum(float(r["area_mu"]) for r in rows) == pytest.approx(1620, rel=0.005)


def test_unknown_class_names_layer_feature_and_fix(cli, gpkg_copy):
    set_value(gpkg_copy, "land_parcels", "parcel_code", "C2-011", "current_use", "Q9")
    before = sha256(gpkg_copy)
    result = cli("mix", gpkg_copy, "--layer", "clusters")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "land_parcels" in lines[0] and "C2-011" in lines[0] and "Q9" in lines[0]
    assert sha256(gpkg_copy) == before  # read-only


def test_missing_target_fact_is_a_data_error(cli, gpkg_copy):
    sql(gpkg_copy, "DELETE FROM land_facts WHERE fact_code = 'F12'")
    before = sha256(gpkg_copy)
    result = cli("yield", gpkg_copy, "--layer", "zgc_park")
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "F12" in result.stderr
    assert "Traceback" not in result.stderr
    assert sha256(gpkg_copy) == before
