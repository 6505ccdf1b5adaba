"""Reading a data source: GeoPackage checks, snapshots, reads (writes: :mod:`.gpkg_write`).

Sources are read through one small interface (``sources.Source``: ``load()``,
``layer_digests()``, ``signature()``, a display ``name``): ``load`` and ``layer_digests`` here
are the GeoPackage's, and hand a ``postgresql://...`` or ``PG:...`` string to its source.

Reads never open the user's file for writing: the file is copied to a private snapshot with
SQLite's online backup (a consistent state even while QGIS holds it open in WAL mode), and GDAL
reads the snapshot. Writes go to a temporary file in the destination folder that is renamed
into place, so a failed run never leaves a half-written output.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import fiona
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyproj import CRS

from ..core.catalogue import CATALOGUE
from ..core.code_text import normalise_codes
from ..core.errors import InputError
from ..core.paths import DEFAULT_GPKG
from ..core.plan import BadCell, Damage, LayerInfo, PlanData
from .damage import find_damage
from .gpkg_write import GPKG_VERSION as GPKG_VERSION  # the write half, re-exported
from .gpkg_write import conform as conform
from .gpkg_write import write_gpkg as write_gpkg
from .scratch import SNAPSHOT_PREFIX, private_dir
from .single_parts import single_points

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = {0x47504B47, 0x47503130, 0x47503131}  # GPKG, GP10, GP11
LOCK_TIMEOUT_S = 3.0
# gpkg_spatial_ref_sys ids of the "Undefined Cartesian SRS" and "Undefined geographic SRS":
# a layer pointing at them has no CRS at all.
UNDEFINED_SRS_IDS = (-1, 0)
_NUMERIC_SQL_TYPES = {"INTEGER", "INT", "TINYINT", "SMALLINT", "MEDIUMINT", "REAL", "FLOAT"}
_NUMERIC_SQL_TYPES |= {"DOUBLE", "BOOLEAN"}
MAX_BAD_CELLS = 1000  # per column; enough to report, bounded for huge broken files


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_geopackage(path: Path) -> None:
    """Raise InputError with a one-line reason unless ``path`` looks like a GeoPackage."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file; give the path of a GeoPackage (.gpkg)")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a GeoPackage file")
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not header:
        raise InputError(f"{path}: is empty (0 bytes); restore it from a backup or from git")
    if not header.startswith(_SQLITE_MAGIC):
        raise InputError(f"{path}: is not a GeoPackage (not an SQLite database)")
    if len(header) < 100:
        raise InputError(f"{path}: is truncated ({len(header)} bytes); restore it from a backup")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id not in _GPKG_APPLICATION_IDS:
        log.info("%s: SQLite application_id is %#x, not GPKG", path, app_id)


@contextlib.contextmanager
def snapshot(path: Path) -> Iterator[Path]:
    """Yield a private, consistent copy of the GeoPackage at ``path``; the original is untouched.

    Uses SQLite's backup API on a read-only connection inside a read transaction, so an edit
    session in QGIS (WAL mode) is neither disturbed nor half-read: committed edits are seen,
    uncommitted ones are not. A file locked by another writer raises InputError after
    LOCK_TIMEOUT_S seconds instead of waiting forever.
    """
    path = Path(path)
    check_geopackage(path)
    with private_dir(Path(tempfile.gettempdir()), SNAPSHOT_PREFIX) as tmp:
        copy = tmp / path.name
        try:
            _backup(path, copy)
            target = sqlite3.connect(copy)
            try:
                _require_gpkg_tables(target, path)
                problem = target.execute("PRAGMA quick_check").fetchone()[0]
                if problem != "ok":
                    raise InputError(f"{path}: is corrupt ({problem}); restore it from a backup")
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        except sqlite3.OperationalError as exc:
            raise InputError(_sqlite_reason(path, exc)) from None
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{path}: is corrupt or truncated ({exc}); restore it from a backup"
            ) from None
        yield copy


