"""Click lookup for tiled parcels: which parcel is where, per top-zoom tile, in a small script.

``tiles/lookup/{z}/{x}/{y}.js`` calls ``miyunTileLookup("z/x/y", {...})`` with a ``GRID`` x
``GRID`` grid (cells of 4 pixels, about 5 m at z17) of indices into the list of the parcels
found at the cells' centres, each with its code, class per use and area (ha, measured in
EPSG:4548 by the caller). A script, not JSON: pages opened from ``file://`` cannot ``fetch``
(Chromium), but may add a ``<script>`` element. Bounded: at most GRID² parcels per tile.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

GRID = 64
CALLBACK = "miyunTileLookup"


def lookup_text(numbers: np.ndarray, lookup: dict[str, np.ndarray], zoom: int, x: int, y: int):
    """The lookup script of one tile (``numbers``: parcel position + 1 per pixel, 0 = none),
    or None when no parcel lies under any cell centre."""
    step = numbers.shape[0] // GRID
    centres = numbers[step // 2 :: step, step // 2 :: step]
    if not centres.any():
        return None
    present, grid = np.unique(centres, return_inverse=True)
    offset = 1 if present[0] == 0 else 0  # 0: no parcel -> -1 in the grid
    take = present[offset:] - 1
    columns = [column[take].tolist() for column in lookup.values()]
    parcels = [list(r) for r in zip(*columns, strict=True)]
    data = {"grid": GRID, "g": (grid.ravel() - offset).tolist(), "p": parcels}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_plain)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'{CALLBACK}("{zoom}/{x}/{y}",{text});\n'


def _plain(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return None


def lookup_frame(codes: pd.Series, views: dict[str, pd.Series], area_ha: pd.Series):
    """Per parcel (arrays in the layer's order): code, class per use, area in ha."""
    return {
        "code": codes.astype(object).where(codes.notna(), None).to_numpy(),
        **{k: v.astype(object).where(v.notna(), None).to_numpy() for k, v in views.items()},
        "ha": np.round(area_ha.to_numpy(dtype=float), 4),
    }
