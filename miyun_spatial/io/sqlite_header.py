"""The SQLite header fields that count write transactions, set to a fixed value.

A GeoPackage's header holds the file change counter (bytes 24-27) and the version-valid-for
number (bytes 92-95): both count the write transactions that made the file, which depends
on how often GDAL committed (timing, batch sizes), not on the content. A file meant to be
byte-identical across builds gets both set to one value after its last write; SQLite reads
the file as before (the two stay equal, so the in-header page count stays valid).
"""

from __future__ import annotations

import struct
from pathlib import Path

CHANGE_COUNTER = 24
VERSION_VALID_FOR = 92
FIXED_COUNT = 1
_MAGIC = b"SQLite format 3\x00"


def transaction_counts(path: Path) -> tuple[int, int]:
    """(file change counter, version-valid-for) of the SQLite file at ``path``."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header.startswith(_MAGIC):
        raise ValueError(f"{path}: not an SQLite file")
    return (
        struct.unpack_from(">I", header, CHANGE_COUNTER)[0],
        struct.unpack_from(">I", header, VERSION_VALID_FOR)[0],
    )


def fix_transaction_counts(path: Path, count: int = FIXED_COUNT) -> None:
    """Set both counters of ``path`` to ``count``. Call it once the file is closed for good
    (no connection open, no -journal or -wal beside it)."""
    transaction_counts(path)  # refuses a file that is not SQLite
    value = struct.pack(">I", count)
    with open(path, "r+b") as fh:
        for offset in (CHANGE_COUNTER, VERSION_VALID_FOR):
            fh.seek(offset)
            fh.write(value)