def _backup(path: Path, copy: Path) -> None:
    """Copy ``path`` to ``copy`` page by page while holding a read lock on ``path``.

    The read transaction is opened first (waiting at most LOCK_TIMEOUT_S for a writer), so
    that the backup never spins on a busy source and copies one committed state.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    source = sqlite3.connect(uri, uri=True, timeout=LOCK_TIMEOUT_S, isolation_level=None)
    try:
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
        source.execute("COMMIT")
    finally:
        source.close()


def _require_gpkg_tables(con: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "gpkg_contents" not in tables:
        raise InputError(
            f"{path}: is an SQLite database but not a GeoPackage (no gpkg_contents table)"
        )


def _sqlite_reason(path: Path, exc: sqlite3.OperationalError) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (
            f"{path}: is locked by another program that is writing to it; "
            "save or roll back the edits there (e.g. in QGIS) and run again"
        )
    if "unable to open" in text:
        return f"{path}: cannot be opened ({text}); check the path and permissions"
    return f"{path}: cannot be read ({text})"


def layer_infos(path: Path, *, source: Path | None = None) -> dict[str, LayerInfo]:
    """Geometry type, CRS, field types and feature count of every catalogue layer (via fiona).

    Other layers are never opened: counting the features of an unknown layer runs its query,
    and a view may be endless. A catalogue layer that is a view is refused for the same reason.
    """
    infos: dict[str, LayerInfo] = {}
    shown = source or path  # errors name the user's file, not the snapshot read
    try:
        names = fiona.listlayers(path)
    except fiona.errors.FionaError as exc:
        raise InputError(f"{shown}: GDAL cannot open it as a GeoPackage ({exc})") from None
    views = _views(path)
    ignored = [name for name in names if name not in CATALOGUE]
    if ignored:
        log.info("%s: layers not in the catalogue, not read: %s", shown, ", ".join(ignored))
    for name in (n for n in names if n in CATALOGUE):
        if name in views:
            raise InputError(
                f"{shown}: layer '{name}' is a view (a stored query), not a table; save it as a "
                "table (QGIS: Export > Save Features As..., GeoPackage) and run again"
            )
        try:
            with fiona.open(path, layer=name) as src:
                crs = _crs_of(src.crs)
                geometry = src.schema.get("geometry")
                infos[name] = LayerInfo(
                    name=name,
                    geometry_type=None if geometry in (None, "None") else geometry,
                    crs=crs,
                    fields=MappingProxyType(dict(src.schema["properties"])),
                    count=len(src),
                )
        except fiona.errors.FionaError as exc:
            raise InputError(f"{shown}: layer '{name}' cannot be opened ({exc})") from None
    return infos


def _views(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as con:
        return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='view'")}


def _crs_of(fiona_crs) -> CRS | None:
    if not fiona_crs:
        return None
    epsg = fiona_crs.to_epsg()
    return CRS.from_epsg(epsg) if epsg else CRS.from_wkt(fiona_crs.to_wkt())


def read_layer(path: Path, name: str) -> pd.DataFrame:
    """Read one layer with pyogrio + Arrow; index = fid. Attribute tables come back as DataFrames."""
    try:
        frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True, fid_as_index=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path}: layer '{name}' cannot be read ({exc})") from None
    frame.index.name = "fid"
    return own_text(frame)


def own_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its Arrow text columns copied into buffers of their own, in place.

    A column imported from GDAL's Arrow stream keeps alive the whole batch it came in: every
    column's buffers (the numeric ones already copied into pandas' blocks) and the WKB of the
    geometries. The default GeoPackage's 19 small layers held 60 MB that way; the same values,
    the same dtypes, after the copy.
    """
    for column in frame.columns:
        values = frame[column]
        if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
            continue
        data = values.array.__arrow_array__()
        copied = pc.take(data, pa.array(np.arange(len(data), dtype=np.int64)))
        frame[column] = pd.Series(pd.array(copied, dtype=values.dtype), index=frame.index)
    return frame


def settle_geometries(layers: Mapping[str, pd.DataFrame]) -> None:
    """Have GEOS compute what it caches in each geometry on first use (a multi-part
    geometry's coordinate dimension, asked by ``to_wkb`` and ``has_z``), now, once.

    Worker processes forked afterwards then only read the geometries' pages: otherwise the
    first task to write a layer's WKB writes into every geometry, and its process copies each
    page of them (about 500 MB at 10^6 parcels; 0.08 s of work here).
    """
    for frame in layers.values():
        if isinstance(frame, gpd.GeoDataFrame):
            shapely.has_z(np.asarray(frame.geometry.values))


