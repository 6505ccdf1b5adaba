"""Read a delivery (any vector source GDAL reads) into a GeoDataFrame, never modifying it.

Shapefile, File Geodatabase (``.gdb`` folder), GeoPackage, GeoJSON, KML, DXF and CSV with a WKT
column are read through pyogrio; the text encoding is decided by ``encoding``. The frame's
index is the source's feature id, used to name features in every message.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio
from pyproj import CRS

from ...core.errors import InputError
from .archive import open_zip, split_zip_path, zipped_encoding
from .encoding import EncodingDecision, dxf_encoding, shapefile_encoding

_CSV_OPTIONS = {"GEOM_POSSIBLE_NAMES": "WKT,wkt,geometry,geom,GEOMETRY", "KEEP_GEOM_COLUMNS": "NO"}


@dataclass(frozen=True)
class Source:
    path: Path
    layer: str  # layer inside the source
    driver: str
    frame: gpd.GeoDataFrame  # index = source feature id
    crs: CRS | None  # as declared by the source (.prj, GeoJSON, FileGDB...)
    encoding: EncodingDecision | None

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.layer}"


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def choose_layer(path: Path | str, wanted: str | None, target: str) -> str:
    """The source layer to read: ``wanted``, the only one, or the one named like ``target``."""
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path}: GDAL cannot read it as vector data ({_short(exc)})") from None
    if not names:
        raise InputError(f"{path}: holds no vector layer")
    if wanted:
        if wanted not in names:
            raise InputError(
                f"{path}: no layer '{wanted}'; --source-layer is one of {', '.join(names)}"
            )
        return wanted
    if len(names) == 1:
        return names[0]
    if target in names:
        return target
    raise InputError(
        f"{path}: holds {len(names)} layers ({', '.join(names[:12])}); choose one with "
        "--source-layer"
    )


def read_source(
    path: Path, *, target: str, source_layer: str | None = None, encoding: str | None = None
) -> Source:
    """Read one layer of ``path`` with the right encoding; the file itself is never written."""
    zipped = None
    split = split_zip_path(path)
    if split is not None:
        zipped = open_zip(*split, source_layer)
        path, gdal_path = split[0], zipped.gdal_path
    else:
        path = gdal_path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder; give the delivery's path")
    wanted = None if zipped is not None and zipped.is_shapefile else source_layer
    layer = choose_layer(gdal_path, wanted, target)
    info = pyogrio.read_info(gdal_path, layer=layer)
    driver = info["driver"]
    decision = None
    kwargs: dict = {}
    config: dict = {}
    if driver == "ESRI Shapefile":
        if zipped is not None and zipped.is_shapefile:
            decision = zipped_encoding(zipped, encoding)
        elif zipped is not None:
            raise InputError(
                f"{path}: holds Shapefiles in a folder; give the path /vsizip/{path}/FOLDER/X.shp"
            )
        else:
            shp = path if path.is_file() else path / f"{layer}.shp"
            decision = shapefile_encoding(shp, encoding)
        kwargs["encoding"] = decision.encoding
    elif driver == "DXF":
        if zipped is not None:
            raise InputError(f"{path}: a zipped DXF drawing cannot be read; unzip it first")
        decision = dxf_encoding(path, encoding)
        config["DXF_ENCODING"] = decision.encoding
    elif encoding:
        kwargs["encoding"] = encoding
        decision = EncodingDecision(encoding, f"{encoding} (--encoding)")
    if driver == "CSV":
        kwargs.update(_CSV_OPTIONS)
    with _gdal_config(config):
        try:
            frame = pyogrio.read_dataframe(gdal_path, layer=layer, fid_as_index=True, **kwargs)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise InputError(f"{path}: layer '{layer}' cannot be read ({_short(exc)})") from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: layer '{layer}' text is not {kwargs.get('encoding')} ({exc.reason}); "
                "give the right --encoding"
            ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise InputError(
            f"{path}: layer '{layer}' has no geometry (a CSV needs a WKT column named WKT)"
        )
    frame.index.name = "source_fid"
    crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    return Source(path, layer, driver, frame, crs, decision)


@contextlib.contextmanager
def _gdal_config(options: dict):
    if not options:
        yield
        return
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(options))
