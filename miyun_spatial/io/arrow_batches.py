"""A frame as a stream of Arrow record batches, for ``pyogrio.raw.write_arrow``.

``pyogrio.write_dataframe(..., use_arrow=True)`` converts the whole frame to one Arrow table
first: at a million parcels its geometry alone is ~250 MB of WKB, its text columns are read
object by object (a forked writer then copies every page those objects live on), and GDAL
writes from that copy. :func:`record_batches` makes the same Arrow data ``batch_rows`` rows at
a time, so a writer holds one batch of WKB and text at once, whatever the layer's size.

The batches hold what ``write_dataframe`` would write: the same columns, in the same order,
of the same Arrow types (``pa.Table.from_pandas``'s: NaN as null, text as string, an all-null
text column as string), geometries as the WKB ``shapely.to_wkb`` makes (2D geometries from
a 2D copy, see ``_wkb``), single parts promoted to multi where the layer is multi. :func:`streamable` says whether a frame holds only such columns (numbers,
booleans, text, nullable pandas dtypes); other frames are left to ``write_dataframe``.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

BATCH_ROWS = 100_000
# geometry types pyogrio writes for single parts and the multi types they are promoted to
_MULTI = {
    shapely.GeometryType.POINT: shapely.GeometryType.MULTIPOINT,
    shapely.GeometryType.LINESTRING: shapely.GeometryType.MULTILINESTRING,
    shapely.GeometryType.POLYGON: shapely.GeometryType.MULTIPOLYGON,
}
_MAKE_MULTI = {
    shapely.GeometryType.POINT: shapely.multipoints,
    shapely.GeometryType.LINESTRING: shapely.multilinestrings,
    shapely.GeometryType.POLYGON: shapely.multipolygons,
}
_TYPE_NAMES = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINESTRING: "LineString",
    shapely.GeometryType.LINEARRING: "LinearRing",
    shapely.GeometryType.POLYGON: "Polygon",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON: "MultiPolygon",
    shapely.GeometryType.GEOMETRYCOLLECTION: "GeometryCollection",
}


# pandas arrays that hand Arrow their data as Table.from_pandas takes it (__arrow_array__)
_EXTENSION_ARRAYS = (
    pd.arrays.IntegerArray,
    pd.arrays.FloatingArray,
    pd.arrays.BooleanArray,
    pd.arrays.StringArray,
    pd.arrays.ArrowStringArray,
)


def _column_kind(column: pd.Series) -> str | None:
    """How a column becomes Arrow: ``numpy``, ``extension`` or ``object``; None: not here."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind in "biuf":
            return "numpy"
        return "object" if dtype.kind == "O" else None
    return "extension" if isinstance(column.array, _EXTENSION_ARRAYS) else None


def _object_array(values: np.ndarray) -> pa.Array | None:
    """An object column of text and missing values as Arrow string, else None.

    Arrow reads the objects through borrowed pointers: no reference count is touched, so the
    pages a forked writer shares with its parent stay shared.
    """
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if pa.types.is_null(array.type):
        return array.cast(pa.string())  # what pyogrio does with an all-null column
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array
    return None


def geometry_type(
    geoms: gpd.GeoSeries, given: str | None = None, *, polygons_as_multi: bool = False
) -> tuple[str, frozenset[int]]:
    """The layer geometry type ``write_dataframe`` declares for ``geoms`` in a GeoPackage
    (``given`` if set) and the single-part types it promotes to multi parts: a layer holding
    both kinds of one shape (Polygon and MultiPolygon...) is made all multi.
    ``polygons_as_multi``: polygons are written as multipolygons in any case."""
    values = np.asarray(geoms.values)
    ids = shapely.get_type_id(values)
    present = {shapely.GeometryType(i) for i in np.unique(ids) if i >= 0}
    promote = set()
    if polygons_as_multi and shapely.GeometryType.POLYGON in present:
        promote.add(shapely.GeometryType.POLYGON)
        present = (present - promote) | {shapely.GeometryType.MULTIPOLYGON}
    pair = [t for t in present if t in _MULTI and _MULTI[t] in present]
    if len(present) == 2 and pair:
        promote.add(pair[0])
        present = {_MULTI[pair[0]]}
    promote = frozenset(int(t) for t in promote)
    if given is not None:
        return given, promote
    if len(present) != 1:
        return "Unknown", promote
    inferred = _TYPE_NAMES[present.pop()]
    solid = ids >= 0
    solid[solid] = ~shapely.is_empty(values[solid])
    if shapely.has_z(values[solid]).any():
        inferred += " Z"
    return inferred, promote


