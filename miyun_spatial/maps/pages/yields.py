"""yield.html: zones by yield against the target, parcels by 亩均 grade A-D.

The yields and grades come from the metrics (``metrics["zone_yields"]`` and
``metrics["parcel_yields"]``); nothing is computed here. Without them the page still draws
the zones and parcels, greyed as "no data", and says so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ...catalogue import CATALOGUE
from ...palette import GRADES, NO_DATA, grade_colors, grade_labels, target_ratio_colors
from ..aggregate import MAX_EMBEDDED, add_aggregated_grades, grid_note
from ..controls import LegendEntry, LegendSection
from ..fields import Column, field_columns, fmt_number, is_schematic, search_text, text_column
from ..layers import LayerStyle, add_layer
from ..page import MapInputs, Page, add_context, finish, new_map
from .common import PARK, add_plan_layer, park_code
from .land_use import PARCEL_DECIMALS, focus_bounds

FILENAME = "yield.html"
TITLE_ZH = "地均产出"
TITLE_EN = "Yield per hectare against target"
PARCELS = CATALOGUE["land_parcels"]
ZONE_LAYERS = ("zgc_park", "clusters", "park_in_park", "farmer_bases")
# share of target: below 40 %, 40-60, 60-80, 80-100, at or above target
RATIO_BINS = (0.4, 0.6, 0.8, 1.0)
RATIO_LABELS = (
    "< 40% 目标 of target",
    "40–60%",
    "60–80%",
    "80–100%",
    "≥ 100% 达标 at target",
)


def ratio_class(ratio: pd.Series) -> pd.Series:
    """'r0'..'r4' by share of target (see RATIO_BINS); 'n/a' where there is no ratio."""
    values = pd.to_numeric(ratio, errors="coerce")
    bins = np.digitize(values.fillna(-1).to_numpy(), RATIO_BINS)
    out = pd.Series([f"r{b}" for b in bins], index=ratio.index, dtype=object)
    return out.where(values.notna(), NO_DATA)


def zone_table(metrics: dict) -> pd.DataFrame | None:
    """``metrics["zone_yields"]`` indexed (layer, zone), or None when absent."""
    table = metrics.get("zone_yields")
    if table is None or not len(table):
        return None
    frame = table.reset_index()
    if not {"layer", "zone"} <= set(frame.columns):
        return None
    return frame.set_index(["layer", "zone"])


def _parcel_table(metrics: dict) -> pd.DataFrame | None:
    table = metrics.get("parcel_yields")
    if table is None:
        return None
    table = table.copy()
    table.index = table.index.astype(str)
    return table


def parcel_grades(metrics: dict, parcels: pd.DataFrame) -> pd.Series:
    """Grade A-D per parcel from ``metrics["parcel_yields"]``; 'n/a' where none."""
    table = metrics.get("parcel_yields")
    codes = parcels[PARCELS.id_field].astype(str)
    if table is None or "grade" not in table.columns:
        return pd.Series(NO_DATA, index=parcels.index, dtype=object)
    grades = table["grade"].astype(object)
    grades.index = grades.index.astype(str)
    out = codes.map(grades).astype(object)
    return out.where(out.isin(GRADES), NO_DATA)


def build(inputs: MapInputs) -> Page:
    m = new_map(
        inputs,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        subtitle="分区按产出占目标比例着色，地块按亩均等级 A–D 着色",
    )
    drawn = {layer.key: layer.feature_count for layer in add_context(m, inputs)}
    zones = zone_table(inputs.metrics)
    ratio_colors = dict(zip([f"r{i}" for i in range(5)], target_ratio_colors(), strict=True))
    ratio_colors[NO_DATA] = grade_colors()[NO_DATA]
    legend = []
    for name in ZONE_LAYERS:
        frame = inputs.layer(name)
        if frame is None:
            continue
        ratio, extra = _zone_columns(name, frame, zones)
        layer = add_plan_layer(
            m,
            inputs,
            name,
            key=f"yield_{name}",
            style=LayerStyle(
                color="#333333",
                weight=4,
                fill_opacity=0.25,
                colors=ratio_colors,
                fill=ratio_colors[NO_DATA],
                outline_by_class=True,
            ),
            show=name == "zgc_park",
            extra_columns=extra,
            classes=ratio_class(ratio),
        )
        drawn[layer.key] = layer.feature_count
    legend.append(
        LegendSection(
            "分区产出/目标 Zone yield as share of target",
            (
                *(
                    LegendEntry(f"r{i}", label, ratio_colors[f"r{i}"])
                    for i, label in enumerate(RATIO_LABELS)
                ),
                LegendEntry(NO_DATA, grade_labels()[NO_DATA], ratio_colors[NO_DATA]),
            ),
            "" if zones is not None else "未提供产出指标 yield metrics not available",
        )
    )
    parcels = inputs.layer("land_parcels")
    bounds = None
    if parcels is not None and len(parcels):
        grades = parcel_grades(inputs.metrics, parcels)
        aggregated = len(parcels) > MAX_EMBEDDED  # too many to embed: a grid view instead
        if aggregated:
            name = f"{PARCELS.title} 亩均等级 grade（网格 grid）"
            layer, cell_m = add_aggregated_grades(m, inputs, parcels, grades, name=name)
        else:
            layer = add_layer(
                m,
                key="yield_parcels",
                name=f"{PARCELS.title} 亩均等级 grade",
                geometry=inputs.display(parcels.geometry, decimals=PARCEL_DECIMALS),
                style=LayerStyle(
                    color="#555555", weight=0.5, fill_opacity=0.8, colors=grade_colors()
                ),
                classes=grades,
                schematic=is_schematic(parcels),
                columns=_parcel_columns(parcels, grades, _parcel_table(inputs.metrics)),
                tooltip=3,
                search=search_text(parcels, (PARCELS.id_field, "enterprise")),
            )
        drawn[layer.key] = layer.feature_count
        labels, colors = grade_labels(), grade_colors()
        legend.append(
            LegendSection(
                "地块亩均等级 Parcel grade (per 亩)",
                tuple(
                    LegendEntry(g, labels[g], colors[g], count=int((grades == g).sum()))
                    for g in (*GRADES, NO_DATA)
                ),
                grid_note("parcel_yields.csv", cell_m) if aggregated else "",
            )
        )
        bounds = focus_bounds(inputs)
    html = finish(m, inputs, legend=legend, bounds=bounds)
    return Page(
        FILENAME,
        TITLE_ZH,
        TITLE_EN,
        "分区地均产出与目标对比（万元/公顷），地块亩均等级 A–D "
        "Zones by yield against target; parcels by grade A-D",
        _figures(inputs, zones),
        html,
        drawn,
    )


ZONE_FIELDS = (
    ("revenue_per_ha", "地均收入 Revenue per built ha (万元/公顷)", 0),
    ("target_revenue_per_ha", "2025年目标 2025 target (万元/公顷)", 0),
    ("pct_of_target", "占目标 % of target", 1),
    ("gap_per_ha", "差距 Gap to target (万元/公顷)", 0),
    ("revenue_needed_10k_cny", "达标需增收入 Revenue needed (万元)", 0),
    ("output_per_ha", "地均产值 Output per built industrial ha (万元/公顷)", 0),
    ("output_pct_of_target", "产值占目标 Output % of 11000 元/m² target", 1),
    ("built_construction_ha", "已建城镇建设用地 Built construction land (ha)", 2),
)
PARCEL_FIELDS = (
    ("revenue_per_ha", "地均收入 Revenue per ha (万元/公顷)", 0),
    ("pct_of_target", "占目标 % of target", 1),
    ("yuan_per_m2", "地均产值 Output (元/m²)", 0),
)


def _zone_columns(
    layer: str, frame: gpd.GeoDataFrame, zones: pd.DataFrame | None
) -> tuple[pd.Series, list[Column]]:
    """Share of target per feature, and popup columns, from the metrics' zone yields."""
    if zones is None:
        return pd.Series(np.nan, index=frame.index), []
    codes = frame[CATALOGUE[layer].id_field].astype(str)
    keys = pd.MultiIndex.from_arrays([[layer] * len(codes), codes])
    rows = zones.reindex(keys)
    rows.index = frame.index
    columns = [
        text_column(f"_{name}", label, rows[name].map(lambda v, d=digits: fmt_number(v, d)))
        for name, label, digits in ZONE_FIELDS
        if name in rows.columns
    ]
    return rows.get("pct_of_target", pd.Series(np.nan, index=frame.index)) / 100, columns


