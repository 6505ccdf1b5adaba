"""The data commands as a user runs them: areas, build, catalogue; the input is never modified."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import sha256


def test_areas_json_lists_every_plan_feature_in_ha_and_mu(cli, default_gpkg):
    result = cli("areas", default_gpkg, "--json")
    assert result.returncode == 0, result.stderr
    rows = {(r["layer"], r["code"]): r for r in json.loads(result.stdout)}
    assert len(rows) == 3 + 3 + 6 + 7 + 6 + 1 + 1
    a1 = rows[("land_adjustments", "A1")]
    assert a1["area_mu"] == pytest.approx(a1["area_ha"] * 15)
    assert a1["area_mu"] == pytest.approx(1620, rel=0.005)  # the plan: 约108公顷（1620亩）
    for row in rows.values():
        assert abs(row["planar_geodesic_diff_pct"]) < 0.1


def test_areas_csv_is_machine_readable(cli, default_gpkg):
    result = cli("areas", default_gpkg, "--csv")
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"layer", "code", "area_ha", "area_mu", "stated_area_ha"} <= set(records[0])


@pytest.mark.slow
def test_build_writes_tables_and_keeps_the_input_unchanged(tmp_path, cli, gpkg_copy):
    before = sha256(gpkg_copy)
    out = tmp_path / "out"
    result = cli("build", gpkg_copy, "--out", out)
    assert result.returncode == 0, result.stderr
    assert sha256(gpkg_copy) == before
    assert sorted(p.name for p in gpkg_copy.parent.iterdir()) == ["out", "plan.gpkg"]
    areas = list(csv.DictReader(io.StringIO((out / "areas.csv").read_text("utf-8-sig"))))
    z1 = next(r for r in areas if r["code"] == "Z1")
    assert float(z1["area_ha"]) == pytest.approx(1000.84, abs=0.01)


def test_missing_file_is_one_line_and_exit_two(cli, tmp_path):
    result = cli("areas", tmp_path / "nope.gpkg")
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_init_default_refuses_to_overwrite_without_force(cli, gpkg_copy):
    before = sha256(gpkg_copy)
    result = cli("init-default", "--out", gpkg_copy)
    assert result.returncode == 2 and "--force" in result.stderr
    assert sha256(gpkg_copy) == before


def test_reading_leaves_no_side_files(gpkg_copy):
    import pyogrio

    from miyun_spatial.io import geopackage as store

    store.load(gpkg_copy)
    pyogrio.read_dataframe(gpkg_copy, layer="farmer_bases")  # GDAL would write plan.gpkg.aux.xml
    assert sorted(p.name for p in gpkg_copy.parent.iterdir()) == ["plan.gpkg"]
