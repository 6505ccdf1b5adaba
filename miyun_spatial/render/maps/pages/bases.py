"""bases.html: the seven farmer-employment bases coloured by category (upgrade/transform/exit)."""

from __future__ import annotations

import re
from dataclasses import replace

import geopandas as gpd

from ....core.catalogue import CATALOGUE
from ....core.palette import category_colors, category_labels
from ..controls import LegendSection
from ..fields import esc
from ..layers import catalogue_style
from ..page import MapInputs, Page, add_context, bounds_of, feature_areas_ha, finish, new_map
from .common import add_plan_layer, category_legend, layer_entry

FILENAME = "bases.html"
TITLE_ZH = "农民就业产业基地分类"
TITLE_EN = "Farmer-employment bases by category"
LAYER = "farmer_bases"
CATEGORY = CATALOGUE[LAYER].category_field
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def base_filename(code: object) -> str:
    """'base_B1.html' for base B1 (anything but letters, digits, '-' and '_' becomes '_')."""
    return f"base_{_UNSAFE.sub('_', str(code))}.html"


def links_html(frame: gpd.GeoDataFrame) -> str:
    """Links to every per-base map, with each base's category."""
    labels = category_labels(LAYER, CATEGORY)
    rows = [
        f'<li><a href="{esc(base_filename(code))}">{esc(code)} {esc(name)}</a>'
        f" · {esc(labels.get(category, category))}</li>"
        for code, name, category in zip(
            frame["code"], frame["name_zh"], frame[CATEGORY].astype(object), strict=True
        )
    ]
    return (
        '<details><summary>各基地详图 Map of each base</summary><ul class="miyun-links">'
        + "".join(rows)
        + "</ul></details>"
    )


def build(inputs: MapInputs) -> Page:
    frame = inputs.layer(LAYER)
    m = new_map(
        inputs,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        subtitle="提质升级 upgrade / 转型调整 transform / 逐步退出 exit（规划五（六））",
    )
    drawn = {layer.key: layer.feature_count for layer in add_context(m, inputs)}
    clusters = add_plan_layer(m, inputs, "clusters", show=False)
    if clusters is not None:
        drawn[clusters.key] = clusters.feature_count
    bounds = None
    if frame is not None:
        layer = add_plan_layer(
            m,
            inputs,
            LAYER,
            tooltip=5,
            style=catalogue_style(
                LAYER,
                colors=category_colors(LAYER, CATEGORY),
                label=True,
                label_priority=10,
                label_class="focus",
            ),
        )
        drawn[layer.key] = layer.feature_count
        bounds = bounds_of([inputs.display(frame.geometry)])
    panels = [(links_html(frame), "miyun-base-links")] if frame is not None else []
    legend = [replace(category_legend(frame, LAYER), layers=(LAYER,))]
    if clusters is not None:
        legend.append(
            LegendSection(
                "规划要素 Plan features",
                (layer_entry(inputs.layer("clusters"), "clusters"),),
                layers=("clusters",),
            )
        )
    html = finish(m, inputs, legend=legend, bounds=bounds, panels=panels)
    return Page(
        FILENAME,
        TITLE_ZH,
        TITLE_EN,
        "七个农民就业产业基地按分类着色，图例含各类数量与面积，弹窗含所在镇、面积、发展方向、用地变化 "
        "The seven bases by category, with counts and areas per category",
        _figures(frame),
        html,
        drawn,
    )


def _figures(frame: gpd.GeoDataFrame | None) -> tuple[str, ...]:
    if frame is None:
        return ()
    labels = category_labels(LAYER, CATEGORY)
    counts = frame[CATEGORY].astype(object).value_counts()
    area = feature_areas_ha(frame).sum()
    parts = [f"{labels[v]} {int(counts.get(v, 0))}" for v in labels]
    return (" / ".join(parts), f"合计 total {area:,.1f} ha（{area * CATALOGUE.mu_per_ha:,.0f} 亩）")
