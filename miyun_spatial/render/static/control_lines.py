"""The static control-line map (三区三线): the lines by type over the district, the plan zones
in outline, and the pieces of changing parcels that conflict with a line (red) or need a
condition met (orange). The lines are marked 示意 schematic while not surveyed.

Colours come from the catalogue (``control_lines.line_type`` values, palette
``control_verdict``), as on the interactive maps.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ...core.catalogue import CATALOGUE
from ...core.palette import category_colors, category_labels
from .elements import (
    PLAN_LAYERS,
    MapData,
    boundary_entry,
    district_boundary,
    draw_polygons,
    legend_patch,
    rgba,
)
from .labels import code_labels, town_labels
from .layout import DEFAULT_LAYOUT, Layout, finish_layout, layout_frame, set_scale

LINES = CATALOGUE["control_lines"]
VERDICT_COLORS = CATALOGUE.palettes["control_verdict"]
VERDICT_LABELS = CATALOGUE.palettes["control_verdict_labels"]
PIECES = "control_line_conflicts"
DASHDOT = (0, (5, 1.5, 1, 1.5))


def control_lines_map(data: MapData, layout: Layout = DEFAULT_LAYOUT) -> Figure:
    """三区三线 with the conflicts and conditionals of the changing parcels."""
    figure, (ax,), legend_ax = layout_frame(
        data, "管控线与用地变更示意图", "Control lines and land-use changes (schematic)", layout
    )
    district_boundary(ax, data)
    entries = [boundary_entry()]
    lines = data.layer(LINES.name)
    field = LINES.category_field
    colors, labels = category_colors(LINES.name, field), category_labels(LINES.name, field)
    for z, value in enumerate(labels, start=1):
        own = lines[lines[field] == value]
        if not len(own):
            continue
        color = colors[value]
        draw_polygons(
            ax, own, facecolors=[rgba(color, 0.18)] * len(own), edgecolor=color, linewidth=0.9,
            linestyle=DASHDOT, zorder=z,
        )  # fmt: skip
        entries.append(
            (f"{labels[value]}（示意）", legend_patch(color, edge=color, dash=DASHDOT, alpha=0.3))
        )
    code_labels(ax, lines, LINES.id_field, size=5.5)
    for layer in PLAN_LAYERS:
        frame = data.layer(layer)
        if frame is not None:
            draw_polygons(ax, frame, facecolor="none", edgecolor="#555555", linewidth=0.4, zorder=6)
    entries.append(("规划分区（轮廓）\nplan zones (outline)", Line2D([], [], color="#555555")))
    pieces = data.layer(PIECES)
    if pieces is not None:
        for verdict in ("conditional", "conflict"):  # conflicts on top
            own = pieces[pieces["verdict"] == verdict]
            if len(own):
                color = VERDICT_COLORS[verdict]
                draw_polygons(ax, own, facecolor=color, edgecolor=color, linewidth=0.3, zorder=8)
                entries.append((f"变更地块 {VERDICT_LABELS[verdict]}", legend_patch(color)))
    town_labels(ax, data, lines.total_bounds)
    district = data.layer("district")
    bounds = (district if district is not None else lines).total_bounds
    scale = set_scale(ax, bounds, layout, pad=0.03)
    return finish_layout(figure, ax, legend_ax, entries, scale, layout)
