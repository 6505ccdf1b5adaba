"""Deliberate damage to throw-away GeoPackage copies, for tests of bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import fiona
import geopandas as gpd
import pyogrio


def sql(path: Path, *statements: str) -> None:
    """Run SQL on ``path`` with plain SQLite, bypassing GDAL (as a careless script would).

    Only for tables without R-tree triggers (GDAL's triggers call its own SQL functions).
    """
    with sqlite3.connect(path) as con:
        for statement in statements:
            con.execute(statement)
    con.close()


def set_value(path: Path, layer: str, key: str, match, column: str, value) -> None:
    """Set ``column`` to ``value`` where ``key == match`` (rewrites the layer through GDAL)."""
    frame = read(path, layer)
    frame[column] = frame[column].astype(object)
    frame.loc[frame[key] == match, column] = value
    overwrite(path, layer, frame)


def read(path: Path, layer: str) -> gpd.GeoDataFrame:
    """The layer indexed by fid, integer fields kept integer (nulls would make them float)."""
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    info = pyogrio.read_info(path, layer=layer)
    for column, dtype in zip(info["fields"], info["dtypes"], strict=True):
        if dtype.startswith("int"):
            frame[column] = frame[column].astype("Int64")
    return frame


def overwrite(path: Path, layer: str, frame: gpd.GeoDataFrame) -> None:
    """Replace ``layer`` in ``path`` with ``frame``, keeping its fids (other layers untouched)."""
    pyogrio.write_dataframe(
        frame.reset_index(), path, layer=layer, layer_options={"OVERWRITE": "YES", "FID": "fid"}
    )


def set_geometry(path: Path, layer: str, code: str, geometry) -> None:
    frame = read(path, layer)
    frame.loc[frame["code"] == code, "geometry"] = geometry
    overwrite(path, layer, frame)


def drop_layer(path: Path, layer: str) -> None:
    fiona.remove(str(path), layer=layer)


def remove_crs(path: Path, layer: str) -> None:
    """Point the layer at the 'undefined Cartesian' SRS (-1): it then has no CRS."""
    sql(
        path,
        f"UPDATE gpkg_geometry_columns SET srs_id = -1 WHERE table_name = '{layer}'",
        f"UPDATE gpkg_contents SET srs_id = -1 WHERE table_name = '{layer}'",
    )
