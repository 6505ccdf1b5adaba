"""Large tables as CSV bytes, column by column with Arrow: the very bytes pandas writes.

``outputs.write_csv`` writes ``inert_frame(frame).to_csv(lineterminator="\\r\\n")``. pandas
turns each row into Python objects and hands it to the csv module: about 10 s for the
per-parcel yield table at a million parcels. :func:`csv_bytes` builds the same text with
vectorised Arrow kernels, for the frames it knows how to format exactly, and returns None for
any other (the caller then uses pandas):

- a single-level index of text (or integers), and columns of float64, int64, bool, text
  (pandas' ``str`` dtype, or object holding only text and missing values);
- floats as numpy's ``astype(str)``, what pandas calls: Arrow's shortest round-trip digits
  from 1e-4 to 1e9, where both print them positionally (adding numpy's ``.0`` to whole
  numbers), numpy itself for other magnitudes, inf and -inf; NaN as an empty cell;
- text columns with few distinct values formatted once per value; others with Arrow's
  literal-match kernels;
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
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # outputs.FORMULA_STARTS
QUOTED_CHARS = (",", '"', "\r", "\n")  # the csv module quotes fields holding one of them
# floats that Arrow and numpy both print positionally, with the same shortest digits (numpy
# uses an exponent when the shortest digits' exponent is below -4 or from 16, Arrow below -6
# or from 10; 1e9: a margin for values that round up): numpy itself prints the others
POSITIONAL = (1e-4, 1e9)
FEW_DISTINCT = 0.2  # text columns with fewer distinct values (per row) are formatted per value


def csv_bytes(frame: pd.DataFrame, *, inert: bool = True) -> bytes | None:
    """``frame.to_csv(lineterminator="\\r\\n")`` (after ``inert_frame`` when ``inert``) as
    UTF-8 bytes, or None when the frame holds a dtype this writer does not format."""
    parts = csv_parts(frame, inert=inert)
    return None if parts is None else b"".join(bytes(p) for p in parts)


def csv_parts(frame: pd.DataFrame, *, inert: bool = True) -> list | None:
    """The bytes of :func:`csv_bytes` as a list of buffers to write one after the other (no
    copy of the whole text), or None."""
    index = frame.index
    if isinstance(index, pd.MultiIndex) or frame.columns.nlevels != 1:
        return None
    columns = [_index_cells(index, inert)]
    for i in range(frame.shape[1]):
        columns.append(_cells(frame.iloc[:, i], inert))
        if columns[-1] is None:
            return None
    if columns[0] is None:
        return None
    names = [str(c) for c in frame.columns]
    if inert:
        from .outputs import inert_cell

        names = [inert_cell(n) for n in names]
    header = io.StringIO()
    csv.writer(header, lineterminator=LINE_END).writerow(
        ["" if index.name is None else index.name, *names]
    )
    parts = [header.getvalue().encode("utf-8")]
    if not len(frame):
        return parts
    columns[-1] = pc.binary_join_element_wise(columns[-1], _s(""), _s(LINE_END))  # + line end
    rows = pc.binary_join_element_wise(*columns, _s(","))
    del columns
    chunks = rows.chunks if isinstance(rows, pa.ChunkedArray) else [rows]
    return parts + [_data(chunk) for chunk in chunks if len(chunk)]


def _data(chunk: pa.Array) -> pa.Buffer:
    """The text of a large_string array's values, end to end (a slice of its data buffer)."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset :]
    start, end = int(offsets[0]), int(offsets[len(chunk)])
    return chunk.buffers()[2].slice(start, end - start)


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
    """numpy's ``astype(str)`` of ``values`` (NaN: empty), Arrow's digits where they agree."""
    text = pc.cast(pa.array(values, type=pa.float64(), from_pandas=True), pa.large_string())
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        plain = ((magnitude >= POSITIONAL[0]) & (magnitude < POSITIONAL[1])) | (values == 0)
        whole = plain & (values == np.floor(values))  # Arrow: "3", numpy: "3.0"
    text = pc.if_else(whole, pc.binary_join_element_wise(text, _s(".0"), _s("")), text)
    odd = np.flatnonzero(~plain & ~np.isnan(values))
    if len(odd):  # tiny, huge, infinite: numpy's own text (what pandas writes)
        mask = np.zeros(len(values), dtype=bool)
        mask[odd] = True
        exact = pa.array(values[odd].astype(str).astype(object), type=pa.large_string())
        text = pc.replace_with_mask(text, pa.array(mask), exact)
    return pc.fill_null(text, _s(""))


def _text(column: pd.Series, inert: bool) -> pa.Array | None:
    """Text cells: inert (``outputs.inert_cell``), then quoted as the csv module quotes."""
    values = column.array
    if column.dtype == object:
        values = np.asarray(values, dtype=object)
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
    elif not isinstance(column.dtype, pd.StringDtype):
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) <= FEW_DISTINCT * len(codes):
        # few distinct values (zone codes, classes, grades): each formatted once, in Python
        cells = pa.array([_cell(v, inert) for v in uniques] + [""], type=pa.large_string())
        return cells.take(pa.array(np.where(codes < 0, len(uniques), codes)))  # missing: ""
    array = pa.array(values, type=pa.large_string(), from_pandas=True)
    if inert:
        first = pc.utf8_slice_codeunits(array, 0, 1)
        formula = pc.fill_null(pc.is_in(first, pa.array(FORMULA_STARTS, pa.large_string())), False)
        array = pc.if_else(formula, pc.binary_join_element_wise(_s("'"), array, _s("")), array)
    quote = None
    for char in QUOTED_CHARS:
        found = pc.fill_null(pc.match_substring(array, char), False)
        quote = found if quote is None else pc.or_(quote, found)
    if pc.any(quote).as_py():
        quoted = pc.binary_join_element_wise(
            _s('"'), pc.replace_substring(array, '"', '""'), _s('"'), _s("")
        )
        array = pc.if_else(quote, quoted, array)
    return pc.fill_null(array, _s(""))


def _cell(value: str, inert: bool) -> str:
    if inert and value.startswith(FORMULA_STARTS):
        value = "'" + value
    if any(char in value for char in QUOTED_CHARS):
        value = '"' + value.replace('"', '""') + '"'
    return value


__all__ = ["csv_bytes", "csv_parts"]
