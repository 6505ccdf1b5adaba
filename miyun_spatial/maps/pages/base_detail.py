"""base_B1.html ... base_B7.html: one map per farmer base, centred on it, with its surroundings.

Each page shows the base (thick outline in its category colour), what lies within
``SURROUNDINGS_M`` of it (other plan features, parcels, projects), the district and town
labels, and a panel with the base's facts and its role as a support node (承载支点) or as a
candidate for the Zhongguancun park's expansion.
"""

from __future__ import annotations

from dataclasses import replace

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
from .projects import add_projects, stage_legend

SURROUNDINGS_M = 2500.0
NEIGHBOUR_LAYERS = ("clusters", "zgc_park", "park_in_park", "other_sites", "support_nodes")
# the initial view: the base with a margin, its nearest towns and what lies close to it
VIEW_MARGIN_M = 1200.0
NEAREST_PLACES = 2
PLACES_WITHIN_M = 8000.0
NEIGHBOURS_WITHIN_M = 1500.0


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
    # town names first: the base's own label moves above or below it rather than hide them
    context = add_context(m, inputs, label_priority=20)
    drawn = {layer.key: layer.feature_count for layer in context}
    sections = []
    for name in NEIGHBOUR_LAYERS:
        # the whole layer: what lies beyond the first view is there when zooming out
        frame = inputs.layer(name)
        if frame is not None and len(frame):
            layer = add_plan_layer(m, inputs, name, frame=frame, show=name != "zgc_park")
            drawn[layer.key] = layer.feature_count
            sections.append(
                LegendSection(
                    "周边 Surroundings",
                    (replace(layer_entry(frame, name, area=False), count=None),),
                    layers=(layer.key,),
                )
            )
    parcels = nearby(inputs.layer("land_parcels"), window)
    classes = inputs.table("land_use_classes")
    if parcels is not None and len(parcels):
        layer = add_parcels(m, inputs, parcels, classes, show=False)
        drawn[layer.key] = layer.feature_count
    others = bases.drop(index=fid)
    if len(others):
        layer = add_plan_layer(
            m,
            inputs,
            LAYER,
            frame=others,
            key="other_bases",
            name="其他农民就业产业基地 Other farmer-employment bases",
            style=catalogue_style(
                LAYER,
                colors=category_colors(LAYER, CATEGORY),
                label=True,
                label_priority=5,
            ),
        )
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
            label_priority=10,
            label_class="focus",
        ),
        tooltip=5,
    )
    drawn[layer.key] = layer.feature_count
    projects = nearby(inputs.layer("projects"), window)
    if projects is not None and len(projects):
        layer = add_projects(m, inputs, frame=projects)
        drawn[layer.key] = layer.feature_count
    sections = [
        replace(category_legend(bases, LAYER), layers=("base", "other_bases")),
        *_merge_surroundings(sections),
    ]
    if parcels is not None and len(parcels):
        sections.append(
            replace(
                class_legend(parcels, classes, title="地块规划用地 Parcels, planned use"),
                layers=("land_parcels",),
            )
        )
    if projects is not None and len(projects):
        sections.append(replace(stage_legend(projects, sizes=False), layers=("projects",)))
    html = finish(
        m,
        inputs,
        legend=sections,
        bounds=bounds_of(view_geometries(inputs, bases.loc[[fid]])),
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
    return [inputs.display(g, simplify_m=5) for g in parts if len(g)]


def build(inputs: MapInputs) -> list[Page]:
    bases = inputs.layer(LAYER)
    if bases is None:
        return []
    return [build_one(inputs, fid) for fid in bases.index]
