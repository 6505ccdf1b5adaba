"""The code-pattern check on long columns (Arrow's RE2 first) rejects exactly what ``re`` does.

RE2's ``$`` does not accept a trailing newline and its ``\\d`` takes ASCII digits only, where
Python's accept more: the values RE2 turns down are judged again by Python, so codes with a
final newline, full-width or Arabic-Indic digits, lower case or spaces get the same verdict.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from miyun_spatial.validate.common import PARALLEL_FEATURES
from miyun_spatial.validate.text import not_matching

AWKWARD = [
    "C2-0000001",
    "C2-0000001\n",  # Python's $ accepts a final newline
    "c2-0000001",
    "C2 0000001",
    "C2-０００１",  # full-width digits
    "C2-٠١٢",  # Arabic-Indic digits: \\d in Python
    "",
    "-C2",
    "C2-0000001\nX",
    "Ä1",
    "12345",
]


@pytest.mark.parametrize(
    "pattern", ["^[A-Z0-9][A-Z0-9-]*$", "^C[0-9]+$", r"^C\d-\d+$", r"^\D+$", "C2", "^[^x]+$"]
)
@pytest.mark.parametrize("dtype", [object, "str"])
def test_long_columns_get_the_verdicts_of_re(pattern, dtype):
    rng = np.random.default_rng(7)
    n = PARALLEL_FEATURES + 1_000
    values = pd.Series(rng.choice(np.array(AWKWARD, dtype=object), n), dtype=dtype)
    values.index = pd.RangeIndex(10, 10 + n)
    regex = re.compile(pattern)
    expected = values.index[[regex.match(str(v)) is None for v in values]]
    assert not_matching(values, pattern).equals(expected)
