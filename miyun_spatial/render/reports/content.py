"""Assemble the report's sections from the plan data, the metric tables and the checks.

Numbers are taken from the tables as they are (no rounding, no recomputation of metrics):
the renderers format them. Allowed values (categories, geometry sources, stages) are shown
with their catalogue labels, Chinese first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ... import __version__
from ...core.catalogue import CATALOGUE
from ...core.consistency import GROUPS, STATUSES, Consistency, consistency_frame
from ...core.crs import WORK_CRS
from ...core.plan import PlanData
from ...core.vocabulary import VOCABULARY, role_code
from ...validate.layers import Finding, findings_frame, summary_counts
from . import (
    control_lines_section,
    evaluation_section,
    metric_sections,
    review,
    scenario_section,
    yield_section,
)
from .model import Column, Front, Report, Section, column_for, make_table
from .provenance import provenance_table

TITLE_ZH = "密云区“十四五”时期高精尖产业发展规划 用地与面积报告"
TITLE_EN = "Miyun District 14th Five-Year high-tech industry plan: land and area report"


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is made of; nothing in it is recomputed by the renderers."""

    plan: PlanData
    areas: pd.DataFrame  # metrics.areas.feature_areas
    tables: Mapping[str, pd.DataFrame]  # metrics.compute_all (may be empty)
    findings: Sequence[Finding]
    checks: Sequence[Consistency]
    generated: datetime
    maps: Sequence[review.MapFigure] = ()  # static maps for report.html
    area_tolerance: float = 0.05
    annex1: pd.DataFrame | None = None  # Results.annex1


# Long tables report.html shows in its appendix, capped: table key -> where the full list is.
LISTINGS = {
    "consistency": "report.xlsx 校验 Checks",
    "mix": "mix.csv, report.xlsx 用地结构",
    "mix_indices": "mix_indices.csv, report.xlsx 用地结构",
    "transitions": "transitions.csv, report.xlsx 用地调整",
    "changing_parcels": "changing_parcels.csv, report.xlsx 用地调整",
    "parcel_yields": "parcel_yields.csv, report.xlsx 地均产出",
}
LISTING_ROWS = 8


def assemble_report(inputs: ReportInputs) -> Report:
    """The eight sections: summary, areas, mix, adjustments, yield, indicators, projects, checks;
    and, for report.html, the front matter (plan cited, data mark, findings, maps)."""
    return Report(
        TITLE_ZH,
        TITLE_EN,
        (
            summary_section(inputs),
            areas_section(inputs),
            metric_sections.mix_section(inputs.tables, inputs.plan),
            metric_sections.adjustments_section(inputs.tables, inputs.plan),
            control_lines_section.control_lines_section(inputs.tables),
            control_lines_section.baselines_section(inputs.tables),
            yield_section.yield_section(inputs.tables, inputs.plan),
            evaluation_section.evaluation_section(inputs.tables),
            indicators_section(inputs),
            projects_section(inputs),
            checks_section(inputs),
            *control_lines_section.control_line_sheets(inputs.tables),
            *filter(None, [scenario_section.scenario_section(inputs.tables)]),
        ),
        front_matter(inputs),
    )


def front_matter(inputs: ReportInputs) -> Front:
    plan = inputs.plan
    counts = summary_counts(inputs.findings)
    mismatch = sum(c.status == "mismatch" for c in inputs.checks)
    run = (
        ("生成时间 Generated", review.local_time_text(inputs.generated)),
        ("输入文件 Input", f"{plan.path.name} (SHA-256 {plan.sha256[:16]}…)"),
        ("工具 Tool", f"miyun-spatial {__version__}; areas in {WORK_CRS.to_string()}"),
        (
            "校验 Validation",
            f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes; "
            f"{mismatch} plan figures do not match",
        ),
    )
    return Front(
        citation=review.citation(),
        mark=review.data_mark(plan.layers),
        mark_detail=review.data_mark_detail(plan.layers),
        run=run,
        findings=review.findings(
            inputs.tables, plan, inputs.areas, inputs.checks, inputs.area_tolerance
        ),
        figures=tuple(inputs.maps),
        listings=LISTINGS,
        listing_rows=LISTING_ROWS,
    )


