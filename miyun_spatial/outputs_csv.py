"""Large tables as CSV bytes, column by column with Arrow: the very bytes pandas writes.

``outputs.write_csv`` writes ``inert_frame(frame).to_csv(lineterminator="\\r\\n")``. pandas
turns each row into Python objects and hands it to the csv module: about 10 s for the
per-parcel yield table at a million parcels. :func:`csv_bytes` builds the same text with
vectorised Arrow kernels, for the frames it knows how to format exactly, and returns None for
any other (the caller then uses pandas):

- a single-level index of text (or integers), and columns of float64, int64, bool, text
  (pandas' ``str`` dtype, or object holding only text and missing values);
- floats as numpy's ``astype(str)``, what pandas calls: Arrow's shortest round-trip digits
  where both print them positionally (adding numpy's ``.0`` to whole numbers), numpy itself
  where numpy uses an exponent (below 1e-4, from 1e16) or Arrow does; NaN as an empty cell;
- text made inert as ``outputs.inert_cell`` does (a leading ``'`` before = + - @ tab CR),
  then quoted as the csv module's QUOTE_MINIMAL does (fields holding , " CR or LF, with
  doubled quotes); missing values as empty cells; ``True`` / ``False`` for booleans.

Tests compare the bytes with pandas' on awkward frames (tests/test_outputs_csv.py).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

LINE_END = "\r\n"
_FORMULA = r"^[=+\-@\t\r]"  # outputs.FORMULA_STARTS
_NEEDS_QUOTES = '[,"\r\n]'
# Arrow and numpy print the same digits; they differ in layout where Arrow writes an
# exponent, inf / nan, or a number below 1e-4 positionally (numpy: 1e-05)
_LAYOUT_DIFFERS = r"[en]|^-?0\.0000"


def csv_bytes(frame: pd.DataFrame, *, inert: bool = True) -> bytes | None:
    """``frame.to_csv(lineterminator="\\r\\n")`` (after ``inert_frame`` when ``inert``) as
    UTF-8 bytes, or None when the frame holds a dtype this writer does not format."""
    index = frame.index
    if isinstance(index, pd.MultiIndex) or frame.columns.nlevels != 1:
        return None
    columns = [_index_cells(index, inert)]
    for i in range(frame.shape[1]):
        columns.append(_cells(frame.iloc[:, i], inert))
    if any(c is None for c in columns):
        return None
    names = [str(c) for c in frame.columns]
    if inert:
        from .outputs import inert_cell

        names = [inert_cell(n) for n in names]
    header = io.StringIO()
    csv.writer(header, lineterminator=LINE_END).writerow(
        ["" if index.name is None else index.name, *names]
    )
    head = header.getvalue().encode("utf-8")
    if not len(frame):
        return head
    rows = pc.binary_join_element_wise(*columns, _s(","))
    rows = pc.binary_join_element_wise(rows, _s(""), _s(LINE_END))
    chunks = rows.chunks if isinstance(rows, pa.ChunkedArray) else [rows]
    return head + b"".join(_data(chunk) for chunk in chunks)


def _data(chunk: pa.Array) -> bytes:
    """The text of a large_string array's values, end to end."""
    if not len(chunk):
        return b""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset :]
    return chunk.buffers()[2].to_pybytes()[offsets[0] : offsets[len(chunk)]]


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _index_cells(index: pd.Index, inert: bool) -> pa.Array | None:
    if pd.api.types.is_integer_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
        values = np.asarray(index)
        if values.dtype.kind not in "iu":
            return None
        return pc.cast(pa.array(values), pa.large_string())
    return _text(pd.Series(index, copy=False), inert)


def _cells(column: pd.Series, inert: bool) -> pa.Array | None:
    dtype = column.dtype
    if dtype == np.float64:
        return _floats(column.to_numpy())
    if dtype == np.bool_:
        values = pa.array(column.to_numpy())
        return pc.if_else(values, _s("True"), _s("False"))
    if dtype == np.int64:
        return pc.cast(pa.array(column.to_numpy()), pa.large_string())
    return _text(column, inert and not pd.api.types.is_numeric_dtype(dtype))


def _floats(values: np.ndarray) -> pa.Array:
    array = pa.array(values, type=pa.float64(), from_pandas=True)  # NaN -> null -> ""
    text = pc.cast(array, pa.large_string())
    odd = pc.fill_null(pc.match_substring_regex(text, _LAYOUT_DIFFERS), False)
    whole = pc.fill_null(pc.invert(pc.match_substring(text, ".")), False)
    text = pc.if_else(
        pc.and_(whole, pc.invert(odd)), pc.binary_join_element_wise(text, _s(".0"), _s("")), text
    )
    where = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
    if len(where):  # numpy's own text where the layouts differ (what pandas writes)
        exact = pa.array(values[where].astype(str).astype(object), type=pa.large_string())
        text = pc.replace_with_mask(text, odd, exact)
    return pc.fill_null(text, _s(""))


def _text(column: pd.Series, inert: bool) -> pa.Array | None:
    values = column.array
    if column.dtype == object:
        values = np.asarray(values, dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
    elif isinstance(column.dtype, pd.StringDtype):
        array = pa.array(values, type=pa.large_string(), from_pandas=True)
    else:
        return None
    if inert:
        formula = pc.fill_null(pc.match_substring_regex(array, _FORMULA), False)
        array = pc.if_else(formula, pc.binary_join_element_wise(_s("'"), array, _s("")), array)
    quote = pc.fill_null(pc.match_substring_regex(array, _NEEDS_QUOTES), False)
    quoted = pc.binary_join_element_wise(
        _s('"'), pc.replace_substring(array, '"', '""'), _s('"'), _s("")
    )
    return pc.fill_null(pc.if_else(quote, quoted, array), _s(""))


__all__ = ["csv_bytes"]
