"""GeoPackages written as a stream of Arrow batches (``arrow_batches``, ``store.write_gpkg``).

A layer goes to GDAL ``batch_rows`` rows at a time so that a writer never holds the whole
layer in Arrow. The file must not depend on that: a layer written in many small batches is
the same file, table for table and row for row, as one written at once, and as the one
``pyogrio.write_dataframe(..., use_arrow=True)`` wrote before (fields, types, geometry type,
multi parts, CRS, nulls).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS

from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.io import geopackage as store
from miyun_spatial.metrics import compute_all
from miyun_spatial.render.results_gpkg import results_layers

PARCELS = CATALOGUE["land_parcels"]
NOW = "<time>"


def _rows(path: Path) -> dict[str, list]:
    """Every table's schema and rows (gpkg_contents' timestamps aside)."""
    out = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        for name, sql in con.execute("SELECT name, sql FROM sqlite_master ORDER BY name"):
            out[f"schema {name}"] = sql
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            rows = con.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            if name == "gpkg_contents":
                rows = [(*row[:4], NOW, *row[5:]) for row in rows]
            out[name] = rows
    con.close()
    return out


def _old_write(path: Path, layers: dict[str, pd.DataFrame]) -> None:
    """The layers as ``write_gpkg`` wrote them before batches: one ``write_dataframe`` each."""
    for i, (name, frame) in enumerate(layers.items()):
        spec = CATALOGUE.get(name)
        kwargs = {"dataset_options": {"VERSION": "1.2"}} if i == 0 else {}
        if spec is not None:
            frame = store.conform(frame, spec)
            identifier, description = spec.title, spec.description
            if spec.geometry == "polygon":
                kwargs["geometry_type"] = "MultiPolygon"
        else:
            identifier, description = name, ""
        data = frame.copy(deep=False)
        fids = data.index if data.index.name == "fid" else range(1, len(data) + 1)
        data.insert(0, "fid", fids)
        pyogrio.write_dataframe(
            data.reset_index(drop=True),
            path,
            layer=name,
            driver="GPKG",
            use_arrow=True,
            layer_options={"IDENTIFIER": identifier, "DESCRIPTION": description, "FID": "fid"},
            **kwargs,
        )


def _awkward_parcels(n: int = 23) -> gpd.GeoDataFrame:
    """land_parcels with polygons and multipolygons, a null and an empty geometry, text with
    nulls, NaN, integers with NA, booleans and a column of None only."""
    rng = np.random.default_rng(4548)
    squares = [shapely.box(i * 10, 0, i * 10 + 5, 5) for i in range(n)]
    geoms = [shapely.MultiPolygon([g]) if i % 3 == 0 else g for i, g in enumerate(squares)]
    geoms[4] = None
    geoms[7] = shapely.Polygon()
    codes = [f"C2-{i:07d}" for i in range(n)]
    text = np.array(["E2", "M1", None, "=1+1", "中文"], dtype=object)
    frame = gpd.GeoDataFrame(
        {
            PARCELS.id_field: pd.Series(codes, dtype="str"),
            "current_use": pd.Series(rng.choice(text, n), dtype=object),
            "planned_use": pd.Series(rng.choice(text[:2], n), dtype="str"),
            "revenue_10k_cny": np.where(rng.random(n) > 0.3, rng.random(n) * 100, np.nan),
            "employees": pd.Series(rng.integers(0, 50, n), dtype="Int64").mask(rng.random(n) > 0.7),
            "grade": pd.Series(rng.choice(text, n), dtype=object),
            "low_efficiency": rng.random(n) > 0.5,
            "flag": pd.Series([True, None] * (n // 2) + [False], dtype="boolean"),
            "nothing": pd.Series([None] * n, dtype=object),
            "share": rng.random(n).astype(np.float32),
        },
        geometry=geoms,
        crs="EPSG:4548",
        index=pd.Index(np.arange(5, 5 + n) * 2, name="fid"),
    )
    return frame


def _points(n: int = 11) -> gpd.GeoDataFrame:
    """A layer outside the catalogue mixing points and multipoints, in a CRS without EPSG."""
    points = [shapely.Point(i, i) for i in range(n)]
    points[2] = shapely.MultiPoint([(0, 0), (1, 1)])
    crs = CRS.from_proj4("+proj=tmerc +lat_0=0 +lon_0=117.1 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80")
    return gpd.GeoDataFrame({"name": [f"p{i}" for i in range(n)]}, geometry=points, crs=crs)


def _lines_z(n: int = 5) -> gpd.GeoDataFrame:
    lines = [shapely.LineString([(i, 0, 1), (i, 1, 2)]) for i in range(n)]
    return gpd.GeoDataFrame({"v": np.arange(n, dtype=np.int64)}, geometry=lines, crs=4548)


@pytest.mark.parametrize("batch_rows", [1, 4, 10])
def test_a_layer_in_small_batches_is_the_file_written_at_once(tmp_path, batch_rows):
    layers = {"land_parcels": _awkward_parcels(), "sites": _points(), "lines": _lines_z()}
    small = store.write_gpkg(tmp_path / "small.gpkg", layers, batch_rows=batch_rows)
    whole = store.write_gpkg(tmp_path / "whole.gpkg", layers, batch_rows=1_000_000)
    assert _rows(small) == _rows(whole)


def test_batches_write_what_write_dataframe_wrote(tmp_path):
    layers = {"land_parcels": _awkward_parcels(), "sites": _points(), "lines": _lines_z()}
    new = store.write_gpkg(tmp_path / "new.gpkg", layers, batch_rows=4)
    old = tmp_path / "old.gpkg"
    _old_write(old, layers)
    assert _rows(new) == _rows(old)
    back = pyogrio.read_dataframe(new, layer="land_parcels", fid_as_index=True)
    assert list(back.index) == list(layers["land_parcels"].index)
    assert set(back.geom_type.dropna()) == {"MultiPolygon"}
    assert back["nothing"].isna().all() and back["employees"].isna().any()
    info = pyogrio.read_info(new, layer="sites")
    assert info["geometry_type"] == "MultiPoint"  # single parts promoted, as pyogrio does
    assert pyogrio.read_info(new, layer="lines")["geometry_type"] == "LineString Z"


def test_columns_of_other_dtypes_are_still_written(tmp_path):
    frame = _points()
    frame["mixed"] = pd.Series([1, "a"] * 5 + [None], dtype=object)  # not text: pyogrio's way
    frame["when"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(11), unit="D")
    new = store.write_gpkg(tmp_path / "new.gpkg", {"sites": frame}, batch_rows=3)
    old = tmp_path / "old.gpkg"
    _old_write(old, {"sites": frame})
    assert _rows(new) == _rows(old)


def test_an_empty_layer_keeps_its_fields(tmp_path):
    layers = {"land_parcels": _awkward_parcels().iloc[:0]}
    new = store.write_gpkg(tmp_path / "new.gpkg", layers)
    old = tmp_path / "old.gpkg"
    _old_write(old, layers)
    assert _rows(new) == _rows(old)
    assert "grade" in pyogrio.read_info(new, layer="land_parcels")["fields"]


def test_results_share_the_tables_arrays(default_work, default_plan):
    tables = compute_all(default_work, default_plan)
    parcels = results_layers(default_work, tables)["land_parcels"]
    yields = tables["parcel_yields"]
    assert np.shares_memory(
        parcels["revenue_per_ha"].to_numpy(), yields["revenue_per_ha"].to_numpy()
    )
    conformed = store.conform(parcels, PARCELS, multi=False)
    assert np.shares_memory(conformed["area_ha"].to_numpy(), yields["area_ha"].to_numpy())


def test_parcel_metrics_in_another_order_join_on_the_code(default_work, default_plan):
    tables = compute_all(default_work, default_plan)
    shuffled = dict(tables)
    shuffled["parcel_yields"] = tables["parcel_yields"].iloc[::-1]
    expected = results_layers(default_work, tables)["land_parcels"]
    got = results_layers(default_work, shuffled)["land_parcels"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(expected.drop(columns="geometry"))
    )
    assert got["grade"].notna().all()