def labelled(values: pd.Series, layer: str, field: str) -> pd.Series:
    """Allowed values replaced by their catalogue labels ('upgrade' -> '提质升级 upgrade')."""
    labels = {v.value: v.label for v in CATALOGUE[layer].field(field).values}
    return values.map(lambda v: labels.get(v, v) if isinstance(v, str) else None).astype(object)


def _text(key: str, zh: str, en: str) -> Column:
    return Column(key, zh, en)


# --- 概览 Summary -------------------------------------------------------------------------


def summary_section(inputs: ReportInputs) -> Section:
    plan = inputs.plan
    counts = summary_counts(inputs.findings)
    status = "未通过 failed" if counts["error"] else "通过 passed"
    mismatch = sum(c.status == "mismatch" for c in inputs.checks)
    run = pd.DataFrame(
        [
            (
                "生成时间 Run date",
                review.local_time(inputs.generated).isoformat(timespec="seconds"),
            ),
            ("输入文件 Input file", str(plan.path)),
            ("SHA-256", plan.sha256),
            ("工具版本 Tool version", f"miyun-spatial {__version__}"),
            ("面积计算坐标系 Area CRS", f"{WORK_CRS.to_string()} {WORK_CRS.name}"),
            (
                "数据校验 Validation",
                f"{status}: {counts['error']} errors, {counts['warning']} warnings, "
                f"{counts['info']} notes",
            ),
            (
                "规划一致性 Plan consistency",
                f"{mismatch} mismatches among {len(inputs.checks)} figures checked "
                "(see 校验 Checks)",
            ),
        ],
        columns=["item", "value"],
    )
    tables = [
        make_table(
            "run",
            "运行信息",
            "Run",
            run,
            (_text("item", "项目", "Item"), _text("value", "内容", "Value")),
        ),
        make_table(
            "key_figures",
            "主要数字",
            "Key figures",
            key_figures(inputs),
            (
                _text("figure", "指标", "Figure"),
                Column("value", "数值", "Value", kind="auto"),
                _text("unit", "单位", "Unit"),
                _text("source", "来源", "Source"),
            ),
        ),
        provenance_table(plan),
    ]
    return Section(
        "summary",
        "概览",
        "Summary",
        "Run, input file, validation status, data provenance and key figures.",
        tuple(tables),
        notes=(
            "Geometries of the default data are schematic and the land parcels are synthetic: "
            "areas and yields show the method, not surveyed facts.",
        ),
    )


def key_figures(inputs: ReportInputs) -> pd.DataFrame:
    """The figures a reviewer looks for first, each with where it comes from."""
    rows: list[tuple[str, float, str, str]] = []
    areas = inputs.areas
    for role in (VOCABULARY.roles["park"], VOCABULARY.roles["adjustment"]):
        layer, code = role.layer, role_code(inputs.plan.layers.get(role.layer), role)
        if (layer, code) in areas.index:
            row = areas.loc[(layer, code)]
            rows.append((f"{code} {row['name_zh']} 面积 area", row["area_ha"], "ha", "面积 Areas"))
            rows.append((f"{code} {row['name_zh']} 面积 area", row["area_mu"], "亩", "面积 Areas"))
    rows.append(("规划要素 Plan features", float(len(areas)), "个", "面积 Areas"))
    parcels = inputs.plan.layers.get("land_parcels")
    if parcels is not None:
        rows.append(("地块 Land parcels", float(len(parcels)), "个", "land_parcels"))
    rows.extend(metric_sections.key_figures(inputs.tables, inputs.plan))
    subtotals = inputs.annex1
    total = subtotals.iloc[-1]
    rows.append(("附件1项目 Annex 1 projects", float(total["items"]), "个", "项目 Projects"))
    rows.append(
        (
            "附件1固定资产投资（项目合计） Fixed investment, sum of items",
            total["fixed_investment_10k_cny"],
            "万元",
            "项目 Projects",
        )
    )
    rows.append(
        (
            "附件1固定资产投资（原文合计） Fixed investment, total as printed",
            total["stated_fixed_investment_10k_cny"],
            "万元",
            "项目 Projects",
        )
    )
    rows.append(
        (
            "规划数字不一致 Plan figures that do not match",
            float(sum(c.status == "mismatch" for c in inputs.checks)),
            "处",
            "校验 Checks",
        )
    )
    frame = pd.DataFrame(rows, columns=["figure", "value", "unit", "source"])
    frame["value"] = frame["value"].astype(object)
    return frame


