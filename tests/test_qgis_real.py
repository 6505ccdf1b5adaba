"""The round trip with real QGIS 3.22 (Debian qgis + python3-qgis, system python, offscreen).

QGIS opens the default GeoPackage (every layer valid, its default style loaded, no warning);
a base's category and geometry are edited through the edit buffer and committed; the tool,
run meanwhile, reads the committed state without disturbing the edit session; re-run after
the commit, it finds the change in its outputs and in ``diff``; GDAL's validator accepts the
edited file and the new results.gpkg.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pyogrio
import pytest
from conftest import need
from test_gdal_validate import gdal_problems

pytestmark = pytest.mark.qgis

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPTS = Path(__file__).resolve().parent / "qgis_scripts"
CATALOGUE_JSON = json.loads(
    (Path(__file__).resolve().parents[1] / "miyun_spatial" / "core" / "catalogue.json").read_text(
        "utf-8"
    )
)
LAYERS = {layer["name"]: layer for layer in CATALOGUE_JSON["layers"]}
PLAN_FIELDS = [f["name"] for f in CATALOGUE_JSON["plan_fields"]]


def field_names(layer: str) -> list[str]:
    """The layer's fields: its own, and the shared plan fields for plan layers."""
    own = [f["name"] for f in LAYERS[layer]["fields"]]
    return PLAN_FIELDS + own if LAYERS[layer]["role"] == "plan" else own


HA = 10_000.0


@functools.cache
def qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        env=qgis_env(Path("/tmp")),
        timeout=120,
    )
    return probe.returncode == 0


def qgis_env(home: Path) -> dict[str, str]:
    """Offscreen Qt, a throw-away home (QGIS profile) and runtime folder."""
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
    return env


