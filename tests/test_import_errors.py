"""Every failure mode of ``miyun-spatial import``: one line on stderr, a documented exit code.

Exit codes (miyun_spatial/errors.py): 1 the data cannot be imported or the result does not
validate, 2 bad input or usage. Nothing is written when the import is refused.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
import pytest
import shapely
from import_fixtures import SURVEY_CODES, grid_parcels, survey_shapefile, zone_p1

from miyun_spatial.io import geopackage as store


@pytest.fixture(scope="module")
def small():
    return grid_parcels(SURVEY_CODES, n=3)


def refused(result, code: int, *needles: str) -> str:
    err = result.stderr.strip()
    assert result.returncode == code, (result.returncode, result.stdout, err)
    assert err.startswith("error:") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def test_codes_missing_from_the_crosswalk_are_listed_with_counts(tmp_path, cli, small):
    bad = small.copy()
    bad.loc[bad.index[:2], "DLBM"] = "9999"
    bad.loc[bad.index[2], "DLBM"] = "05H9"
    bad.loc[bad.index[3], "DLBM"] = "601"  # a spreadsheet dropped the leading zero
    shp = survey_shapefile(tmp_path / "d", bad)
    out = tmp_path / "out.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out)
    refused(
        result, 1, "'9999' (2 features)", "'05H9' (1 features)", "'601' (1 features, meant '0601'?)"
    )
    assert "--mapping" in result.stderr
    assert not out.exists()


def test_a_mapping_file_maps_a_local_code(tmp_path, cli, small):
    local = small.copy()
    local.loc[local.index[0], "DLBM"] = "05H9"
    shp = survey_shapefile(tmp_path / "d", local)
    mapping = tmp_path / "local.toml"
    mapping.write_text('[codes]\n"05H9" = "B"\n', encoding="utf-8")
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--mapping", mapping)
    assert result.returncode == 0, result.stderr
    assert "05H9" in result.stdout and "(--mapping)" in result.stdout


def test_mapping_to_an_unknown_class_is_a_usage_error(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[codes]\n"0601" = "M9"\n', encoding="utf-8")
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--mapping", mapping)
    refused(result, 2, "'0601' maps to 'M9'")


def test_missing_prj_suggests_the_zone_crs(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    shp.with_suffix(".prj").unlink()
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run")
    refused(result, 1, "has no CRS", "zone prefix 39", "--source-crs EPSG:4527")
    ok = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--source-crs", "EPSG:4527")
    assert ok.returncode == 0, ok.stderr


def test_wrong_prj_is_detected_from_the_coordinates(tmp_path, cli, small):
    prefixed = small.to_crs("EPSG:4527").set_crs("EPSG:4548", allow_override=True)
    shp = survey_shapefile(tmp_path / "d", prefixed, reproject=False)  # .prj: CM 117E; x: zone 39
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run")
    refused(result, 1, "do not fall in Beijing", "wrong .prj", "--source-crs EPSG:4527")


def test_invalid_geometry_is_refused_unless_repair(tmp_path, cli, small):
    broken = small.copy()
    x0, y0, x1, y1 = broken.geometry.iloc[1].bounds
    broken.loc[broken.index[1], "geometry"] = shapely.Polygon(
        [(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)]
    )  # a bow-tie
    shp = survey_shapefile(tmp_path / "d", broken)
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run")
    refused(result, 1, "invalid geometries (features 1", "Self-intersection", "--repair")
    repaired = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stderr
    notes = json.loads(repaired.stdout)["geometry"]
    assert any("repaired 1 invalid geometries with make_valid (features 1;" in n for n in notes)


def test_undecodable_text_is_reported_by_feature_and_field(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    dbf = shp.with_suffix(".dbf")
    raw = dbf.read_bytes()
    name = "旱地".encode("gbk")
    assert raw.count(name) >= 1
    first = raw.index(name)
    dbf.write_bytes(raw[:first] + b"\xff\xff\xff\xff" + raw[first + len(name) :])
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run")
    row = [code for code, *_ in SURVEY_CODES].index("0103")
    refused(result, 1, f"layer DLTB feature {row} field DLMC", "--encoding")


def test_a_wrong_cpg_is_overruled_by_the_text(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    shp.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "DLTB.cpg says 'UTF-8' but the text is not" in report["encoding"]
    names = {row["code"]: row["name_zh"] for row in report["crosswalk"]}
    assert names["0601"] == "工业用地"


def test_a_wrong_encoding_option_is_refused(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--encoding", "UTF-8")
    refused(result, 1, "text is not UTF-8", "field DLMC")


def test_inputs_are_never_outputs(tmp_path, cli, small, gpkg_copy):
    shp = survey_shapefile(tmp_path / "d", small)
    same = cli("import", shp, "--layer", "land_parcels", "--from", gpkg_copy, "--out", gpkg_copy)
    refused(same, 2, "is --from", "NEW file")
    existing = tmp_path / "exists.gpkg"
    existing.write_bytes(b"keep me")
    result = cli("import", shp, "--layer", "land_parcels", "--out", existing)
    refused(result, 2, "exists", "--force")
    assert existing.read_bytes() == b"keep me"
    missing = cli("import", tmp_path / "nope.shp", "--layer", "land_parcels", "--dry-run")
    refused(missing, 2, "no such file")


def test_bad_source_crs_and_gcj02_on_projected_data(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    bad = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--source-crs", "EPSG:99")
    refused(bad, 2, "--source-crs EPSG:99")
    gcj = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--source-crs", "gcj02")
    refused(gcj, 1, "gcj02 needs longitude/latitude")


def test_points_into_a_polygon_layer_are_refused(tmp_path, cli, small):
    points = small.copy()
    points["geometry"] = points.geometry.representative_point()
    path = tmp_path / "points.gpkg"
    pyogrio.write_dataframe(points.drop(columns=["plan_class"]), path, layer="pts")
    result = cli("import", path, "--layer", "land_parcels", "--dry-run")
    refused(result, 1, "needs polygons", "9 point")


def test_missing_required_fields_and_bad_numbers_are_named(tmp_path, cli):
    projects = store.load()["projects"].to_crs("EPSG:4326")
    path = tmp_path / "projects.geojson"
    pyogrio.write_dataframe(projects.drop(columns=["stage", "owner_zh"]), path)
    result = cli("import", path, "--layer", "projects", "--dry-run")
    refused(result, 1, "required fields missing", "stage, owner_zh", "--set FIELD=VALUE")
    text = projects.copy()
    text["fixed_investment_10k_cny"] = text["fixed_investment_10k_cny"].astype(str)
    text.loc[text.index[2], "fixed_investment_10k_cny"] = "约5亿"
    pyogrio.write_dataframe(text, path)
    result = cli("import", path, "--layer", "projects", "--dry-run")
    refused(result, 1, "'约5亿', not a real number", "features 2")  # GeoJSON ids count from 0


def test_a_result_that_does_not_validate_says_why(tmp_path, cli, small):
    doubled = gpd.GeoDataFrame(
        gpd.pd.concat([small, small.assign(TBBH=small["TBBH"] + "B")], ignore_index=True),
        crs=small.crs,
    )  # every parcel twice: overlaps
    shp = survey_shapefile(tmp_path / "d", doubled)
    out = tmp_path / "out.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["validation"]["error"] > 0
    checks = {f["check"] for f in report["validation"]["findings"] if f["level"] == "error"}
    assert checks == {"overlap"}


def test_gaps_and_slivers_are_reported(tmp_path, cli):
    parcels = grid_parcels(SURVEY_CODES, n=5)
    boundary = zone_p1().boundary
    inner = next(i for i, g in parcels.geometry.items() if not g.intersects(boundary))
    hole_m2, hole_m = parcels.geometry[inner].area, parcels.geometry[inner].length
    parcels = parcels.drop(index=inner)
    shp = survey_shapefile(tmp_path / "d", parcels)
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    gap = next(w for w in warnings if "gaps between the polygons" in w)
    assert gap.startswith("1 gaps") and "inside zones P1" in gap
    total = float(gap.split("union), ")[1].split(" m²")[0].replace(",", ""))
    assert total == pytest.approx(hole_m2, abs=hole_m * 0.01)  # union on a 1 cm grid
