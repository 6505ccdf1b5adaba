"""Reuse, in a scenario, the metric parts of the base whose inputs the scenario left equal.

``prepare(..., base=...)`` links a scenario's ``MetricInputs`` to the base's; each inputs
keeps the parts it computed in its ``memo`` (key: family and zone layer). :func:`reused`
returns the base's part when every input the part reads is equal to the base's (the same
object, or equal values and, for geometries, equal WKB), else computes it. One rule for any
edit: a part is recomputed as soon as one of its inputs differs, so a reused part is the
very table the scenario would compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def same_frame(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
    """``a`` and ``b`` hold equal values (geometries compared as WKB), index and columns."""
    if a is b:
        return True
    if a is None or b is None or type(a) is not type(b):
        return False
    if not (a.index.equals(b.index) and a.columns.equals(b.columns)):
        return False
    if isinstance(a, gpd.GeoDataFrame):
        name = a.geometry.name
        if name != b.geometry.name or a.crs != b.crs:
            return False
        wa = shapely.to_wkb(np.asarray(a.geometry.array))
        wb = shapely.to_wkb(np.asarray(b.geometry.array))
        if not np.array_equal(wa, wb):
            return False
        a, b = pd.DataFrame(a.drop(columns=name)), pd.DataFrame(b.drop(columns=name))
    return bool(a.dtypes.equals(b.dtypes) and a.equals(b))


def reused(
    inputs, key: tuple, reads: Callable[[object], Sequence], compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """The part ``key`` of ``inputs``: the base's if ``reads`` gives equal frames for both."""
    base = inputs.base
    if (
        base is not None
        and key in base.memo
        and all(same_frame(x, y) for x, y in zip(reads(inputs), reads(base), strict=True))
    ):
        inputs.memo[key] = base.memo[key]
        return base.memo[key]
    inputs.memo[key] = part = compute()
    return part


def outlines(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Only the index and geometry of ``frame`` (what the overlays and areas read)."""
    return frame[[frame.geometry.name]]


__all__ = ["outlines", "reused", "same_frame"]
