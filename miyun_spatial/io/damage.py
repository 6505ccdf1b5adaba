"""Stored values no reader can decode, found cell by cell in a snapshot and nulled there.

Part of the store (``store.load`` calls :func:`find_damage` on its private snapshot when a
layer cannot be read at once): text that is not UTF-8 (GBK bytes, a lone surrogate, a
truncated sequence) and geometry blobs that are not a GeoPackage geometry GEOS can read. The
user's file is never touched; the validator reports each value (layer, fid, field).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import shapely

from ..core.plan import Damage

MAX_BAD_CELLS = 1000  # per column; enough to report, bounded for huge broken files


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def find_damage(copy: Path, name: str) -> list[Damage]:
    """Cells of ``name`` that are not UTF-8 text or not a decodable GeoPackage geometry."""
    damaged: list[Damage] = []
    with contextlib.closing(sqlite3.connect(copy)) as con:
        con.text_factory = bytes
        # GDAL's R-tree triggers call these; a nulled geometry is empty and leaves the index
        con.create_function("ST_IsEmpty", 1, lambda _blob: 1)
        for function in ("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            con.create_function(function, 1, lambda _blob: 0.0)
        columns = con.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
        pk = next((c[1].decode() for c in columns if c[5] == 1), "rowid")
        geometry = _geometry_column(con, name)
        for _cid, raw_column, _declared, *_ in columns:
            column = raw_column.decode("utf-8", "replace")
            rows = con.execute(
                f"SELECT {_quote(pk)}, {_quote(column)} FROM {_quote(name)} "
                f"WHERE typeof({_quote(column)}) IN ('text', 'blob')"
            ).fetchall()
            if column == geometry:
                bad = _corrupt_geometries(rows)
                kind, what = "geometry_corrupt", "geometry blob cannot be decoded"
            else:
                bad = [(fid, value) for fid, value in rows if _not_utf8(value)]
                kind, what = "text_encoding", "text is not valid UTF-8"
            for fid, value in bad[:MAX_BAD_CELLS]:
                damaged.append(Damage(kind, name, int(fid), column, _describe(what, value)))
        with con:
            for d in damaged:
                con.execute(
                    f"UPDATE {_quote(name)} SET {_quote(d.field)} = NULL WHERE {_quote(pk)} = ?",
                    (d.fid,),
                )
    return damaged


def _geometry_column(con: sqlite3.Connection, name: str) -> str | None:
    try:
        row = con.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0].decode("utf-8", "replace") if row else None


def _not_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _corrupt_geometries(rows: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Rows whose value is not a GeoPackage geometry blob (header 'GP' + WKB) GEOS can read."""
    return [(fid, blob) for fid, blob in rows if not _decodable(blob)]


def _decodable(blob: bytes) -> bool:
    if len(blob) < 8 or blob[:2] != b"GP":
        return False
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((blob[3] >> 1) & 0b111)
    if envelope is None:
        return False
    if blob[3] & 0x10:  # the 'empty' flag: an empty geometry is not corrupt
        return True
    return shapely.from_wkb(blob[8 + envelope :], on_invalid="ignore") is not None


def _describe(what: str, value: bytes) -> str:
    """'text is not valid UTF-8: b'\\xc3\\xdc...' (as GBK: 密云)'."""
    shown = repr(value[:24]) + ("..." if len(value) > 24 else "")
    if what.startswith("text"):
        with contextlib.suppress(UnicodeDecodeError):
            return f"{what}: {shown} (as GBK/GB18030 it reads '{value.decode('gb18030')[:40]}')"
    return f"{what}: {shown}" if what.startswith("text") else f"{what} ({len(value)} bytes)"
