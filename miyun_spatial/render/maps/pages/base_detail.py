"""base_B1.html ... base_B7.html: one map per farmer base, centred on it, with its surroundings.

Each page shows the base (thick outline in its category colour), what lies within
``SURROUNDINGS_M`` of it (other plan features, parcels, projects), the district and town
labels, and a panel with the base's facts and its role as a support node (承载支点) or as a
candidate for the Zhongguancun park's expansion.

A page stays small at any number of parcels: at most ``MAX_BASE_PARCELS`` parcels around the
base are drawn one by one (those nearest it); the others are summarised as grid squares (at
most ``MAX_REST_CELLS``), with a note in the legend. What every page draws alike (context,
plan layers, bases, projects) is serialised once for the seven pages (:class:`SharedLayers`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ....core.catalogue import CATALOGUE
from ....core.palette import category_colors, category_labels, land_use_labels
from ..aggregate import grid_layer_data
from ..controls import LegendSection
from ..fields import esc, fmt_area, fmt_value
from ..layers import LayerData, LayerStyle, catalogue_style
from ..page import (
    MapInputs,
    Page,
    bounds_of,
    centred_bounds,
    context_layers,
    feature_areas_ha,
    finish,
    new_map,
)
from .bases import CATEGORY, LAYER, base_filename
from .common import PARK_STATUS, category_legend, layer_entry, plan_layer_data
from .control_overlay import ControlOverlay, add_control_overlay, control_overlay
from .land_use import INITIAL_VIEW, PARCELS, add_parcels, class_legend, parcel_style, view_classes
from .projects import projects_data, stage_legend

SURROUNDINGS_M = 2500.0
NEIGHBOUR_LAYERS = ("clusters", "zgc_park", "park_in_park", "other_sites", "support_nodes")
# the initial view: the base with a margin, its nearest towns and what lies close to it
VIEW_MARGIN_M = 1200.0
NEAREST_PLACES = 2
PLACES_WITHIN_M = 4000.0  # nearer: the view is centred on the base, so it doubles
NEIGHBOURS_WITHIN_M = 1500.0
# parcels around a base drawn one by one (the nearest); the others are summarised on a grid
MAX_BASE_PARCELS = 2_000
MAX_REST_CELLS = 2_500  # grid squares for the others (100 m, doubled until they fit)
REST_KEY = "land_parcels_rest"
BOUNDED_NOTE = (
    "周边共 {total:,} 个地块：距基地最近的 {limit:,} 个逐块显示，其余 {rest:,} 个按 {cell:g} m 网格"
    "汇总，每格着色为面积最大的规划用地，弹窗列出各用地地块数；逐地块数据见 results.gpkg。 "
    "{total:,} parcels around: the {limit:,} nearest the base are drawn one by one, the other "
    "{rest:,} as {cell:g} m grid squares coloured by the planned use covering most parcel area "
    "(popups count the parcels of each use); results.gpkg holds every parcel."
)


def nearby(frame: gpd.GeoDataFrame | None, window) -> gpd.GeoDataFrame | None:
    """Features of ``frame`` that intersect ``window`` (whole features, not clipped)."""
    if frame is None:
        return None
    return frame.iloc[np.sort(frame.sindex.query(window, predicate="intersects"))]


def node_roles(inputs: MapInputs, code: str) -> list[str]:
    """Plain-text lines: the support node(s) this base is, and park-expansion candidates."""
    lines = []
    nodes = inputs.layer("support_nodes")
    if nodes is not None and "base_code" in nodes:
        mine = nodes[nodes["base_code"].astype(object) == code]
        for node_code, name in zip(mine["code"], mine["name_zh"], strict=True):
            lines.append(f"承载支点 Support node {node_code}：{name}")
        park = inputs.layer("zgc_park")
        if park is not None and "source_code" in park:
            sources = set(mine["code"].astype(object)) | {code}
            status = CATALOGUE["zgc_park"].field(PARK_STATUS)
            for zcode, source, value in zip(
                park["code"],
                park["source_code"].astype(object),
                park[PARK_STATUS],
                strict=True,
            ):
                if source in sources:
                    lines.append(
                        f"中关村密云园扩区候选 Park expansion candidate {zcode}："
                        f"{fmt_value(status, value)}"
                    )
    if not lines:
        lines.append("非承载支点 Not one of the six support nodes")
    return lines


def info_html(inputs: MapInputs, base: pd.Series, area_ha: float) -> str:
    spec = CATALOGUE[LAYER]
    rows = [
        (spec.field(CATEGORY).label, fmt_value(spec.field(CATEGORY), base.get(CATEGORY))),
        (spec.field("town_zh").label, esc(base.get("town_zh"))),
        ("面积 Area (EPSG:4548)", fmt_area(area_ha)),
        (
            spec.field("stated_area_ha").label,
            fmt_value(spec.field("stated_area_ha"), base.get("stated_area_ha")),
        ),
        (spec.field("direction_zh").label, esc(base.get("direction_zh"))),
        (spec.field("land_change_zh").label, esc(base.get("land_change_zh"))),
    ]
    table = "".join(f"<tr><th>{esc(label)}</th><td>{value}</td></tr>" for label, value in rows)
    roles = "".join(f"<li>{esc(line)}</li>" for line in node_roles(inputs, str(base["code"])))
    return (
        f"<details open><summary>{esc(base['code'])} {esc(base.get('name_zh'))}</summary>"
        f'<table class="miyun-facts">{table}</table><ul>{roles}</ul></details>'
    )


@dataclass(frozen=True)
class SharedLayers:
    """What every base's page draws the same way, serialised once for all of them.

    ``context``: district and towns; ``neighbours``: (layer name, data) of the whole plan
    layers around; ``other_bases``/``focus``: every base in the two styles (each page takes
    the others, or its own); ``projects``: every project (each page takes those nearby);
    ``control``: the control lines and their conflict pieces (merged per line at scale).
    """

    context: tuple[LayerData, ...]
    neighbours: tuple[tuple[str, LayerData], ...]
    other_bases: LayerData
    focus: LayerData
    projects: LayerData | None
    control: ControlOverlay


def shared_layers(inputs: MapInputs) -> SharedLayers:
    """The layers of :class:`SharedLayers` for ``inputs`` (whose bases layer exists)."""
    colors = category_colors(LAYER, CATEGORY)
    neighbours = []
    for name in NEIGHBOUR_LAYERS:
        # the whole layer: what lies beyond the first view is there when zooming out
        frame = inputs.layer(name)
        if frame is not None and len(frame):
            data = plan_layer_data(inputs, name, frame=frame, show=name != "zgc_park")
            neighbours.append((name, data))
    other_bases = plan_layer_data(
        inputs,
        LAYER,
        key="other_bases",
        name="其他农民就业产业基地 Other farmer-employment bases",
        style=catalogue_style(LAYER, colors=colors, label=True, label_priority=5),
    )
    focus = plan_layer_data(inputs, LAYER, key="base", style=focus_style(None), tooltip=5)
    return SharedLayers(
        # town names first: the base's own label moves above or below it rather than hide them
        context=tuple(context_layers(inputs, label_priority=20)),
        neighbours=tuple(neighbours),
        other_bases=other_bases,
        focus=focus,
        projects=projects_data(inputs),
        control=control_overlay(inputs),
    )


def focus_style(color: str | None) -> LayerStyle:
    """The page's own base: a thick outline in ``color`` (its category's), labelled first."""
    outline = {} if color is None else {"color": color}
    return catalogue_style(
        LAYER,
        colors=category_colors(LAYER, CATEGORY),
        **outline,
        weight=4,
        fill_opacity=0.45,
        label=True,
        label_priority=10,
        label_class="focus",
    )


def nearest_parcels(
    parcels: gpd.GeoDataFrame, geometry, limit: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``parcels`` split into the ``limit`` whose centres (of their bounding boxes) lie nearest
    ``geometry`` and the rest, each in the input's order.

    Distances are measured for the parcels nearest ``geometry``'s bounding box first (a lower
    bound of the distance), widening until no other parcel can be nearer.
    """
    if len(parcels) <= limit:
        return parcels, parcels.iloc[:0]
    bounds = shapely.bounds(np.asarray(parcels.geometry.array))
    cx, cy = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    x0, y0, x1, y1 = geometry.bounds
    dx = np.maximum(np.maximum(x0 - cx, cx - x1), 0)
    dy = np.maximum(np.maximum(y0 - cy, cy - y1), 0)
    lower = np.hypot(dx, dy)
    order = np.argsort(lower, kind="stable")
    count = min(len(parcels), 4 * limit)
    while True:
        candidates = order[:count]
        distance = shapely.distance(shapely.points(cx[candidates], cy[candidates]), geometry)
        kth = np.partition(distance, limit - 1)[limit - 1]
        if count == len(parcels) or kth <= lower[order[count]]:
            break
        count = min(len(parcels), 2 * count)
    near = np.zeros(len(parcels), dtype=bool)
    near[candidates[np.argsort(distance, kind="stable")[:limit]]] = True
    return parcels[near], parcels[~near]


