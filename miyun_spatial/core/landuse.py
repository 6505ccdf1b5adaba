"""Parcels' land uses in their three states (current, planned, adjusted): the names, their
labels, and :func:`parcel_uses`, the one place a parcel's use in each state is decided."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .catalogue import CATALOGUE
from .errors import DataError

PARCELS = CATALOGUE["land_parcels"]
CURRENT_USE = PARCELS.field("current_use").name
PLANNED_USE = PARCELS.field("planned_use").name
PROPOSED_USE = PARCELS.field("proposed_use").name

USES = ("current", "planned", "adjusted")
USE_LABELS = {
    "current": "现状用地 current use",
    "planned": "批复规划用地 approved-plan use",
    "adjusted": "调整后用地 use after re-designation",
}
UNCOVERED = "uncovered"
UNCOVERED_LABEL = "无地块 not covered by parcels"
KIND_LABELS = {
    "current_to_planned": "现状→批复规划 current to approved plan",
    "planned_to_adjusted": "批复规划→调整后 approved plan to re-designated",
}


def parcel_uses(
    parcels: pd.DataFrame, uses: Sequence[str] = USES, *, layer: str = PARCELS.name
) -> pd.DataFrame:
    """The uses of every parcel: columns among ``current``, ``planned``, ``adjusted``.

    ``adjusted`` is ``proposed_use`` where set, else ``planned_use``. An empty current or
    planned use raises DataError naming the parcel.
    """
    unknown = set(uses) - set(USES)
    if unknown:
        raise ValueError(f"unknown uses {sorted(unknown)}; choose among {USES}")
    needed = {"current": (CURRENT_USE,), "planned": (PLANNED_USE,), "adjusted": (PLANNED_USE,)}
    for field in dict.fromkeys(f for use in uses for f in needed[use]):
        if field not in parcels.columns:
            raise DataError(f"layer '{layer}' has no field '{field}'; add it (text, class code)")
        empty = parcels[field].isna()
        if empty.any():
            raise DataError(
                f"layer '{layer}' feature {parcels.index[empty][0]}: '{field}' is empty "
                f"({int(empty.sum())} parcels); fill in a land_use_classes code"
            )
    out = {}
    for use in uses:
        if use == "current":
            out[use] = parcels[CURRENT_USE]
        elif use == "planned" or PROPOSED_USE not in parcels.columns:
            out[use] = parcels[PLANNED_USE]
        else:
            out[use] = parcels[PROPOSED_USE].fillna(parcels[PLANNED_USE])
    return pd.DataFrame(out, index=parcels.index)
