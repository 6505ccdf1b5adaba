"""Atomic output files: everything is written to a temporary file beside the target, then renamed.

A run that fails half-way leaves the previous outputs as they were, never a truncated file.
Spreadsheet text from the data never starts a formula (:func:`inert_cell`, the OWASP
CSV-injection rule), in every CSV and in report.xlsx.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..core.errors import OutputError
from .scratch import scratch_target


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``.

    ``tmp_path`` lies in a hidden scratch folder beside ``path`` (``scratch.private_dir``):
    a run killed half-way leaves nothing a GIS client lists, and the next run removes it.
    """
    path = Path(path)
    with scratch_target(path) as tmp:
        try:
            write(tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return path


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(value: object) -> bool:
    """True for text a spreadsheet would evaluate: it starts with = + - @ tab or CR."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def inert_cell(value: object) -> object:
    """``value`` safe for a spreadsheet cell: text that would start a formula gets a leading
    ``'`` (OWASP), everything else (numbers, dates, None) is returned unchanged."""
    return "'" + value if starts_formula(value) else value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text values, index labels and column names are inert cells."""
    out = frame.rename(index=inert_cell, columns=inert_cell)
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if not pd.api.types.is_numeric_dtype(column.dtype) and column.map(starts_formula).any():
            out.isetitem(i, column.astype(object).map(inert_cell))
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text that no spreadsheet evaluates (see :func:`write_csv`)."""
    return inert_frame(frame).to_csv(lineterminator=CSV_LINE_END)


# RFC 4180 line ends: the csv module then quotes every field holding a CR or LF. With "\n"
# alone a bare CR in a name is left unquoted, and spreadsheets start a new row (and a cell)
# there: "x\r=1+1" would put a formula at the start of a line.
CSV_LINE_END = "\r\n"


def release_arrow_memory() -> None:
    """Hand the memory Arrow's pool keeps after freeing back to the system (mimalloc keeps
    hundreds of MB after a large table otherwise, and the process's peak grows with it)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


# From this many rows on, tables are written by outputs_csv (Arrow, the same bytes as pandas).
FAST_CSV_ROWS = 10_000


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """CSV in UTF-8 with a BOM, so that Excel shows the Chinese labels correctly.

    Text that would start a formula is written with a leading ``'`` (:func:`inert_cell`);
    fields holding line breaks are quoted. Large tables of plain dtypes are formatted by
    ``outputs_csv.csv_parts`` (vectorised, byte for byte what pandas writes).
    """
    from .csv_write import csv_parts

    parts = csv_parts(frame) if len(frame) >= FAST_CSV_ROWS else None
    if parts is not None:

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                fh.write(codecs.BOM_UTF8)
                for part in parts:
                    fh.write(part)

        try:
            return write_atomic(path, write)
        finally:
            del parts
            release_arrow_memory()
    text = csv_text(frame)
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8-sig", newline=""))


# C0 controls but tab and newline, DEL and C1 controls: a terminal acts on them (ESC starts a
# sequence that can move the cursor, retitle the window or hide the text before it)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal: control characters from the data are shown as
    escapes (``\\x1b``), never acted on."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