def add_surrounding_parcels(
    m, inputs: MapInputs, parcels: gpd.GeoDataFrame, geometry, classes: pd.DataFrame | None
) -> tuple[dict[str, int], LegendSection]:
    """The parcels around a base, hidden at first: at most ``MAX_BASE_PARCELS`` one by one
    (the nearest), the others as grid squares coloured by the planned use covering most of
    their area, with a note.

    Returns the features drawn per layer key and the legend section (parcel counts are of all
    the parcels around).
    """
    detail, rest = nearest_parcels(parcels, geometry, MAX_BASE_PARCELS)
    drawn = {}
    views = view_classes(parcels)
    section = class_legend(
        parcels, classes, title="地块批复规划用地 Parcels, approved-plan use", views=views
    )
    if len(rest):
        # under the parcels drawn one by one, and cut around them
        grid, cell_m = grid_layer_data(
            inputs,
            rest,
            views[INITIAL_VIEW].drop(detail.index),
            key=REST_KEY,
            name=f"{PARCELS.title}（较远地块，网格汇总 farther parcels, grid）",
            style=replace(parcel_style(classes), field="k", weight=0.3),
            labels=land_use_labels(classes) if classes is not None else {},
            order=list(land_use_labels(classes)) if classes is not None else [],
            main_label="面积最大规划用地 Main planned use (by area)",
            counts_label="各规划用地地块数 Parcels by planned use",
            max_cells=MAX_REST_CELLS,
            cut=outline(detail),
        )
        drawn[grid.key] = grid.add_to(m, show=False).feature_count
        note = BOUNDED_NOTE.format(
            total=len(parcels), limit=MAX_BASE_PARCELS, rest=len(rest), cell=cell_m
        )
        section = replace(section, note=f"{section.note} {note}")
    layer = add_parcels(m, inputs, detail, classes, show=False)
    drawn[layer.key] = layer.feature_count
    return drawn, replace(section, layers=tuple(drawn))


