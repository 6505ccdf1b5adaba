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
- rows formatted ``batch_rows`` at a time (the text of one batch in memory, not the table's);
  text objects read by Arrow through borrowed pointers (no reference count written: a
  forked writer leaves the pages it shares with its parent shared); text with few distinct
  values in a batch formatted once per value, other text with Arrow's literal-match kernels;
- text made inert as ``cells.inert_cell`` does (a leading ``'`` before = + - @ tab CR),
  then quoted as the csv module's QUOTE_MINIMAL does (fields holding , " CR or LF, with
  doubled quotes); missing values as empty cells; ``True`` / ``False`` for booleans.

Tests compare the bytes with pandas' on awkward frames (tests/test_outputs_csv.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cells import CSV_LINE_END as LINE_END
from .cells import FORMULA_STARTS, inert_cell

QUOTED_CHARS = (",", '"', "\r", "\n")  # the csv module quotes fields holding one of them
# floats that Arrow and numpy both print positionally, with the same shortest digits (numpy
# uses an exponent when the shortest digits' exponent is below -4 or from 16, Arrow below -6
# or from 10; 1e9: a margin for values that round up): numpy itself prints the others
POSITIONAL = (1e-4, 1e9)
BATCH_ROWS = 100_000  # rows formatted at a time
FEW_DISTINCT = 0.2  # text with fewer distinct values (per row) is formatted per value


def csv_bytes(frame: pd.DataFrame, *, inert: bool = True) -> bytes | None:
    """``frame.to_csv(lineterminator="\\r\\n")`` (after ``inert_frame`` when ``inert``) as
    UTF-8 bytes, or None when the frame holds a dtype this writer does not format."""
    parts = csv_parts(frame, inert=inert)
    return None if parts is None else b"".join(bytes(p) for p in parts)


def csv_parts(
    frame: pd.DataFrame, *, inert: bool = True, batch_rows: int = BATCH_ROWS
) -> Iterator | None:
    """The bytes of :func:`csv_bytes` as buffers to write one after the other, made
    ``batch_rows`` rows at a time as they are consumed; None if a column's dtype or values
    are not ones this writer formats (decided before the first buffer)."""
    index = frame.index
    if isinstance(index, pd.MultiIndex) or frame.columns.nlevels != 1:
        return None
    columns = [_index_cells(index, inert, batch_rows)]
    for i in range(frame.shape[1]):
        columns.append(_cells(frame.iloc[:, i], inert, batch_rows))
        if columns[-1] is None:
            return None
    if columns[0] is None:
        return None
    names = [str(c) for c in frame.columns]
    if inert:
        names = [inert_cell(n) for n in names]
    header = io.StringIO()
    csv.writer(header, lineterminator=LINE_END).writerow(
        ["" if index.name is None else index.name, *names]
    )
    return _parts(header.getvalue().encode("utf-8"), columns, len(frame), batch_rows)


def _parts(header: bytes, columns: list, rows: int, batch_rows: int) -> Iterator:
    yield header
    for start in range(0, rows, batch_rows):
        stop = min(start + batch_rows, rows)
        cells = [column(start, stop) for column in columns]
        cells[-1] = pc.binary_join_element_wise(cells[-1], _s(""), _s(LINE_END))  # + line end
        lines = pc.binary_join_element_wise(*cells, _s(","))
        del cells
        chunks = lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]
        for chunk in chunks:
            if len(chunk):
                yield _data(chunk)


