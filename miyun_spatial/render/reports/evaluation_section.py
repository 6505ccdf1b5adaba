"""The 亩均评价 section: the evaluation preset's grades, its indicators, and 低效用地 by
reason, zone and nearest town (``enterprise_evaluation`` ... of ``Results.tables``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .metric_tables import missing
from .model import Column, Section, Table, make_table

TABLES = (
    "evaluation_grades",
    "evaluation_indicators",
    "low_efficiency_totals",
    "indicator_monitoring",
)
WARNING_TEXT = {"red": "红 red", "amber": "黄 amber", "green": "绿 green", "n/a": "— n/a"}
_AREA = (
    Column("parcels", "地块数", "Parcels", "", "int"),
    Column("area_ha", "面积", "Area", "公顷", "ha"),
    Column("area_mu", "面积", "Area", "亩", "mu"),
)


def _grades(grades: pd.DataFrame) -> Table:
    return make_table(
        "evaluation_grades",
        "亩均评价等级（按分组）",
        "Grades by group",
        grades,
        (Column("group", "分组", "Group"), Column("grade", "等级", "Grade"), *_AREA),
    )


def _indicators(indicators: pd.DataFrame) -> Table:
    frame = indicators.reset_index()
    frame["computable"] = frame["computable"].map({True: "是 yes", False: "否 no"})
    frame["why_not"] = frame["why_not"].astype(object).where(frame["why_not"].notna(), "")
    columns = (
        Column("label_zh", "指标", "Indicator"),
        Column("unit", "单位", "Unit"),
        Column("formula", "公式", "Formula"),
        Column("weight", "权重", "Weight", "", "auto"),
        Column("benchmark", "基准", "Benchmark"),
        Column("computable", "可计算", "Computable"),
        Column("why_not", "原因", "Why not"),
    )
    return make_table(
        "evaluation_indicators",
        "评价指标",
        "Indicators of the preset",
        frame[[c.key for c in columns]],
        columns,
    )


def _totals(totals: pd.DataFrame, by: str, key_zh: str, key_en: str, title: tuple) -> Table:
    part = totals.xs(by, level="by").reset_index()
    part["reason_zh"] = part["reason_zh"].fillna("")
    columns = (
        Column("key", key_zh, key_en),
        Column("reason_zh", "原因", "Reason"),
        *_AREA,
    )
    return make_table(f"low_efficiency_{by}", *title, part[[c.key for c in columns]], columns)


def _monitoring(monitoring: pd.DataFrame) -> Table:
    frame = monitoring.reset_index()
    frame["warning"] = frame["warning"].map(WARNING_TEXT).fillna(frame["warning"])
    columns = (
        Column("indicator_zh", "指标", "Indicator"),
        Column("unit", "单位", "Unit"),
        Column("baseline_2020", "2020基期", "2020 base", "", "auto"),
        Column("target_2025", "2025目标", "2025 target", "", "auto"),
        Column("value", "现值", "Value", "", "auto"),
        Column("value_source", "来源", "Source"),
        Column("gap", "差距", "Gap", "", "auto"),
        Column("required_growth_pct", "所需年均增速", "Growth needed", "%", "pct"),
        Column("expected", "应达值", "Expected", "", "auto"),
        Column("warning", "预警", "Warning"),
    )
    year = int(frame["assessment_year"].iloc[0]) if len(frame) else 2025
    return make_table(
        "indicator_monitoring",
        "规划指标监测预警",
        f"Plan indicators: value, gap and warning against the path to 2025 (in {year})",
        frame[[c.key for c in columns]],
        columns,
        note="Expected = the 2020 base grown at the constant rate that reaches the 2025 target; "
        "warning by value / expected against the preset's [monitoring] thresholds.",
        levels="warning",
    )


def evaluation_section(tables: Mapping[str, pd.DataFrame]) -> Section:
    notes = list(missing(tables, TABLES))
    out: list[Table] = []
    indicators = tables.get("evaluation_indicators")
    if indicators is not None and len(indicators):
        first = indicators.iloc[0]
        verified = "已核实 verified" if bool(first["verified"]) else "部分示意 partly illustrative"
        notes.append(f"评价方案 preset {first['preset']} ({verified}): {first['preset_source']}")
    if "evaluation_grades" in tables:
        out.append(_grades(tables["evaluation_grades"]))
    if indicators is not None:
        out.append(_indicators(indicators))
    totals = tables.get("low_efficiency_totals")
    if totals is not None and len(totals):
        levels = set(totals.index.get_level_values("by"))
        for by, zh, en, title in (
            ("all", "合计", "All", ("低效用地（按原因）", "Low-efficiency land by reason")),
        ):
            if by in levels:
                out.append(_totals(totals, by, zh, en, title))
    monitoring = tables.get("indicator_monitoring")
    if monitoring is not None and len(monitoring):
        out.append(_monitoring(monitoring))
    notes.append(
        "Enterprise figures are synthetic in the default data; a parcel meeting two reasons "
        "counts under each, 合计 counts it once. By zone and by nearest town label (not a town "
        "boundary): low_efficiency_totals.csv."
    )
    return Section(
        "evaluation",
        "亩均评价",
        "Evaluation",
        "Enterprise parcels scored and graded by the configured preset (亩均效益评价), and "
        "low-efficiency land (低效用地: 批而未供, 供而未用, 用而未尽, 建而未投, 投而未达标) by "
        "reason, zone and town; the plan's indicators monitored against their 2025 targets "
        "(规划实施监测预警).",
        tuple(out),
        (),
        notes=tuple(notes),
    )


__all__ = ["evaluation_section"]
