"""Parcel panels of the static maps: parcels filled by a value (vectors, or one rasterised
path per value above :data:`VECTOR_PARCELS_MAX`), their legend entries, outlines and extents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes

from ...core.landuse import parcel_uses
from ...core.palette import hatched_land_uses, land_use_colors
from .elements import (
    HATCH,
    HATCH_COLOR,
    PLAN_LAYERS,
    MapData,
    draw_geometries,
    draw_groups,
    draw_polygons,
    legend_patch,
)

VECTOR_PARCELS_MAX = 5_000  # parcels drawn as vectors, with outlines, in one panel


def district_bounds(data: MapData):
    district = data.layer("district")
    if district is not None:
        return district.total_bounds
    frames = [f for f in (data.layer(n) for n in PLAN_LAYERS) if f is not None]
    return pd.concat(frames).total_bounds


def use_values(data: MapData, use: str) -> pd.Series | None:
    parcels = data.layer("land_parcels")
    if parcels is None:
        return None
    return parcel_uses(parcels, (use,))[use]


def class_entries(codes: Sequence[str], data: MapData) -> list:
    colors = land_use_colors(data.classes) if data.classes is not None else {}
    names = {}
    if data.classes is not None:
        names = dict(zip(data.classes["code"].astype(str), data.classes["name_zh"], strict=True))
    order = [c for c in colors if c in set(codes)] + sorted(set(codes) - set(colors))
    hatched = set(hatched_land_uses(data.classes)) if data.classes is not None else set()
    return [
        (
            f"{c} {names.get(c, '')}".strip(),
            legend_patch(colors.get(c, "#cccccc"), hatch=HATCH if c in hatched else None),
        )
        for c in order
    ]


def parcels_by(ax: Axes, data: MapData, values: pd.Series, colors: Mapping[str, str], bounds):
    """The parcels that intersect ``bounds`` filled by ``values`` (one per parcel, indexed as
    the parcels); returns the values shown.

    Above :data:`VECTOR_PARCELS_MAX` parcels a parcel is a few pixels wide: outlines are left
    out, the parcels of a value are drawn as one path and the layer is rasterised in the SVG
    as well, so the file stays small at any size. The parcel layer is not copied: its
    geometries are drawn from the layer's own array, selected by a mask.
    """
    parcels = data.layer("land_parcels")
    geoms = np.asarray(parcels.geometry.values)
    box = shapely.box(*bounds)
    shapely.prepare(box)
    inside = np.flatnonzero(shapely.intersects(geoms, box))  # as GeoDataFrame.cx selects
    labels = values if values.index.equals(parcels.index) else values.reindex(parcels.index)
    if isinstance(labels.dtype, pd.CategoricalDtype) and not labels.isna().any():
        codes, uniques = labels.cat.codes.to_numpy(), labels.cat.categories.astype(str)
    else:
        codes, uniques = pd.factorize(labels.astype(str), use_na_sentinel=False)
    shown, present = pd.factorize(codes[inside])  # in the order the parcels come
    uniques = [str(u) for u in np.asarray(uniques, dtype=object)[present]]
    fills = [colors.get(u, "#cccccc") for u in uniques]
    if len(inside) > VECTOR_PARCELS_MAX:
        if 8 * len(inside) > len(geoms):  # not a small part: the layer's array, the rest left
            # out (taking a reference to each parcel copies its memory page in a forked worker)
            drawn, groups = geoms, np.full(len(geoms), -1, dtype=np.intp)
            groups[inside] = shown
        else:
            drawn, groups = geoms[inside], shown
        collection = draw_groups(ax, drawn, groups, fills, edgecolor="none", linewidth=0, zorder=2)
        if collection is not None:
            collection.set_rasterized(True)
    else:
        each = [fills[c] for c in shown]
        draw_geometries(
            ax, geoms[inside], facecolors=each, edgecolor="#666666", linewidth=0.2, zorder=2
        )
    hatched = set(hatched_land_uses(data.classes)) if data.classes is not None else set()
    marked = [i for i, u in enumerate(uniques) if u in hatched]
    if marked:  # tinted (the class colour) and hatched over it, never blank white
        chosen = inside[np.isin(shown, marked)]
        draw_geometries(
            ax,
            geoms[chosen],
            facecolor="none",
            edgecolor=HATCH_COLOR,
            linewidth=0,
            hatch=HATCH,
            zorder=2.5,
        )
    return sorted(uniques)


def outline(ax: Axes, frame: gpd.GeoDataFrame, color: str, *, width: float = 1.4, zorder=6):
    draw_polygons(ax, frame, facecolor="none", edgecolor=color, linewidth=width, zorder=zorder)


def pad_bounds(bounds, pad: float):
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * pad + 200, (y1 - y0) * pad + 200
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)