def _data(chunk: pa.Array) -> pa.Buffer:
    """The text of a large_string array's values, end to end (a slice of its data buffer)."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset :]
    start, end = int(offsets[0]), int(offsets[len(chunk)])
    return chunk.buffers()[2].slice(start, end - start)


def _s(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


# A column's cells: (start, stop) -> large_string array of the cells of those rows.
Cells = Callable[[int, int], pa.Array]


def _index_cells(index: pd.Index, inert: bool, batch_rows: int) -> Cells | None:
    if pd.api.types.is_integer_dtype(index.dtype) and not pd.api.types.is_bool_dtype(index.dtype):
        values = np.asarray(index)
        if values.dtype.kind not in "iu":
            return None
        return lambda a, b: pc.cast(pa.array(values[a:b]), pa.large_string())
    return _text(pd.Series(index, copy=False), inert, batch_rows)


def _cells(column: pd.Series, inert: bool, batch_rows: int) -> Cells | None:
    dtype = column.dtype
    if dtype == np.float64:
        floats = column.to_numpy()
        return lambda a, b: _floats(floats[a:b])
    if dtype == np.bool_:
        flags = column.to_numpy()
        return lambda a, b: pc.if_else(pa.array(flags[a:b]), _s("True"), _s("False"))
    if dtype == np.int64:
        ints = column.to_numpy()
        return lambda a, b: pc.cast(pa.array(ints[a:b]), pa.large_string())
    return _text(column, inert and not pd.api.types.is_numeric_dtype(dtype), batch_rows)


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


def _text(column: pd.Series, inert: bool, batch_rows: int) -> Cells | None:
    """Text cells: inert (``cells.inert_cell``), then quoted as the csv module quotes."""
    values = column.array
    if column.dtype == object:
        values = np.asarray(values, dtype=object)
        if not _is_text(values, batch_rows):
            return None
        # Arrow reads the objects through borrowed pointers: no reference count written
        return lambda a, b: _text_cells(
            pa.array(values[a:b], type=pa.large_string(), from_pandas=True), inert
        )
    if not isinstance(column.dtype, pd.StringDtype):
        return None
    array = pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()  # one chunk (no copy) unless pandas made several
    array = array.cast(pa.large_string())
    return lambda a, b: _text_cells(array.slice(a, b - a), inert)


def _is_text(values: np.ndarray, batch_rows: int) -> bool:
    """True if an object array holds only text and missing values (None, NaN, NA): what
    Arrow converts to string (tried a batch at a time, kept nowhere)."""
    for start in range(0, len(values), batch_rows):
        try:
            array = pa.array(values[start : start + batch_rows], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return False
        if not (pa.types.is_null(array.type) or pa.types.is_string(array.type)):
            return False  # bytes, numbers, dates...: pandas formats them
    return True


def _text_cells(array: pa.Array, inert: bool) -> pa.Array:
    """The cells of a batch of text: few distinct values are formatted once each."""
    encoded = array.dictionary_encode()
    if len(encoded.dictionary) > FEW_DISTINCT * len(array):
        return pc.fill_null(_format(array, inert), _s(""))
    return _dictionary_cells(encoded, inert)


def _dictionary_cells(encoded: pa.DictionaryArray, inert: bool) -> pa.Array:
    """Each distinct value formatted once, then taken for every row; missing values: ""."""
    cells = pc.fill_null(_format(encoded.dictionary, inert), _s(""))
    cells = pa.concat_arrays([cells, pa.array([""], pa.large_string())])
    return cells.take(pc.fill_null(encoded.indices, len(encoded.dictionary)))


def _format(array: pa.Array, inert: bool) -> pa.Array:
    """Text values as cells: inert, then quoted where the csv module quotes (nulls stay)."""
    if inert:
        first = pc.utf8_slice_codeunits(array, 0, 1)
        formula = pc.fill_null(pc.is_in(first, pa.array(FORMULA_STARTS, pa.large_string())), False)
        array = pc.if_else(formula, pc.binary_join_element_wise(_s("'"), array, _s("")), array)
    quote = None
    for char in QUOTED_CHARS:
        found = pc.fill_null(pc.match_substring(array, char), False)
        quote = found if quote is None else pc.or_(quote, found)
    if len(array) and pc.any(quote).as_py():
        quoted = pc.binary_join_element_wise(
            _s('"'), pc.replace_substring(array, '"', '""'), _s('"'), _s("")
        )
        array = pc.if_else(quote, quoted, array)
    return array


__all__ = ["csv_bytes", "csv_parts"]
