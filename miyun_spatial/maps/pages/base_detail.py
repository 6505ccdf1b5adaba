"""base_B1.html ... base_B7.html: one map per farmer base, centred on it, with its surroundings.

Each page shows the base (thick outline in its category colour), what lies within
``SURROUNDINGS_M`` of it (other plan features, parcels, projects), the district and town
labels, and a panel with the base's facts and its role as a support node (承载支点) or as a
candidate for the Zhongguancun park's expansion.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ...catalogue import CATALOGUE
from ...palette import category_colors, category_labels
from ..controls import LegendSection
from ..fields import esc, fmt_area, fmt_value
from ..layers import catalogue_style
from ..page import MapInputs, Page, add_context, bounds_of, feature_areas_ha, finish, new_map
from .bases import CATEGORY, LAYER, base_filename
from .common import PARK_STATUS, add_plan_layer, category_legend, layer_entry
from .land_use import add_parcels, class_legend
from .projects import add_projects

SURROUNDINGS_M = 2500.0
NEIGHBOUR_LAYERS = ("clusters", "zgc_park", "park_in_park", "other_sites", "support_nodes")


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


def build_one(inputs: MapInputs, fid) -> Page:
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
    drawn = {layer.key: layer.feature_count for layer in add_context(m, inputs)}
    legend = []
    for name in NEIGHBOUR_LAYERS:
        frame = nearby(inputs.layer(name), window)
        if frame is not None and len(frame):
            layer = add_plan_layer(m, inputs, name, frame=frame, show=name != "zgc_park")
            drawn[layer.key] = layer.feature_count
            legend.append(layer_entry(frame, name))
    parcels = nearby(inputs.layer("land_parcels"), window)
    classes = inputs.table("land_use_classes")
    if parcels is not None and len(parcels):
        layer = add_parcels(m, inputs, parcels, classes, show=False)
        drawn[layer.key] = layer.feature_count
    others = nearby(bases.drop(index=fid), window)
    if len(others):
        layer = add_plan_layer(m, inputs, LAYER, frame=others, key="other_bases", label=True)
        drawn[layer.key] = layer.feature_count
    color = category_colors(LAYER, CATEGORY).get(base.get(CATEGORY), "#333333")
    focus = bases.loc[[fid]]
    layer = add_plan_layer(
        m,
        inputs,
        LAYER,
        frame=focus,
        key="base",
        name=f"{title_zh}",
        style=catalogue_style(
            LAYER,
            colors=category_colors(LAYER, CATEGORY),
            color=color,
            weight=4,
            fill_opacity=0.45,
            label=True,
        ),
        tooltip=5,
    )
    drawn[layer.key] = layer.feature_count
    projects = nearby(inputs.layer("projects"), window)
    if projects is not None and len(projects):
        layer = add_projects(m, inputs, frame=projects)
        drawn[layer.key] = layer.feature_count
    sections = [category_legend(bases, LAYER)]
    if legend:
        sections.append(LegendSection("周边 Surroundings", tuple(legend)))
    if parcels is not None and len(parcels):
        sections.append(class_legend(parcels, classes, title="地块规划用地 Parcels, planned use"))
    window_display = inputs.display(gpd.GeoSeries([window], crs=bases.crs), simplify_m=0)
    html = finish(
        m,
        inputs,
        legend=sections,
        bounds=bounds_of([window_display]),
        panels=[(info_html(inputs, base, area), "miyun-base-info")],
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


def build(inputs: MapInputs) -> list[Page]:
    bases = inputs.layer(LAYER)
    if bases is None:
        return []
    return [build_one(inputs, fid) for fid in bases.index]