# --- 面积 Areas ---------------------------------------------------------------------------

AREA_COLUMNS = (
    "layer",
    "code",
    "name_zh",
    "name_en",
    "category",
    "area_ha",
    "area_mu",
    "stated_area_ha",
    "stated_diff_pct",
    "geodesic_area_ha",
    "planar_geodesic_diff_pct",
    "geom_source",
    "area_basis",
)


def area_rows(areas: pd.DataFrame) -> pd.DataFrame:
    """The areas table flat, with categories and sources as labels (numbers untouched)."""
    flat = areas.reset_index()
    category = pd.Series(None, index=flat.index, dtype=object)
    for spec in CATALOGUE.plan_layers:
        field = spec.category_field
        if field:
            mask = flat["layer"] == spec.name
            category[mask] = labelled(flat.loc[mask, "category"], spec.name, field)
    flat["category"] = category
    flat["geom_source"] = labelled(flat["geom_source"], "clusters", "geom_source")
    flat["area_basis"] = labelled(flat["area_basis"], "clusters", "area_basis")
    return flat[list(AREA_COLUMNS)]


def areas_section(inputs: ReportInputs) -> Section:
    table = make_table(
        "areas",
        "规划要素面积",
        "Area of every plan feature",
        area_rows(inputs.areas),
        tuple(column_for(c) for c in AREA_COLUMNS),
        note="Planar areas in EPSG:4548 (CGCS2000 / 3-degree Gauss-Krüger CM 117E); "
        "1 ha = 15 亩; geodesic area on the CGCS2000 ellipsoid as a cross-check.",
    )
    return Section(
        "areas",
        "面积",
        "Areas",
        "Every plan feature: measured area in ha and 亩, the area the plan states and the "
        "difference, and where the geometry comes from.",
        (table,),
    )


# --- 指标 Indicators ----------------------------------------------------------------------


def indicators_section(inputs: ReportInputs) -> Section:
    indicators = inputs.plan.layers.get("indicators")
    if indicators is None:
        return _empty("indicators", "指标", "Indicators", "layer 'indicators' is missing")
    computed = metric_sections.computed_indicators(inputs.tables, inputs.plan)
    frame = indicators.copy()
    frame["computed"] = frame["indicator_code"].map(lambda c: computed.get(c, (None, ""))[0])
    frame["computed_basis"] = frame["indicator_code"].map(lambda c: computed.get(c, (None, ""))[1])
    frame["computed"] = pd.to_numeric(frame["computed"]).astype("float64")
    columns = (
        column_for("indicator_code"),
        column_for("group_zh"),
        column_for("indicator_zh"),
        column_for("indicator_en"),
        column_for("unit"),
        column_for("baseline_2020", kind="auto"),
        column_for("target_2025", kind="auto"),
        Column("computed", "数据计算值", "Computed from the data", kind="auto"),
        Column("computed_basis", "计算口径", "How it is computed"),
        column_for("note_zh"),
    )
    table = make_table(
        "indicators", "规划指标体系（表2-1）", "Plan indicators (Table 2-1)", frame, columns
    )
    return Section(
        "indicators",
        "指标",
        "Indicators",
        "Table 2-1: 2020 baseline, 2025 target, and the value computed from the data where the "
        "data can give it.",
        (table,),
    )


# --- 项目 Projects ------------------------------------------------------------------------

PROJECT_COLUMNS = (
    "code",
    "stage",
    "seq",
    "name_zh",
    "name_en",
    "owner_zh",
    "fixed_investment_10k_cny",
    "construction_investment_10k_cny",
    "stated_land_mu",
    "schedule_zh",
    "status_zh",
)


