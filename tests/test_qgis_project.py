"""The QGIS project inside results.gpkg and the plugin zip, read back without QGIS.

The project is read as QGIS stores it (table qgis_projects: hex text of a zip holding a .qgs);
expected groups, order and extents are written here or computed from the file with SQLite and
pyogrio, not taken from the code. tests/test_qgis_plugin.py opens both in real QGIS 3.22.
"""

from __future__ import annotations

import ast
import io
import json
import shutil
import sqlite3
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import LineString

from miyun_spatial.io.qgis_project import add_project

TEMPLATE = Path(__file__).resolve().parents[1] / "miyun_spatial" / "io" / "qgis_plugin" / "template"
# group label -> the results.gpkg tables it holds, as the issue lists them
EXPECTED_GROUPS = {
    "管控线 Control lines": {"control_lines", "control_line_conflicts"},  # build writes them
    "规划分区 Plan zones": {
        "projects",
        "clusters",
        "zgc_park",
        "park_in_park",
        "support_nodes",
        "farmer_bases",
        "other_sites",
    },
    "用地调整 Land-use adjustments": {"land_adjustments"},
    "亩均产出 Yields": {"land_parcels", "low_efficiency_land"},  # parcels by grade; 低效用地
    "地块与用地 Parcels and land use": {"land_parcels"},
    "参考 Reference": {"district", "places"},
}
POINTS = {"projects", "places"}


