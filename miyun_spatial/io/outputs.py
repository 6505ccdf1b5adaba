"""Atomic output files: everything is written to a temporary file beside the target, then renamed.

A run that fails half-way leaves the previous outputs as they were, never a truncated file.
Spreadsheet text from the data never starts a formula (:mod:`.cells`, the OWASP
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
from .cells import CSV_LINE_END, inert_frame
from .csv_write import csv_parts
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


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text that no spreadsheet evaluates (see :func:`write_csv`)."""
    return inert_frame(frame).to_csv(lineterminator=CSV_LINE_END)


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
