"""Text encoding of a delivery: a Shapefile's ``.dbf`` (with or without ``.cpg``) and DXF.

Survey Shapefiles from Chinese GIS software are GBK-encoded and often come without a ``.cpg``;
GDAL then assumes ISO-8859-1 and returns mojibake. Here the raw bytes of every text cell are
tried against UTF-8 and GB18030 (a superset of GBK and GB2312), so the decision rests on the
data, and a cell that no candidate decodes is reported by feature and field instead of being
read as mojibake.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class EncodingDecision:
    encoding: str  # codec name given to GDAL (UTF-8 or GB18030)
    how: str  # why, for the report


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def _dbf_columns(dbf: Path | str, data: bytes) -> list[tuple[str, np.ndarray]]:
    """``(field name, raw bytes per record)`` of every text (C) field of dBASE bytes ``data``."""
    if len(data) < 32:
        raise InputError(f"{dbf}: is not a dBASE file (truncated header)")
    count, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields = []  # (name, kind, length)
    pos = 32
    while pos + 32 <= header_len and data[pos] != 0x0D:
        name = data[pos : pos + 11].split(b"\x00", 1)[0].decode("ascii", errors="replace")
        fields.append((name, chr(data[pos + 11]), data[pos + 16]))
        pos += 32
    count = min(count, max(0, (len(data) - header_len) // max(record_len, 1)))
    layout = [("_deleted", "S1")] + [(f"f{i}", f"V{n}") for i, (_n, _k, n) in enumerate(fields)]
    dtype = np.dtype(layout)
    if dtype.itemsize != record_len:
        raise InputError(f"{dbf}: field lengths do not add up to the record length (corrupt)")
    records = np.frombuffer(data, dtype=dtype, count=count, offset=header_len)
    return [(name, records[f"f{i}"]) for i, (name, kind, _n) in enumerate(fields) if kind == "C"]


def _undecodable_in(columns, codec: str) -> list[tuple[int, str, bytes]]:
    """Cells of ``columns`` that ``codec`` cannot decode (a whole column is tried at once first)."""
    bad = []
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
                bad.append((record, name, raw))
    return bad


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
        dbf, dbf.read_bytes(), cpg.name if cpg else None, cpg_text, override, layer=shp.stem
    )


def dbf_encoding(
    dbf: Path | str,
    data: bytes,
    cpg_name: str | None,
    cpg_text: str | None,
    override: str | None,
    *,
    layer: str,
) -> EncodingDecision:
    """The encoding of the dBASE bytes ``data`` (named ``dbf``), given its ``.cpg`` text if any."""
    columns = _dbf_columns(dbf, data)
    if override:
        codec = _codec(override)
        bad = _undecodable_in(columns, codec)
        if bad:
            raise DataError(
                f"{dbf}: text is not {override}: {_listing(bad, layer)}; try another --encoding"
            )
        return EncodingDecision(codec, f"{override} (--encoding)")
    declared = _CPG_NAMES.get(cpg_text.strip().upper()) if cpg_text is not None else None
    ascii_only = all(column.tobytes().isascii() for _name, column in columns)
    if declared and not _undecodable_in(columns, declared):
        return EncodingDecision(declared, f"{declared} (from {cpg_name})")
    for codec in CANDIDATES:
        if not _undecodable_in(columns, codec):
            if ascii_only:
                return EncodingDecision(codec, "ASCII only (no .cpg needed)")
            source = (
                f"{cpg_name} says '{cpg_text.strip()}' but the text is not"
                if cpg_text is not None
                else "no .cpg; detected from the text"
            )
            label = "GBK/GB18030" if codec == "GB18030" else codec
            return EncodingDecision(codec, f"{label} ({source})")
    bad = _undecodable_in(columns, "GB18030")
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
