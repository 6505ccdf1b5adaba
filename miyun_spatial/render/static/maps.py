"""Static maps for documents: one PNG and one SVG per thematic map, drawn with matplotlib.

Drawn from the EPSG:4548 work layers (a projected planning map: metres, no tiles, nothing
fetched), with the five elements of a planning map: 图名 title, 图例 legend, 比例尺 metric scale
bar, 指北针 north arrow (grid north of CGCS2000 / 3-degree GK CM 117E, within half a degree of
true north over Miyun), and a line with the data sources and the date. Colours come from the
catalogue and the GeoPackage's land_use_classes table (:mod:`miyun_spatial.core.palette`), as on
the interactive maps; schematic outlines are dashed, the district boundary is a dash-dot line
as administrative boundaries are drawn on planning maps.

``build`` writes them to ``static/`` in the output folder; the report embeds the PNGs. SVG text
stays text (searchable, and tests read the legend and the north arrow from it). Each artist of
a map element carries an SVG id (``map-title``, ``legend``, ``scale-bar``, ``north-arrow``,
``source-line``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ...core.catalogue import CATALOGUE
from ...core.measure import planar_area_ha
from ...core.palette import (
    NO_DATA,
    category_colors,
    category_labels,
    grade_colors,
    grade_labels,
    land_use_colors,
    layer_style,
)
from .control_lines import control_lines_map
from .elements import (
    HIGHLIGHT,
    PLAN_LAYERS,
    MapData,
    boundary_entry,
    district_boundary,
    draw_plan_layer,
    layer_entry,
    legend_patch,
)
from .labels import code_labels, town_labels
from .layout import (
    DEFAULT_LAYOUT,
    Layout,
    finish_layout,
    layout_frame,
    set_scale,
    view_bounds,
)
from .location import LOCATION_STATES, STATE_LABELS, location_map
from .output import STATIC_DIR, StaticMap, render, write_static_maps
from .parcel_panels import (
    VECTOR_PARCELS_MAX,
    class_entries,
    district_bounds,
    outline,
    parcels_by,
    use_values,
)

# --- the thematic maps ----------------------------------------------------------------------


def _features_bounds(data: MapData):
    """The extent of the plan's features (zones and bases): what the layout maps are about."""
    frames = [
        f
        for f in (data.layer(n) for n in (*PLAN_LAYERS, "farmer_bases", "land_adjustments"))
        if f is not None
    ]
    return pd.concat(frames).total_bounds if frames else district_bounds(data)


def _whole_district(data: MapData):
    """The district and every plan feature: what a 总图 shows, nothing cut off."""
    a, b = district_bounds(data), _features_bounds(data)
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def overview(data: MapData, layout: Layout = DEFAULT_LAYOUT) -> Figure:
    figure, (ax,), legend_ax = layout_frame(
        data, "高精尖产业空间布局总图", "Spatial layout: the 3+3+6 plan", layout
    )
    district_boundary(ax, data)
    entries = [boundary_entry()]
    for z, layer in enumerate(
        ("clusters", "zgc_park", "park_in_park", "support_nodes", "other_sites"), start=2
    ):
        frame = data.layer(layer)
        if frame is not None:
            draw_plan_layer(ax, frame, layer, zorder=z)
            code_labels(ax, frame)
            entries.append(layer_entry(layer))
    entries += _bases_layer(ax, data)
    town_labels(ax, data, district_bounds(data))
    scale = set_scale(ax, _whole_district(data), layout)
    return finish_layout(figure, ax, legend_ax, entries, scale, layout)


def _bases_layer(ax: Axes, data: MapData, *, zorder: int = 7) -> list:
    bases = data.layer("farmer_bases")
    if bases is None:
        return []
    field = CATALOGUE["farmer_bases"].category_field
    colors = category_colors("farmer_bases", field)
    labels = category_labels("farmer_bases", field)
    fills = [colors.get(c, "#999999") for c in bases[field]]
    draw_plan_layer(ax, bases, "farmer_bases", colors=fills, zorder=zorder)
    # a base is a few dozen hectares: a symbol keeps it visible at the scale of the district
    points = bases.geometry.representative_point()
    ax.scatter(
        points.x, points.y, s=22, c=fills, edgecolors="#222222", linewidths=0.6, zorder=zorder + 1
    )
    code_labels(ax, bases.assign(geometry=points), beside=True)
    present = [c for c in colors if c in set(bases[field])]
    area, mu = planar_area_ha(bases), CATALOGUE.mu_per_ha  # EPSG:4548, as every figure
    counts = [(c, (bases[field] == c).to_numpy()) for c in present]
    return [
        (
            f"农民就业基地 {labels[c]}\n{int(m.sum())} 个 · {area[m].sum():,.1f} ha"
            f"（{area[m].sum() * mu:,.0f} 亩）",
            _point_symbol(colors[c], 5),
        )
        for c, m in counts
    ]


