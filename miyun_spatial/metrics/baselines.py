"""The states of a land-use adjustment side by side (调整前后): 现状 current, 批复规划 approved
plan, 调整后 adjusted.

A re-designation (用地性质调整) is measured against the approved plan: its before/after is
``planned`` → ``adjusted``; the current survey use is shown beside it, never as the baseline.
:func:`baselines` gives, per zone, the area of every (current, planned, adjusted) triple of the
parcel pieces inside it, so a figure or table can say which state it shows and how much.
Areas are planar, in EPSG:4548, in hectares and 亩.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from ..core.landuse import parcel_uses
from ..core.measure import M2_PER_HA, MU_PER_HA
from .overlay import ZONE, piece_values

BASELINE_LEVELS = (ZONE, "current_use", "planned_use", "adjusted_use")
STATE_COLUMNS = {"current": "current_use", "planned": "planned_use", "adjusted": "adjusted_use"}


def baselines(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    pieces: pd.DataFrame,
    use_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per zone, the parcel area in each (current, planned, adjusted) use triple.

    Parameters
    ----------
    zones, parcels
        In EPSG:4548, indexed by code.
    pieces
        ``overlay.overlay_pieces(zones, parcels)`` (``MetricInputs.pieces``).
    use_frame
        The parcels' uses when already computed (``core.landuse.parcel_uses``).

    Returns
    -------
    pandas.DataFrame
        Index (``zone``, ``current_use``, ``planned_use``, ``adjusted_use``), in the order of
        ``zones`` then by decreasing area; columns ``area_ha``, ``area_mu`` and ``adjusted``
        (bool: the re-designation changes the approved plan's use).
    """
    uses = parcel_uses(parcels) if use_frame is None else use_frame
    taken = piece_values(pieces, uses[list(STATE_COLUMNS)])
    frame = pd.DataFrame(
        {
            ZONE: pieces.index.get_level_values(ZONE),
            **{
                column: taken[state].astype(object).to_numpy()
                for state, column in STATE_COLUMNS.items()
            },
            "area_m2": pieces["area_m2"].to_numpy(),
        }
    )
    summed = frame.groupby(list(BASELINE_LEVELS), sort=False)["area_m2"].sum()
    summed = summed[summed > 0]
    order = {code: i for i, code in enumerate(zones.index)}
    summed = summed.sort_values(ascending=False, kind="stable")
    position = summed.index.get_level_values(ZONE).map(order)
    summed = summed.iloc[pd.Series(position).argsort(kind="stable").to_numpy()]
    out = pd.DataFrame({"area_ha": summed / M2_PER_HA})
    out["area_mu"] = out["area_ha"] * MU_PER_HA
    out["adjusted"] = out.index.get_level_values("planned_use") != out.index.get_level_values(
        "adjusted_use"
    )
    out.index = out.index.set_names(list(BASELINE_LEVELS))
    return out


def stack_baselines(parts: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each zone layer's ``baselines`` under a ``layer`` level (no rows, same columns, when
    there is none)."""
    if not parts:
        empty = pd.MultiIndex.from_arrays([[]] * 5, names=["layer", *BASELINE_LEVELS])
        return pd.DataFrame({"area_ha": [], "area_mu": [], "adjusted": []}, index=empty)
    return pd.concat(parts, names=["layer"])


__all__ = ["BASELINE_LEVELS", "baselines", "stack_baselines"]
