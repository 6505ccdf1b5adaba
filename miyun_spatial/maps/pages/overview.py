"""overview.html: the "3+3+6" layout with the park, its expansion candidates and the projects."""

from __future__ import annotations

from ...catalogue import CATALOGUE
from ...palette import category_colors
from ..controls import LegendSection
from ..fields import fmt_area
from ..layers import catalogue_style
from ..page import MapInputs, Page, add_context, bounds_of, feature_areas_ha, finish, new_map
from .common import PARK_STATUS, add_plan_layer, category_legend, layer_entry, park_extent
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
        style = None
        if name == "zgc_park":
            style = catalogue_style(
                name,
                colors=category_colors(name, PARK_STATUS),
                outline_by_class=True,
            )
        layer = add_plan_layer(m, inputs, name, style=style, show=name not in HIDDEN)
        drawn[layer.key] = layer.feature_count
        shown.append(inputs.display(frame.geometry))
    projects = add_projects(m, inputs, largest=10)
    if projects is not None:
        drawn[projects.key] = projects.feature_count
    legend = [
        LegendSection(
            "规划要素 Plan features",
            tuple(
                layer_entry(inputs.layer(n), n)
                for n in ("clusters", "park_in_park", "support_nodes", "other_sites")
                if inputs.layer(n) is not None
            ),
        ),
        category_legend(inputs.layer("farmer_bases"), "farmer_bases"),
        category_legend(inputs.layer("zgc_park"), "zgc_park"),
        stage_legend(inputs.layer("projects"), sizes=False),
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