def projects_section(inputs: ReportInputs) -> Section:
    projects = inputs.plan.layers.get("projects")
    if projects is None:
        return _empty("projects", "项目", "Projects", "layer 'projects' is missing")
    items = pd.DataFrame(projects[list(PROJECT_COLUMNS)])
    items["stage"] = labelled(items["stage"], "projects", "stage")
    subtotals = inputs.annex1.reset_index()
    subtotals["stage"] = labelled(subtotals["stage"], "projects", "stage")
    money = "money"
    sub_columns = (
        Column("stage_zh", "阶段（原文）", "Stage as printed"),
        Column("stage", "阶段", "Stage"),
        Column("items", "项目数", "Items", kind="int"),
        Column("fixed_investment_10k_cny", "固投（项目合计）", "Fixed inv., sum", "万元", money),
        Column(
            "stated_fixed_investment_10k_cny", "固投（原文）", "Fixed inv., printed", "万元", money
        ),
        Column(
            "fixed_investment_10k_cny_diff", "固投差额", "Fixed inv., difference", "万元", money
        ),
        Column(
            "construction_investment_10k_cny",
            "建安（项目合计）",
            "Constr. inv., sum",
            "万元",
            money,
        ),
        Column(
            "stated_construction_investment_10k_cny",
            "建安（原文）",
            "Constr. inv., printed",
            "万元",
            money,
        ),
        Column(
            "construction_investment_10k_cny_diff",
            "建安差额",
            "Constr. inv., difference",
            "万元",
            money,
        ),
    )
    tables = (
        make_table(
            "projects",
            "高精尖储备项目（附件1）",
            "Reserve projects (Annex 1)",
            items,
            tuple(
                column_for(c, kind="money" if c.endswith("10k_cny") else None)
                for c in PROJECT_COLUMNS
            ),
        ),
        make_table(
            "project_subtotals",
            "分阶段合计：项目相加与原文",
            "Stage subtotals: sum of the items beside the printed figures",
            subtotals,
            sub_columns,
            note="Differences are never corrected: the plan's printed subtotal for 正在推进开工项目 "
            "and its total do not equal the sum of the items (see 校验 Checks).",
        ),
    )
    return Section(
        "projects",
        "项目",
        "Projects",
        "Annex 1: the 16 reserve projects with their investments, and each stage's subtotal "
        "computed from the items beside the subtotal the plan prints.",
        tables,
    )


# --- 校验 Checks --------------------------------------------------------------------------


def checks_section(inputs: ReportInputs) -> Section:
    consistency = consistency_frame(inputs.checks)
    consistency["status"] = consistency["status"].map(lambda s: " ".join(STATUSES[s]))
    consistency["group"] = consistency["group"].map(lambda g: " ".join(GROUPS[g]))
    cons_columns = (
        Column("status", "结论", "Status"),
        Column("group", "类别", "Group"),
        Column("plan_section", "规划章节", "Plan section"),
        Column("subject", "对象", "Subject"),
        Column("stated", "规划数字", "Stated", kind="real"),
        Column("recomputed", "核算值", "Recomputed", kind="real"),
        Column("difference", "差值", "Difference", kind="real"),
        Column("difference_pct", "差值", "Difference", "%", "pct"),
        Column("unit", "单位", "Unit"),
        Column("basis", "比较", "Compared"),
        Column("detail", "说明", "Detail"),
        Column("check", "检查", "Check"),
    )
    findings = findings_frame(inputs.findings)
    find_columns = (
        Column("level", "级别", "Level"),
        Column("check", "检查", "Check"),
        Column("layer", "图层", "Layer"),
        Column("fid", "fid", "", kind="int"),
        Column("code", "编码", "Code"),
        Column("message", "问题", "Message"),
        Column("hint", "处理建议", "Hint"),
    )
    findings["fid"] = pd.to_numeric(findings["fid"]).astype("Int64")
    return Section(
        "checks",
        "校验",
        "Checks",
        "Plan consistency (every figure the plan states that the data or the plan itself can "
        "recompute, with both numbers; mismatches first, never corrected) and the data "
        "validation findings.",
        (
            make_table(
                "consistency",
                "规划数字一致性",
                "Plan consistency",
                consistency,
                cons_columns,
                note="Printed figures are compared allowing for their rounding (half a unit of "
                "the last printed digit); 约 rates allow ±0.5 percentage point.",
                flag=("status", " ".join(STATUSES["mismatch"])),
            ),
            make_table(
                "validation",
                "数据校验",
                "Data validation findings",
                findings,
                find_columns,
                flag=("level", "error"),
            ),
        ),
    )


def _empty(key: str, zh: str, en: str, why: str) -> Section:
    return Section(key, zh, en, f"Not available: {why}.", notes=(f"Not available: {why}.",))


__all__ = ["ReportInputs", "assemble_report"]
