"""Classification decided from the data, per field: ``miyun-spatial import`` as a user runs it.

Deliveries whose field names do not say their classification (用地用海 codes in the 三调 field
DLBM), one delivery with two classifications (三调 current use, the plan's own classes for the
planned use), names contradicting the codes, level-1 codes. Results are read back from the new
GeoPackage and compared with the fixtures' own expected plan classes.
"""

from __future__ import annotations

import json

import pyogrio
import pytest
from import_fixtures import (
    PLAN_CODES,
    SURVEY_CODES,
    YDYH_CODES,
    YDYH_IN_DLBM,
    filegdb,
    grid_parcels,
    survey_shapefile,
)
from test_import_errors import refused


@pytest.fixture(scope="module")
def ydyh_in_dlbm():
    return grid_parcels(YDYH_IN_DLBM, n=4)


def _imported(out, column: str) -> dict[str, str]:
    parcels = pyogrio.read_dataframe(out, layer="land_parcels")
    return dict(zip(parcels["parcel_code"], parcels[column], strict=True))


def _expected(parcels, column: str) -> dict[str, str]:
    return dict(zip(parcels["TBBH"], parcels[column], strict=True))


def test_dlbm_holding_ydyh_codes_is_read_as_ydyh_from_the_dlmc_names(tmp_path, cli, ydyh_in_dlbm):
    shp = survey_shapefile(tmp_path / "d", ydyh_in_dlbm)
    out = tmp_path / "out.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["classification"] == "ydyh"
    assert "detected from the codes and the names in DLMC" in report["classification_how"]
    assert report["classifications"]["planned_use"]["source"] == "DLBM"
    assert _imported(out, "planned_use") == _expected(
        ydyh_in_dlbm, "plan_class"
    )  # 1001 -> M1, not S (铁路用地)


@pytest.mark.parametrize(
    "choice",
    [("--classification", "gbt21010"), ("--classification", "current_use=gbt21010"), "toml"],
)
def test_a_classification_the_names_contradict_is_refused_naming_both_tables(
    tmp_path, cli, ydyh_in_dlbm, choice
):
    shp = survey_shapefile(tmp_path / "d", ydyh_in_dlbm)
    if choice == "toml":
        toml = tmp_path / "m.toml"
        toml.write_text('[classification]\ncurrent_use = "gbt21010"\n', encoding="utf-8")
        choice = ("--mapping", toml)
    out = tmp_path / "out.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out, *choice)
    refused(
        result,
        1,
        "DLTB.shp:DLTB: DLBM holds 用地用海 codes:",
        " in DLMC is ",
        "in 用地用海 but '",
        "in GB/T 21010",
        "names in DLMC contradict GB/T 21010",
        "give --classification current_use=ydyh",
    )
    assert not out.exists()


def test_without_names_codes_both_tables_know_are_reported_as_such(tmp_path, cli, ydyh_in_dlbm):
    shp = survey_shapefile(tmp_path / "d", ydyh_in_dlbm.drop(columns=["DLMC"]))
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    how = report["classification_how"]
    assert report["classification"] == "gbt21010"
    assert "fit GB/T 21010 and 用地用海 alike" in how and "give --classification" in how


