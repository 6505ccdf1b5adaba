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
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


@dataclass(frozen=True, eq=False)
class Outlines:
    """Only the index, geometry and CRS of ``frame`` count (what the overlays and areas read):
    :func:`same_frame` compares these without copying the frame."""

    frame: gpd.GeoDataFrame


def outlines(frame: gpd.GeoDataFrame) -> Outlines:
    """``frame`` as its outlines (its attributes ignored by :func:`same_frame`)."""
    return Outlines(frame)


def _same_geometry(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    if a.geometry.name != b.geometry.name or a.crs != b.crs:
        return False
    ga, gb = a.geometry.array, b.geometry.array
    if ga is gb:
        return True
    return bool(np.array_equal(shapely.to_wkb(np.asarray(ga)), shapely.to_wkb(np.asarray(gb))))


def same_frame(a, b) -> bool:
    """``a`` and ``b`` hold equal values (geometries compared as WKB), index and columns;
    for :class:`Outlines`, equal index and geometries."""
    if a is b:
        return True
    if a is None or b is None or type(a) is not type(b):
        return False
    if isinstance(a, Outlines):
        a, b = a.frame, b.frame
        return a is b or (a.index.equals(b.index) and _same_geometry(a, b))
    if not (a.index.equals(b.index) and a.columns.equals(b.columns)):
        return False
    if isinstance(a, gpd.GeoDataFrame):
        if not _same_geometry(a, b):
            return False
        name = a.geometry.name
        a, b = pd.DataFrame(a.drop(columns=name)), pd.DataFrame(b.drop(columns=name))
    return bool(a.dtypes.equals(b.dtypes) and a.equals(b))


def _same_reads(a: Sequence, b: Sequence) -> bool:
    return len(a) == len(b) and all(same_frame(x, y) for x, y in zip(a, b, strict=True))


def reused(
    inputs, key: tuple, reads: Callable[[object], Sequence], compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    """The part ``key`` of ``inputs``: the base's if ``reads`` gives equal frames for both."""
    base = inputs.base
    if base is not None and key in base.memo and _same_reads(reads(inputs), reads(base)):
        inputs.memo[key] = base.memo[key]
        return base.memo[key]
    inputs.memo[key] = part = compute()
    return part


__all__ = ["Outlines", "outlines", "reused", "same_frame"]
