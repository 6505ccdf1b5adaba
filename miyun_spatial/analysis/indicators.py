"""The indicators a scenario is compared on, read from one run's :class:`Results`.

:func:`indicator_rows` gives one row per indicator (index: a stable key such as
``park_area/planned/M1``; columns ``group``, ``indicator``, ``unit``, ``value``): the park's and
all parcels' areas by land-use class, mix indices of the park and the clusters, the park's
yields against the 2025 targets, low-efficiency land, grade counts, the farmer bases by
category, the re-designations, and control-line conflicts when a run has them. Every figure is
taken from the run's tables, never recomputed here, so a scenario and a plain build of the same
data agree by construction of the path, not of this module.
"""

from __future__ import annotations

import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.landuse import USE_LABELS, parcel_uses
from .run import Results

USES_COMPARED = ("planned", "adjusted")
MIX_LAYERS = ("zgc_park", "clusters")
YIELD_FIGURES = (
    ("built_construction_ha", "已建成城镇建设用地 built construction land", "ha"),
    ("built_industrial_ha", "已建成工业用地 built industrial land", "ha"),
    ("revenue_per_ha", "地均收入 revenue per built ha", "万元/ha"),
    ("target_revenue_per_ha", "2025年地均收入目标 2025 revenue target", "万元/ha"),
    ("pct_of_target", "收入达标率 revenue, % of target", "%"),
    ("output_yuan_per_m2", "地均产值 output per built m²", "元/m²"),
    ("target_output_yuan_per_m2", "2025年地均产值目标 2025 output target", "元/m²"),
    ("output_pct_of_target", "产值达标率 output, % of target", "%"),
)
GRADES = ("A", "B", "C", "D", "n/a")
# indicators that are sums over features: a run without any such feature has 0, not "no value"
SUMS = ("park_area/", "parcel_area/", "base_land/", "category/", "grade/", "low_efficiency/",
        "control_line_conflicts/")  # fmt: skip
COLUMNS = ["group", "indicator", "unit", "value"]


def indicator_rows(results: Results) -> pd.DataFrame:
    """Every indicator of ``results`` (see the module docstring)."""
    rows: list[tuple[str, str, str, str, float]] = []
    rows += _park_areas(results)
    rows += _parcel_areas(results)
    rows += _mix_indices(results)
    rows += _yields(results)
    rows += _efficiency(results)
    rows += _categories(results)
    rows += _adjustments(results)
    rows += _conflicts(results)
    frame = pd.DataFrame(rows, columns=["key", *COLUMNS]).set_index("key")
    frame["value"] = frame["value"].astype(float)
    return frame


def _class_label(results: Results, code: str) -> str:
    classes = results.plan.layers.get("land_use_classes")
    if classes is not None:
        names = dict(zip(classes["code"].astype(str), classes["name_zh"], strict=False))
        if code in names:
            return f"{code} {names[code]}"
    return "无地块 not covered" if code == "uncovered" else code


def _park_areas(results: Results):
    if results.park is None:
        return
    layer, zone = results.park
    area = results.areas
    if (layer, zone) in area.index:
        yield (
            f"park_area/{zone}",
            "园区 park",
            f"{zone} 面积 area",
            "ha",
            area.loc[(layer, zone), "area_ha"],
        )
    mix = results.tables["mix"]
    for use in USES_COMPARED:
        try:
            part = mix.xs((layer, zone, use), level=("layer", "zone", "use"))
        except KeyError:
            continue
        for code, row in part.iterrows():
            yield (
                f"park_area/{use}/{code}",
                f"园区用地 park land, {USE_LABELS[use]}",
                _class_label(results, str(code)),
                "ha",
                row["area_ha"],
            )