def _parcel_columns(
    parcels: gpd.GeoDataFrame, grades: pd.Series, table: pd.DataFrame | None
) -> list[Column]:
    columns = field_columns(parcels, PARCELS, [PARCELS.id_field])
    labels = grade_labels()
    columns.append(text_column("_grade", "亩均等级 Grade", grades.map(labels)))
    columns += field_columns(parcels, PARCELS, ["enterprise", "sector"])
    if table is not None:
        rows = table.reindex(parcels[PARCELS.id_field].astype(str))
        rows.index = parcels.index
        columns += [
            text_column(f"_{name}", label, rows[name].map(lambda v, d=digits: fmt_number(v, d)))
            for name, label, digits in PARCEL_FIELDS
            if name in rows.columns
        ]
        if "low_efficiency" in rows.columns:
            flag = rows["low_efficiency"].map(
                lambda v: "是 yes（腾退候选 candidate for release）" if v is True else "否 no"
            )
            columns.append(text_column("_low", "低效用地 Low-efficiency land", flag))
    columns += field_columns(parcels, PARCELS, ["revenue_10k_cny", "output_10k_cny", "status"])
    return columns


def _figures(inputs: MapInputs, zones: pd.DataFrame | None) -> tuple[str, ...]:
    if zones is None:
        return ("产出指标未提供 yield metrics not available",)
    figures = []
    park = park_code(inputs)
    if (PARK.name, park) in zones.index:
        z1 = zones.loc[(PARK.name, park)]
        figures.append(
            f"{park} 地均收入 revenue {fmt_number(z1.get('revenue_per_ha'), 0)} 万元/公顷，"
            f"为2025年目标 {fmt_number(z1.get('target_revenue_per_ha'), 0)} 的 "
            f"{fmt_number(z1.get('pct_of_target'), 1)}% of target"
        )
    table = inputs.metrics.get("parcel_yields")
    if table is not None and "grade" in table.columns:
        counts = table["grade"].astype(object).value_counts()
        figures.append(
            "地块等级 Parcel grades " + " / ".join(f"{g} {int(counts.get(g, 0))}" for g in GRADES)
        )
    return tuple(figures)