def load(path: Path | str | None = None) -> PlanData:
    """Read every catalogue layer present in the source (default: the embedded GeoPackage).

    Layers pointing at an undefined SRS get no CRS; values stored against their column's type
    are listed in ``bad_cells`` and read as null. Any source, a database included, is read
    through :func:`miyun_spatial.io.sources.load`.
    """
    path = Path(path) if path is not None else DEFAULT_GPKG
    # the file's digest in a thread while it is copied and read (hashlib releases the GIL)
    with ThreadPoolExecutor(1) as pool:
        hashing = pool.submit(file_sha256, path) if path.is_file() else None
        plan_parts = _load_snapshot(path)
        digest = "" if hashing is None else hashing.result()
    infos, names, undefined, bad_cells, layers, damaged = plan_parts
    for name in undefined & set(names):
        infos[name] = replace(infos[name], crs=None)
        if isinstance(layers[name], gpd.GeoDataFrame):
            layers[name] = layers[name].set_crs(None, allow_override=True)
    for cell in bad_cells:
        _blank(layers[cell.layer], cell.fid, cell.field)
    layers = single_points(normalise_codes(layers))  # 'Ｂ１' is B1; MultiPoint(p) is p
    log.info("read %d layers from %s", len(layers), path)
    return PlanData(
        path,
        digest,
        MappingProxyType(infos),
        MappingProxyType(layers),
        bad_cells,
        tuple(damaged),
    )


def _load_snapshot(path: Path):
    """Infos, layer names, undefined-CRS tables, bad cells, layers and damage of ``path``,
    read from a private snapshot."""
    with snapshot(path) as copy:
        infos = layer_infos(copy, source=path)
        names = [name for name in CATALOGUE.names if name in infos]
        with contextlib.closing(sqlite3.connect(copy)) as con:
            undefined = _undefined_crs_tables(con)
            bad_cells = tuple(cell for name in names for cell in _bad_cells(con, name))
        layers, damaged = {}, []
        for name in names:
            layers[name], found = _read_damaged(path, copy, name)
            damaged.extend(found)
            _require_unique_fids(path, name, layers[name])
    return infos, names, undefined, bad_cells, layers, damaged


def _read_damaged(source: Path, copy: Path, name: str) -> tuple[pd.DataFrame, list[Damage]]:
    """Read layer ``name`` of the snapshot ``copy``; undecodable cells are found and nulled.

    The fast path reads the layer at once. When a value cannot be decoded (text that is not
    UTF-8, a corrupt geometry blob) the layer is scanned cell by cell with SQLite, each such
    value is set to null in the snapshot (never in ``source``) and the layer read again.
    """
    try:
        frame = read_layer(copy, name)
        if _valid_text(frame):
            if not _has_null_geometry(frame):
                return frame, []
            # GDAL reads some corrupt blobs as null without a word: tell them from real nulls
            damaged = find_damage(copy, name)
            if all(d.kind == "geometry_corrupt" for d in damaged):
                return frame, damaged
        first = "text that is not UTF-8"
    except InputError:
        raise
    except Exception as exc:  # Arrow/GEOS/GDAL refusing a value: find which one
        first = f"{type(exc).__name__}: {exc}"
    damaged = find_damage(copy, name)
    if not damaged:
        raise InputError(
            f"{source}: layer '{name}' cannot be read ({first.splitlines()[0][:200]}); "
            "open it in QGIS, save it as a new GeoPackage and run again"
        )
    try:
        return read_layer(copy, name), damaged
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{source}: layer '{name}' cannot be read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]}); open it in QGIS, save it as a new GeoPackage "
            "and run again"
        ) from None