def query(path: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = con.execute(sql, params).fetchall()
    con.close()
    return rows


def stored_qgs(path: Path) -> ET.Element:
    """The project document as QGIS reads it from the table (hex -> zip -> the one .qgs)."""
    [(name, metadata, content)] = query(path, "SELECT name, metadata, content FROM qgis_projects")
    assert name == "miyun-spatial"
    assert set(json.loads(metadata)) == {"last_modified_time", "last_modified_user"}
    with zipfile.ZipFile(io.BytesIO(bytes.fromhex(content))) as archive:
        [member] = archive.namelist()
        assert member.endswith(".qgs")
        text = archive.read(member).decode("utf-8")
    assert text.startswith("<!DOCTYPE qgis")
    return ET.fromstring(text.split("\n", 1)[1])


def tree(root: ET.Element) -> dict[str, list[str]]:
    """Group name -> the tables of its layers, top first."""
    return {
        group.get("name"): [
            node.get("source").split("layername=")[1] for node in group.findall("layer-tree-layer")
        ]
        for group in root.find("layer-tree-group").findall("layer-tree-group")
    }


def tables_of(root: ET.Element) -> dict[str, str]:
    """Layer id -> table."""
    return {
        layer.findtext("id"): layer.findtext("datasource").split("layername=")[1]
        for layer in root.iter("maplayer")
    }


@pytest.fixture(scope="module")
def results(built_default) -> Path:
    return built_default / "results.gpkg"


def test_the_project_table_has_the_layout_qgis_creates(results):
    # what QGIS 3.22's QgsGeoPackageProjectStorage creates (see test_qgis_plugin for the real one)
    [(sql,)] = query(results, "SELECT sql FROM sqlite_master WHERE name = 'qgis_projects'")
    assert sql == "CREATE TABLE qgis_projects(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)"
    assert query(results, "SELECT * FROM gpkg_contents WHERE table_name = 'qgis_projects'") == []


def test_every_feature_table_is_a_layer_in_its_group(results):
    root = stored_qgs(results)
    features = {
        name
        for (name,) in query(
            results, "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'"
        )
    }
    assert set(tables_of(root).values()) == features
    groups = {name: set(tables) for name, tables in tree(root).items()}
    assert groups == EXPECTED_GROUPS
    for layer in root.iter("maplayer"):
        table = layer.findtext("datasource").split("layername=")[1]
        assert layer.findtext("datasource") == f"./results.gpkg|layername={table}"  # relative
        assert layer.findtext("srs/spatialrefsys/authid") == "EPSG:4548"
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:4548"
    assert root.findtext("properties/Paths/Absolute") == "false"


def test_points_are_drawn_over_polygons_and_zones_over_parcels(results):
    root = stored_qgs(results)
    ids = tables_of(root)
    order = [ids[item.text] for item in root.find("layer-tree-group/custom-order")]
    assert root.find("layer-tree-group/custom-order").get("enabled") == "1"
    assert set(order[: len(POINTS)]) == POINTS
    parcels = order.index("land_parcels")
    for zone in EXPECTED_GROUPS["规划分区 Plan zones"] - POINTS:
        assert order.index(zone) < parcels, zone
    assert order[-1] == "district"
    # the yield-grade view of the parcels starts hidden (it would cover their land use)
    [view] = [n for n in root.iter("layer-tree-layer") if n.get("id") == "miyun_parcel_grades"]
    assert view.get("checked") == "Qt::Unchecked"


def test_each_layer_carries_the_qml_the_file_ships(results):
    root = stored_qgs(results)
    styles = dict(
        query(results, "SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault")
    )
    for layer in root.iter("maplayer"):
        table = layer.findtext("datasource").split("layername=")[1]
        qml = ET.fromstring(styles[table].split("\n", 1)[1])
        if layer.findtext("id") == "miyun_parcel_grades":
            renderer = layer.find("renderer-v2")
            assert renderer.get("attr") == "grade"
            values = {c.get("value") for c in renderer.find("categories")}
            assert values == {"A", "B", "C", "D", "n/a"}
            continue
        for tag in ("renderer-v2", "aliases", "fieldConfiguration"):
            assert ET.tostring(layer.find(tag)) == ET.tostring(qml.find(tag)), (table, tag)
        assert layer.get("labelsEnabled") == qml.get("labelsEnabled")


def test_the_view_extent_is_the_district(results):
    root = stored_qgs(results)
    bounds = gpd.read_file(results, layer="district").total_bounds
    extent = root.find("ProjectViewSettings/DefaultViewExtent")
    got = [float(extent.get(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
    assert got == pytest.approx(list(bounds), abs=1e-6)
    canvas = root.find("mapcanvas/extent")
    assert [float(canvas.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")] == got


def test_layers_other_steps_add_appear_in_their_group(tmp_path, results):
    path = tmp_path / "results.gpkg"
    shutil.copyfile(results, path)
    lines = gpd.GeoDataFrame(
        {"code": ["L1"]}, geometry=[LineString([(480000, 4465000), (490000, 4470000)])], crs=4548
    )
    # results.gpkg has the control lines (polygons) already: a line layer of another step
    pyogrio.write_dataframe(lines, path, layer="noise_contours")  # no entry in layers.json
    add_project(path)
    root = stored_qgs(path)
    groups = tree(root)
    assert set(groups["管控线 Control lines"]) == {"control_lines", "control_line_conflicts"}
    assert groups["其他 Other layers"] == ["noise_contours"]
    ids = tables_of(root)
    order = [ids[item.text] for item in root.find("layer-tree-group/custom-order")]
    # lines under every point layer, over every polygon layer
    assert set(order[:2]) == POINTS and order[2] == "noise_contours"
    [(count,)] = query(path, "SELECT count(*) FROM qgis_projects")
    assert count == 1  # replaced, not added


def test_qgis_project_command_writes_a_qgz_pointing_at_the_file(tmp_path, results, cli):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(results, folder / "results.gpkg")
    out = tmp_path / "plan.qgz"
    done = cli("qgis-project", folder / "results.gpkg", "--out", out)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        [member] = archive.namelist()
        root = ET.fromstring(archive.read(member).decode("utf-8").split("\n", 1)[1])
    sources = {layer.findtext("datasource").split("|")[0] for layer in root.iter("maplayer")}
    assert sources == {"./data/results.gpkg"}
    bad = cli("qgis-project", folder / "results.gpkg", "--out", tmp_path / "plan.txt")
    assert bad.returncode == 2 and "qgz" in bad.stderr and "Traceback" not in bad.stderr
    elsewhere = cli("qgis-project", folder / "results.gpkg", "--out", folder / "sub" / "p.qgz")
    assert elsewhere.returncode == 2 and "folder" in elsewhere.stderr


def plugin_zip(cli, out: Path, *extra) -> zipfile.ZipFile:
    done = cli("qgis-plugin", "--out", out, "--json", *extra)
    assert done.returncode == 0, done.stderr
    return zipfile.ZipFile(json.loads(done.stdout)["plugin"])


def built_with(archive: zipfile.ZipFile) -> tuple:
    source = archive.read("miyun_spatial_qgis/cli_path.py").decode("utf-8")
    [assign] = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and node.targets[0].id == "BUILT_WITH"
    ]
    return ast.literal_eval(assign.value)


def test_plugin_zip_is_the_template_with_the_command_recorded(tmp_path, cli):
    archive = plugin_zip(cli, tmp_path)
    names = set(archive.namelist())
    template = {p.name for p in TEMPLATE.iterdir() if p.suffix in (".py", ".txt")}
    assert names == {"miyun_spatial_qgis/", "miyun_spatial_qgis/choices.json"} | {
        f"miyun_spatial_qgis/{n}" for n in template
    }
    for name in template - {"cli_path.py", "metadata.txt"}:
        assert archive.read(f"miyun_spatial_qgis/{name}") == (TEMPLATE / name).read_bytes(), name
    assert built_with(archive) == (sys.executable, "-m", "miyun_spatial")
    metadata = archive.read("miyun_spatial_qgis/metadata.txt").decode("utf-8")
    assert "hasProcessingProvider=yes" in metadata and "@VERSION@" not in metadata
    choices = json.loads(archive.read("miyun_spatial_qgis/choices.json"))
    catalogue = json.loads((TEMPLATE.parents[2] / "core" / "catalogue.json").read_text("utf-8"))
    zones = [
        layer["name"]
        for layer in catalogue["layers"]
        if layer["role"] == "plan" and layer["geometry"] == "polygon"
    ]
    assert choices["zone_layers"] == zones
    assert choices["uses"] == ["current", "planned", "adjusted"]


def test_a_hostile_executable_path_stays_a_string_literal(tmp_path, cli):
    hostile = "/opt/it's \"here\"\n__import__('os').system('echo pwned')  # \\"
    archive = plugin_zip(cli, tmp_path, "--command", hostile)
    assert built_with(archive) == (hostile,)
    source = archive.read("miyun_spatial_qgis/cli_path.py").decode("utf-8")
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    assert not any(getattr(c.func, "id", "") == "__import__" for c in calls)
