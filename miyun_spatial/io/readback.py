"""The GeoPackage an import has just written, read back for validation, without reading again
the geometries it still holds.

:func:`load_written` returns what :func:`geopackage.load` would (the layers' infos, the values
stored against their column's type, the layers, codes in NFKC form, one-part MultiPoints as
Points), except that the layers given in ``geometries`` are read without their geometry
column and take the geometries they were written from: at 300 000 parcels decoding their WKB
again costs about a second and 230 MB beside the ones in memory. The file is the caller's own
new output, so no snapshot is taken and no digest computed (``sha256`` is empty), and it holds
no damaged values (they were read as null from the base before it was written).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from ..core.catalogue import CATALOGUE
from ..core.code_text import normalise_codes
from ..core.plan import PlanData
from . import geopackage as store
from .single_parts import single_points

MULTI_CHUNK = 25_000  # polygons made multi at a time: the old ones are freed chunk by chunk


def multi_polygons_in_place(geoms: np.ndarray) -> np.ndarray:
    """Every Polygon of the object array ``geoms`` replaced by its one-part MultiPolygon, in
    place (what the writer would make of it); the caller must own the array."""
    for start in range(0, len(geoms), MULTI_CHUNK):
        chunk = geoms[start : start + MULTI_CHUNK]  # a view: assigning into it changes geoms
        single = np.flatnonzero(shapely.get_type_id(chunk) == shapely.GeometryType.POLYGON)
        if len(single):
            chunk[single] = shapely.multipolygons(np.atleast_2d(chunk[single]), axis=0)
    return geoms


def load_written(path: Path, geometries: Mapping[str, gpd.GeoSeries]) -> PlanData:
    """Every catalogue layer of the just written ``path``; ``geometries``: layer -> the
    geometries it was written from, in fid order (used instead of reading them again)."""
    path = Path(path)
    infos = store.layer_infos(path)
    names = [name for name in CATALOGUE.names if name in infos]
    with contextlib.closing(sqlite3.connect(path)) as con:
        undefined = store._undefined_crs_tables(con)
        bad_cells = tuple(cell for name in names for cell in store._bad_cells(con, name))
    layers = {}
    for name in names:
        given = geometries.get(name)
        frame = None if given is None else _attributes_with(path, name, given)
        layers[name] = store.read_layer(path, name) if frame is None else frame
    for name in undefined & set(names):
        infos[name] = replace(infos[name], crs=None)
        if isinstance(layers[name], gpd.GeoDataFrame):
            layers[name] = layers[name].set_crs(None, allow_override=True)
    for cell in bad_cells:
        store._blank(layers[cell.layer], cell.fid, cell.field)
    layers = single_points(normalise_codes(layers))
    return PlanData(path, "", MappingProxyType(infos), MappingProxyType(layers), bad_cells, ())


def _attributes_with(path: Path, name: str, geoms: gpd.GeoSeries) -> gpd.GeoDataFrame | None:
    """Layer ``name`` read without its geometries, ``geoms`` in their place; None if the rows
    are not the ones ``geoms`` were written as (then the layer is read whole)."""
    try:
        attrs = pyogrio.read_dataframe(
            path, layer=name, use_arrow=True, fid_as_index=True, read_geometry=False
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return None
    attrs.index.name = "fid"
    store.own_text(attrs)
    if len(attrs) != len(geoms) or not np.array_equal(attrs.index, np.arange(1, len(geoms) + 1)):
        return None
    column = gpd.GeoSeries(np.asarray(geoms.values), index=attrs.index, crs=geoms.crs)
    return gpd.GeoDataFrame(attrs, geometry=column.rename("geometry"), crs=geoms.crs)


__all__ = ["load_written", "multi_polygons_in_place"]
