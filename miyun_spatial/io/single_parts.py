"""Single-part multi-geometries read as their single type, wherever layers are read.

A GIS tool (or a PostGIS column typed MULTIPOINT) may store a project's point as a MultiPoint
of one point. Every source (the GeoPackage read, the PostGIS read) turns such one-part
MultiPoints of the catalogue's point layers into Points right after reading, so every
output sees a point. A MultiPoint of several points stays as it is: validation refuses it
(``geometry_kind``), naming the feature. Polygon layers take Polygons and MultiPolygons
alike (both have an area), so they are read as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.catalogue import CATALOGUE

_MULTIPOINT = 4  # shapely.GeometryType.MULTIPOINT


def single_points(layers: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``layers`` with every one-part MultiPoint of a catalogue point layer as its Point
    (changed layers are copies; the others are returned as they are)."""
    out = dict(layers)
    for name, frame in layers.items():
        spec = CATALOGUE.get(name)
        if spec is None or spec.geometry != "point" or not isinstance(frame, gpd.GeoDataFrame):
            continue
        geoms = np.asarray(frame.geometry.values, dtype=object)
        one = (shapely.get_type_id(geoms) == _MULTIPOINT) & (shapely.get_num_geometries(geoms) == 1)
        if not one.any():
            continue
        geoms = geoms.copy()
        geoms[one] = shapely.get_geometry(geoms[one], 0)
        frame = frame.copy()
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
        out[name] = frame
    return out