def _point_symbol(color: str, size: float) -> Line2D:
    """A legend entry's symbol for point features: a filled circle with a dark edge."""
    return Line2D(
        [], [], marker="o", linestyle="none", markersize=size, markerfacecolor=color,
        markeredgecolor="#222",
    )  # fmt: skip


def bases_map(data: MapData, layout: Layout = DEFAULT_LAYOUT) -> Figure:
    figure, (ax,), legend_ax = layout_frame(
        data, "农民就业产业基地分布图", "Farmer-employment industrial bases by category", layout
    )
    district_boundary(ax, data)
    clusters = data.layer("clusters")
    entries = [boundary_entry()]
    if clusters is not None:
        draw_plan_layer(ax, clusters, "clusters", zorder=2)
        entries.append(layer_entry("clusters"))
    entries += _bases_layer(ax, data)
    town_labels(ax, data, district_bounds(data))
    scale = set_scale(ax, _whole_district(data), layout)
    return finish_layout(figure, ax, legend_ax, entries, scale, layout)


def _park(data: MapData) -> gpd.GeoDataFrame | None:
    park = data.layer("zgc_park")
    if park is None:
        return None
    field = CATALOGUE["zgc_park"].category_field
    current = park[park[field] == "current"]
    return current if len(current) else park


def land_use_map(data: MapData, use: str, layout: Layout = DEFAULT_LAYOUT) -> Figure:
    zh, en = {
        "current": ("现状", "current"),
        "adjusted": ("调整后", "after re-designation"),
        "planned": ("规划", "planned"),
    }[use]
    figure, (ax,), legend_ax = layout_frame(
        data, f"中关村密云园用地{zh}图", f"Zhongguancun Miyun Park: land use, {en}", layout
    )
    park = _park(data)
    bounds = park.total_bounds if park is not None else district_bounds(data)
    scale = set_scale(ax, bounds, layout, pad=0.06)
    district_boundary(ax, data)
    colors = land_use_colors(data.classes) if data.classes is not None else {}
    codes = parcels_by(ax, data, use_values(data, use), colors, view_bounds(ax))
    entries = class_entries(codes, data)
    if park is not None:
        outline(ax, park, layer_style("zgc_park")["color"])
        entries.insert(
            0,
            (
                "中关村密云园 Miyun Park",
                Line2D([], [], color=layer_style("zgc_park")["color"], linewidth=1.4),
            ),
        )
    adjustments = data.layer("land_adjustments")
    if adjustments is not None:
        outline(ax, adjustments, HIGHLIGHT, width=1.2)
        code_labels(ax, adjustments)
        entries.insert(1, ("用地性质调整区 Re-designation", Line2D([], [], color=HIGHLIGHT)))
    return finish_layout(figure, ax, legend_ax, entries, scale, layout)


def yield_map(data: MapData, layout: Layout = DEFAULT_LAYOUT) -> Figure:
    figure, (ax,), legend_ax = layout_frame(
        data, "中关村密云园地块亩均等级图", "Miyun Park: parcels by yield grade (亩均 A-D)", layout
    )
    park = _park(data)
    bounds = park.total_bounds if park is not None else district_bounds(data)
    scale = set_scale(ax, bounds, layout, pad=0.06)
    grades = data.tables.get("parcel_yields")
    parcels = data.layer("land_parcels")
    colors, labels = grade_colors(), grade_labels()
    values = pd.Series(NO_DATA, index=parcels.index, dtype=object)
    if grades is not None:
        values = _grades(grades["grade"], parcels, list(dict.fromkeys([*colors, NO_DATA])))
    district_boundary(ax, data)
    codes = parcels_by(ax, data, values, colors, view_bounds(ax))
    entries = [
        (labels.get(g, g), legend_patch(colors.get(g, "#ccc"))) for g in colors if g in codes
    ]
    if park is not None:
        outline(ax, park, layer_style("zgc_park")["color"])
    return finish_layout(figure, ax, legend_ax, entries, scale, layout)


def _grades(grade: pd.Series, parcels: gpd.GeoDataFrame, known: Sequence[str]) -> pd.Series:
    """The grade of each parcel (``grade`` is indexed by parcel code), NO_DATA where none.

    When the table lists the parcels in the layer's order and holds ``known`` grades only,
    they are taken by position and compared, not copied: a categorical series, and no
    reference taken to each of a million grade strings (which would copy their memory pages
    in a forked worker).
    """
    codes = parcels["parcel_code"]
    if grade.index.equals(pd.Index(codes)):
        found = grade.to_numpy()
        which = np.full(len(found), -1, dtype=np.int8)
        for i, key in enumerate(known):
            which[found == key] = i
        if (which >= 0).all():
            return pd.Series(pd.Categorical.from_codes(which, known), index=parcels.index)
    return codes.map(grade.fillna(NO_DATA).astype(str)).fillna(NO_DATA)