def outline(parcels: gpd.GeoDataFrame):
    """The area the parcels cover, as one geometry (EPSG:4548)."""
    geoms = np.asarray(parcels.geometry.array)
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:  # not a clean coverage: the exact union
        return shapely.union_all(geoms)


def build_one(inputs: MapInputs, fid, shared: SharedLayers | None = None) -> Page:
    """The page of the base at index ``fid`` (``shared``: :func:`shared_layers` of ``inputs``)."""
    shared = shared_layers(inputs) if shared is None else shared
    bases = inputs.layer(LAYER)
    base = bases.loc[fid]
    code = str(base["code"])
    area = float(feature_areas_ha(bases.loc[[fid]]).iloc[0])
    labels = category_labels(LAYER, CATEGORY)
    category = labels.get(base.get(CATEGORY), str(base.get(CATEGORY)))
    title_zh = f"{code} {base.get('name_zh')}"
    title_en = f"{base.get('name_en')}"
    window = base.geometry.buffer(SURROUNDINGS_M)
    m = new_map(inputs, title_zh=title_zh, title_en=title_en, subtitle=f"分类 Category: {category}")
    drawn = {}
    for data in shared.context:
        drawn[data.key] = data.add_to(m).feature_count
    sections = []
    for name, data in shared.neighbours:
        layer = data.add_to(m)
        drawn[layer.key] = layer.feature_count
        sections.append(
            LegendSection(
                "周边 Surroundings",
                (replace(layer_entry(inputs.layer(name), name, area=False), count=None),),
                layers=(layer.key,),
            )
        )
    parcels = nearby(inputs.layer("land_parcels"), window)
    classes = inputs.table("land_use_classes")
    parcel_section = None
    if parcels is not None and len(parcels):
        parcel_drawn, parcel_section = add_surrounding_parcels(
            m, inputs, parcels, base.geometry, classes
        )
        drawn.update(parcel_drawn)
    others = shared.other_bases.subset(bases.index.drop(fid))
    if others.feature_count:
        drawn[others.key] = others.add_to(m).feature_count
    color = category_colors(LAYER, CATEGORY).get(base.get(CATEGORY), "#333333")
    focus = shared.focus.subset(pd.Index([fid])).restyled(focus_style(color))
    drawn[focus.key] = focus.add_to(m, name=title_zh).feature_count
    projects = nearby(inputs.layer("projects"), window)
    if projects is not None and len(projects) and shared.projects is not None:
        layer = shared.projects.subset(projects.index).add_to(m)
        drawn[layer.key] = layer.feature_count
    sections = [
        replace(category_legend(bases, LAYER), layers=("base", "other_bases")),
        *_merge_surroundings(sections),
    ]
    if parcel_section is not None:
        sections.append(parcel_section)
    if projects is not None and len(projects):
        sections.append(replace(stage_legend(projects, sizes=False), layers=("projects",)))
    control_drawn, control_legend = add_control_overlay(m, shared.control)
    drawn.update(control_drawn)
    sections.extend(control_legend)
    html = finish(
        m,
        inputs,
        legend=sections,
        bounds=centred_bounds(
            bounds_of(view_geometries(inputs, bases.loc[[fid]])),
            subject_centre(inputs, bases.loc[[fid]]),
        ),
        panels=[(info_html(inputs, base, area), "miyun-base-info")],
        max_zoom=16,
    )
    roles = node_roles(inputs, code)
    return Page(
        base_filename(code),
        title_zh,
        title_en,
        f"{code} 及周边{SURROUNDINGS_M / 1000:g}公里：分类、面积、支点角色 "
        f"{code} and its surroundings within {SURROUNDINGS_M / 1000:g} km",
        (f"{category}，{fmt_area(area)}", *roles),
        html,
        drawn,
    )


