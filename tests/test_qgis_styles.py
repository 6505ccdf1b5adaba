"""QGIS styles and value maps inside the default GeoPackage and results.gpkg (no QGIS needed).

Expectations are read independently: colours and allowed values from catalogue.json with the
json module, land-use colours from the file's own land_use_classes table with SQLite, table
layouts from the GeoPackage specification and from what QGIS 3.22 itself writes (the real-QGIS
test compares with a table QGIS creates).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from miyun_spatial.io import geopackage as store
from miyun_spatial.io.qgis_styles import STYLE_NAME, add_styles

CATALOGUE_JSON = json.loads(
    (Path(__file__).resolve().parents[1] / "miyun_spatial" / "core" / "catalogue.json").read_text(
        "utf-8"
    )
)
LAYERS = {layer["name"]: layer for layer in CATALOGUE_JSON["layers"]}
PLAN_FIELDS = {f["name"]: f for f in CATALOGUE_JSON["plan_fields"]}


def rgb(hex_color: str) -> str:
    return ",".join(str(int(hex_color[i : i + 2], 16)) for i in (1, 3, 5))


def query(path: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = con.execute(sql, params).fetchall()
    con.close()
    return rows


def default_qml(path: Path, table: str) -> ET.Element:
    [(qml,)] = query(
        path,
        "SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault",
        table,
    )
    assert qml.startswith("<!DOCTYPE qgis")
    return ET.fromstring(qml.split("\n", 1)[1])


def categories(root: ET.Element) -> dict[str, tuple[str, str]]:
    """value -> (label, fill colour 'r,g,b') of a categorized renderer."""
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol"
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    out = {}
    for category in renderer.find("categories"):
        layer = symbols[category.get("symbol")].find("layer")
        color = layer.find("Option/Option[@name='color']").get("value")
        out[category.get("value")] = (category.get("label"), color.rsplit(",", 1)[0])
    return out


@pytest.fixture(scope="module")
def results_gpkg(built_default) -> Path:
    return built_default / "results.gpkg"


def test_the_default_file_is_geopackage_1_2(default_gpkg):
    assert query(default_gpkg, "PRAGMA user_version") == [(10200,)]
    assert query(default_gpkg, "PRAGMA application_id") == [(0x47504B47,)]


@pytest.mark.parametrize(
    "which", ["default", pytest.param("results", marks=pytest.mark.slow)]
)  # results: the session's build, asked for in the test (conftest marks only declared fixtures)
def test_layer_styles_rows_as_qgis_applies_them(which, default_gpkg, request):
    path = default_gpkg if which == "default" else request.getfixturevalue("results_gpkg")
    contents = dict(query(path, "SELECT table_name, data_type FROM gpkg_contents"))
    assert contents["layer_styles"] == "attributes"
    geometry = dict(query(path, "SELECT table_name, column_name FROM gpkg_geometry_columns"))
    rows = query(
        path,
        "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
        "useAsDefault FROM layer_styles",
    )
    styled = {row[2] for row in rows}
    # results.gpkg adds the control-line overlap pieces (styled by verdict) and 低效用地
    expected = {
        name
        for name in contents
        if name in LAYERS or name in ("control_line_conflicts", "low_efficiency_land")
    }
    assert styled == expected and len(rows) == len(expected)
    for catalog, schema, table, column, name, default in rows:
        assert (catalog, schema) == ("", ""), table  # empty strings, not NULL
        assert column == geometry.get(table, ""), table
        assert name == STYLE_NAME and default == 1
    [(count,)] = query(
        path, "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'layer_styles'"
    )
    assert count == len(rows)


def test_farmer_bases_are_categorized_by_the_plans_three_classes(default_gpkg):
    root = default_qml(default_gpkg, "farmer_bases")
    assert root.find("renderer-v2").get("attr") == "category"
    spec = next(f for f in LAYERS["farmer_bases"]["fields"] if f["name"] == "category")
    expected = {v["value"]: rgb(v["color"]) for v in spec["values"]}
    found = categories(root)
    assert {k: c for k, (_, c) in found.items() if k} == expected
    assert set(expected) == {"upgrade", "transform", "exit"}  # 提质升级 / 转型调整 / 逐步退出
    assert found["upgrade"][0].startswith("提质升级")
    assert "" in found  # all other values still drawn


def test_parcels_use_the_files_own_land_use_colours(default_gpkg):
    root = default_qml(default_gpkg, "land_parcels")
    assert root.find("renderer-v2").get("attr") == "planned_use"
    classes = query(default_gpkg, "SELECT code, name_zh, color_hex FROM land_use_classes")
    found = categories(root)
    assert {k: c for k, (_, c) in found.items() if k} == {
        code: rgb(color) for code, _, color in classes
    }
    for code, name, _ in classes:
        assert found[code][0].startswith(f"{code} {name}")


def test_outlines_of_unsurveyed_features_are_dashed_and_labels_are_plain_text(default_gpkg):
    root = default_qml(default_gpkg, "clusters")
    layer = root.find("renderer-v2/symbols/symbol/layer")
    assert layer.get("class") == "SimpleFill"
    prop = layer.find("data_defined_properties/Option/Option[@name='properties']")
    expression = prop.find("Option[@name='outlineStyle']/Option[@name='expression']")
    assert '"geom_source"' in expression.get("value") and "'dash'" in expression.get("value")
    settings = root.find("labeling/settings/text-style")
    assert settings.get("fieldName") == "name_zh" and settings.get("allowHtml") == "0"
    district = default_qml(default_gpkg, "district").find("renderer-v2/symbols/symbol/layer")
    assert district.find("Option/Option[@name='outline_style']").get("value") == "dash"


def test_fields_have_aliases_value_maps_and_soft_constraints(default_gpkg):
    root = default_qml(default_gpkg, "land_parcels")
    aliases = {a.get("field"): a.get("name") for a in root.find("aliases")}
    assert (
        aliases["revenue_10k_cny"].startswith("营业收入") and "万元" in aliases["revenue_10k_cny"]
    )
    widget = root.find("fieldConfiguration/field[@name='status']/editWidget")
    assert widget.get("type") == "ValueMap"
    entries = [
        (o.get("name"), o.get("value"))
        for o in widget.findall("config/Option/Option/Option/Option")
    ]
    status = next(f for f in LAYERS["land_parcels"]["fields"] if f["name"] == "status")
    assert [value for _, value in entries] == [v["value"] for v in status["values"]]
    constraint = root.find("constraintExpressions/constraint[@field='revenue_10k_cny']")
    assert ">= 0" in constraint.get("exp")
    flags = root.find("constraints/constraint[@field='planned_use']")
    assert flags.get("constraints") == "1" and flags.get("notnull_strength") == "2"


def test_value_maps_in_the_geopackage_schema_extension(default_gpkg):
    extensions = query(
        default_gpkg,
        "SELECT table_name, column_name, scope FROM gpkg_extensions "
        "WHERE extension_name = 'gpkg_schema' ORDER BY table_name",
    )
    assert extensions == [
        ("gpkg_data_column_constraints", None, "read-write"),
        ("gpkg_data_columns", None, "read-write"),
    ]
    columns = {
        (t, c): k
        for t, c, k in query(
            default_gpkg, "SELECT table_name, column_name, constraint_name FROM gpkg_data_columns"
        )
    }
    enums: dict[str, set[str]] = {}
    for name, kind, value in query(
        default_gpkg,
        "SELECT constraint_name, constraint_type, value FROM gpkg_data_column_constraints",
    ):
        assert kind == "enum"
        enums.setdefault(name, set()).add(value)
    category = next(f for f in LAYERS["farmer_bases"]["fields"] if f["name"] == "category")
    assert enums[columns[("farmer_bases", "category")]] == {v["value"] for v in category["values"]}
    stage = next(f for f in LAYERS["projects"]["fields"] if f["name"] == "stage")
    assert enums[columns[("projects", "stage")]] == {v["value"] for v in stage["values"]}
    codes = {row[0] for row in query(default_gpkg, "SELECT code FROM land_use_classes")}
    for use in ("current_use", "planned_use", "proposed_use"):
        assert enums[columns[("land_parcels", use)]] == codes
    assert enums[columns[("land_adjustments", "from_use")]] == codes
    # Fields sharing values share one constraint: every plan layer's geom_source.
    geom_source = {v["value"] for v in PLAN_FIELDS["geom_source"]["values"]}
    shared = {k for (t, c), k in columns.items() if c == "geom_source"}
    assert len(shared) == 1 and enums[shared.pop()] == geom_source


def test_styles_are_replaced_not_duplicated_and_user_styles_kept(tmp_path, default_gpkg):
    path = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, useAsDefault) "
            "VALUES ('', '', 'farmer_bases', 'geom', 'mine', '<qgis/>', 1)"
        )
    con.close()
    before = query(path, "SELECT count(*) FROM gpkg_data_column_constraints")
    add_styles(path)
    rows = query(
        path,
        "SELECT styleName, useAsDefault FROM layer_styles WHERE f_table_name = 'farmer_bases' "
        "ORDER BY styleName",
    )
    assert rows == [("mine", 0), (STYLE_NAME, 1)]
    assert query(path, "SELECT count(*) FROM gpkg_data_column_constraints") == before
    assert query(path, "SELECT count(*) FROM layer_styles") == [(len(LAYERS) + 1,)]
    assert query(path, "PRAGMA integrity_check") == [("ok",)]


def test_markup_edited_into_class_names_stays_text_in_the_qml(tmp_path, default_gpkg):
    path = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    markup = '</category><script>alert("x")</script>&'
    with sqlite3.connect(path) as con:
        con.execute("UPDATE land_use_classes SET name_zh = ? WHERE code = 'M1'", (markup,))
    con.close()
    add_styles(path)
    root = default_qml(path, "land_parcels")
    assert root.find(".//script") is None
    [(name_en,)] = query(path, "SELECT name_en FROM land_use_classes WHERE code = 'M1'")
    assert categories(root)["M1"][0] == f"M1 {markup} {name_en}"
    plan = store.load(path)  # the styled file still reads
    assert plan["land_use_classes"].set_index("code").loc["M1", "name_zh"] == markup
