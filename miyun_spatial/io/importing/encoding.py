"""Text encoding of a delivery: a Shapefile's ``.dbf`` (with or without ``.cpg``) and DXF.

Survey Shapefiles from Chinese GIS software are GBK-encoded and often come without a ``.cpg``;
GDAL then assumes ISO-8859-1 and returns mojibake. Here the raw bytes of every text cell are
tried against UTF-8 and GB18030 (a superset of GBK and GB2312), so the decision rests on the
data, and a cell that no candidate decodes is reported by feature and field instead of being
read as mojibake.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ...core.errors import DataError, InputError

CANDIDATES = ("UTF-8", "GB18030")
# .cpg spellings -> Python codec names
_CPG_NAMES = {
    "UTF-8": "UTF-8",
    "UTF8": "UTF-8",
    "65001": "UTF-8",
    "GBK": "GB18030",
    "CP936": "GB18030",
    "936": "GB18030",
    "GB2312": "GB18030",
    "GB18030": "GB18030",
    "ANSI 936": "GB18030",
}
MAX_LISTED = 5
CHUNK_RECORDS = 50_000  # .dbf records read and checked at a time
Opener = Callable[[], AbstractContextManager[BinaryIO]]


@dataclass(frozen=True)
class EncodingDecision:
    encoding: str  # codec name given to GDAL (UTF-8 or GB18030)
    how: str  # why, for the report


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def _dbf_chunks(dbf: Path | str, opener: Opener) -> Iterator[tuple[int, list]]:
    """``(first record, [(field name, raw bytes per record)])`` of every text (C) field of a
    dBASE file, ``CHUNK_RECORDS`` records at a time (a 300 000-record .dbf is ~80 MB)."""
    with opener() as stream:
        head = stream.read(32)
        if len(head) < 32:
            raise InputError(f"{dbf}: is not a dBASE file (truncated header)")
        count, header_len, record_len = struct.unpack("<IHH", head[4:12])
        data = head + stream.read(max(0, header_len - 32))
        fields = []  # (name, kind, length)
        pos = 32
        while pos + 32 <= len(data) and pos + 32 <= header_len and data[pos] != 0x0D:
            name = data[pos : pos + 11].split(b"\x00", 1)[0].decode("ascii", errors="replace")
            fields.append((name, chr(data[pos + 11]), data[pos + 16]))
            pos += 32
        layout = [("_deleted", "S1")] + [(f"f{i}", f"V{n}") for i, (*_x, n) in enumerate(fields)]
        dtype = np.dtype(layout)
        if dtype.itemsize != record_len:
            raise InputError(f"{dbf}: field lengths do not add up to the record length (corrupt)")
        text = [(i, name) for i, (name, kind, _n) in enumerate(fields) if kind == "C"]
        first = 0
        while first < count:
            block = stream.read(min(CHUNK_RECORDS, count - first) * record_len)
            records = np.frombuffer(block, dtype=dtype, count=len(block) // record_len)
            if not len(records):
                return
            yield first, [(name, records[f"f{i}"]) for i, name in text]
            first += len(records)


def _undecodable_in(chunks, codec: str) -> list[tuple[int, str, bytes]]:
    """Cells that ``codec`` cannot decode (a whole column chunk is tried at once first)."""
    bad = []
    for first, columns in chunks:
        for name, column in columns:
            try:
                column.tobytes().decode(codec)
                continue
            except UnicodeDecodeError:
                pass
            for record, cell in enumerate(column):
                raw = bytes(cell).rstrip(b" \x00")
                try:
                    raw.decode(codec)
                except UnicodeDecodeError:
                    bad.append((first + record, name, raw))
    return bad


def _decodes(chunks, codec: str) -> bool:
    """Every text cell decodes with ``codec`` (tried a whole column chunk at a time)."""
    try:
        for _first, columns in chunks:
            for _name, column in columns:
                column.tobytes().decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _ascii_only(chunks) -> bool:
    return all(column.tobytes().isascii() for _first, cols in chunks for _n, column in cols)


def _listing(bad, layer: str) -> str:
    shown = "; ".join(
        f"layer {layer} feature {r} field {n} ({raw[:12]!r})" for r, n, raw in bad[:MAX_LISTED]
    )
    more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return shown + more


def shapefile_encoding(shp: Path, override: str | None) -> EncodingDecision:
    """Decide the ``.dbf`` encoding of ``shp`` from ``override``, the ``.cpg`` and the bytes."""
    dbf = _sibling(shp, ".dbf")
    if dbf is None:
        raise InputError(
            f"{shp}: has no .dbf beside it; copy the whole Shapefile (.shp .shx .dbf .prj)"
        )
    cpg = _sibling(shp, ".cpg")
    cpg_text = cpg.read_text(encoding="ascii", errors="replace") if cpg is not None else None
    return dbf_encoding(
        dbf, lambda: open(dbf, "rb"), cpg.name if cpg else None, cpg_text, override, layer=shp.stem
    )


def dbf_encoding(
    dbf: Path | str,
    opener: Opener,
    cpg_name: str | None,
    cpg_text: str | None,
    override: str | None,
    *,
    layer: str,
) -> EncodingDecision:
    """The encoding of the dBASE file ``dbf`` (read by ``opener``), given its ``.cpg`` text."""

    def columns():
        return _dbf_chunks(dbf, opener)

    if override:
        codec = _codec(override)
        bad = _undecodable_in(columns(), codec)
        if bad:
            raise DataError(
                f"{dbf}: text is not {override}: {_listing(bad, layer)}; try another --encoding"
            )
        return EncodingDecision(codec, f"{override} (--encoding)")
    declared = _CPG_NAMES.get(cpg_text.strip().upper()) if cpg_text is not None else None
    ascii_only = _ascii_only(columns())
    if declared and _decodes(columns(), declared):
        return EncodingDecision(declared, f"{declared} (from {cpg_name})")
    for codec in CANDIDATES:
        if _decodes(columns(), codec):
            if ascii_only:
                return EncodingDecision(codec, "ASCII only (no .cpg needed)")
            source = (
                f"{cpg_name} says '{cpg_text.strip()}' but the text is not"
                if cpg_text is not None
                else "no .cpg; detected from the text"
            )
            label = "GBK/GB18030" if codec == "GB18030" else codec
            return EncodingDecision(codec, f"{label} ({source})")
    bad = _undecodable_in(columns(), "GB18030")
    raise DataError(
        f"{dbf}: text is neither UTF-8 nor GBK/GB18030: {_listing(bad, layer)}; "
        "give the right --encoding (e.g. BIG5) or fix those cells"
    )


def dxf_encoding(path: Path, override: str | None) -> EncodingDecision:
    """DXF text: UTF-8 (AutoCAD 2007 and later) or the drawing's ANSI code page (GBK)."""
    if override:
        return EncodingDecision(_codec(override), f"{override} (--encoding)")
    raw = path.read_bytes()
    if raw.isascii():
        return EncodingDecision("UTF-8", "ASCII only")
    for codec in CANDIDATES:
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            continue
        label = "GBK/GB18030" if codec == "GB18030" else codec
        return EncodingDecision(codec, f"{label} (detected from the drawing's text)")
    raise DataError(f"{path}: text is neither UTF-8 nor GBK/GB18030; give the right --encoding")


def _codec(name: str) -> str:
    upper = name.strip().upper()
    codec = _CPG_NAMES.get(upper, name.strip())
    try:
        "".encode(codec)
    except LookupError:
        raise InputError(
            f"--encoding {name}: unknown encoding; use e.g. GBK, GB18030 or UTF-8"
        ) from None
    return codec
