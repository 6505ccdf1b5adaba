"""Writing a GeoPackage 1.2: catalogue layers conformed, streamed to GDAL as Arrow batches.

The write half of :mod:`miyun_spatial.io.geopackage` (which re-exports :func:`write_gpkg` and
:func:`conform`): a new file is written in a hidden scratch folder beside its destination and
renamed into place, so a failed run never leaves a half-written output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from ..core.catalogue import CATALOGUE, LayerSpec
from ..core.errors import OutputError
from .arrow_batches import BATCH_ROWS, layer_stream
from .scratch import scratch_target

GPKG_VERSION = "1.2"

_PANDAS_TYPES = {"real": "float64", "integer": "Int64", "boolean": "boolean", "text": object}


def conform(frame: pd.DataFrame, spec: LayerSpec, *, multi: bool = True) -> pd.DataFrame:
    """Order columns and cast types as the catalogue does; polygons become multipolygons
    (unless ``multi`` is False: the writer then makes them multi batch by batch).

    Built column by column (``copy=False``): columns that need no cast share the frame's
    arrays, so a forked writer never copies them.
    """
    names = [f.name for f in spec.fields if f.name in frame.columns]
    names += [c for c in frame.columns if c not in names and c != "geometry"]
    types = {f.name: f.type for f in spec.fields}
    columns = {name: _cast(frame[name], types.get(name)) for name in names}
    if not spec.is_spatial:
        return pd.DataFrame(columns, index=frame.index, columns=names, copy=False)
    geometry = frame.geometry  # last, as "geometry" (set_geometry would copy the columns)
    columns["geometry"] = geometry.rename("geometry")
    out = gpd.GeoDataFrame(columns, index=frame.index, geometry="geometry", copy=False)
    if multi and spec.geometry == "polygon":
        out = out.set_geometry(_as_multi(out.geometry))
    return out


def _cast(column: pd.Series, kind: str | None) -> pd.Series:
    """``column`` as the catalogue's field type ``kind`` (None: as it is)."""
    if kind not in _PANDAS_TYPES:
        return column
    if kind in ("real", "integer"):
        column = pd.to_numeric(column, errors="raise")
    if kind == "text" and isinstance(column.dtype, pd.StringDtype):
        return column  # text already (Arrow-backed): Arrow takes it as it is
    column = column.astype(_PANDAS_TYPES[kind])
    if kind == "text":
        column = column.where(column.notna(), None)
    return column


def _as_multi(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    single = shapely.get_type_id(geoms.values) == shapely.GeometryType.POLYGON
    values = geoms.values.copy()
    values[single] = shapely.multipolygons([[g] for g in values[single]]) if single.any() else []
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)


def write_gpkg(
    path: Path,
    layers: Mapping[str, pd.DataFrame],
    *,
    metadata: Mapping[str, str] | None = None,
    titles: Mapping[str, tuple[str, str]] | None = None,
    finish=None,
    batch_rows: int = BATCH_ROWS,
) -> Path:
    """Write ``layers`` (name -> frame) to a new GeoPackage 1.2 at ``path``, atomically.

    Frames are written in order; their index becomes the fid. Catalogue layers get their
    identifier and description in gpkg_contents; ``titles`` gives them for other layers.
    ``metadata`` lands in gpkg_metadata. ``finish(tmp_path)`` may add tables (styles,
    constraints) before the file is renamed into place. Layers go to GDAL as Arrow batches
    of ``batch_rows`` rows (``arrow_batches``): the same file, whatever the batch size.
    """
    path = Path(path)
    # in a hidden scratch folder, with its -wal/-journal: nothing a GIS client lists as data
    with scratch_target(path) as tmp:
        try:
            for i, (name, frame) in enumerate(layers.items()):
                _write_layer(
                    tmp,
                    name,
                    frame,
                    first=i == 0,
                    metadata=metadata,
                    titles=titles,
                    batch_rows=batch_rows,
                )
            if finish is not None:
                finish(tmp)
            os.replace(tmp, path)
        except OSError as exc:
            raise OutputError(f"{path}: cannot be written ({exc})") from None
    return path


def _write_layer(
    tmp: Path,
    name: str,
    frame: pd.DataFrame,
    *,
    first: bool,
    metadata,
    titles,
    batch_rows: int = BATCH_ROWS,
):
    """Write one layer: as a stream of Arrow batches of ``batch_rows`` rows (no copy of the
    whole layer in Arrow), or through ``write_dataframe`` for columns of other dtypes."""
    spec = CATALOGUE.get(name)
    if spec is not None:
        frame = conform(frame, spec, multi=False)
        identifier, description = spec.title, spec.description
    else:
        identifier, description = (titles or {}).get(name, (name, ""))
    options = {"IDENTIFIER": identifier, "DESCRIPTION": description, "FID": "fid"}
    kwargs = {}
    if first:
        kwargs["dataset_options"] = {"VERSION": GPKG_VERSION}
        if metadata:
            kwargs["dataset_metadata"] = dict(metadata)
    polygons = spec is not None and spec.geometry == "polygon"
    fids = _fids(frame)
    stream = layer_stream(frame, fids, polygons=polygons, batch_rows=batch_rows)
    try:
        if stream is not None:
            reader, geometry = stream
            pyogrio.raw.write_arrow(
                reader, tmp, layer=name, driver="GPKG", layer_options=options, **geometry, **kwargs
            )
        else:
            _write_frame(tmp, name, frame, fids, polygons, options, kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise OutputError(f"{tmp}: layer '{name}' cannot be written ({exc})") from None
    finally:
        stream = None
        pa.default_memory_pool().release_unused()  # Arrow's memory, back to the system


def _fids(frame: pd.DataFrame) -> np.ndarray:
    """The fid of each row: the index when it is named ``fid``, else 1, 2, 3..."""
    if frame.index.name == "fid":
        return np.asarray(frame.index)
    return np.arange(1, len(frame) + 1, dtype=np.int64)


def _write_frame(tmp: Path, name, frame, fids, polygons: bool, options, kwargs) -> None:
    """The whole frame at once through ``write_dataframe`` (columns of other dtypes)."""
    data = frame.copy(deep=False)  # copy-on-write: the columns are not copied
    if polygons:
        data = data.set_geometry(_as_multi(data.geometry))
        kwargs["geometry_type"] = "MultiPolygon"
    data.insert(0, "fid", fids)
    data = data.reset_index(drop=True)
    try:
        pyogrio.write_dataframe(
            data, tmp, layer=name, driver="GPKG", use_arrow=True, layer_options=options, **kwargs
        )
    finally:
        del data


__all__ = ["GPKG_VERSION", "conform", "write_gpkg"]
