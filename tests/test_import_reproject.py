"""The import's reprojection, chunk by chunk into the source's own array, gives what geopandas
``to_crs`` (the way it was done before) gives: the same imported layer, attributes and
geometries, on a few-thousand-parcel GBK Shapefile in EPSG:4527.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from import_fixtures import SURVEY_CODES, survey_shapefile
from pyproj import CRS

from miyun_spatial.flow.importing import ImportOptions, run_import
from miyun_spatial.io.importing import coordinates, reproject

WORK = CRS.from_epsg(4548)
ZONE39 = CRS.from_epsg(4527)
TOLERANCE_M = 1e-6


def _parcels(n: int) -> gpd.GeoDataFrame:
    """``n`` squares tiling 3 km in EPSG:4548 inside the district, with GBK text fields."""
    k = int(np.ceil(np.sqrt(n)))
    step = 3_000.0 / k
    i, j = np.divmod(np.arange(n), k)
    x0, y0 = 476_000.0 + i * step, 4_485_000.0 + j * step
    boxes = shapely.box(x0, y0, x0 + step, y0 + step)
    codes = [SURVEY_CODES[v % len(SURVEY_CODES)] for v in range(n)]
    return gpd.GeoDataFrame(
        {
            "BSM": [f"110228{v:08d}" for v in range(n)],
            "DLBM": [c for c, _n, _p in codes],
            "DLMC": [name for _c, name, _p in codes],
            "QSDWMC": ["密云镇檀营村民委员会"] * n,
            "TBMJ": np.round(shapely.area(boxes), 2),
            "plan_class": [p for _c, _n, p in codes],
        },
        geometry=boxes,
        crs="EPSG:4548",
    )


def _before(geoms: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """The reprojection as it was: geopandas ``to_crs`` of the whole array, a new array."""
    moved = gpd.GeoSeries(geoms, crs=source).to_crs(target).values
    geoms[:] = np.asarray(moved)
    return geoms


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    same_types = np.array_equal(shapely.get_type_id(a), shapely.get_type_id(b))
    ca, cb = shapely.get_coordinates(a, include_z=True), shapely.get_coordinates(b, include_z=True)
    return same_types and ca.shape == cb.shape and np.nanmax(np.abs(ca - cb)) <= TOLERANCE_M


def test_chunked_reprojection_equals_to_crs_across_chunks_types_and_z(monkeypatch):
    monkeypatch.setattr(reproject, "CHUNK", 3)  # several chunks, the last one short
    square = shapely.box(39_476_000, 4_485_000, 39_476_100, 4_485_100)
    holed = square.difference(square.centroid.buffer(20))
    other = shapely.box(39_477_000, 4_486_000, 39_477_050, 4_486_050)
    parts = shapely.MultiPolygon([other, square])
    deep = shapely.Polygon([(39_476_000, 4_485_000, 5), (39_476_010, 4_485_000, 6),
                            (39_476_010, 4_485_010, 7)])  # fmt: skip
    data = np.array([square, None, holed, parts, shapely.Polygon(), deep, square, holed], object)
    expected = gpd.GeoSeries(data.copy(), crs=ZONE39).to_crs(WORK).values
    geoms = data.copy()
    out = reproject.reproject_in_place(geoms, ZONE39, WORK)
    assert out is geoms  # the same array, refilled
    assert [g is None for g in out] == [g is None for g in data]
    present = ~shapely.is_missing(data)
    assert shapely.equals_exact(out[present], np.asarray(expected)[present], tolerance=0).all()
    assert shapely.has_z(out).tolist() == shapely.has_z(data).tolist()
    assert data[0].bounds[0] > 39e6  # the caller's other array still holds the source


def test_to_work_in_place_reprojects_the_frames_own_array_and_keeps_its_columns():
    frame = _parcels(50).drop(columns="plan_class").to_crs(ZONE39)
    expected = frame.to_crs(WORK)
    own = np.asarray(frame.geometry.values)
    out, notes = coordinates.to_work(frame, ZONE39, None, where="t", in_place=True)
    assert own[0].bounds[0] < 1e6  # the given frame's array was reprojected in place
    assert list(out.columns) == list(expected.columns) and out.crs == expected.crs
    pd.testing.assert_frame_equal(out.drop(columns="geometry"), expected.drop(columns="geometry"))
    assert shapely.equals_exact(out.geometry.values, expected.geometry.values, tolerance=0).all()
    assert any("reprojected from EPSG:4527" in n for n in notes)
    kept = _parcels(5).to_crs(ZONE39)
    before = np.array(kept.geometry.values, dtype=object)
    coordinates.to_work(kept, ZONE39, None, where="t")  # default: the frame is left alone
    assert shapely.equals_exact(kept.geometry.values, before, tolerance=0).all()


def _import(shp, out):
    opts = ImportOptions(source=shp, layer="land_parcels", out=out)
    report = run_import(opts)
    return report, pyogrio.read_dataframe(out, layer="land_parcels", fid_as_index=True)


@pytest.mark.slow
def test_the_imported_layer_is_the_same_as_with_to_crs(tmp_path, monkeypatch):
    parcels = _parcels(3_000)
    shp = survey_shapefile(tmp_path / "delivery", parcels)
    new_report, new = _import(shp, tmp_path / "new.gpkg")
    monkeypatch.setattr(coordinates, "reproject_in_place", _before)
    old_report, old = _import(shp, tmp_path / "old.gpkg")
    assert len(new) == len(old) == len(parcels) == new_report.features_written
    assert list(new.columns) == list(old.columns)
    attrs = [c for c in new.columns if c != "geometry"]
    pd.testing.assert_frame_equal(new[attrs], old[attrs])
    assert _close(new.geometry.values, old.geometry.values)
    assert new_report.crs == old_report.crs and new_report.validation == old_report.validation
    # and both are the delivery read independently and moved with pyproj through geopandas
    source = pyogrio.read_dataframe(shp, encoding="GBK").to_crs(WORK)
    assert _close(np.asarray(new.geometry.values), shapely.multipolygons(
        np.atleast_2d(np.asarray(source.geometry.values)).T))  # fmt: skip
    assert list(new["source_code"]) == list(parcels["DLBM"])
    assert list(new["source_name"]) == list(parcels["DLMC"])
    assert list(new["current_use"]) == list(parcels["plan_class"])
