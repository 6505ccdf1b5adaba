"""Location maps: where a feature lies in the district, then its land use in each state
(现状 current, 批复规划 approved plan, 调整后 adjusted), each panel with its class areas."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ...core.catalogue import CATALOGUE
from ...core.palette import category_colors, land_use_colors
from .elements import (
    HIGHLIGHT,
    MapData,
    boundary_entry,
    district_boundary,
    draw_plan_layer,
    draw_polygons,
    map_legend,
    north_arrow,
    scale_bar,
)
from .labels import place_labels
from .layout import (
    BAR_CM,
    DEFAULT_LAYOUT,
    Layout,
    axes_in,
    fix_bars,
    layout_panels,
    panel_prefix,
    scale_legend,
    scale_text,
    set_scale,
    view_bounds,
)
from .parcel_panels import (
    class_entries,
    district_bounds,
    outline,
    parcels_by,
    use_values,
)

# the states a panel shows, and its label: 现状 current, 批复规划 approved plan, 调整后 adjusted
STATE_LABELS = {
    "current": ("现状", "current"),
    "planned": ("批复规划", "approved plan"),
    "adjusted": ("调整后", "adjusted"),
}
# the panels of a location map per layer: a re-designation is measured against the approved
# plan (批复规划 -> 调整后), with the current survey use beside it; a base's plan against today
LOCATION_STATES = {
    "land_adjustments": ("current", "planned", "adjusted"),
    "farmer_bases": ("current", "planned"),
}


def state_areas(data: MapData, layer: str, code: str, use: str, limit: int = 3) -> list[str]:
    """'F3 108.00 ha / 1,620 亩' for the largest classes of one state inside the feature (from
    the ``mix`` table), then '+ n 类 more' when there are more."""
    mix = data.tables.get("mix")
    if mix is None or (layer, code, use) not in mix.index.droplevel("class"):
        return []
    rows = mix.xs((layer, code, use), level=("layer", "zone", "use"))
    rows = rows[(rows.index != "uncovered") & (rows["area_ha"] > 0)]
    rows = rows.sort_values("area_ha", ascending=False, kind="stable")
    lines = [f"{c} {a:,.2f} ha / {a * 15:,.0f} 亩" for c, a in rows["area_ha"].iloc[:limit].items()]
    if len(rows) > limit:
        lines.append(f"+ {len(rows) - limit} 类 more")
    return lines


def location_map(
    data: MapData, layer: str, code: str, states: Sequence[str], layout: Layout = DEFAULT_LAYOUT
) -> Figure:
    """Location in the district, then the land use of each of ``states`` within the feature,
    each panel titled with its state and carrying the areas of its classes; on the paper of
    ``layout``, the location at the district's scale and the states at the feature's, both
    of the standard series."""
    frame = data.layer(layer)
    feature = frame[frame["code"].astype(str) == code]
    name = str(feature["name_zh"].iloc[0]) if "name_zh" in feature.columns else code
    shown_zh = " → ".join(STATE_LABELS[s][0] for s in states)
    shown_en = ", ".join(STATE_LABELS[s][1] for s in states)
    figure, axes, legend_ax = layout_panels(
        data,
        f"{code} {name}：位置与用地（{shown_zh}）",
        f"{code}: location and land use ({shown_en})",
        layout,
        1 + len(states),
    )
    where, *state_axes = axes
    where_scale = set_scale(where, district_bounds(data), layout, pad=0.05, note=False)
    district_boundary(where, data)
    mark = _feature_color(layer, feature)
    draw_polygons(where, feature, facecolor=mark, edgecolor=mark, linewidth=1.0, zorder=6)
    clusters = data.layer("clusters")
    if clusters is not None:
        draw_plan_layer(where, clusters, "clusters", zorder=2)
    x0, _y0, x1, y1 = feature.total_bounds
    where.annotate(
        code,
        ((x0 + x1) / 2, y1),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        fontsize=6.5,
        fontweight="bold",
        color=mark,
        zorder=8,
    )
    where.set_title("位置 location", fontsize=7, pad=12)
    colors = land_use_colors(data.classes) if data.classes is not None else {}
    bounds = feature.total_bounds
    codes: set[str] = set()
    scale = where_scale
    for i, (ax, use) in enumerate(zip(state_axes, states, strict=True), start=1):
        scale = set_scale(ax, bounds, layout, pad=0.12, prefix=panel_prefix(i), note=False)
        values = use_values(data, use)
        if values is not None:
            codes |= set(parcels_by(ax, data, values, colors, view_bounds(ax)))
        outline(ax, feature, mark)
        zh, en = STATE_LABELS[use]
        ax.set_title(f"{zh} {en}", fontsize=7, gid=f"state-{use}", pad=12)
        areas = state_areas(data, layer, code, use)
        if areas:
            ax.annotate(
                "\n".join(areas),
                (0.0, 0.0),
                xycoords="axes fraction",
                xytext=(0, -9),
                textcoords="offset points",
                fontsize=5,
                va="top",
                ha="left",
                zorder=9,
                gid=f"areas-{use}",
                annotation_clip=False,
            )  # below the panel and its neat-line labels: the scale bar keeps its corner
    entries = [
        (f"{code} {CATALOGUE[layer].title_zh}", Line2D([], [], color=mark)),
        boundary_entry(),
        *class_entries(sorted(codes), data),
    ]
    north_arrow(where)
    place_labels(where)
    bar_cm = BAR_CM if axes_in(where)[0] * 2.54 >= 3 * BAR_CM else BAR_CM / 2
    for i, ax in enumerate(axes):
        scale_bar(ax, "scale-bar" if i == 0 else f"scale-bar-{i + 1}")
        fix_bars(ax, where_scale if i == 0 else scale, bar_cm)
    map_legend(legend_ax, entries)
    scale_legend(
        legend_ax,
        f"比例尺 Scale {scale_text(scale)}（用地 land use）\n位置 location {scale_text(where_scale)}",
        layout,
    )
    return figure


def _feature_color(layer: str, feature: gpd.GeoDataFrame) -> str:
    """The outline of a location map's feature: its category colour (a base: upgrade green,
    transform orange, exit red), the highlight for layers without categories."""
    field = CATALOGUE[layer].category_field
    if field and field in feature.columns and len(feature):
        return category_colors(layer, field).get(str(feature[field].iloc[0]), HIGHLIGHT)
    return HIGHLIGHT