def projects_map(data: MapData, layout: Layout = DEFAULT_LAYOUT) -> Figure:
    figure, (ax,), legend_ax = layout_frame(
        data, "高精尖储备项目分布图", "Annex 1 reserve projects by stage", layout
    )
    projects = data.layer("projects")
    park = _park(data)
    district_boundary(ax, data)
    entries = [boundary_entry()]
    frames = [f for f in (projects, park) if f is not None]
    bounds = pd.concat(frames).total_bounds if frames else district_bounds(data)
    if park is not None:
        draw_plan_layer(ax, park, "zgc_park", zorder=2)
        entries.append(layer_entry("zgc_park"))
    if projects is not None:
        field = CATALOGUE["projects"].category_field
        colors = category_colors("projects", field)
        labels = category_labels("projects", field)
        money = pd.to_numeric(projects["fixed_investment_10k_cny"], errors="coerce").fillna(0)
        sizes = 12 + 90 * np.sqrt(money / max(1.0, float(money.max())))
        ax.scatter(
            projects.geometry.x,
            projects.geometry.y,
            s=sizes,
            c=[colors.get(s, "#333") for s in projects[field]],
            edgecolors="#222222",
            linewidths=0.5,
            zorder=7,
        )
        code_labels(ax, projects.assign(geometry=projects.geometry), size=5.5, beside=True)
        present = set(projects[field])
        entries += [(labels[s], _point_symbol(colors[s], 6)) for s in colors if s in present]
        entries.append(("点大小 = 固定资产投资 size = fixed investment", Line2D([], [])))
    town_labels(ax, data, bounds)
    scale = set_scale(ax, bounds, layout, pad=0.1)
    return finish_layout(figure, ax, legend_ax, entries, scale, layout)


# --- the set of maps, rendering and writing --------------------------------------------------


def static_maps(
    work: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame],
    classes: pd.DataFrame | None,
    *,
    generated: datetime,
    layout: Layout = DEFAULT_LAYOUT,
) -> list[StaticMap]:
    """Every thematic map the data allow, in the order a review reads them; each on the
    paper of ``layout`` at a scale of the standard series (:mod:`.layout`)."""
    data = MapData(work, tables, classes, generated)
    maps = [
        StaticMap(
            "overview", "高精尖产业空间布局总图", "Spatial layout", lambda: overview(data, layout)
        )
    ]
    if data.layer("farmer_bases") is not None:
        maps.append(
            StaticMap(
                "bases", "农民就业产业基地分布图", "Farmer bases", lambda: bases_map(data, layout)
            )
        )
    if data.layer("land_parcels") is not None:
        for use, zh, en in (("current", "现状", "current"), ("adjusted", "调整后", "adjusted")):
            maps.append(
                StaticMap(
                    f"land_use_{use}",
                    f"园区用地{zh}图",
                    f"Land use, {en}",
                    lambda use=use: land_use_map(data, use, layout),
                )
            )
        maps.append(
            StaticMap("yield", "地块亩均等级图", "Yield grades", lambda: yield_map(data, layout))
        )
    if data.layer("control_lines") is not None:
        maps.append(
            StaticMap(
                "control_lines",
                "管控线与用地变更示意图",
                "Control lines (schematic)",
                lambda: control_lines_map(data, layout),
            )
        )
    if data.layer("projects") is not None:
        maps.append(
            StaticMap("projects", "储备项目分布图", "Projects", lambda: projects_map(data, layout))
        )
    for layer, states in LOCATION_STATES.items():
        frame = data.layer(layer)
        if frame is None or data.layer("land_parcels") is None:
            continue
        for code in frame["code"].astype(str):
            maps.append(
                StaticMap(
                    f"{'area' if layer == 'land_adjustments' else 'base'}_{_slug(code)}",
                    f"{code} 位置与用地（{' / '.join(STATE_LABELS[s][0] for s in states)}）",
                    f"{code}: location and land use, {', '.join(STATE_LABELS[s][1] for s in states)}",
                    lambda layer=layer, code=code, states=states: location_map(
                        data, layer, code, states, layout
                    ),
                )
            )
    return maps


def _slug(code: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)[:40] or "x"


__all__ = [
    "STATIC_DIR",
    "VECTOR_PARCELS_MAX",
    "StaticMap",
    "render",
    "static_maps",
    "write_static_maps",
]
