"""Keep pages small when parcel layers are large: dissolve parcels that look the same.

Beyond ``MAX_EMBEDDED`` polygons a page gets slow to load and to pan, so parcels are dissolved
by their display classes within square grid cells (a local, bounded dissolve: polygons stay
near their parcels and no single polygon spans the district). Areas are summed from the
parcels' own areas in EPSG:4548, before any display simplification.

A page then embeds at most (grid cells x class combinations) polygons, whatever the number of
parcels. Parcels go to the cell of their bounding-box centre, and each group is merged with
GEOS' coverage union (linear in the edges: parcels that validation let through share edges
rather than overlap), falling back to a full union if the parcels are not a clean coverage.
The merged outlines are for display only.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...core.crs import require_projected
from ...core.measure import planar_area_ha

log = logging.getLogger(__name__)

MAX_EMBEDDED = 10_000  # parcels per page beyond which they are aggregated (a page ~4 MB)
CELL_M = 1_000.0  # first cell size of the dissolve; doubled until MAX_GROUPS fit
MAX_GROUPS = 2_000  # dissolved polygons per page
MAX_COORDINATES = 150_000  # vertices of their outlines (about 3 MB), simplified beyond


def aggregate_parcels(
    parcels: gpd.GeoDataFrame, keys: pd.DataFrame, *, cell_m: float = CELL_M
) -> gpd.GeoDataFrame:
    """Dissolve ``parcels`` by the columns of ``keys`` (same index) within grid cells.

    Returns one row per (key values, cell) with the keys' columns, ``parcels`` (count),
    ``area_ha`` (sum of the parcels' planar areas) and the dissolved geometry (EPSG:4548).
    """
    require_projected(parcels, layer="land_parcels")
    bounds = shapely.bounds(parcels.geometry.values)
    frame = keys.astype(object).fillna("—").copy()
    frame["_cx"] = np.floor((bounds[:, 0] + bounds[:, 2]) / 2 / cell_m).astype("int64")
    frame["_cy"] = np.floor((bounds[:, 1] + bounds[:, 3]) / 2 / cell_m).astype("int64")
    frame["area_ha"] = planar_area_ha(parcels)
    frame["parcels"] = 1
    cells = gpd.GeoDataFrame(frame, geometry=parcels.geometry, crs=parcels.crs)
    by = [*keys.columns, "_cx", "_cy"]
    aggfunc = {"area_ha": "sum", "parcels": "sum"}
    try:
        groups = cells.dissolve(by=by, aggfunc=aggfunc, as_index=False, method="coverage")
    except shapely.errors.GEOSException:
        log.info("parcels are not a clean coverage: dissolving them with a full union")
        groups = cells.dissolve(by=by, aggfunc=aggfunc, as_index=False)
    groups.index = pd.RangeIndex(len(groups), name="group")
    log.info(
        "aggregated %d parcels into %d polygons for display (%g m cells)",
        len(parcels),
        len(groups),
        cell_m,
    )
    return groups.drop(columns=["_cx", "_cy"])


def aggregation_cell(
    parcels: gpd.GeoDataFrame,
    keys: pd.DataFrame,
    *,
    cell_m: float = CELL_M,
    max_groups: int | None = None,
) -> float:
    """The cell size for :func:`aggregate_parcels`: ``cell_m``, doubled until the parcels
    make at most ``max_groups`` (default ``MAX_GROUPS``) polygons, or all lie in one cell
    (more combinations of classes than that). Counted, not dissolved."""
    max_groups = MAX_GROUPS if max_groups is None else max_groups
    bounds = shapely.bounds(parcels.geometry.values)
    mid_x, mid_y = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    codes = pd.DataFrame(
        {
            f"_k{i}": pd.factorize(keys[c].astype(object).fillna("—"))[0]
            for i, c in enumerate(keys.columns)
        }
    )
    while True:
        codes["_cx"] = np.floor(mid_x / cell_m).astype("int64")
        codes["_cy"] = np.floor(mid_y / cell_m).astype("int64")
        one_cell = codes["_cx"].nunique() == 1 and codes["_cy"].nunique() == 1
        if one_cell or len(codes) - int(codes.duplicated().sum()) <= max_groups:
            return cell_m
        cell_m *= 2


def simplified_outlines(geometry: gpd.GeoSeries, *, max_coordinates: int | None = None):
    """Dissolved outlines (EPSG:4548) simplified for display until they hold at most
    ``max_coordinates`` (default ``MAX_COORDINATES``) vertices in all.

    Coverage simplification (shared edges stay shared; tolerance doubled from 4 m), or
    topology-preserving simplification of each polygon where the groups are not a clean
    coverage. Returns the geometries and the tolerance used (0: unchanged).
    """
    limit = MAX_COORDINATES if max_coordinates is None else max_coordinates
    original = np.asarray(geometry.array)
    values, tolerance = original, 0.0
    while shapely.get_num_coordinates(values).sum() > limit and tolerance < 100_000:
        tolerance = tolerance * 2 if tolerance else 4.0
        try:
            values = shapely.coverage_simplify(original, tolerance)
        except shapely.errors.GEOSException:
            values = shapely.simplify(original, tolerance, preserve_topology=True)
    if tolerance:
        log.info("aggregated outlines simplified at %g m for display", tolerance)
    return gpd.GeoSeries(values, index=geometry.index, crs=geometry.crs), tolerance


AGGREGATED_NOTE = (
    "地块超过 {limit:,} 个：同类地块按 {cell:g} km 网格合并显示，面积为地块面积之和；"
    "逐地块数据见 results.gpkg（用地有变化的地块另见 {csv}）。 More than {limit:,} parcels: "
    "parcels of the same classes are merged within {cell:g} km cells for display (areas are "
    "the parcels' own); results.gpkg holds every parcel ({csv}: those whose use changes)."
)
GRID_NOTE = (
    "地块超过 {limit:,} 个：按 {cell:g} m 网格显示，每格着色为面积最大的等级，弹窗列出各等级地块数；"
    "逐地块数据见 {csv} 与 results.gpkg。 More than {limit:,} parcels: shown as {cell:g} m grid "
    "squares coloured by the class covering most parcel area in each (aggregated); popups count "
    "the parcels of every class; {csv} and results.gpkg hold every parcel."
)
GRID_M = 100.0  # first grid size tried for grid views; doubled until MAX_GRID_CELLS fit
MAX_GRID_CELLS = 10_000


def aggregated_note(csv_name: str, *, cell_m: float = CELL_M) -> str:
    """The note a page shows when its parcels are aggregated (plain text; escape to embed)."""
    return AGGREGATED_NOTE.format(limit=MAX_EMBEDDED, cell=cell_m / 1000, csv=csv_name)


def grid_note(csv_name: str, cell_m: float) -> str:
    """The note of a grid view (plain text; escape to embed)."""
    return GRID_NOTE.format(limit=MAX_EMBEDDED, cell=cell_m, csv=csv_name)


def grid_view(
    parcels: gpd.GeoDataFrame,
    classes: pd.Series,
    *,
    cell_m: float = GRID_M,
    max_cells: int | None = None,
) -> tuple[gpd.GeoDataFrame, float]:
    """Parcels summarised on a square grid: no geometry is merged, so it is fast at any size.

    Each parcel goes to the cell of its bounding-box centre. Returns one row per cell holding
    parcels (``k``: the class with the most parcel area there, ``parcels``, ``area_ha``, and
    ``n_<class>`` parcel counts per class; geometry: the square, EPSG:4548) and the cell size
    used: ``cell_m``, doubled until at most ``max_cells`` (default ``MAX_GRID_CELLS``) cells
    hold parcels.
    """
    max_cells = MAX_GRID_CELLS if max_cells is None else max_cells
    require_projected(parcels, layer="land_parcels")
    bounds = shapely.bounds(parcels.geometry.values)
    mid_x, mid_y = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    keys = classes.astype(object).fillna("—").to_numpy()
    area = planar_area_ha(parcels).to_numpy()
    cell_m = _grid_size(mid_x, mid_y, cell_m, max_cells)
    cx = np.floor(mid_x / cell_m).astype("int64")
    cy = np.floor(mid_y / cell_m).astype("int64")
    frame = pd.DataFrame({"_cx": cx, "_cy": cy, "k": keys, "area_ha": area, "n": 1})
    per_class = frame.groupby(["_cx", "_cy", "k"], sort=True)[["area_ha", "n"]].sum()
    areas = per_class["area_ha"].unstack("k", fill_value=0.0)
    counts = per_class["n"].unstack("k", fill_value=0).astype("int64")
    out = pd.DataFrame(
        {
            "k": areas.idxmax(axis=1).astype(object),
            "parcels": counts.sum(axis=1),
            "area_ha": areas.sum(axis=1),
        }
    )
    for name in counts.columns:
        out[f"n_{name}"] = counts[name]
    x = out.index.get_level_values("_cx").to_numpy() * cell_m
    y = out.index.get_level_values("_cy").to_numpy() * cell_m
    squares = shapely.box(x, y, x + cell_m, y + cell_m)
    out = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=squares, crs=parcels.crs)
    out.index = pd.RangeIndex(len(out), name="cell")
    log.info("summarised %d parcels on %d grid cells of %g m", len(parcels), len(out), cell_m)
    return out, cell_m


def _grid_size(mid_x, mid_y, cell_m: float, max_cells: int) -> float:
    """``cell_m`` doubled until at most ``max_cells`` cells hold a parcel centre: the parcels
    are counted once, at ``cell_m``; each doubling then merges the occupied cells only (a cell
    of 2s holds the cells of s whose indices halve to it), never the parcels again."""
    cx = np.floor(mid_x / cell_m).astype("int64")
    cy = np.floor(mid_y / cell_m).astype("int64")
    cells = np.unique(np.column_stack([cx, cy]), axis=0)
    while len(cells) > max_cells:
        cells = np.unique(cells // 2, axis=0)  # floor division: the same as floor(x / 2s)
        cell_m *= 2
    return cell_m


def counts_text(cells: gpd.GeoDataFrame, order: list[str]) -> pd.Series:
    """'A 3 · B 12' per grid cell: the parcels of each class in ``order`` present there."""
    parts = [[f"{name} {n}" if n else "" for n in cells[f"n_{name}"].tolist()] for name in order]
    return pd.Series(
        [" · ".join(p for p in row if p) for row in zip(*parts, strict=True)]
        if parts
        else [""] * len(cells),
        index=cells.index,
        dtype=object,
    )


def grid_layer_data(
    inputs,
    parcels: gpd.GeoDataFrame,
    classes: pd.Series,
    *,
    key: str,
    name: str,
    style,
    labels: dict[str, str],
    order: list[str],
    main_label: str,
    counts_label: str,
    max_cells: int | None = None,
    cut=None,
):
    """A :func:`grid_view` of ``parcels`` by ``classes`` as a layer (``layers.LayerData``).

    Squares are coloured by the class covering most parcel area (``style.colors``); popups
    give that class (``labels``), the number of parcels, their area and the count per class
    (classes in ``order`` first). ``cut`` (a geometry in EPSG:4548, e.g. parcels drawn one by
    one) is cut out of the squares. Returns the layer and the grid size.
    """
    from .fields import area_column, text_column
    from .layers import layer_data

    cells, cell_m = grid_view(parcels, classes, max_cells=max_cells)
    present = [c[2:] for c in cells.columns if c.startswith("n_")]
    order = [c for c in order if c in present] + [c for c in present if c not in order]
    columns = [
        text_column("_main", main_label, cells["k"].map(lambda k: labels.get(k, k))),
        text_column("_n", "地块数 Parcels", cells["parcels"].map(str)),
        area_column(cells["area_ha"]),
        text_column("_by", counts_label, counts_text(cells, order)),
    ]
    geometry = cells.geometry
    if cut is not None and not cut.is_empty:
        geometry = gpd.GeoSeries(
            shapely.difference(np.asarray(geometry.array), cut), index=cells.index, crs=cells.crs
        )
    data = layer_data(
        key=key,
        name=name,
        geometry=inputs.display(geometry, simplify_m=0),
        style=style,
        classes=cells["k"],
        schematic=pd.Series(False, index=cells.index),
        columns=columns,
        tooltip=3,
    )
    return data, cell_m


def add_aggregated_grades(target, inputs, parcels: gpd.GeoDataFrame, grades: pd.Series, *, name):
    """The yield page's parcels as a grid view (:func:`grid_view`) coloured by grade.

    Popups give the main grade, the number of parcels, their area and the count per grade.
    Returns the layer and the grid size.
    """
    from ...core.palette import GRADES, NO_DATA, grade_colors, grade_labels
    from .layers import LayerStyle

    data, cell_m = grid_layer_data(
        inputs,
        parcels,
        grades,
        key="yield_parcels",
        name=name,
        style=LayerStyle(color="#555555", weight=0.3, fill_opacity=0.8, colors=grade_colors()),
        labels=grade_labels(),
        order=[*GRADES, NO_DATA],
        main_label="面积最大等级 Main grade (by area)",
        counts_label="各等级地块数 Parcels by grade",
    )
    return data.add_to(target), cell_m