def _merge_surroundings(sections: list[LegendSection]) -> list[LegendSection]:
    """One 'Surroundings' section whose rows each show only while their layer is on."""
    if not sections:
        return []
    return [
        LegendSection(
            "周边 Surroundings",
            tuple(
                replace(e, layer=k)
                for s in sections
                for e, k in zip(s.entries, s.layers, strict=True)
            ),
            layers=tuple(k for s in sections for k in s.layers),
        )
    ]


def subject_centre(inputs: MapInputs, focus: gpd.GeoDataFrame) -> tuple[float, float]:
    """(lon, lat) of the centre of the base's bounding box, in display coordinates."""
    x0, y0, x1, y1 = inputs.display(focus.geometry, simplify_m=5).total_bounds
    return (float(x0 + x1) / 2, float(y0 + y1) / 2)


def view_geometries(inputs: MapInputs, focus: gpd.GeoDataFrame) -> list[gpd.GeoSeries]:
    """What the first view of a base's page holds: the base with a margin, its nearest towns,
    and the plan features and other bases close to it (display geometries)."""
    geometry = focus.geometry.iloc[0]
    parts = [gpd.GeoSeries([geometry.buffer(VIEW_MARGIN_M)], crs=focus.crs)]
    places = inputs.layer("places")
    if places is not None and len(places):
        distance = places.distance(geometry)
        near = distance[distance <= PLACES_WITHIN_M].nsmallest(NEAREST_PLACES).index
        parts.append(places.loc[near].geometry)
    close = geometry.buffer(NEIGHBOURS_WITHIN_M)
    for name in (*NEIGHBOUR_LAYERS, LAYER):
        frame = nearby(inputs.layer(name), close)
        if frame is not None and len(frame):
            # other features count with their part near the base only (a cluster can be huge)
            parts.append(frame.geometry.intersection(close))
    together = np.concatenate([np.asarray(g.array) for g in parts])  # one transform
    return [inputs.display(gpd.GeoSeries(together, crs=focus.crs), simplify_m=5)]


def build(inputs: MapInputs) -> list[Page]:
    bases = inputs.layer(LAYER)
    if bases is None:
        return []
    shared = shared_layers(inputs)
    return [build_one(inputs, fid, shared) for fid in bases.index]
