"""Zone rows of the control-line tables, joined from pieces already computed (issue 22).

A zone's share of a parcel's control-line piece is (zone ∩ parcel) ∩ (line ∩ parcel). Both
overlays are known: the parcel rows of ``control_lines._parcel_pieces`` (line x parcel, with
``whole`` where the line covers the parcel) and the zone x parcel pieces of
``metrics.prepare`` (``MetricInputs.pieces``, with ``whole`` where the zone covers the parcel).
Joining them on the parcel gives every (zone, row) pair without a spatial query, and most
areas without a geometry operation:

- the zone covers the parcel: the zone's share is the whole row piece (its area);
- the row piece is the whole parcel (the line covers it, or it lies outside every urban
  boundary untouched): the share is the zone's piece of the parcel (its area);
- only when both are partial is the piece cut by the zone, with the zone's prepared geometry
  (``covers`` fast path) and its tiles (``overlay`` engine), as ``overlay_pieces`` does.

Everything is arrays: no Python loop per row.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .overlay import _classify, _edge_areas, overlay_pieces


def join_on_parcel(row_parcel: np.ndarray, piece_parcel: np.ndarray):
    """All (row, piece) pairs with the same parcel position, as two aligned position arrays."""
    order = np.argsort(row_parcel, kind="stable")
    ranked = row_parcel[order]
    start = np.searchsorted(ranked, piece_parcel, side="left")
    count = np.searchsorted(ranked, piece_parcel, side="right") - start
    piece = np.repeat(np.arange(len(piece_parcel)), count)
    offset = np.arange(len(piece)) - np.repeat(np.cumsum(count) - count, count)
    row = order[np.repeat(start, count) + offset]
    return row, piece


def zone_pieces(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    pieces: pd.DataFrame | None,
    *,
    zone_layer: str,
    parcel_layer: str,
) -> pd.DataFrame:
    """``pieces`` when it is the zone x parcel overlay of these layers, else computed."""
    if (
        pieces is not None
        and pieces.index.levels[0].equals(zones.index)
        and pieces.index.levels[1].equals(parcels.index)
    ):
        return pieces
    return overlay_pieces(zones, parcels, zone_layer=zone_layer, parcel_layer=parcel_layer)


def zone_row_areas(
    zones: gpd.GeoDataFrame,
    pieces: pd.DataFrame,
    row_parcel: np.ndarray,
    row_area: np.ndarray,
    row_whole: np.ndarray,
    row_geoms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row position, zone position, area m²) of every zone's share of every row piece.

    ``row_parcel``: each row's parcel position in the parcels of ``pieces``; ``row_area``,
    ``row_geoms``: the row piece's area and geometry; ``row_whole``: the piece is the whole
    parcel. Pairs of zero area are dropped.
    """
    piece_zone = pieces.index.codes[0].astype(np.int64)
    piece_parcel = pieces.index.codes[1].astype(np.int64)
    row, piece = join_on_parcel(np.asarray(row_parcel, dtype=np.int64), piece_parcel)
    zone = piece_zone[piece]
    zone_whole = pieces["whole"].to_numpy(dtype=bool)[piece]
    area = np.where(zone_whole, row_area[row], pieces["area_m2"].to_numpy()[piece])
    partial = np.flatnonzero(~zone_whole & ~row_whole[row])
    if len(partial):
        zone_geoms = np.asarray(zones.geometry.array, dtype=object)
        geoms = row_geoms[row[partial]]
        kind = _classify(shapely.to_wkb(zone_geoms), zone[partial], geoms)
        covered, edge = partial[kind == 2], np.flatnonzero(kind == 1)
        area[partial] = 0.0
        area[covered] = row_area[row[covered]]
        if len(edge):
            area[partial[edge]] = _edge_areas(zone_geoms, zone[partial[edge]], geoms[edge])
    keep = area > 0.0
    return row[keep], zone[keep], area[keep]


__all__ = ["join_on_parcel", "zone_pieces", "zone_row_areas"]
