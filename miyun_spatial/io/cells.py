"""Spreadsheet cells that never start a formula (OWASP CSV injection), and the CSV line end.

The one place the rule lives: the CSV writers (:mod:`.outputs`, :mod:`.csv_write`) and the
workbook (:mod:`miyun_spatial.render.reports.xlsx`) apply it.
"""

from __future__ import annotations

import pandas as pd

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


# RFC 4180 line ends: the csv module then quotes every field holding a CR or LF. With "\n"
# alone a bare CR in a name is left unquoted, and spreadsheets start a new row (and a cell)
# there: "x\r=1+1" would put a formula at the start of a line.
CSV_LINE_END = "\r\n"
