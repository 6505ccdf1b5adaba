"""yield.html: zones by yield against the target, parcels by 亩均 grade A-D.

The yields and grades come from the metrics (``metrics["zone_yields"]`` and
``metrics["parcel_yields"]``); nothing is computed here. Without them the page still draws
the zones and parcels, greyed as "no data", and says so.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ....core.catalogue import CATALOGUE
from ....core.palette import GRADES, NO_DATA, grade_colors, grade_labels, target_ratio_colors
from ....core.vocabulary import VOCABULARY
from ..aggregate import MAX_EMBEDDED, add_aggregated_grades, grid_note
from ..controls import LegendEntry, LegendSection, add_layer_switch
from ..fields import Column, esc, field_columns, fmt_number, is_schematic, search_text, text_column
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
    zone_keys: list[str] = []
    shown_zones: list[str] = []
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
            # a filled choropleth: the zone's colour is its result
            style=LayerStyle(
                color="#333333",
                weight=2,
                fill_opacity=0.6,
                colors=ratio_colors,
                fill=ratio_colors[NO_DATA],
                label=True,
                label_priority=10 if name == "zgc_park" else 5,
                label_class="focus" if name == "zgc_park" else "",
            ),
            show=name in ZONES_SHOWN,
            extra_columns=extra,
            classes=ratio_class(ratio),
            labels=zone_labels(name, frame, ratio),
        )
        drawn[layer.key] = layer.feature_count
        zone_keys.append(layer.key)
        if name in ZONES_SHOWN:
            shown_zones.append(layer.key)
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
            "地均收入（万元/公顷）占2025年目标之比 Revenue per built ha as share of the 2025 target"
            if zones is not None
            else "未提供产出指标 yield metrics not available",
            layers=tuple(zone_keys),
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
            labels, colors = grade_labels(), grade_colors()
            counts = grades.value_counts()
            legend.append(
                LegendSection(
                    "地块亩均等级 Parcel grade (per 亩)",
                    tuple(
                        LegendEntry(g, labels[g], colors[g], count=int(counts.get(g, 0)))
                        for g in (*GRADES, NO_DATA)
                    ),
                    grid_note("parcel_yields.csv", cell_m),
                )
            )
        else:
            classes = ungraded_reasons(parcels, grades, inputs.table("land_use_classes"))
            layer = add_layer(
                m,
                key="yield_parcels",
                name=f"{PARCELS.title} 亩均等级 grade",
                geometry=inputs.display(parcels.geometry, decimals=PARCEL_DECIMALS),
                style=LayerStyle(
                    color="#555555",
                    weight=0.5,
                    fill_opacity=0.8,
                    colors={**grade_colors(), **{k: c for k, (c, _) in UNGRADED.items()}},
                    hatch=HATCHED,
                ),
                classes=classes,
                schematic=is_schematic(parcels),
                columns=_parcel_columns(parcels, grades, _parcel_table(inputs.metrics)),
                tooltip=3,
                search=search_text(parcels, (PARCELS.id_field, "enterprise")),
                show=False,  # the zones are shown first (see the switch below)
            )
            legend.append(parcel_legend(classes, layer.key))
        drawn[layer.key] = layer.feature_count
        bounds = focus_bounds(inputs)
        add_layer_switch(
            m,
            title="显示 Show",
            choices=[
                ("分区产出占目标 Zones against target", shown_zones),
                ("地块亩均等级 Parcel grades", [layer.key]),
            ],
            initial=0,
        )
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


# parcels without a grade, by why: class -> (colour, legend text)
UNGRADED = {
    "nb": ("#5b7fa6", "未建成或在建（不评级）not built yet: not graded"),
    "ni": (
        "#9a9a9a",
        "非工业用地：居住、公共、道路、绿地、物流等（不评级）non-industrial use: not graded",
    ),
    "nd": (
        "#c8c8c8",
        "工业用地但无产出数据（多为园区外基地地块）industrial, no revenue data (mostly base parcels outside the park)",
    ),
}
HATCHED = ("nb", "ni")
ZONES_SHOWN = ("zgc_park", "park_in_park")  # the park and its three sub-zones


def ungraded_reasons(
    parcels: pd.DataFrame, grades: pd.Series, classes: pd.DataFrame | None
) -> pd.Series:
    """Grade A-D, or why a parcel has none: 'nb' not built, 'ni' non-industrial, 'nd' no data."""
    industrial: set[str] = set()
    if classes is not None and "counts_as_industrial" in classes:
        flags = classes["counts_as_industrial"].fillna(0).astype(bool)
        industrial = set(classes.loc[flags, "code"].astype(str))
    built = parcels["status"].astype(object).eq("built") if "status" in parcels else True
    uses = parcels["current_use"].astype(str) if "current_use" in parcels else ""
    reason = np.where(~built, "nb", np.where(pd.Series(uses).isin(industrial), "nd", "ni"))
    reason = pd.Series(reason, index=parcels.index, dtype=object)
    return grades.where(grades.isin(GRADES), reason)


def parcel_legend(classes: pd.Series, key: str) -> LegendSection:
    """Grades A-D and the three ungraded classes, each with its parcel count."""
    labels, colors = grade_labels(), grade_colors()
    entries = [
        LegendEntry(g, labels[g], colors[g], count=int((classes == g).sum())) for g in GRADES
    ]
    entries += [
        LegendEntry(
            k,
            text,
            color,
            count=int((classes == k).sum()),
            shape="hatch" if k in HATCHED else "box",
        )
        for k, (color, text) in UNGRADED.items()
    ]
    return LegendSection(
        "地块亩均等级 Parcel grade (per 亩)",
        tuple(entries),
        "等级只评已建成、有产出数据的工业地块 Grades apply to built industrial parcels with revenue data",
        layers=(key,),
    )


def zone_labels(
    layer: str, frame: gpd.GeoDataFrame, ratio: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """'Z1 中关村密云园 69% 目标' and 'Z1 69%' (escaped) for each zone with a result."""
    codes = frame[CATALOGUE[layer].id_field].astype(str)
    names = frame["name_zh"] if "name_zh" in frame else pd.Series("", index=frame.index)
    long, short = [], []
    for code, name, value in zip(codes, names.astype(object), ratio, strict=True):
        pct = "" if pd.isna(value) else f" {value * 100:.0f}% 目标"
        name = "" if name is None or pd.isna(name) else f" {name}"
        long.append(esc(f"{code}{name}{pct}"))
        short.append(esc(f"{code}{pct}"))
    return pd.Series(long, index=frame.index), pd.Series(short, index=frame.index)


# Popup rows: (metric column, decimals); labels and units come from vocabulary.json.
ZONE_FIELDS = (
    ("revenue_per_ha", 0),
    ("target_revenue_per_ha", 0),
    ("pct_of_target", 1),
    ("gap_per_ha", 0),
    ("revenue_needed_10k_cny", 0),
    ("output_per_ha", 0),
    # 1 元/平方米 = 1 万元/公顷: the plan's 元/m² target is shown in 万元/公顷 (one unit per
    # measure); output_yuan_per_m2 repeats output_per_ha and is left out
    ("target_output_yuan_per_m2", 0),
    ("output_pct_of_target", 1),
    ("built_construction_ha", 2),
)
PARCEL_FIELDS = (
    ("revenue_per_ha", 0),
    ("pct_of_target", 1),
    ("output_per_ha", 0),
)


def _metric_columns(rows: pd.DataFrame, fields: tuple[tuple[str, int], ...]) -> list[Column]:
    """Popup columns of metric values, labelled from the output vocabulary."""
    return [
        text_column(
            f"_{name}",
            VOCABULARY.column(name).header,
            rows[name].map(lambda v, d=digits: fmt_number(v, d)),
        )
        for name, digits in fields
        if name in rows.columns
    ]


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
    columns = _metric_columns(rows, ZONE_FIELDS)
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
        columns += _metric_columns(rows, PARCEL_FIELDS)
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
