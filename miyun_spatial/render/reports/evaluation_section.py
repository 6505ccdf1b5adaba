"""The 亩均评价 section: the evaluation preset's grades, its indicators, and 低效用地 by
reason, zone and nearest town (``enterprise_evaluation`` ... of ``Results.tables``)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .metric_tables import missing
from .model import Column, Section, Table, make_table

TABLES = ("evaluation_grades", "evaluation_indicators", "low_efficiency_totals")
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
            ("zone", "组团", "Zone", ("低效用地（按组团、原因）", "By zone and reason")),
            (
                "town_nearest",
                "最近乡镇",
                "Nearest town label",
                ("低效用地（按最近乡镇、原因）", "By nearest town label and reason"),
            ),
        ):
            if by in levels:
                out.append(_totals(totals, by, zh, en, title))
    notes.append(
        "Enterprise figures are synthetic in the default data; a parcel meeting two reasons "
        "counts under each, 合计 counts it once. Towns: the nearest town label point, not a "
        "town boundary."
    )
    return Section(
        "evaluation",
        "亩均评价",
        "Evaluation",
        "Enterprise parcels scored and graded by the configured preset (亩均效益评价), and "
        "low-efficiency land (低效用地: 批而未供, 供而未用, 用而未尽, 建而未投, 投而未达标) by "
        "reason, zone and town.",
        tuple(out),
        (),
        notes=tuple(notes),
    )


__all__ = ["evaluation_section"]