def _wkb(chunk: np.ndarray, promote: frozenset[int]) -> pa.Array:
    """ISO WKB of a slice of the geometry column, single parts of ``promote`` made multi."""
    fresh = 0  # geometries made here, not the frame's
    if promote:
        ids = shapely.get_type_id(chunk)
        for single in promote:
            where = np.flatnonzero(ids == single)
            if len(where):
                chunk = chunk.copy()  # a slice of the frame's array: never changed in place
                chunk[where] = _MAKE_MULTI[single](np.atleast_2d(chunk[where]), axis=0)
                fresh += len(where)
    if fresh < len(chunk) and (shapely.get_coordinate_dimension(chunk) <= 2).all():
        # GEOS notes inside a geometry whether it has Z the first time it exports it: a
        # forked writer would copy every page of its parent's geometries. The WKB of a 2D
        # copy is the same bytes and leaves them shared (geometries made multi above are
        # new: all of them, no copy needed).
        chunk = shapely.force_2d(chunk)
    return pa.array(shapely.to_wkb(chunk), type=pa.binary())


def streamable(frame: pd.DataFrame) -> bool:
    """True if every attribute column is one :func:`record_batches` writes as pyogrio does."""
    if frame.columns.has_duplicates:
        return False
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for i, name in enumerate(frame.columns):
        if name == geometry:
            continue
        column = frame.iloc[:, i]
        if isinstance(column.dtype, gpd.array.GeometryDtype) or _column_kind(column) is None:
            return False
    return True


def record_batches(
    frame: pd.DataFrame,
    fids: np.ndarray,
    *,
    promote: frozenset[int] = frozenset(),
    batch_rows: int = BATCH_ROWS,
) -> pa.RecordBatchReader | None:
    """``frame`` with a leading ``fid`` column as a reader of batches of ``batch_rows`` rows;
    None if a column holds values :func:`streamable` cannot tell (e.g. objects of mixed
    types). ``promote``: the single-part geometry types written as multi parts."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    fields = [pa.field("fid", pa.from_numpy_dtype(fids.dtype))]
    sources: list[tuple[str, object]] = [("numpy", fids)]
    for i, name in enumerate(frame.columns):
        column = frame.iloc[:, i]
        if name == geometry:
            fields.append(pa.field(str(name), pa.binary()))
            sources.append(("geometry", np.asarray(column.values)))
            continue
        kind = _column_kind(column)
        if kind == "numpy":
            values = column.to_numpy()
            fields.append(pa.field(str(name), pa.from_numpy_dtype(values.dtype)))
        elif kind == "extension":
            values = column.array
            fields.append(pa.field(str(name), pa.array(values[:0]).type))
        else:  # text objects: converted once, here, to learn the column's type
            values = _object_array(np.asarray(column.array, dtype=object))
            if values is None:
                return None
            kind = "arrow"
            fields.append(pa.field(str(name), values.type))
        sources.append((kind, values))
    schema = pa.schema(fields)
    return pa.RecordBatchReader.from_batches(
        schema, _batches(schema, sources, len(frame), promote, batch_rows)
    )


def _batches(
    schema: pa.Schema, sources: list, rows: int, promote: frozenset[int], batch_rows: int
) -> Iterator[pa.RecordBatch]:
    for start in range(0, rows, batch_rows):
        stop = min(start + batch_rows, rows)
        arrays = []
        for (kind, values), field in zip(sources, schema, strict=True):
            if kind == "geometry":
                arrays.append(_wkb(values[start:stop], promote))
            elif kind == "arrow":
                arrays.append(values.slice(start, stop - start))
            else:
                array = pa.array(values[start:stop], type=field.type, from_pandas=True)
                # a slice of an Arrow-backed column can span two of its chunks
                chunked = isinstance(array, pa.ChunkedArray)
                arrays.append(array.combine_chunks() if chunked else array)
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def layer_stream(
    frame: pd.DataFrame, fids: np.ndarray, *, polygons: bool, batch_rows: int = BATCH_ROWS
) -> tuple[pa.RecordBatchReader, dict] | None:
    """``frame`` as a reader of Arrow batches with a leading ``fid`` column, and the keywords
    ``pyogrio.raw.write_arrow`` needs for its geometry (name, type, CRS) as
    ``write_dataframe`` gives them; None if a column is not one written here.
    ``polygons``: a polygon layer, written as MultiPolygon."""
    if not streamable(frame):
        return None
    geometry, promote = {}, frozenset()
    if isinstance(frame, gpd.GeoDataFrame):
        geoms = frame.geometry
        given = "MultiPolygon" if polygons else None
        kind, promote = geometry_type(geoms, given, polygons_as_multi=polygons)
        geometry = {"geometry_name": geoms.name, "geometry_type": kind, "crs": _crs_text(geoms.crs)}
    reader = record_batches(frame, fids, promote=promote, batch_rows=batch_rows)
    return None if reader is None else (reader, geometry)


def _crs_text(crs) -> str | None:
    """The CRS as ``write_dataframe`` hands it to GDAL: ``EPSG:n``, else WKT1."""
    if not crs:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")


__all__ = ["BATCH_ROWS", "geometry_type", "layer_stream", "record_batches", "streamable"]
