"""results.gpkg and the metrics step of ``build``: read back with pyogrio, GDAL and QGIS."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from conftest import need, sha256

from miyun_spatial.core.catalogue import ZONE_LAYERS
from miyun_spatial.core.errors import OutputError
from miyun_spatial.flow import build as pipeline
from miyun_spatial.metrics import TABLES, compute_all
from miyun_spatial.render.results_gpkg import write_results

SYSTEM_PYTHON = "/usr/bin/python3"
GDAL_VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")


@pytest.fixture(scope="module")
def results(built_default) -> Path:
    return built_default / "results.gpkg"


@pytest.fixture(scope="module")
def tables(default_work, default_plan):
    return compute_all(default_work, default_plan)


def read(path: Path, layer: str):
    return pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)


def test_build_runs_the_metrics_step_with_a_summary(tmp_path, gpkg_copy, monkeypatch):
    steps = tuple(s for s in pipeline.STEPS if s[0] in ("areas", "metrics"))
    monkeypatch.setattr(pipeline, "STEPS", steps)  # the maps and reports are tested elsewhere
    before = sha256(gpkg_copy)
    result = pipeline.build(gpkg_copy, tmp_path / "out")
    assert sha256(gpkg_copy) == before
    names = {p.name for p in result.outputs}
    assert {f"{key}.csv" for key in TABLES} | {"results.gpkg"} <= names
    summary = result.summary
    assert summary["park_revenue_per_ha"] == pytest.approx(8311.0, abs=0.05)  # plan F05
    assert summary["park_output_per_ha"] == pytest.approx(5934.0, abs=0.05)  # plan F06
    assert summary["park_revenue_target_per_ha"] == 12000.0  # plan F12
    assert summary["park_revenue_pct_of_target"] == pytest.approx(8311 / 12000 * 100, abs=0.05)
    assert summary["redesignated_ha"] == pytest.approx(108.0, rel=0.005)
    mix = pd.read_csv(tmp_path / "out" / "mix.csv", encoding="utf-8-sig")
    z1 = mix[(mix["zone"] == "Z1") & (mix["use"] == "planned")]
    assert z1["area_ha"].sum() == pytest.approx(1000.84, abs=0.01)


def test_every_zone_layer_and_the_parcels_are_there(results, default_work):
    spatial = {name for name, geometry in pyogrio.list_layers(results) if geometry}
    # the reference layers (projects, district, places) as they are; tables such as
    # layer_styles may follow
    assert spatial == {
        *ZONE_LAYERS, "land_parcels", "low_efficiency_land", "projects", "district",
        "places", "control_lines", "control_line_conflicts",
    }  # fmt: skip
    for name in (*ZONE_LAYERS, "land_parcels"):
        layer, source = read(results, name), default_work[name]
        assert layer.crs.to_epsg() == 4548
        assert len(layer) == len(source)
        assert layer.geometry.area.to_numpy() == pytest.approx(source.geometry.area.to_numpy())
        assert set(source.columns) <= set(layer.columns)  # the plan's own fields are kept


def test_zone_metrics_are_attributes(results):
    park = read(results, "zgc_park").set_index("code")
    assert park.loc["Z1", "revenue_per_ha"] == pytest.approx(8311.0, abs=0.01)
    assert park.loc["Z1", "output_per_ha"] == pytest.approx(5934.0, abs=0.01)
    assert park.loc["Z1", "zone_ha"] == pytest.approx(1000.84, abs=0.01)
    assert 0 < park.loc["Z1", "planned_entropy"] < 1
    a1 = read(results, "land_adjustments").set_index("code").loc["A1"]
    assert a1["planned_F3_ha"] == pytest.approx(108.0, rel=0.005)
    assert a1["adjusted_A35_ha"] + a1["adjusted_M1_ha"] == pytest.approx(108.0, rel=0.005)
    assert a1["adjusted_main_class"] in ("A35", "M1")
    bases = read(results, "farmer_bases").set_index("code")
    assert bases["planned_LB_ha"].fillna(0).gt(0).sum() == 1  # only the Jinhu base (exit)


def test_parcels_carry_grades_and_changes(results, tables):
    parcels = read(results, "land_parcels").set_index("parcel_code")
    assert set(parcels["grade"]) <= {"A", "B", "C", "D", "n/a"}
    expected = tables["parcel_yields"]
    assert parcels["grade"].to_dict() == expected["grade"].to_dict()
    assert parcels["low_efficiency"].astype(bool).sum() == expected["low_efficiency"].sum()
    changed = parcels["current_to_planned"].astype(bool) | parcels["planned_to_adjusted"].astype(
        bool
    )
    assert set(parcels.index[changed]) == set(tables["changing_parcels"].index)


def test_geopackage_1_2_with_provenance(results, default_gpkg):
    with sqlite3.connect(f"file:{results}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        metadata = " ".join(r[0] for r in con.execute("SELECT metadata FROM gpkg_metadata"))
    assert sha256(default_gpkg) in metadata


def test_finish_adds_tables_before_the_file_appears(tmp_path, default_work, tables):
    seen = []

    def add_styles(tmp: Path) -> None:
        assert not (tmp_path / "results.gpkg").exists()  # not yet in place
        seen.append(tmp)
        with sqlite3.connect(tmp) as con:
            con.execute("CREATE TABLE layer_styles (f_table_name TEXT, styleQML TEXT)")
            con.execute("INSERT INTO layer_styles VALUES ('zgc_park', '<qgis/>')")
        con.close()

    path = write_results(tmp_path / "results.gpkg", default_work, tables, finish=add_styles)
    assert seen and seen[0] != path
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT f_table_name FROM layer_styles").fetchall() == [("zgc_park",)]
    con.close()


def test_a_failing_finish_leaves_no_file(tmp_path, default_work, tables):
    def broken(_tmp: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OutputError, match="disk full"):
        write_results(tmp_path / "results.gpkg", default_work, tables, finish=broken)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.gdal
def test_gdal_validator_accepts_results(results):
    need(
        GDAL_VALIDATOR.is_file() and shutil.which(SYSTEM_PYTHON) is not None,
        "GDAL's validate_gpkg.py (python3-gdal) is not installed",
    )
    done = subprocess.run(
        [SYSTEM_PYTHON, str(GDAL_VALIDATOR), str(results)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


QGIS_SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    fields = [f.name() for f in layer.fields()]
    values = {}
    for feature in layer.getFeatures():
        key = feature["code"] if "code" in fields else feature["parcel_code"]
        values[key] = {f: feature[f] for f in ("revenue_per_ha", "grade") if f in fields}
    out[name] = {"valid": layer.isValid(), "crs": layer.crs().authid(),
                 "count": layer.featureCount(), "fields": fields, "values": values}
    del layer
print(json.dumps(out, default=str))
sys.stdout.flush()
os._exit(0)  # QGIS may crash while tearing down; the answer is already printed
"""


@pytest.mark.qgis
def test_qgis_opens_the_results_with_their_metrics(results):
    need(Path(SYSTEM_PYTHON).is_file(), f"{SYSTEM_PYTHON} (for python3-qgis) is missing")
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", QGIS_SCRIPT, str(results), "zgc_park", "land_parcels"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    need("No module named 'qgis'" not in done.stderr, "QGIS with python3-qgis is not installed")
    assert done.returncode == 0, done.stderr
    layers = json.loads(done.stdout.strip().splitlines()[-1])
    park, parcels = layers["zgc_park"], layers["land_parcels"]
    assert park["valid"] and parcels["valid"] and park["crs"] == "EPSG:4548"
    assert park["count"] == 6 and "pct_of_target" in park["fields"]
    assert float(park["values"]["Z1"]["revenue_per_ha"]) == pytest.approx(8311.0, abs=0.01)
    grades = {v["grade"] for v in parcels["values"].values()}
    assert grades <= {"A", "B", "C", "D", "n/a"} and "D" in grades
