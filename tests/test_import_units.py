"""The import's building blocks: crosswalk tables as data, code parsing, CRS guesses, TOML."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest
from pyproj import CRS

from miyun_spatial.core.errors import InputError
from miyun_spatial.io.importing.coordinates import GCJ02, parse_source_crs, suggest_crs
from miyun_spatial.io.importing.crosswalk import (
    CLASSIFICATIONS,
    load_crosswalk,
    read_mapping,
    split_code,
)


@pytest.fixture(scope="module")
def classes(default_plan):
    return default_plan["land_use_classes"]


@pytest.mark.parametrize("key", list(CLASSIFICATIONS))
def test_every_crosswalk_maps_to_a_class_of_the_plan(key, classes):
    crosswalk = load_crosswalk(key, classes)
    assert len(crosswalk.rows) > 10
    assert {r.plan_class for r in crosswalk.rows.values()} <= set(classes["code"])


def test_survey_working_classes_and_provenance_are_there(classes):
    gbt = load_crosswalk("gbt21010", classes)
    assert {"05H1", "08H1", "08H2", "08H2A"} <= set(gbt.rows)
    assert gbt.rows["0601"].ambiguous and gbt.rows["0601"].plan_class == "M1"
    assert gbt.rows["0804"].plan_class == "A35" and not gbt.rows["0804"].ambiguous
    ydyh = load_crosswalk("ydyh", classes)
    assert ydyh.rows["100102"].plan_class == "M2" and ydyh.rows["16"].plan_class == "LB"
    provenance = files("miyun_spatial.io.importing").joinpath("crosswalks", "PROVENANCE.md")
    text = provenance.read_text(encoding="utf-8")
    assert "gbt21010_2017.csv" in text and "ydyh_2023_level2.csv" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0601", ("0601", None)),
        (" 05h1 ", ("05H1", None)),
        ("0601 工业用地", ("0601", "工业用地")),
        ("0601_工业用地", ("0601", "工业用地")),
        ("08H2A", ("08H2A", None)),
        ("9999 未知", ("9999 未知", None)),
        (None, (None, None)),
    ],
)
def test_codes_are_read_from_fields_and_cad_layer_names(value, expected, classes):
    assert split_code(value, load_crosswalk("gbt21010", classes), {}) == expected


def test_crs_guesses_from_coordinate_ranges():
    assert suggest_crs(np.array([39_483_000, 4_466_000, 39_486_000, 4_468_000])) == ["EPSG:4527"]
    assert suggest_crs(np.array([483_000, 4_466_000, 486_000, 4_468_000]))[0] == "EPSG:4548"
    assert suggest_crs(np.array([116.8, 40.3, 116.9, 40.4]))[0] == "EPSG:4490"
    assert suggest_crs(np.array([1e9, 1e9, 2e9, 2e9])) == []


def test_source_crs_option():
    assert parse_source_crs("GCJ-02") == GCJ02
    assert parse_source_crs("4527") == CRS.from_epsg(4527)
    with pytest.raises(InputError, match="not a CRS"):
        parse_source_crs("EPSG:99")


def test_mapping_file_needs_a_codes_table(tmp_path, classes):
    path = tmp_path / "m.toml"
    path.write_text('"0601" = "M2"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[codes\] table"):
        read_mapping(path, classes)
    path.write_text('[codes]\n"0601" = "M2"\n"05h9" = "B"\n', encoding="utf-8")
    assert read_mapping(path, classes) == {"0601": "M2", "05H9": "B"}


def test_geometries_fit_the_layer_with_notes():
    import geopandas as gpd
    import shapely

    from miyun_spatial.core.errors import DataError
    from miyun_spatial.io.importing.geometry import conform_geometries

    square = shapely.Polygon([(0, 0, 5), (100, 0, 5), (100, 100, 5), (0, 100, 5)])
    ring = shapely.LineString([(200, 0), (300, 0), (300, 100), (200, 0)])
    frame = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[square, ring], crs="EPSG:4548")
    result = conform_geometries(frame, "polygon", repair=False, is_cad=True, where="t")
    assert "Z dropped from 1 features (2D only)" in result.notes
    assert "1 closed polylines read as polygons" in result.notes
    assert not shapely.has_z(result.frame.geometry.values).any()
    assert list(result.frame.geometry.area) == [10_000, 5_000]
    points = gpd.GeoDataFrame(
        geometry=[shapely.MultiPoint([(1, 1)]), shapely.MultiPoint([(1, 1), (2, 2)])],
        crs="EPSG:4548",
    )
    with pytest.raises(DataError, match=r"needs points but features 1 are not \(1 multipoint\)"):
        conform_geometries(points, "point", repair=False, is_cad=False, where="t")
    single = conform_geometries(points.iloc[:1], "point", repair=False, is_cad=False, where="t")
    assert single.frame.geometry.iloc[0].geom_type == "Point"


def test_the_gap_union_as_a_coverage_equals_the_general_overlay():
    import shapely

    from miyun_spatial.io.importing.geometry import GAP_GRID_M, union_on_grid

    step = 10.0
    cells = [
        shapely.box(i * step, j * step, (i + 1) * step, (j + 1) * step)
        for i in range(30)
        for j in range(30)
        if (i, j) != (12, 7)  # one hole
    ]
    geoms = np.array(cells, dtype=object)
    general = shapely.union_all(geoms, grid_size=GAP_GRID_M)
    union = union_on_grid(geoms)
    assert union.equals(general) and len(union.interiors) == 1
    overlapping = np.array([*cells, shapely.box(5, 5, 25, 25)], dtype=object)  # not a coverage
    assert union_on_grid(overlapping).equals(shapely.union_all(overlapping, grid_size=GAP_GRID_M))


def test_read_layer_text_in_its_own_buffers_same_values(tmp_path):
    """``read_layer`` copies the Arrow text columns out of GDAL's batch (memory): the frame
    equals pyogrio's own Arrow read, dtypes, nulls and non-ASCII text included."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely

    from miyun_spatial.io import geopackage as store

    n = 2_000
    frame = gpd.GeoDataFrame(
        {
            "code": [f"P{i:05d}" for i in range(n)],
            "name": [None if i % 7 == 0 else f"地块{i}号" for i in range(n)],
            "area": np.arange(n, dtype=float),
            "count": np.arange(n, dtype=np.int64),
        },
        geometry=shapely.box(np.arange(n), 0, np.arange(n) + 1, 1),
        crs="EPSG:4548",
    )
    path = tmp_path / "t.gpkg"
    pyogrio.write_dataframe(frame, path, layer="t")
    expected = pyogrio.read_dataframe(path, layer="t", use_arrow=True, fid_as_index=True)
    expected.index.name = "fid"
    got = store.read_layer(path, "t")
    pd.testing.assert_frame_equal(got, expected)
    assert got["name"].isna().sum() == len(range(0, n, 7))
    for column in ("code", "name"):
        assert got[column].dtype == expected[column].dtype
        ours = got[column].array.__arrow_array__()
        assert ours.type == expected[column].array.__arrow_array__().type
