"""Deliveries as they arrive: zipped Shapefiles, and coordinates that lie outside the district.

Zips are read in place (``X.zip`` or ``/vsizip/X.zip/inner.shp``), their text decoded from the
``.cpg`` inside or from the ``.dbf`` bytes; CRS advice never repeats the CRS the user gave.
"""

from __future__ import annotations

import json
import zipfile

import pyogrio
import pytest
from import_fixtures import SURVEY_CODES, grid_parcels, survey_shapefile, zip_shapefiles
from test_import_errors import refused


@pytest.fixture(scope="module")
def small():
    return grid_parcels(SURVEY_CODES, n=3)


def _names(out) -> set[str]:
    return set(pyogrio.read_dataframe(out, layer="land_parcels")["source_name"])


EXPECTED_NAMES = {name for _c, name, _p in SURVEY_CODES}


@pytest.mark.parametrize(
    ("encoding", "cpg", "folder", "how"),
    [
        ("GBK", None, "", "GBK/GB18030 (no .cpg; detected from the text)"),
        ("GBK", None, "交付/", "GBK/GB18030 (no .cpg; detected from the text)"),
        ("UTF-8", "UTF-8", "", "UTF-8 (from DLTB.cpg)"),
        ("GBK", "936", "", "GB18030 (from DLTB.cpg)"),
        ("GBK", "UTF-8", "", "GBK/GB18030 (DLTB.cpg says 'UTF-8' but the text is not)"),
    ],
)
def test_a_zipped_shapefile_is_read_with_the_encoding_inside(
    tmp_path, cli, small, encoding, cpg, folder, how
):
    shp = survey_shapefile(tmp_path / "d", small)
    if encoding != "GBK":
        pyogrio.write_dataframe(small.drop(columns="plan_class").to_crs("EPSG:4527"), shp,
                                encoding=encoding)  # fmt: skip
        shp.with_suffix(".cpg").unlink(missing_ok=True)
    archive = zip_shapefiles(tmp_path / "delivery.zip", shp, folder=folder, cpg=cpg)
    out = tmp_path / "out.gpkg"
    result = cli("import", archive, "--layer", "land_parcels", "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["encoding"] == how
    assert report["features_written"] == len(small) and report["source_layer"] == "DLTB"
    assert _names(out) == EXPECTED_NAMES


@pytest.mark.slow
def test_a_zip_with_two_shapefiles_lists_them_and_either_way_to_pick(tmp_path, cli, small):
    one = survey_shapefile(tmp_path / "d", small)
    two = survey_shapefile(tmp_path / "d", small.iloc[:4], name="XZDW")
    archive = zip_shapefiles(tmp_path / "two.zip", one, two, folder="sub/")
    result = cli("import", archive, "--layer", "land_parcels", "--dry-run")
    refused(
        result, 2, "holds 2 Shapefiles (sub/DLTB.shp, sub/XZDW.shp)", "--source-layer DLTB",
        f"/vsizip/{archive}/sub/DLTB.shp",
    )  # fmt: skip
    picked = cli("import", archive, "--source-layer", "XZDW", "--layer", "land_parcels",
                 "--dry-run", "--json")  # fmt: skip
    assert picked.returncode == 0, picked.stderr
    assert json.loads(picked.stdout)["features_written"] == 4
    out = tmp_path / "out.gpkg"
    by_path = cli("import", f"/vsizip/{archive}/sub/DLTB.shp", "--layer", "land_parcels",
                  "--out", out)  # fmt: skip
    assert by_path.returncode == 0, by_path.stderr
    assert _names(out) == EXPECTED_NAMES


def test_broken_zips_are_refused_with_the_fix(tmp_path, cli, small):
    shp = survey_shapefile(tmp_path / "d", small)
    no_dbf = tmp_path / "nodbf.zip"
    zip_shapefiles(no_dbf, shp)
    with zipfile.ZipFile(no_dbf) as zf, zipfile.ZipFile(tmp_path / "cut.zip", "w") as cut:
        for name in zf.namelist():
            if not name.endswith(".dbf"):
                cut.writestr(name, zf.read(name))
    refused(cli("import", tmp_path / "cut.zip", "--layer", "land_parcels", "--dry-run"), 2,
            "DLTB.shp has no .dbf beside it in the archive")  # fmt: skip
    fake = tmp_path / "mail.zip"
    fake.write_text("not a zip", encoding="utf-8")
    refused(cli("import", fake, "--layer", "land_parcels", "--dry-run"), 2, "is not a zip archive")
    refused(cli("import", f"/vsizip/{no_dbf}/XZDW.shp", "--layer", "land_parcels", "--dry-run"),
            2, "holds no 'XZDW.shp'")  # fmt: skip


def _zone_40(parcels):
    """The fixture moved one zone east: zone-40 eastings (40 4xx xxx), ~120°E, outside Beijing."""
    moved = parcels.copy()
    moved["geometry"] = parcels.to_crs("EPSG:4527").translate(xoff=1_000_000)
    return moved.set_crs("EPSG:4528", allow_override=True)


@pytest.mark.parametrize(
    ("prj", "options", "crs_named"),
    [
        (False, ("--source-crs", "EPSG:4528"), "in EPSG:4528 from --source-crs"),
        (False, (), "has no CRS"),
        (True, (), "in EPSG:4528 from the declared CRS"),
        (False, ("--source-crs", "EPSG:4527"), "in EPSG:4527 from --source-crs"),
    ],
)
def test_data_outside_the_district_are_said_to_be_so_never_the_same_crs_again(
    tmp_path, cli, small, prj, options, crs_named
):
    shp = survey_shapefile(tmp_path / "d", _zone_40(small), reproject=False)
    if not prj:
        shp.with_suffix(".prj").unlink()
    result = cli("import", shp, "--layer", "land_parcels", "--dry-run", *options)
    err = refused(
        result, 1, crs_named, "the data lie outside the district in every likely CRS",
        "EPSG:4528 puts them at lon 119.8", "lat 40.3",
    )  # fmt: skip
    assert "give --source-crs" not in err


def test_lonlat_outside_beijing_is_not_sent_round_the_lonlat_crss(tmp_path, cli, small):
    shanghai = small.to_crs("EPSG:4326").translate(xoff=4.6, yoff=-9.2)
    path = tmp_path / "shanghai.geojson"
    frame = small.drop(columns="plan_class").set_geometry(shanghai.values, crs="EPSG:4326")
    pyogrio.write_dataframe(frame, path)
    for options in ((), ("--source-crs", "EPSG:4490")):
        result = cli("import", path, "--layer", "land_parcels", "--dry-run", *options)
        err = refused(result, 1, "the data lie outside the district", "lon 121.", "lat 31.")
        assert "give --source-crs" not in err