@pytest.fixture(scope="module")
def qgis(tmp_path_factory):
    """Runs a script of tests/qgis_scripts with QGIS's Python; returns its JSON lines."""
    need(
        qgis_available(), "QGIS with python3-qgis is not installed (apt install qgis python3-qgis)"
    )
    home = tmp_path_factory.mktemp("qgis-home")

    def run(script: str, *args) -> list[dict]:
        result = subprocess.run(
            [SYSTEM_PYTHON, str(SCRIPTS / script), *map(str, args)],
            capture_output=True,
            text=True,
            env=qgis_env(home),
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    run.env = qgis_env(home)
    return run


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_layout(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        layout = con.execute(f'PRAGMA table_info("{table}")').fetchall()
        kind = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = ?", (table,)
        ).fetchone()
    con.close()
    return [*layout, kind]


def check_styled(report: dict, counts: dict[str, int]) -> None:
    assert report["messages"] == [], report["messages"]  # QGIS logged no warning
    assert report["user_version"] == 10200
    for name in LAYERS:
        layer = report["layers"][name]
        assert layer["valid"], name
        assert layer["features"] == counts[name], name
        assert layer["aliases"], f"{name}: default style (aliases) not loaded"
        if LAYERS[name]["geometry"] is not None:
            assert layer["crs"] == "EPSG:4548", name
            assert layer["labels"] == ("name_zh" in field_names(name)), name
    bases = report["layers"]["farmer_bases"]
    assert bases["renderer"] == "categorizedSymbol" and bases["field"] == "category"
    category = next(f for f in LAYERS["farmer_bases"]["fields"] if f["name"] == "category")
    colours = {c["value"]: c["color"] for c in bases["categories"] if c["value"]}
    assert colours == {v["value"]: v["color"].lower() for v in category["values"]}
    assert bases["label_field"] == "name_zh" and bases["label_html"] is False
    assert bases["symbol_layers"][0]["data_defined"] == ["outlineStyle"]  # dashed if schematic
    widget = bases["widgets"]["category"]
    assert widget["type"] == "ValueMap"
    assert [next(iter(e.values())) for e in widget["config"]["map"]] == [
        v["value"] for v in category["values"]
    ]
    parcels = report["layers"]["land_parcels"]
    assert parcels["renderer"] == "categorizedSymbol" and parcels["field"] == "planned_use"


def feature_counts(path: Path) -> dict[str, int]:
    return {
        name: len(pyogrio.read_dataframe(path, layer=name, read_geometry=False)) for name in LAYERS
    }


def test_qgis_opens_the_default_geopackage_styled_and_without_warnings(
    qgis, tmp_path, default_gpkg
):
    path = tmp_path / "miyun.gpkg"
    shutil.copyfile(default_gpkg, path)
    [report] = qgis("inspect_layers.py", path)
    check_styled(report, feature_counts(default_gpkg))


def test_our_layer_styles_table_is_the_one_qgis_creates(qgis, tmp_path, default_gpkg):
    scratch = tmp_path / "scratch.gpkg"
    frame = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases")
    pyogrio.write_dataframe(
        frame, scratch, layer="farmer_bases", dataset_options={"VERSION": "1.2"}
    )
    [saved] = qgis("save_style.py", scratch, "farmer_bases")
    assert saved["error"] == ""
    assert table_layout(scratch, "layer_styles") == table_layout(default_gpkg, "layer_styles")
    with sqlite3.connect(f"file:{scratch}?mode=ro", uri=True) as con:
        row = con.execute(
            "SELECT quote(f_table_catalog), quote(f_table_schema), f_geometry_column "
            "FROM layer_styles"
        ).fetchone()
    con.close()
    assert row == ("''", "''", "geom")  # what our rows hold too (test_qgis_styles)


@pytest.mark.slow
@pytest.mark.gdal
def test_edit_in_qgis_then_rerun_finds_the_change(qgis, tmp_path, default_gpkg, built_default, cli):
    """Edit B3 in QGIS (category upgrade -> exit, outline shrunk 20 m), commit, re-run."""
    path = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    command = [SYSTEM_PYTHON, str(SCRIPTS / "edit_feature.py"), str(path), "farmer_bases", "B3"]
    command += ["category", "exit", "-20", "--hold"]
    editor = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=qgis.env,
    )
    try:
        state = json.loads(editor.stdout.readline())
        assert state["state"] == "editing"
        # QGIS holds the file in an edit session: WAL mode, -wal and -shm beside it.
        assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
        before = {p.name: sha(p) for p in path.parent.iterdir() if not p.name.endswith("-shm")}
        during = cli("areas", path, "--json", timeout=120)
        after = {p.name: sha(p) for p in path.parent.iterdir() if not p.name.endswith("-shm")}
        assert during.returncode == 0, during.stderr
        assert after == before  # neither the database nor its -wal touched
        rows = {(r["layer"], r["code"]): r for r in json.loads(during.stdout)}
        assert rows[("farmer_bases", "B3")]["category"] == "upgrade"  # uncommitted: not seen
        stdout, stderr = editor.communicate("commit\n", timeout=300)
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.communicate()
    assert editor.returncode == 0, stderr
    committed = json.loads(stdout.splitlines()[-1])
    assert committed["state"] == "committed", committed
    assert committed["new"]["category"] == "exit"
    qgis_change_ha = (committed["new"]["area_m2"] - committed["old"]["area_m2"]) / HA
    assert qgis_change_ha < -1  # a 20 m inward buffer of a ~60 ha base

    out = tmp_path / "out"
    build = cli("build", path, "--out", out)
    assert build.returncode == 0, build.stderr
    with open(out / "areas.csv", encoding="utf-8-sig", newline="") as fh:
        areas = {(r["layer"], r["code"]): r for r in csv.DictReader(fh)}
    with open(built_default / "areas.csv", encoding="utf-8-sig", newline="") as fh:
        areas_before = {(r["layer"], r["code"]): r for r in csv.DictReader(fh)}
    b3, b3_before = areas[("farmer_bases", "B3")], areas_before[("farmer_bases", "B3")]
    assert (b3_before["category"], b3["category"]) == ("upgrade", "exit")
    assert float(b3["area_ha"]) == pytest.approx(committed["new"]["area_m2"] / HA, rel=1e-6)
    results = pyogrio.read_dataframe(out / "results.gpkg", layer="farmer_bases")
    assert results.set_index("code").loc["B3", "category"] == "exit"

    diff = cli("diff", default_gpkg, path, "--json")
    assert diff.returncode == 0, diff.stderr
    [change] = json.loads(diff.stdout)["changes"]
    assert (change["layer"], change["code"], change["change"]) == ("farmer_bases", "B3", "changed")
    assert change["values"] == {"category": ["upgrade", "exit"]}
    assert change["geometry_changed"] is True
    assert change["area_change_ha"] == pytest.approx(qgis_change_ha, rel=1e-6)

    # The edited file still opens styled, and GDAL's validator accepts both files.
    [report] = qgis("inspect_layers.py", path)
    check_styled(report, feature_counts(default_gpkg))
    assert gdal_problems(path) == []
    assert gdal_problems(out / "results.gpkg") == []
