"""results.gpkg's project and the Processing plugin in real QGIS 3.22 (system python3, offscreen).

QGIS reads the project from the GeoPackage (``geopackage:`` URI) after the file is moved to
another folder: every layer valid, drawn by the renderer of its QML, in its group, the project
in EPSG:4548 and zoomed to the district. The plugin zip, unzipped into a throw-away profile,
shows its provider and four algorithms in ``qgis_process list``; ``qgis_process run`` of mix
and validate on a copy of the default GeoPackage writes the same tables as the CLI.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import need
from gpkg_edit import set_value
from test_qgis_project import EXPECTED_GROUPS, query
from test_qgis_real import LAYERS, SYSTEM_PYTHON, qgis_available, qgis_env
from test_qgis_real import qgis as qgis

pytestmark = pytest.mark.qgis

ALGORITHMS = {"validate", "build", "mix", "import"}


def qgis_process() -> str | None:
    """The qgis_process executable. Debian's /usr/bin/qgis_process wrapper adds the options of
    /etc/default/qgis ('--noversioncheck', which 3.22's qgis_process rejects): the binary
    beside it is run directly then."""
    found = shutil.which("qgis_process")
    if found is None:
        return None
    binary = Path(f"{found}.bin")
    return str(binary) if binary.exists() else found


def test_qgis_reads_the_project_from_the_moved_geopackage(qgis, tmp_path, built_default):
    moved = tmp_path / "elsewhere" / "results.gpkg"
    moved.parent.mkdir()
    shutil.copyfile(built_default / "results.gpkg", moved)
    [report] = qgis("inspect_project.py", moved, "miyun-spatial")
    assert report["read"] and report["error"] == ""
    assert report["messages"] == [], report["messages"]
    assert report["crs"] == "EPSG:4548"
    bounds = gpd.read_file(moved, layer="district").total_bounds
    assert report["view_crs"] == "EPSG:4548"
    assert report["view_extent"] == pytest.approx(list(bounds), abs=1e-3)
    styles = dict(
        query(moved, "SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault")
    )
    layers = report["layers"]
    groups = {
        g["name"]: {layers[m["id"]]["source"].split("=")[-1] for m in g["layers"]}
        for g in report["groups"]
    }
    assert groups == EXPECTED_GROUPS
    for layer_id, layer in layers.items():
        table = layer["source"].split("layername=")[1]
        assert layer["valid"], layer_id
        assert layer["file"] == str(moved), layer_id  # the moved file, not the build folder
        assert layer["crs"] == "EPSG:4548", layer_id
        expected = ET.fromstring(styles[table].split("\n", 1)[1]).find("renderer-v2")
        if layer_id == "miyun_parcel_grades":
            assert (layer["renderer"], layer["field"]) == ("categorizedSymbol", "grade")
            continue
        assert layer["renderer"] == expected.get("type"), layer_id
        if expected.get("type") == "categorizedSymbol":
            assert layer["field"] == expected.get("attr"), layer_id
            colours = {c.get("value") for c in expected.find("categories")}
            assert {c["value"] for c in layer["categories"]} == colours, layer_id
        else:  # a single symbol: the catalogue's fill, not QGIS's random default colour
            fill = expected.find(".//layer/Option/Option[@name='color']").get("value")
            red, green, blue = (int(v) for v in fill.split(",")[:3])
            assert layer["symbol_layers"][0]["color"] == f"#{red:02x}{green:02x}{blue:02x}"
        assert layer["aliases"], f"{layer_id}: the QML's aliases were not applied"
    order = [layers[i]["source"].split("layername=")[1] for i in report["order"]]
    assert report["custom_order"] and set(order[:2]) == {"projects", "places"}
    assert order.index("zgc_park") < order.index("land_parcels") < order.index("district")


def test_the_qgz_of_qgis_project_opens_with_the_same_layers(qgis, tmp_path, built_default, cli):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(built_default / "results.gpkg", folder / "results.gpkg")
    done = cli("qgis-project", folder / "results.gpkg", "--out", tmp_path / "plan.qgz")
    assert done.returncode == 0, done.stderr
    [report] = qgis("inspect_project.py", tmp_path / "plan.qgz")
    assert report["read"] and report["messages"] == [] and report["crs"] == "EPSG:4548"
    assert {layer["file"] for layer in report["layers"].values()} == {str(folder / "results.gpkg")}
    assert all(layer["valid"] for layer in report["layers"].values())
    groups = {
        g["name"]: {report["layers"][m["id"]]["source"].split("=")[-1] for m in g["layers"]}
        for g in report["groups"]
    }
    assert groups == EXPECTED_GROUPS


def test_our_project_table_is_the_one_qgis_writes(qgis, tmp_path, default_gpkg, built_default):
    scratch = tmp_path / "scratch.gpkg"
    shutil.copyfile(default_gpkg, scratch)
    script = tmp_path / "write_project.py"
    script.write_text(
        "import sys\n"
        "from qgis.core import QgsApplication, QgsProject, QgsVectorLayer\n"
        "app = QgsApplication([], False)\napp.initQgis()\n"
        "layer = QgsVectorLayer(sys.argv[1] + '|layername=district', 'district', 'ogr')\n"
        "QgsProject.instance().addMapLayer(layer)\n"
        "ok = QgsProject.instance().write('geopackage:' + sys.argv[1] + '?projectName=mine')\n"
        "print('{\"written\": %s}' % str(ok).lower())\nQgsProject.instance().clear()\n"
        "app.exitQgis()\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [SYSTEM_PYTHON, str(script), str(scratch)],
        capture_output=True,
        text=True,
        env=qgis.env,
        timeout=300,
    )
    assert result.returncode == 0 and '{"written": true}' in result.stdout, result.stderr

    def layout(path):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            rows = con.execute("PRAGMA table_info(qgis_projects)").fetchall()
            [(kind,)] = con.execute("SELECT typeof(content) FROM qgis_projects").fetchall()
        con.close()
        return rows, kind

    assert layout(scratch) == layout(built_default / "results.gpkg")
    [(content,)] = query(scratch, "SELECT content FROM qgis_projects")
    assert bytes.fromhex(content)[:4] == b"PK\x03\x04"  # QGIS too: the .qgz as hex text


@pytest.fixture(scope="module")
def processing(tmp_path_factory):
    """A throw-away QGIS profile with the plugin the CLI writes, enabled; runs qgis_process."""
    need(qgis_available(), "QGIS with python3-qgis is not installed")
    executable = qgis_process()
    need(executable is not None, "qgis_process is not installed (apt install qgis)")
    root = tmp_path_factory.mktemp("qgis-profile")
    config = root / "config"
    plugins = config / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    from conftest import run_cli_subprocess

    built = run_cli_subprocess("qgis-plugin", "--out", root, "--json")
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(json.loads(built.stdout)["plugin"]) as archive:
        archive.extractall(plugins)
    env = qgis_env(root)
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(config)
    env.pop("MIYUN_SPATIAL_CLI", None)

    def run(*args: str, check: bool = True, cli: str | None = None) -> subprocess.CompletedProcess:
        extra = {} if cli is None else {"MIYUN_SPATIAL_CLI": cli}
        done = subprocess.run(
            [executable, *args], capture_output=True, text=True, env={**env, **extra}, timeout=600
        )
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    enabled = run("plugins", "enable", "miyun_spatial_qgis")
    assert "miyun_spatial_qgis" in enabled.stdout
    return run


def test_qgis_process_lists_the_provider_and_its_four_algorithms(processing):
    listed = processing("list").stdout
    lines = listed.splitlines()
    start = lines.index("密云规划数据 miyun-spatial")
    ids = set()
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        ids.add(line.strip().split("\t")[0])
    assert ids == {f"miyunspatial:{name}" for name in ALGORITHMS}


def import_index(layer: str) -> int:
    """The LAYER option of the import algorithm: the importable catalogue layers, in order."""
    importable = [
        n for n, spec in LAYERS.items() if spec["role"] in ("plan", "parcels", "projects")
    ]
    return importable.index(layer)


def run_algorithm(processing, algorithm: str, **parameters) -> dict:
    args = ["--json", "run", f"miyunspatial:{algorithm}", "--"]
    args += [f"{name}={value}" for name, value in parameters.items()]
    done = processing(*args)
    return json.loads(done.stdout)["results"]


def test_qgis_process_mix_gives_the_cli_tables(
    processing, tmp_path, default_gpkg, built_default, cli
):
    plan = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, plan)
    out = tmp_path / "qgis" / "mix.csv"
    results = run_algorithm(processing, "mix", INPUT=plan, OUTPUT=out)
    assert results["OUTPUT"] == str(out)
    # byte for byte the build's mix.csv (UTF-8 with BOM), and the CLI's --csv output
    assert out.read_bytes() == (built_default / "mix.csv").read_bytes()
    direct = cli("mix", plan, "--csv")
    assert direct.returncode == 0
    assert out.read_bytes().decode("utf-8-sig") == direct.stdout
    log = Path(results["LOG"]).read_text("utf-8")
    assert "exit code 0" in log and f"mix {plan} --csv" in log

    indices = tmp_path / "qgis" / "indices.csv"
    run_algorithm(processing, "mix", INPUT=plan, LAYER=5, USE=2, INDICES="true", OUTPUT=indices)
    direct = cli("mix", plan, "--layer", "zgc_park", "--use", "planned", "--indices", "--csv")
    assert indices.read_bytes().decode("utf-8-sig") == direct.stdout
    assert "zgc_park,Z1,planned" in direct.stdout


def test_qgis_process_validate_gives_the_cli_findings(
    processing, tmp_path, default_gpkg, built_default
):
    plan = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, plan)
    results = run_algorithm(processing, "validate", INPUT=plan, OUTPUT_FOLDER=tmp_path / "v")
    table = Path(results["VALIDATION"])
    assert table.read_bytes() == (built_default / "validation.csv").read_bytes()
    assert (results["ERRORS"], results["WARNINGS"]) == (0, 0)

    # a broken copy: the findings come back with the errors counted, the run does not fail
    set_value(plan, "farmer_bases", "code", "B3", "category", "nonsense")
    broken = run_algorithm(processing, "validate", INPUT=plan, OUTPUT_FOLDER=tmp_path / "b")
    rows = Path(broken["VALIDATION"]).read_text("utf-8-sig")
    assert broken["ERRORS"] >= 1 and "B3" in rows and "nonsense" in rows


def test_a_failing_command_is_a_processing_error_naming_it(processing, tmp_path):
    missing = tmp_path / "missing.gpkg"
    done = processing(
        "run",
        "miyunspatial:mix",
        "--",
        f"INPUT={missing}",
        f"OUTPUT={tmp_path / 'm.csv'}",
        check=False,
    )
    assert done.returncode != 0
    assert (
        "miyun-spatial:" in done.stdout + done.stderr
        and "missing.gpkg" in done.stdout + done.stderr
    )
    assert not (tmp_path / "m.csv").exists()


def test_qgis_process_build_writes_the_cli_tables(
    processing, tmp_path, default_gpkg, built_default
):
    plan = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, plan)
    results = run_algorithm(processing, "build", INPUT=plan, OUTPUT_FOLDER=tmp_path / "out")
    tables = [Path(p) for p in json.loads(results["TABLES"])]
    expected = sorted(p.name for p in built_default.glob("*.csv"))
    assert sorted(p.name for p in tables) == expected and len(expected) > 5
    for table in tables:
        assert table.read_bytes() == (built_default / table.name).read_bytes(), table.name
    assert Path(results["RESULTS_GPKG"]) == tmp_path / "out" / "results.gpkg"
    assert query(Path(results["RESULTS_GPKG"]), "SELECT name FROM qgis_projects") == [
        ("miyun-spatial",)
    ]
    assert Path(results["INDEX"]).is_file()


def test_qgis_process_import_writes_what_the_cli_writes(processing, tmp_path, default_gpkg, cli):
    import pyogrio
    from geopandas.testing import assert_geodataframe_equal

    bases = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases")
    delivery = tmp_path / "bases.geojson"
    pyogrio.write_dataframe(bases.to_crs(4326), delivery)  # as a web export arrives
    out = tmp_path / "qgis" / "imported.gpkg"
    results = run_algorithm(
        processing, "import", SOURCE=delivery, LAYER=import_index("farmer_bases"), OUTPUT=out
    )
    assert results["VALID"] is True and results["OUTPUT"] == str(out)
    direct = tmp_path / "cli.gpkg"
    done = cli("import", delivery, "--layer", "farmer_bases", "--out", direct, "--json")
    assert done.returncode == 0, done.stderr
    ours = pyogrio.read_dataframe(out, layer="farmer_bases", fid_as_index=True)
    theirs = pyogrio.read_dataframe(direct, layer="farmer_bases", fid_as_index=True)
    assert_geodataframe_equal(ours, theirs)
    report = json.loads(Path(results["REPORT"]).read_text("utf-8"))
    expected = json.loads(done.stdout)
    for key in ("out", "seconds"):
        report.pop(key), expected.pop(key)
    assert report == expected


def test_the_command_can_be_pointed_elsewhere(processing, tmp_path):
    script = tmp_path / "wrapper.sh"  # another installation: a wrapper that leaves a mark
    script.write_text(
        f'#!/bin/sh\necho "$@" > {tmp_path / "called"}\nexec {sys.executable} -m miyun_spatial "$@"\n'
    )
    script.chmod(0o755)
    out = tmp_path / "mix.csv"
    args = ["run", "miyunspatial:mix", "--", f"OUTPUT={out}"]
    done = processing(*args, cli=str(script))
    assert "(MIYUN_SPATIAL_CLI)" in done.stdout + done.stderr
    assert (tmp_path / "called").read_text().split() == ["mix", "--csv"]
    assert out.read_text("utf-8-sig").startswith("layer,zone,use,class,")
    missing = processing(*args, cli=str(tmp_path / "nowhere" / "miyun-spatial"), check=False)
    assert missing.returncode != 0
    text = missing.stdout + missing.stderr
    assert "MIYUN_SPATIAL_CLI" in text and "nowhere" in text and "Traceback" not in text
