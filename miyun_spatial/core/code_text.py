"""Codes compared as text people mean: Unicode NFKC, applied wherever codes are read.

A code typed with a Chinese IME in full-width form (``Ｂ１``), or with other compatibility
characters (``①``, ``ﬁ``), is the code its NFKC form spells (``B1``). Every source (the
GeoPackage read, the PostGIS read) normalises the coded fields of the catalogue (ids,
references, values from a list) right after reading, so validation, analysis and every
output see one spelling. What was changed is kept in the frame's ``attrs`` under
``NORMALISED`` ({field: {fid: text as typed}}) for validation to report it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import pandas as pd

from .catalogue import CATALOGUE

NORMALISED = "miyun_nfkc"


def code_text(value: object) -> object:
    """``value`` in NFKC form if it is text; anything else unchanged."""
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def coded_fields(layer: str) -> tuple[str, ...]:
    """The fields of catalogue layer ``layer`` that hold codes: its id, references to other
    layers' codes, and fields whose values come from a list."""
    spec = CATALOGUE.get(layer)
    if spec is None:
        return ()
    return tuple(
        f.name
        for f in spec.fields
        if f.type == "text" and (f.name == spec.id_field or f.ref or f.values)
    )


def normalise_codes(layers: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``layers`` with the coded text of every catalogue layer in NFKC form. Frames with
    nothing to change are returned as they are; changed ones are copies whose
    ``attrs[NORMALISED]`` holds the values as typed."""
    out = dict(layers)
    for name, frame in layers.items():
        typed: dict[str, dict[int, str]] = {}
        changed: dict[str, pd.Series] = {}
        for field in coded_fields(name):
            if field not in frame.columns:
                continue
            values = frame[field]
            if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
                continue  # no text (e.g. every value null)
            suspect = values.notna() & ~values.str.isascii().fillna(True).astype(bool)
            if not suspect.any():
                continue  # ASCII is its own NFKC form: the usual case costs one pass
            before = values[suspect]
            after = before.map(code_text)
            differs = before != after
            if differs.any():
                typed[field] = {int(fid): str(v) for fid, v in before[differs].items()}
                changed[field] = values.where(~suspect, after.reindex(values.index))
        if changed:
            frame = frame.copy()
            for field, values in changed.items():
                frame[field] = values
            frame.attrs[NORMALISED] = typed
            out[name] = frame
    return out


def typed_as(frame: pd.DataFrame, field: str, fid: int) -> str | None:
    """The text as typed of ``field`` of feature ``fid`` when reading changed it, else None."""
    return frame.attrs.get(NORMALISED, {}).get(field, {}).get(int(fid))