def test_without_names_a_code_only_ydyh_knows_decides(tmp_path, cli):
    parcels = grid_parcels((*YDYH_IN_DLBM, ("1401", "公园绿地", "G")), n=4).drop(columns="DLMC")
    out = tmp_path / "out.gpkg"
    result = cli("import", survey_shapefile(tmp_path / "d", parcels), "--layer", "land_parcels",
                 "--out", out, "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["classification"] == "ydyh"
    assert _imported(out, "planned_use") == _expected(parcels, "plan_class")


def test_a_few_contradicting_names_pass_many_local_names_warn(tmp_path, cli):
    parcels = grid_parcels(SURVEY_CODES, n=8)
    parcels.loc[parcels.index[0], "DLMC"] = "商业用地"  # 1 row of ~60: under 5 %
    few = cli("import", survey_shapefile(tmp_path / "a", parcels), "--layer", "land_parcels",
              "--dry-run", "--json")  # fmt: skip
    assert few.returncode == 0, few.stderr
    assert json.loads(few.stdout)["classification"] == "gbt21010"
    local = parcels.copy()
    local.loc[local.index[::3], "DLMC"] = "村里的地"  # a third: local names, no table's names
    many = cli("import", survey_shapefile(tmp_path / "b", local), "--layer", "land_parcels",
               "--dry-run", "--json")  # fmt: skip
    assert many.returncode == 0, many.stderr
    warnings = json.loads(many.stdout)["warnings"]
    assert any("names in DLMC are not the GB/T 21010 name" in w for w in warnings), warnings


@pytest.fixture(scope="module")
def two_classifications():
    """三调 DLBM current use and the plan's own classes in GHYT for the planned use."""
    parcels = grid_parcels(SURVEY_CODES, n=4)
    parcels["GHYT"] = [PLAN_CODES[i % len(PLAN_CODES)] for i in range(len(parcels))]
    return parcels


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--classification", "current_use=gbt21010", "--classification", "planned_use=plan"),
        ("--classification", "planned_use=plan"),
        "toml",
    ],
)
def test_current_use_in_gbt21010_and_planned_use_in_the_plans_classes(
    tmp_path, cli, two_classifications, options
):
    if options == "toml":
        toml = tmp_path / "m.toml"
        toml.write_text(
            '[classification]\ncurrent_use = "gbt21010"\nplanned_use = "plan"\n', encoding="utf-8"
        )
        options = ("--mapping", toml)
    shp = survey_shapefile(tmp_path / "d", two_classifications)
    out = tmp_path / "out.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out, "--json",
                 "--field", "planned_use=GHYT", *options)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    by_field = {t: c["classification"] for t, c in report["classifications"].items()}
    assert by_field == {"current_use": "gbt21010", "planned_use": "plan"}
    assert _imported(out, "current_use") == _expected(two_classifications, "plan_class")
    assert _imported(out, "planned_use") == _expected(two_classifications, "GHYT")


def test_a_bare_classification_applies_to_every_field(tmp_path, cli, two_classifications):
    shp = survey_shapefile(tmp_path / "d", two_classifications)
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run",
                 "--field", "planned_use=GHYT", "--classification", "gbt21010")  # fmt: skip
    refused(result, 1, "field GHYT: codes not in the gbt21010 crosswalk", "'M1'", "'F3'")


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("planned=plan", "'planned' is not a land-use field of this layer"),
        ("current_use=gb", "unknown classification 'gb'"),
        ("dlbm", "unknown classification 'dlbm'"),
    ],
)
def test_bad_classification_options_are_usage_errors(tmp_path, cli, value, needle):
    shp = survey_shapefile(tmp_path / "d", grid_parcels(SURVEY_CODES, n=3))
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--classification", value)
    refused(result, 2, needle, "current_use, planned_use" if "field" in needle else "gbt21010")


def test_a_classification_on_a_layer_without_class_fields_is_refused(tmp_path, cli):
    shp = survey_shapefile(tmp_path / "d", grid_parcels(SURVEY_CODES, n=3))
    result = cli("import", shp, "--layer", "park_in_park", "--dry-run",
                 "--classification", "gbt21010")  # fmt: skip
    refused(result, 2, "has no land-use class field")


@pytest.mark.parametrize(
    ("codes", "level1", "needles"),
    [
        (
            SURVEY_CODES,
            ("05", "商服"),
            ("商服用地", "0501 零售商业用地", "05H1 商业服务业设施用地"),
        ),
        (SURVEY_CODES, ("08", "公共"), ("公共管理与公共服务用地", "0804 科研用地", "08H2A")),
        (YDYH_CODES, ("10", "工矿"), ("工矿用地", "1001 工业用地", "100101 一类工业用地")),
    ],
)
def test_a_level_1_code_lists_its_level_2_codes(tmp_path, cli, codes, level1, needles):
    parcels = grid_parcels(codes, n=3)
    parcels.loc[parcels.index[:2], ["DLBM", "DLMC"]] = level1
    if codes is YDYH_CODES:
        source = filegdb(tmp_path, parcels)
        extra = ("--source-layer", "YDGH")
    else:
        source, extra = survey_shapefile(tmp_path / "d", parcels), ()
    result = cli("import", source, "--layer", "land_parcels", "--dry-run", *extra)
    refused(
        result,
        1,
        f"'{level1[0]}' (2 features, a level-1 (一级类) code",
        "level-2 (二级类)",
        *needles,
    )
