"""projects.html: the Annex 1 reserve projects by stage, marker size by fixed investment."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ....core.catalogue import CATALOGUE
from ....core.palette import category_colors, category_labels
from ..controls import LegendEntry, LegendSection
from ..fields import (
    esc,
    field_columns,
    fmt_money,
    is_schematic,
    notes_column,
    provenance_column,
    search_text,
)
from ..layers import LayerData, LayerStyle, StyledGeoJson, layer_data
from ..page import MapInputs, Page, add_context, bounds_of, finish, new_map
from .common import add_plan_layer

FILENAME = "projects.html"
TITLE_ZH = "高精尖储备项目"
TITLE_EN = "Annex 1 reserve projects"
LAYER = "projects"
STAGE = CATALOGUE[LAYER].category_field
INVESTMENT = CATALOGUE[LAYER].field("fixed_investment_10k_cny").name
MIN_RADIUS, MAX_RADIUS = 5.0, 22.0
POPUP_FIELDS = (
    "code",
    "name_zh",
    STAGE,
    "name_en",
    INVESTMENT,
    "construction_investment_10k_cny",
    "owner_zh",
    "address_zh",
    "content_zh",
    "schedule_zh",
    "status_zh",
    "stated_land_mu",
    "seq",
)
LABEL_CHARS = 10  # Chinese characters of a project's name in its map label


def marker_radius(investment: pd.Series, top: float, *, largest: float = MAX_RADIUS) -> pd.Series:
    """Marker radius in pixels, area proportional to investment (``top`` gets ``largest``)."""
    values = pd.to_numeric(investment, errors="coerce").clip(lower=0)
    if not np.isfinite(top) or top <= 0:
        return pd.Series(MIN_RADIUS, index=investment.index)
    radius = largest * np.sqrt(values / top)
    return radius.fillna(MIN_RADIUS).clip(lower=min(MIN_RADIUS, largest))


def add_projects(target, inputs: MapInputs, **kwargs) -> StyledGeoJson | None:
    """:func:`projects_data` (same keywords) drawn on ``target``; None without projects."""
    data = projects_data(inputs, **kwargs)
    return None if data is None else data.add_to(target)


def projects_data(
    inputs: MapInputs,
    *,
    frame: pd.DataFrame | None = None,
    show: bool = True,
    largest: float = MAX_RADIUS,
    label_priority: int = 0,
) -> LayerData | None:
    """The projects (or ``frame``, some of them) coloured by stage, sized by fixed investment.

    Sizes are relative to the largest investment of the whole layer, so a page showing some
    projects sizes them as the projects page does.
    """
    everything = inputs.layer(LAYER)
    frame = everything if frame is None else frame
    if frame is None:
        return None
    top = pd.to_numeric(everything[INVESTMENT], errors="coerce").max() if INVESTMENT in frame else 0
    spec = CATALOGUE[LAYER]
    columns = field_columns(frame, spec, POPUP_FIELDS)
    if "notes" in frame:
        columns.append(notes_column(frame["notes"], label=spec.field("notes").label))
    columns.append(provenance_column(frame, spec))
    long, short = project_labels(frame)
    return layer_data(
        key=LAYER,
        name=spec.title,
        geometry=inputs.display(frame.geometry, simplify_m=0),
        style=LayerStyle(
            color="#333333",
            weight=1,
            fill_opacity=0.8,
            colors=category_colors(LAYER, STAGE),
            label=long is not None,
            label_priority=label_priority,
        ),
        classes=frame.get(STAGE),
        schematic=is_schematic(frame),
        radius=marker_radius(frame[INVESTMENT], top, largest=largest)
        if INVESTMENT in frame
        else None,
        columns=columns,
        tooltip=3,
        search=search_text(frame, ("code", "name_zh", "name_en", "owner_zh")),
        label=long,
        short_label=short,
        show=show,
    )


def project_labels(frame: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """'J07 密云区某某项目…' (code and the start of the name) and the code, escaped."""
    if "code" not in frame:
        return None, None
    codes = frame["code"].astype(str)
    names = (
        frame["name_zh"].astype(object)
        if "name_zh" in frame
        else pd.Series(None, index=frame.index)
    )
    long = []
    for code, name in zip(codes, names, strict=True):
        if name is None or pd.isna(name):
            long.append(esc(code))
            continue
        name = str(name)
        cut = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS] + "…"
        long.append(f"{esc(code)} {esc(cut)}")
    return pd.Series(long, index=frame.index, dtype=object), codes.map(esc)


def stage_legend(frame: pd.DataFrame | None, *, sizes: bool = True) -> LegendSection:
    """Stages with project count and fixed investment, and (optionally) the size key."""
    colors = category_colors(LAYER, STAGE)
    labels = category_labels(LAYER, STAGE)
    stages = frame[STAGE].astype(object) if frame is not None else pd.Series(dtype=object)
    money = (
        pd.to_numeric(frame[INVESTMENT], errors="coerce")
        if frame is not None
        else pd.Series(dtype=float)
    )
    entries = [
        LegendEntry(
            value=value,
            label=label,
            color=colors.get(value, "#999999"),
            count=int((stages == value).sum()),
            extra=fmt_money(money[stages == value].sum()),
            shape="dot",
        )
        for value, label in labels.items()
    ]
    note = ""
    if sizes and frame is not None and len(money.dropna()):
        note = (
            f"圆面积与固定资产投资成正比；最大 {fmt_money(money.max())} "
            "Marker area proportional to fixed investment"
        )
    return LegendSection(
        CATALOGUE[LAYER].title,
        tuple(entries),
        note,
        count_label="项目 projects",
        extra_label="固定资产投资 investment",
    )


def build(inputs: MapInputs) -> Page:
    m = new_map(
        inputs,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        subtitle="按阶段着色，圆的大小表示固定资产投资 Colour: stage; size: fixed investment",
    )
    drawn = {layer.key: layer.feature_count for layer in add_context(m, inputs)}
    frame = inputs.layer(LAYER)
    zone = inputs.layer("clusters")
    if zone is not None:
        layer = add_plan_layer(m, inputs, "clusters", show=True)
        drawn[layer.key] = layer.feature_count
    layer = add_projects(m, inputs)
    bounds = None
    if layer is not None:
        drawn[layer.key] = layer.feature_count
        bounds = bounds_of([inputs.display(frame.geometry, simplify_m=0)])
    legend = [replace(stage_legend(frame), layers=(LAYER,))]
    # markers are drawn up to MAX_RADIUS pixels around their point: keep them off the panels
    html = finish(m, inputs, legend=legend, bounds=bounds, max_zoom=15, margin=MAX_RADIUS + 6)
    return Page(
        FILENAME,
        TITLE_ZH,
        TITLE_EN,
        "附件1储备项目：按阶段（在谈、在建、推进开工）着色，圆大小表示固定资产投资 "
        "Annex 1 projects by stage, sized by fixed investment",
        _figures(frame),
        html,
        drawn,
    )


def _figures(frame: pd.DataFrame | None) -> tuple[str, ...]:
    if frame is None:
        return ()
    money = pd.to_numeric(frame[INVESTMENT], errors="coerce")
    return (
        f"{len(frame)} 个项目 projects，固定资产投资合计 total fixed investment {fmt_money(money.sum())}",
    )
