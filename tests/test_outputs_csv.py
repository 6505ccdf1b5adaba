"""The Arrow CSV writer (``outputs_csv``) writes the very bytes pandas writes.

Large tables go through ``outputs_csv.csv_bytes`` instead of ``DataFrame.to_csv``; every cell
must come out as before: floats as numpy prints them (whole numbers with ``.0``, exponents
below 1e-4 and from 1e16, ``inf``), NaN and None as empty cells, booleans as True / False,
text made inert (OWASP) and quoted as the csv module quotes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from miyun_spatial.io.cells import CSV_LINE_END
from miyun_spatial.io.csv_write import _floats, csv_bytes, csv_parts
from miyun_spatial.io.outputs import FAST_CSV_ROWS, csv_text, write_csv

AWKWARD_TEXT = [
    "a",
    "=1+1",
    "-x",
    "+3",
    "@at",
    "\ttab",
    "\rcr first",
    "with,comma",
    'q"uote',
    '"',
    "line\nbreak",
    "cr\rhere",
    "中文 名称",
    "",
    " space ",
    None,
]


def _around(values: list[float]) -> np.ndarray:
    """Each value, its neighbours one and two ulps away and a value rounding up to it."""
    out = []
    for v in values:
        below, above = np.nextafter(v, 0), np.nextafter(v, np.inf)
        out += [v, -v, below, above, np.nextafter(below, 0), np.nextafter(above, np.inf)]
        out += [v * (1 - 1e-17), v * 0.9999999999999999, v * 9.999999999999999 / 10]
    return np.array(out)


def _awkward_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(4548)
    floats = np.concatenate(
        [
            rng.lognormal(0, 8, n // 2),
            -rng.uniform(0, 1e5, n // 4),
            rng.integers(-(10**6), 10**6, n // 8).astype(float),
            [0.0, -0.0, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 5e-324, np.inf, -np.inf],
            [np.nan, 100.0, 1e22, 0.1 + 0.2, 2.0**53, 1.7976931348623157e308, 0.5, 1e-7],
            _around([1e-4, 1e-6, 1e9, 1e10, 1e15, 1e16]),  # where the layouts change
        ]
    )
    m = len(floats)
    text = np.array(AWKWARD_TEXT, dtype=object)
    return pd.DataFrame(
        {
            "area_ha": floats,
            "flag": rng.random(m) > 0.5,
            "count": rng.integers(-5, 5, m),
            "name": pd.Series(rng.choice(text, m), dtype=object),
            "arrow_text": pd.Series(rng.choice(text, m), dtype="str"),
            "nothing": pd.Series([None] * m, dtype=object),
            "=odd, name": 1.5,
        },
        index=pd.Index([f"C2-{i:07d}" if i % 5 else f"-{i}" for i in range(m)], name="code"),
    )


def test_the_bytes_are_pandas_bytes_on_awkward_cells():
    frame = _awkward_frame(4_000)
    assert csv_bytes(frame) == csv_text(frame).encode("utf-8")


def test_an_integer_index_and_an_unnamed_index():
    frame = _awkward_frame(200).reset_index(drop=True)
    assert csv_bytes(frame) == csv_text(frame).encode("utf-8")
    frame.index = frame.index.astype(str).rename(None)
    assert csv_bytes(frame) == csv_text(frame).encode("utf-8")


def test_an_empty_table_is_its_header():
    frame = _awkward_frame(100).iloc[:0]
    assert csv_bytes(frame) == csv_text(frame).encode("utf-8")


@pytest.mark.parametrize("seed", [1, 2])
def test_floats_print_as_numpy_prints_them(seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, 200_000, dtype=np.uint64).view(np.float64)
    values = np.concatenate(
        [
            bits[np.isfinite(bits)],
            rng.lognormal(0, 12, 200_000),
            rng.uniform(0, 5e4, 200_000) / 10_000 * 15,
            np.round(rng.uniform(-1e6, 1e6, 100_000) * 1e3) / 1e3,
            rng.uniform(0, 1e-3, 100_000),
            rng.uniform(5e8, 2e10, 100_000),
            _around([1e-4, 1e-6, 1e9, 1e10, 1e15, 1e16]),
        ]
    )
    got = np.array(_floats(values).to_pylist(), dtype=object)
    assert (got == values.astype(str).astype(object)).all()


def test_tables_it_cannot_format_fall_back_to_pandas():
    mixed = pd.DataFrame({"x": pd.Series([1, "a", None], dtype=object)})
    assert csv_bytes(mixed) is None
    levels = pd.DataFrame({"v": [1.0]}, index=pd.MultiIndex.from_tuples([("a", "b")]))
    assert csv_bytes(levels) is None


def test_write_csv_of_a_large_table_reads_back(tmp_path):
    frame = _awkward_frame(2 * FAST_CSV_ROWS)
    path = write_csv(frame, tmp_path / "big.csv")
    data = path.read_bytes()
    assert data == ("\ufeff" + csv_text(frame)).encode("utf-8")
    back = pd.read_csv(path, encoding="utf-8-sig", index_col=0, keep_default_na=False)
    assert len(back) == len(frame)
    assert back.index[0] == "'-0" and back.index[1] == frame.index[1]  # inert, as pandas
    assert data.count(CSV_LINE_END.encode()) >= len(frame) + 1


@pytest.mark.parametrize("batch_rows", [1, 7, 1_000])
def test_rows_in_batches_are_the_bytes_of_the_whole(batch_rows):
    frame = _awkward_frame(3_000)
    # text with few distinct values in long batches and many in short ones: both formats
    frame["na_text"] = pd.Series(["x", pd.NA, np.nan, None, "=y"] * (len(frame) // 5), dtype=object)
    frame["nan_only"] = pd.Series([np.nan] * len(frame), dtype=object)
    frame["codes"] = pd.Series([f"C{i}" for i in range(len(frame))], dtype=object).values
    parts = csv_parts(frame, batch_rows=batch_rows)
    assert b"".join(bytes(p) for p in parts) == csv_text(frame).encode("utf-8")


def test_a_column_it_cannot_format_is_found_before_any_bytes():
    frame = _awkward_frame(50)
    frame["late"] = pd.Series(["a"] * (len(frame) - 1) + [3], dtype=object).values
    assert csv_parts(frame, batch_rows=5) is None
