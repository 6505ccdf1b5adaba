"""The overlay of a scenario from the base's: only changed zones and parcels are recomputed.

A scenario that redraws a few zones or parcels leaves every other (zone, parcel) piece as it
was. :func:`updated_pieces` keeps the base pieces of the unchanged pairs, overlays the changed
zones with every parcel and the changed parcels with the unchanged zones, and puts the rows
back in ``overlay_pieces`` order (zone, then parcel position) on the same index levels, so the
result equals ``overlay_pieces`` on the edited layers (to rounding in the last digit).
"""

from __future__ import annotations

from collections.abc import Collection

import geopandas as gpd
import numpy as np
import pandas as pd

from .overlay import PARCEL, PIECE_COLUMNS, ZONE, overlay_pieces


def updated_pieces(
    base: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    changed_zones: Collection[str] = (),
    changed_parcels: Collection[str] = (),
    zone_layer: str = "zones",
    parcel_layer: str = "parcels",
) -> pd.DataFrame:
    """``overlay_pieces(zones, parcels)`` from ``base`` (the pieces before the edits).

    ``zones`` and ``parcels`` are the edited layers, with the same features (index) as those
    ``base`` was made from; ``changed_zones`` / ``changed_parcels`` are the codes whose
    geometry differs.
    """
    zone_level, parcel_level = base.index.levels
    if not (zone_level.equals(zones.index) and parcel_level.equals(parcels.index)):
        return overlay_pieces(zones, parcels, zone_layer=zone_layer, parcel_layer=parcel_layer)
    zone_changed = zones.index.isin(list(changed_zones))
    parcel_changed = parcels.index.isin(list(changed_parcels))
    if not zone_changed.any() and not parcel_changed.any():
        return base
    zone_pos, parcel_pos = base.index.codes[0], base.index.codes[1]
    kept = ~zone_changed[zone_pos] & ~parcel_changed[parcel_pos]
    parts = [(np.asarray(zone_pos)[kept], np.asarray(parcel_pos)[kept], base[kept])]
    if zone_changed.any():
        parts.append(
            _positioned(
                overlay_pieces(
                    zones[zone_changed], parcels, zone_layer=zone_layer, parcel_layer=parcel_layer
                ),
                np.flatnonzero(zone_changed),
                np.arange(len(parcels)),
            )
        )
    if parcel_changed.any() and (~zone_changed).any():
        parts.append(
            _positioned(
                overlay_pieces(
                    zones[~zone_changed],
                    parcels[parcel_changed],
                    zone_layer=zone_layer,
                    parcel_layer=parcel_layer,
                ),
                np.flatnonzero(~zone_changed),
                np.flatnonzero(parcel_changed),
            )
        )
    zi = np.concatenate([p[0] for p in parts]).astype(np.int64)
    pi = np.concatenate([p[1] for p in parts]).astype(np.int64)
    values = {
        column: np.concatenate([p[2][column].to_numpy() for p in parts]) for column in PIECE_COLUMNS
    }
    order = np.lexsort((pi, zi))
    index = pd.MultiIndex(
        levels=[zone_level, parcel_level],
        codes=[zi[order], pi[order]],
        names=[ZONE, PARCEL],
        verify_integrity=False,
    )
    return pd.DataFrame({c: v[order] for c, v in values.items()}, index=index)


def _positioned(pieces: pd.DataFrame, zone_positions: np.ndarray, parcel_positions: np.ndarray):
    """(zone positions, parcel positions, pieces) of a sub-overlay, in the full layers."""
    return (
        zone_positions[pieces.index.codes[0]],
        parcel_positions[pieces.index.codes[1]],
        pieces,
    )


def geometry_changes(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> pd.Index:
    """The codes (index) of the features whose geometry differs between two versions."""
    same = before.geometry.geom_equals_exact(after.geometry.reindex(before.index), 0.0)
    return before.index[~same.to_numpy(dtype=bool)]


__all__ = ["geometry_changes", "updated_pieces"]