def _has_null_geometry(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and bool(frame.geometry.isna().any())


def _valid_text(frame: pd.DataFrame) -> bool:
    """False if a text column holds bytes that are not UTF-8 (GDAL passes them through to
    Arrow unchecked; pandas would fail on them later, anywhere)."""
    for i in range(frame.shape[1]):
        values = frame.iloc[:, i].array
        if hasattr(values, "__arrow_array__"):
            array = pa.array(values)
            if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
                try:
                    array.validate(full=True)
                except pa.ArrowInvalid:
                    return False
    return True


def _require_unique_fids(path: Path, name: str, frame: pd.DataFrame) -> None:
    duplicated = frame.index[frame.index.duplicated()].unique()
    if len(duplicated):
        shown = ", ".join(str(fid) for fid in duplicated[:5])
        raise InputError(
            f"{path}: layer '{name}' has {len(duplicated)} fid(s) used by more than one feature "
            f"(fid {shown}); a GeoPackage table needs a unique INTEGER PRIMARY KEY fid: in QGIS "
            "use Export > Save Features As... (GeoPackage), which numbers the features anew"
        )


def _blank(frame: pd.DataFrame, fid: int, column: str) -> None:
    """Set one cell to null in place, first widening bool/int columns to nullable dtypes."""
    dtype = frame[column].dtype
    if pd.api.types.is_bool_dtype(dtype):
        frame[column] = frame[column].astype("boolean")
    elif pd.api.types.is_integer_dtype(dtype):
        frame[column] = frame[column].astype("Int64")
    frame.loc[fid, column] = None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _undefined_crs_tables(con: sqlite3.Connection) -> set[str]:
    marks = ",".join("?" * len(UNDEFINED_SRS_IDS))
    try:
        rows = con.execute(
            f"SELECT table_name FROM gpkg_geometry_columns WHERE srs_id IN ({marks})",
            UNDEFINED_SRS_IDS,
        )
        return {row[0] for row in rows}
    except sqlite3.OperationalError:  # no feature table at all
        return set()


def _bad_cells(con: sqlite3.Connection, table: str) -> Iterator[BadCell]:
    """Values of numeric columns that SQLite stored as text or blob.

    One scan of the table for all its numeric columns (a million rows: one pass, not one per
    column); at most MAX_BAD_CELLS per column, the first in rowid order, column by column.
    """
    columns = con.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
    pk = next((c[1] for c in columns if c[5] == 1), "rowid")
    numeric = [
        (name, (declared or "").split("(")[0].strip().upper())
        for _cid, name, declared, *_ in columns
        if name != pk and (declared or "").split("(")[0].strip().upper() in _NUMERIC_SQL_TYPES
    ]
    if not numeric:
        return
    bad = " OR ".join(f"typeof({_quote(name)}) IN ('text', 'blob')" for name, _ in numeric)
    selected = ", ".join(_quote(name) for name, _ in numeric)
    found: list[list[BadCell]] = [[] for _ in numeric]
    rows = con.execute(f"SELECT {_quote(pk)}, {selected} FROM {_quote(table)} WHERE {bad}")
    for fid, *values in rows:
        for i, value in enumerate(values):
            if isinstance(value, str | bytes) and len(found[i]) < MAX_BAD_CELLS:
                text = value if isinstance(value, str) else f"<{len(value)} bytes>"
                found[i].append(BadCell(table, int(fid), numeric[i][0], text, numeric[i][1]))
        if all(len(cells) >= MAX_BAD_CELLS for cells in found):
            break
    for cells in found:
        yield from cells


def layer_digests(path: Path | str | None = None) -> dict[str, str]:
    """SHA-256 of each catalogue layer's content: its schema, CRS and every row.

    Read from a consistent snapshot, so it sees committed edits only. Unlike the file's bytes
    or mtime it changes only when the data does: QGIS opening a file, switching it to WAL,
    checkpointing it or saving a style in it leaves every digest as it was.
    """
    path = Path(path) if path is not None else DEFAULT_GPKG
    with snapshot(path) as copy, contextlib.closing(sqlite3.connect(copy)) as con:
        con.text_factory = _lenient_text  # text that is not UTF-8 is reported by load()
        tables = {
            row[0]: row[1]
            for row in con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        }
        srs = dict(_geometry_srs(con))
        return {
            name: _table_digest(con, name, tables[name], srs.get(name))
            for name in CATALOGUE.names
            if name in tables
        }


def _lenient_text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def _geometry_srs(con: sqlite3.Connection) -> Iterator[tuple[str, int]]:
    with contextlib.suppress(sqlite3.OperationalError):
        yield from con.execute("SELECT table_name, srs_id FROM gpkg_geometry_columns")


def _table_digest(con: sqlite3.Connection, name: str, schema: str, srs_id: int | None) -> str:
    digest = hashlib.sha256(f"{schema}\n{srs_id}\n".encode())
    for row in con.execute(f"SELECT * FROM {_quote(name)} ORDER BY rowid"):
        digest.update(repr(row).encode())
        digest.update(b"\n")
    return digest.hexdigest()
