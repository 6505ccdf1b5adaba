"""Text checks shared by the validators: markup in free text (``with_markup``) and values a
pattern rejects (``not_matching``), with Arrow's RE2 as a fast first pass on long columns."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .common import PARALLEL_FEATURES

_MARKUP = re.compile(r"<[a-zA-Z/!]|javascript:|on[a-z]+\s*=", re.IGNORECASE)


def with_markup(text: pd.Series) -> pd.Index:
    """Index labels of ``text`` that contain markup (``_MARKUP``), in order.

    Markup needs '<', ':' or '='; only values holding one of them (found by fast literal
    scans) meet the regular expression.
    """
    maybe = np.zeros(len(text), dtype=bool)
    for char in "<:=":
        maybe |= text.str.contains(char, regex=False).to_numpy(dtype=bool)
    candidates = text[maybe]
    return candidates.index[candidates.str.contains(_MARKUP)]


def not_matching(values: pd.Series, pattern: str) -> pd.Index:
    """Index labels of ``values`` whose text ``re.match(pattern)`` rejects, in order.

    On long text columns Arrow's RE2 first finds the values that surely match (for patterns
    RE2 matches no more often than Python: no escapes but ``\\d``, no negated classes, no
    flags); Python's ``re`` judges the rest.
    """
    regex = re.compile(pattern)
    ok = np.zeros(len(values), dtype=bool)
    if len(values) >= PARALLEL_FEATURES and positive_only(pattern):
        text = arrow_text(values)
        if text is not None:
            try:
                found = pc.match_substring_regex(text, f"^(?:{pattern})")
                ok = found.to_numpy(zero_copy_only=False).astype(bool)
            except pa.ArrowInvalid:  # syntax RE2 does not take: Python alone
                pass
    rest = np.flatnonzero(~ok)
    text = values.iloc[rest].astype(object).map(str).tolist()
    ok[rest] = np.fromiter((regex.match(v) is not None for v in text), dtype=bool, count=len(text))
    return values.index[~ok]


def positive_only(pattern: str) -> bool:
    """True for patterns whose RE2 matches are Python matches too (ASCII classes, ``\\d``,
    literals, quantifiers, anchors: RE2's ``\\d`` and ``$`` accept less, never more)."""
    rest = pattern.replace("\\d", "")
    return "\\" not in rest and "[^" not in rest and "(?" not in rest


def arrow_text(values: pd.Series) -> pa.Array | None:
    """``values`` (no missing values) as an Arrow string array, or None unless all are text."""
    if isinstance(values.dtype, pd.StringDtype):
        return pa.array(values.array, type=pa.large_string(), from_pandas=True)
    data = np.asarray(values, dtype=object)
    if pd.api.types.infer_dtype(data, skipna=False) != "string":
        return None
    return pa.array(data, type=pa.large_string())


__all__ = ["not_matching", "with_markup"]
