"""Real QGIS 3.22 on published PostGIS tables: default style and value maps, an edit, a rebuild.

QGIS (system python3 + python3-qgis, offscreen) opens tables published by ``publish``: they
are valid, styled from ``public.layer_styles`` (categorised renderer, labels, aliases) with
value-map drop-downs; a category changed through QGIS's edit buffer and committed shows up in
the next ``build`` from the database and in ``diff`` against the GeoPackage. A value outside
the catalogue's list is refused by the database when QGIS commits it.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from conftest import need
from test_postgis import run
from test_qgis_real import LAYERS, SCRIPTS, SYSTEM_PYTHON, qgis_available, qgis_env

pytestmark = [pytest.mark.qgis, pytest.mark.postgis]


def qgis_on(pg, home: Path, dbname: str, layers: str, *edit: str) -> dict:
    env = qgis_env(home)
    env.update({k: v for k, v in pg.env().items() if k.startswith("PG")})
    args = [SYSTEM_PYTHON, str(SCRIPTS / "postgis_layers.py"), pg.host, str(pg.port), dbname]
    args += ["miyun", "miyun", layers, *(["--edit", *edit] if edit else [])]
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(line)


def test_qgis_opens_styled_tables_and_its_edit_reaches_build_and_diff(pg, default_gpkg, tmp_path):
    need(
        qgis_available(), "QGIS with python3-qgis is not installed (apt install qgis python3-qgis)"
    )
    dsn = pg.create_database("t_qgis") + "?schema=miyun"
    assert run(pg, "publish", default_gpkg, dsn).returncode == 0
    home = tmp_path / "home"
    home.mkdir()
    report = qgis_on(pg, home, "t_qgis", "farmer_bases,land_parcels", "farmer_bases", "B1",
                     "category", "exit")  # fmt: skip
    assert report["messages"] == [], report["messages"]
    bases = report["layers"]["farmer_bases"]
    assert bases["valid"] and bases["features"] == 7 and bases["crs"] == "EPSG:4548"
    assert bases["renderer"] == "categorizedSymbol" and bases["field"] == "category"
    category = next(f for f in LAYERS["farmer_bases"]["fields"] if f["name"] == "category")
    colours = {c["value"]: c["color"] for c in bases["categories"] if c["value"]}
    assert colours == {v["value"]: v["color"].lower() for v in category["values"]}
    assert bases["label_field"] == "name_zh" and bases["aliases"]["category"]
    widget = bases["widgets"]["category"]
    assert widget["type"] == "ValueMap"
    assert [next(iter(e.values())) for e in widget["config"]["map"]] == [
        v["value"] for v in category["values"]
    ]
    parcels = report["layers"]["land_parcels"]
    assert parcels["renderer"] == "categorizedSymbol" and parcels["field"] == "planned_use"
    assert parcels["widgets"]["current_use"]["type"] == "ValueMap"
    assert report["edit"]["committed"], report["edit"]
    # the edit is in the next build and in diff
    out = tmp_path / "out"
    assert run(pg, "build", dsn, "--out", out, "--offline").returncode == 0
    with open(out / "areas.csv", encoding="utf-8-sig") as fh:
        rows = {(r["layer"], r["code"]): r for r in csv.DictReader(fh)}
    assert rows[("farmer_bases", "B1")]["category"] == "exit"
    diff = run(pg, "diff", default_gpkg, dsn, "--json")
    assert diff.returncode == 0, diff.stderr
    payload = json.loads(diff.stdout)
    assert payload["changed_layers"] == ["farmer_bases"]
    assert [(c["layer"], c["code"]) for c in payload["changes"]] == [("farmer_bases", "B1")]
    # a value outside the list is refused by the database's CHECK constraint
    refused = qgis_on(pg, home, "t_qgis", "farmer_bases", "farmer_bases", "B2", "category",
                      "demolish")  # fmt: skip
    assert not refused["edit"]["committed"]
    assert any("check constraint" in e.lower() for e in refused["edit"]["errors"])
