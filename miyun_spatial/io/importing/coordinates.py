"""Coordinate decisions for a delivery: which CRS it is really in, and the move to EPSG:4548.

The declared CRS (``.prj``, GeoJSON, FileGDB) is honoured unless ``--source-crs`` overrides it,
but always checked against the coordinates: Beijing data in the stated CRS must fall in or near
Beijing. A zone-prefixed easting (39 4xx xxx: CGCS2000 3-degree zone 39, EPSG:4527), a missing
or wrong ``.prj`` are refused with the ``--source-crs`` to give. ``gcj02`` (coordinates
digitized on Gaode/Tencent maps) is shifted back to WGS 84 with prcoords.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError
from pyproj.exceptions import ProjError

from ...core.crs import WORK_CRS, gcj_to_wgs
from ...core.errors import DataError, InputError
from .reproject import reproject_in_place

GCJ02 = "gcj02"
_GCJ_NAMES = {"gcj02", "gcj-02", "gcj_02"}
# Beijing and its surroundings in lon/lat: coordinates outside are in another CRS than stated.
BEIJING_LONLAT = (115.0, 39.0, 118.5, 41.5)
_CGCS2000_ZONE_BASE = 4513 - 25  # EPSG:4513 is CGCS2000 3-degree zone 25 ... 4533 zone 45


def parse_source_crs(value: str | None) -> CRS | str | None:
    """``--source-crs``: ``gcj02`` or anything pyproj accepts (EPSG:4527, 4527, WKT...)."""
    if value is None:
        return None
    if value.strip().lower() in _GCJ_NAMES:
        return GCJ02
    text = value.strip()
    try:
        return CRS.from_user_input(int(text) if text.isdigit() else text)
    except ProjCRSError:
        raise InputError(
            f"--source-crs {value}: not a CRS pyproj knows; give e.g. EPSG:4527, EPSG:4548, "
            "EPSG:2436, EPSG:4490 or gcj02"
        ) from None


def _label(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def suggest_crs(bounds: np.ndarray) -> list[str]:
    """CRSs the coordinates look like (most likely first), from their ranges alone."""
    minx, miny, maxx, maxy = bounds
    if minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
        return ["EPSG:4490", "EPSG:4326", "gcj02"]
    if minx >= 25e6 and maxx < 46e6 and miny >= 2e6 and maxy <= 6e6:
        zone = int(minx // 1e6)
        return [f"EPSG:{_CGCS2000_ZONE_BASE + zone}"]
    if minx >= 2e5 and maxx <= 8e5 and miny >= 3e6 and maxy <= 6e6:
        return ["EPSG:4548", "EPSG:2436", "EPSG:2384"]
    return []


def _describe(bounds: np.ndarray) -> str:
    minx, miny, maxx, maxy = bounds
    if 25e6 <= minx < 46e6:
        return f"eastings {minx:,.0f}–{maxx:,.0f} carry the zone prefix {int(minx // 1e6)}"
    return f"coordinates span x {minx:,.6g}–{maxx:,.6g}, y {miny:,.6g}–{maxy:,.6g}"


def _lonlat(bounds: np.ndarray, crs: CRS) -> str:
    try:
        transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = transformer.transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    except ProjError:
        return " no valid lon/lat"
    if not np.isfinite([*lon, *lat]).all():
        return " no valid lon/lat"
    return f" lon {min(lon):.4f}–{max(lon):.4f}, lat {min(lat):.4f}–{max(lat):.4f}"


def _hint(bounds: np.ndarray, used: CRS | None = None) -> str:
    """The ``--source-crs`` that puts the data in Beijing; never ``used``, the CRS just tried."""
    guesses = [
        g
        for g in suggest_crs(bounds)
        if (used is None or g != _label(used))
        and in_beijing(bounds, CRS.from_user_input("EPSG:4326" if g == GCJ02 else g))
    ]
    if guesses:
        also = f" (or {', '.join(guesses[1:])})" if len(guesses) > 1 else ""
        return f"give --source-crs {guesses[0]}{also}"
    tried = ([_label(used)] if used is not None else []) + [
        g for g in suggest_crs(bounds) if g != GCJ02 and (used is None or g != _label(used))
    ]
    if not tried:
        return "find the CRS in the delivery's metadata and give it with --source-crs"
    placed = "; ".join(f"{g} puts them at{_lonlat(bounds, CRS.from_user_input(g))}" for g in tried)
    return (
        f"the data lie outside the district in every likely CRS ({placed}): check that this "
        "delivery is for Miyun, or clip it to the district before importing"
    )


def in_beijing(bounds: np.ndarray, crs: CRS) -> bool:
    try:
        transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = transformer.transform([bounds[0], bounds[2]], [bounds[1], bounds[3]])
    except ProjError:
        return False
    lon0, lat0, lon1, lat1 = BEIJING_LONLAT
    values = np.array([*lon, *lat], dtype=float)
    if not np.isfinite(values).all():
        return False
    return lon0 <= min(lon) and max(lon) <= lon1 and lat0 <= min(lat) and max(lat) <= lat1


def to_work(
    frame: gpd.GeoDataFrame,
    declared: CRS | None,
    option: CRS | str | None,
    *,
    where: str,
    in_place: bool = False,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``frame`` in EPSG:4548 and the decisions taken, or DataError saying which CRS to give.
    ``in_place``: the caller gives ``frame`` away; its geometries are reprojected in its own
    array, chunk by chunk (one copy of them alive, not two), and ``frame`` must not be used."""
    notes: list[str] = []
    geoms = frame.geometry.values
    present = ~(geoms.is_empty | geoms.isna())
    if not present.any():
        raise DataError(f"{where}: no feature has a geometry; nothing to import")
    bounds = np.array(shapely.total_bounds(geoms[present]))
    if option == GCJ02:
        if suggest_crs(bounds)[:1] != ["EPSG:4490"]:
            raise DataError(
                f"{where}: --source-crs gcj02 needs longitude/latitude, but {_describe(bounds)}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # prcoords: points outside China
            shifted = shapely.transform(geoms, gcj_to_wgs)
        frame = frame.set_geometry(gpd.GeoSeries(shifted, index=frame.index), crs="EPSG:4326")
        notes.append("GCJ-02 (--source-crs gcj02) shifted back to WGS 84 with prcoords")
        crs = CRS.from_epsg(4326)
        bounds = np.array(shapely.total_bounds(frame.geometry.values[present]))
    elif option is not None:
        crs = option
        if declared is not None and not declared.equals(crs):
            notes.append(
                f"declared CRS {_label(declared)} overridden by --source-crs {_label(crs)}"
            )
        else:
            notes.append(f"CRS {_label(crs)} from --source-crs")
        frame = frame.set_crs(crs, allow_override=True)
    elif declared is None:
        raise DataError(
            f"{where}: has no CRS (no .prj or CRS definition); {_describe(bounds)}; {_hint(bounds)}"
        )
    else:
        crs = declared
        notes.append(f"CRS {_label(crs)} as declared by the source")
    if not in_beijing(bounds, crs):
        source = "--source-crs" if option is not None else "the declared CRS (wrong .prj?)"
        raise DataError(
            f"{where}: in {_label(crs)} from {source} the features do not fall in Beijing: "
            f"{_describe(bounds)}; {_hint(bounds, crs)}"
        )
    if crs.equals(WORK_CRS):
        notes.append(f"already in {WORK_CRS.to_string()}: no reprojection")
        return frame, notes
    values = frame.geometry.values
    geoms = np.asarray(values) if in_place else np.array(values, dtype=object)
    reproject_in_place(geoms, values.crs, WORK_CRS)
    name = frame.geometry.name
    out = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=WORK_CRS, name=name))
    notes.append(f"reprojected from {_label(crs)} to {WORK_CRS.to_string()} (areas measured there)")
    return out, notes