def _parcel_areas(results: Results):
    parcels = results.work.get("land_parcels")
    yields = results.tables["parcel_yields"]
    if parcels is None:
        return
    codes = parcels["parcel_code"].astype(str)
    uses = parcel_uses(parcels.set_index(codes))
    area = yields["area_ha"].reindex(uses.index)
    for use in USES_COMPARED:
        by_class = area.groupby(uses[use].astype(str)).sum()
        for code, value in by_class.items():
            yield (
                f"parcel_area/{use}/{code}",
                f"全部地块 all parcels, {USE_LABELS[use]}",
                _class_label(results, str(code)),
                "ha",
                value,
            )


def _mix_indices(results: Results):
    indices = results.tables["mix_indices"]
    for (layer, zone, use), row in indices.iterrows():
        if layer not in MIX_LAYERS or use not in USES_COMPARED:
            continue
        if layer == "zgc_park" and (results.park is None or zone != results.park[1]):
            continue
        for column, label in (("entropy", "熵指数 entropy"), ("hhi", "HHI 集中度")):
            yield (
                f"mix/{layer}/{zone}/{use}/{column}",
                f"用地混合度 land-use mix, {USE_LABELS[use]}",
                f"{zone} {label}",
                "",
                row[column],
            )


def _yields(results: Results):
    if results.park is None:
        return
    table = results.tables["zone_yields"]
    if results.park not in table.index:
        return
    row = table.loc[results.park]
    for column, label, unit in YIELD_FIGURES:
        if column in row.index:
            yield (f"yield/{column}", "园区地均产出 park yields", label, unit, row[column])


def _efficiency(results: Results):
    parcels = results.tables["parcel_yields"]
    low = parcels["low_efficiency"].fillna(False).astype(bool)
    group = "亩均效益 parcel yields"
    yield ("low_efficiency/count", group, "低效地块 low-efficiency parcels", "个", float(low.sum()))
    yield (
        "low_efficiency/ha",
        group,
        "低效用地 low-efficiency land",
        "ha",
        parcels.loc[low, "area_ha"].sum(),
    )
    counts = parcels["grade"].astype(str).value_counts()
    for grade in GRADES:
        yield (
            f"grade/{grade}",
            group,
            f"{grade} 级地块 parcels graded {grade}",
            "个",
            float(counts.get(grade, 0)),
        )


def _categories(results: Results):
    for layer in ("farmer_bases", "zgc_park"):
        frame = results.work.get(layer)
        spec = CATALOGUE[layer]
        field = spec.category_field
        if frame is None or not field or field not in frame.columns:
            continue
        counts = frame[field].astype(str).value_counts()
        for v in spec.field(field).values:
            yield (
                f"category/{layer}/{v.value}",
                spec.title_zh + " " + spec.title_en,
                v.label,
                "个",
                float(counts.get(v.value, 0)),
            )
    changes = results.tables.get("base_land_changes")
    if changes is not None and "to_group" in changes.columns:
        for group, value in changes.groupby("to_group")["area_ha"].sum().items():
            yield (
                f"base_land/{group}",
                "农民就业基地用地去向 bases' land by destination",
                str(group),
                "ha",
                value,
            )


def _adjustments(results: Results):
    totals = results.tables.get("adjustment_totals")
    if totals is None:
        return
    for code, row in totals.iterrows():
        for column, label in (
            ("changed_ha", "已调整 re-designated"),
            ("to_industrial_ha", "调为工业 to industrial"),
        ):
            if column in row.index:
                yield (
                    f"adjustment/{code}/{column}",
                    "用地性质调整 re-designations",
                    f"{code} {label}",
                    "ha",
                    row[column],
                )


def _conflicts(results: Results):
    conflicts = results.tables.get("control_line_conflicts")
    if conflicts is None:
        return
    group = "控制线冲突 control-line conflicts"
    yield ("control_line_conflicts/count", group, "冲突数 conflicts", "个", float(len(conflicts)))
    for column in ("area_ha", "conflict_ha", "overlap_ha"):
        if column in conflicts.columns:
            yield (
                "control_line_conflicts/ha",
                group,
                "冲突面积 conflict area",
                "ha",
                conflicts[column].sum(),
            )
            break
