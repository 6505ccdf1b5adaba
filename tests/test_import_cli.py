"""``miyun-spatial import`` as a user runs it: deliveries built in code, results read back.

Each delivery lands in a new GeoPackage that must validate and build; areas, classes and
Chinese texts are checked against the fixtures, the mix per zone against an independent
computation with the crosswalk; inputs are never modified.
"""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pyogrio
import pytest
import shapely
from conftest import sha256
from import_fixtures import (
    SURVEY_CODES,
    YDYH_CODES,
    dxf,
    filegdb,
    gcj02_geojson,
    grid_parcels,
    survey_shapefile,
    zone_p1,
)

from miyun_spatial.io import geopackage as store


@pytest.fixture(scope="module")
def survey():
    return grid_parcels(SURVEY_CODES)


def _files_digest(folder):
    return {p.name: sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _expected_mix(parcels: gpd.GeoDataFrame) -> dict[str, float]:
    """Independent: area (ha) of each plan class inside P1, by shapely on the fixture geometries."""
    zone = zone_p1()
    out: dict[str, float] = {}
    for geom, plan_class in zip(parcels.geometry, parcels["plan_class"], strict=True):
        out[plan_class] = out.get(plan_class, 0.0) + geom.intersection(zone).area / 10_000
    return out


def _mix_p1(cli, gpkg, use: str) -> dict[str, dict]:
    result = cli("mix", gpkg, "--layer", "park_in_park", "--use", use, "--json")
    assert result.returncode == 0, result.stderr
    return {r["class"]: r for r in json.loads(result.stdout) if r["zone"] == "P1"}


@pytest.mark.slow
def test_survey_shapefile_gbk_without_cpg_in_zone_39_imports_validates_and_builds(
    tmp_path, cli, survey, default_gpkg
):
    shp = survey_shapefile(tmp_path / "delivery", survey)
    assert not shp.with_suffix(".cpg").exists()
    before = _files_digest(tmp_path / "delivery")
    base_before = sha256(default_gpkg)
    out = tmp_path / "imported.gpkg"

    result = cli("import", shp, "--layer", "land_parcels", "--out", out, "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "GBK/GB18030" in report["encoding"] and "no .cpg" in report["encoding"]
    assert any("EPSG:4527" in n for n in report["crs"])
    assert any("reprojected from EPSG:4527 to EPSG:4548" in n for n in report["crs"])
    assert report["classification"] == "gbt21010"
    assert {r["code"] for r in report["ambiguous"]} == {"0601", "08H2"}
    ambiguous_0601 = next(r for r in report["ambiguous"] if r["code"] == "0601")
    expected_0601 = survey.loc[survey["DLBM"] == "0601"].area.sum() / 10_000
    assert ambiguous_0601["area_ha"] == pytest.approx(expected_0601, abs=1e-6)
    assert report["validation"]["error"] == 0
    # the default's illustrative scenarios name parcels the delivery replaced: each such edit
    # is a warning (a stale what-if does not stop the base), and nothing else is
    warned = [f for f in report["validation"]["findings"] if f["level"] == "warning"]
    assert len(warned) == report["validation"]["warning"]
    assert {(f["layer"], f["check"]) for f in warned} <= {("scenario_edits", "scenario_edit")}
    assert report["features_written"] == len(survey)
    # inputs untouched, nothing written beside them
    assert _files_digest(tmp_path / "delivery") == before
    assert sha256(default_gpkg) == base_before

    parcels = pyogrio.read_dataframe(out, layer="land_parcels")
    assert parcels.crs.to_epsg() == 4548
    by_code = parcels.set_index("parcel_code")
    source = survey.set_index("TBBH")
    assert set(by_code.index) == set(source.index)
    assert (by_code["current_use"] == source["plan_class"].reindex(by_code.index)).all()
    assert (by_code["source_code"] == source["DLBM"].reindex(by_code.index)).all()
    assert (by_code["source_name"] == source["DLMC"].reindex(by_code.index)).all()
    assert set(by_code["source_classification"]) == {"gbt21010"}
    areas = by_code.geometry.area
    assert areas.to_numpy() == pytest.approx(
        source.geometry.area.reindex(by_code.index).to_numpy(), abs=1e-4
    )
    # the mix per zone equals an independent computation with the crosswalk
    mix = _mix_p1(cli, out, "current")
    expected = _expected_mix(survey)
    assert {c for c in mix if c != "uncovered"} == set(expected)
    zone_ha = zone_p1().area / 10_000
    for plan_class, ha in expected.items():
        assert mix[plan_class]["area_ha"] == pytest.approx(ha, abs=1e-6)
        assert mix[plan_class]["share"] == pytest.approx(ha / zone_ha, abs=1e-6)
    # the mix in the source classification (三调 codes) is the same areas per DLBM code
    result = cli("mix", out, "--layer", "park_in_park", "--classification", "gbt21010", "--json")
    assert result.returncode == 0, result.stderr
    by_source = {r["class"]: r for r in json.loads(result.stdout) if r["zone"] == "P1"}
    zone = zone_p1()
    for code, name, _plan_class in SURVEY_CODES:
        rows = survey[survey["DLBM"] == code]
        ha = sum(g.intersection(zone).area for g in rows.geometry) / 10_000
        assert by_source[code]["area_ha"] == pytest.approx(ha, abs=1e-6)
        assert by_source[code]["name_zh"] == name
    # validate and build pass; Chinese names intact in the report
    assert cli("validate", out).returncode == 0
    built = cli("build", out, "--out", tmp_path / "maps_out", "--offline")
    assert built.returncode == 0, built.stderr
    page = (tmp_path / "maps_out" / "land_use.html").read_text(encoding="utf-8")
    assert all(name in page for _code, name, _c in SURVEY_CODES)  # 三调 names in the popups
    with sqlite3.connect(out) as con:
        styled = {row[0] for row in con.execute("SELECT f_table_name FROM layer_styles")}
    assert "land_parcels" in styled


def test_text_report_names_encoding_crs_and_ambiguities(tmp_path, cli, survey):
    shp = survey_shapefile(tmp_path / "d", survey)
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "GBK/GB18030" in text and "EPSG:4527" in text
    assert "商业服务业设施用地" in text and "ambiguous: 0601 工业用地 -> M1" in text
    assert "dry run: nothing written" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_mapping_file_overrides_an_ambiguous_code(tmp_path, cli, survey):
    shp = survey_shapefile(tmp_path / "d", survey)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[codes]\n"0601" = "M2"\n', encoding="utf-8")
    out = tmp_path / "m2.gpkg"
    result = cli(
        "import", shp, "--layer", "land_parcels", "--out", out, "--mapping", mapping, "--json",
        "--keep-extra",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "0601" not in {r["code"] for r in report["ambiguous"]}
    parcels = pyogrio.read_dataframe(out, layer="land_parcels")
    assert report["kept_extra"] and {"BSM", "QSDWMC"} <= set(parcels.columns)
    assert set(parcels["QSDWMC"]) == {"密云镇檀营村民委员会"}
    industrial = parcels[parcels["source_code"] == "0601"]
    assert len(industrial) and set(industrial["current_use"]) == {"M2"}


@pytest.mark.slow
def test_filegdb_regulatory_plan_in_ydyh_classes(tmp_path, cli):
    parcels = grid_parcels(YDYH_CODES)
    gdb = filegdb(tmp_path, parcels)
    out = tmp_path / "plan.gpkg"
    which = cli("import", gdb, "--layer", "land_parcels", "--out", out)
    assert which.returncode == 2 and "holds 2 layers (YDGH, XZQ)" in which.stderr
    assert "--source-layer" in which.stderr and not out.exists()
    result = cli(
        "import", gdb, "--source-layer", "YDGH", "--layer", "land_parcels", "--out", out, "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["driver"] == "OpenFileGDB" and report["classification"] == "ydyh"
    imported = pyogrio.read_dataframe(out, layer="land_parcels")
    expected = dict(zip(parcels["TBBH"], parcels["plan_class"], strict=True))
    assert dict(zip(imported["parcel_code"], imported["planned_use"], strict=True)) == expected
    assert set(imported["source_name"]) == {name for _c, name, _p in YDYH_CODES}
    # FileGDB stores coordinates on a grid: the independent sum uses the delivery as stored
    stored = pyogrio.read_dataframe(gdb, layer="YDGH").merge(
        parcels[["TBBH", "plan_class"]], on="TBBH"
    )
    assert len(stored) == len(parcels)
    mix = _mix_p1(cli, out, "planned")
    for plan_class, ha in _expected_mix(stored).items():
        assert mix[plan_class]["area_ha"] == pytest.approx(ha, abs=1e-6)


@pytest.mark.slow
def test_dxf_with_the_class_in_the_layer_name(tmp_path, cli, survey):
    drawing = dxf(tmp_path, survey)
    out = tmp_path / "cad.gpkg"
    refused = cli("import", drawing, "--layer", "land_parcels", "--out", out)
    assert refused.returncode == 1 and "--source-crs EPSG:4548" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not out.exists()
    result = cli(
        "import", drawing, "--layer", "land_parcels", "--out", out, "--json",
        "--classification", "gbt21010", "--source-crs", "EPSG:4548",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert any("left out 1 CAD entities" in n for n in report["geometry"])
    imported = pyogrio.read_dataframe(out, layer="land_parcels")
    assert len(imported) == len(survey)
    assert set(imported["source_name"]) == {name for _c, name, _p in SURVEY_CODES}
    assert imported.area.sum() == pytest.approx(survey.area.sum(), rel=1e-9)
    mix = _mix_p1(cli, out, "current")
    for plan_class, ha in _expected_mix(survey).items():
        assert mix[plan_class]["area_ha"] == pytest.approx(ha, abs=1e-6)


@pytest.mark.slow
def test_gcj02_geojson_is_shifted_back(tmp_path, cli, survey):
    path = gcj02_geojson(tmp_path, survey)
    out = tmp_path / "gaode.gpkg"
    result = cli(
        "import", path, "--layer", "land_parcels", "--out", out, "--source-crs", "gcj02", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert any("GCJ-02" in n for n in report["crs"])
    imported = pyogrio.read_dataframe(out, layer="land_parcels")
    # back within centimetres of where the parcels really are (GCJ-02 is off by ~ 500 m)
    moved = shapely.distance(
        shapely.centroid(imported.geometry.values), shapely.centroid(survey.geometry.values)
    )
    assert moved.max() < 0.05
    assert set(imported["source_name"]) == {name for _c, name, _p in SURVEY_CODES}
    unshifted = cli("import", path, "--layer", "land_parcels", "--dry-run", "--json")
    assert "--source-crs gcj02" in " ".join(json.loads(unshifted.stdout)["crs"])


@pytest.mark.parametrize(
    "layer",
    [s.name for s in store.CATALOGUE.layers if s.role in ("plan", "projects")],
)
def test_every_plan_layer_and_projects_round_trip_through_geojson(tmp_path, cli, layer):
    """Exported from the default data to GeoJSON (WGS 84) and imported back: same features."""
    original = store.load()[layer]
    path = tmp_path / f"{layer}.geojson"
    pyogrio.write_dataframe(original.to_crs("EPSG:4326"), path)
    out = tmp_path / "back.gpkg"
    result = cli("import", path, "--layer", layer, "--out", out, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    back = pyogrio.read_dataframe(out, layer=layer)
    assert list(back["code"]) == list(original["code"])
    assert list(back["name_zh"]) == list(original["name_zh"])
    if original.geom_type.iloc[0] != "Point":
        assert back.area.to_numpy() == pytest.approx(original.area.to_numpy(), rel=1e-6)


@pytest.mark.gdal
def test_the_imported_geopackage_passes_gdals_validator(tmp_path, cli):
    from test_gdal_validate import gdal_problems

    shp = survey_shapefile(tmp_path / "delivery", grid_parcels(SURVEY_CODES, n=3))
    out = tmp_path / "imported.gpkg"
    result = cli("import", shp, "--layer", "land_parcels", "--out", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert gdal_problems(out) == []


@pytest.mark.parametrize("kind", ["kml", "csv"])
def test_kml_and_csv_with_wkt_deliveries(tmp_path, cli, kind):
    original = store.load()["park_in_park"]
    if kind == "kml":
        path = tmp_path / "parks.kml"
        pyogrio.write_dataframe(original.to_crs("EPSG:4326"), path, driver="KML")
        extra = []
    else:  # a spreadsheet export: WKT in EPSG:4548, no CRS in the file
        path = tmp_path / "parks.csv"
        table = original.drop(columns="geometry").assign(WKT=original.geometry.to_wkt())
        table.to_csv(path, index=False, encoding="utf-8")
        extra = ["--source-crs", "EPSG:4548"]
    out = tmp_path / "back.gpkg"
    result = cli("import", path, "--layer", "park_in_park", "--out", out, "--json", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    back = pyogrio.read_dataframe(out, layer="park_in_park")
    assert list(back["name_zh"]) == list(original["name_zh"])
    assert back.area.to_numpy() == pytest.approx(original.area.to_numpy(), rel=1e-6)
