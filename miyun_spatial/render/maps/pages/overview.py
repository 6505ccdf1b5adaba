"""overview.html: the "3+3+6" layout with the park, its expansion candidates and the projects."""

from __future__ import annotations

from dataclasses import replace

from ....core.catalogue import CATALOGUE
from ....core.palette import category_colors
from ..controls import LegendSection
from ..fields import fmt_area
from ..layers import catalogue_style
from ..page import MapInputs, Page, add_context, bounds_of, feature_areas_ha, finish, new_map
from .common import PARK_STATUS, add_plan_layer, category_legend, layer_entry, park_extent
from .control_overlay import add_control_overlay, control_overlay
from .projects import add_projects, stage_legend

FILENAME = "overview.html"
TITLE_ZH = "总体布局"
TITLE_EN = "Overview: the 3+3+6 layout"
# drawn bottom to top
POLYGON_LAYERS = (
    "zgc_park",
    "clusters",
    "park_in_park",
    "land_adjustments",
    "other_sites",
    "support_nodes",
    "farmer_bases",
)
HIDDEN = ("land_adjustments",)
# labels placed first win where they would overlap
LABEL_PRIORITY = {
    "clusters": 6,
    "farmer_bases": 5,
    "park_in_park": 4,
    "other_sites": 3,
    "support_nodes": 2,
    "land_adjustments": 1,
    "zgc_park": 0,
}


def build(inputs: MapInputs) -> Page:
    m = new_map(
        inputs,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        subtitle="3个组团、3个园中园、6个支点，农民就业产业基地、中关村密云园及扩区、储备项目",
    )
    context = add_context(m, inputs)
    drawn = {layer.key: layer.feature_count for layer in context}
    shown = []
    for name in POLYGON_LAYERS:
        frame = inputs.layer(name)
        if frame is None:
            continue
        colors = category_colors(name, PARK_STATUS) if name == "zgc_park" else None
        style = catalogue_style(
            name,
            colors=colors or _category_colors(name),
            outline_by_class=name == "zgc_park",
            label=True,
            label_priority=LABEL_PRIORITY.get(name, 0),
        )
        layer = add_plan_layer(m, inputs, name, style=style, show=name not in HIDDEN)
        drawn[layer.key] = layer.feature_count
        shown.append(inputs.display(frame.geometry))
    projects = add_projects(m, inputs, largest=10, label_priority=-5)
    if projects is not None:
        drawn[projects.key] = projects.feature_count
        shown.append(inputs.display(inputs.layer("projects").geometry, simplify_m=0))
    district = inputs.layer("district")
    if district is not None and len(district):
        shown.append(inputs.display(district.geometry, simplify_m=50))
    control_drawn, control_legend = add_control_overlay(m, control_overlay(inputs))
    drawn.update(control_drawn)
    features = ("clusters", "park_in_park", "support_nodes", "other_sites")
    legend = [
        LegendSection(
            "规划要素 Plan features",
            tuple(layer_entry(inputs.layer(n), n) for n in features if inputs.layer(n) is not None),
            layers=features,
        ),
        replace(
            category_legend(inputs.layer("farmer_bases"), "farmer_bases"), layers=("farmer_bases",)
        ),
        replace(category_legend(inputs.layer("zgc_park"), "zgc_park"), layers=("zgc_park",)),
        replace(stage_legend(inputs.layer("projects"), sizes=False), layers=("projects",)),
        replace(
            LegendSection(
                "用地调整 Land re-designation",
                (layer_entry(inputs.layer("land_adjustments"), "land_adjustments"),),
            ),
            layers=("land_adjustments",),
        ),
        *control_legend,
    ]
    html = finish(m, inputs, legend=legend, bounds=bounds_of(shown))
    return Page(
        FILENAME,
        TITLE_ZH,
        TITLE_EN,
        "“3+3+6”空间布局：组团、园中园、支点、农民就业产业基地、中关村密云园及扩区候选、储备项目，"
        "各为可开关图层 The 3+3+6 layout, each part a toggleable layer",
        _figures(inputs),
        html,
        drawn,
    )


def _figures(inputs: MapInputs) -> tuple[str, ...]:
    counts = [
        f"{CATALOGUE[n].title_zh} {len(inputs.layer(n))}"
        for n in ("clusters", "park_in_park", "support_nodes", "farmer_bases", "projects")
        if inputs.layer(n) is not None
    ]
    figures = ["，".join(counts)]
    current = park_extent(inputs)
    if current is not None:
        figures.append(
            f"中关村密云园现状范围 Miyun park (measured): {fmt_area(feature_areas_ha(current).sum())}"
        )
    return tuple(figures)


def _category_colors(layer: str) -> dict[str, str]:
    category = CATALOGUE[layer].category_field
    return category_colors(layer, category) if category else {}
