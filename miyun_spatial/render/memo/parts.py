"""审查内容, the parts of the memo's review: control lines, before/after, yields, areas, the
plan's own figures; each from the Results' tables and checks, formatted only."""

from __future__ import annotations

import pandas as pd

from ...analysis.conclusion import Conclusion
from ...core.consistency import consistency_frame
from ...core.review import REVIEW, ReviewConfig
from .model import ANNEX, STATES, Cell, MemoSection, MemoTable, Part, ha, mu
from .model import text_of as _text


def control_lines_part(results, conclusion: Conclusion, config: ReviewConfig = REVIEW) -> Part:
    """三区三线 per line type, from the control-line tables (or that none were supplied)."""
    title = "三区三线核查 Control lines (三区三线)"
    summary = results.tables.get("control_line_summary")
    if not conclusion.control_lines_supplied:
        return Part(
            "content-control-lines",
            title,
            (
                "未提供三区三线数据（control_lines 图层缺失）：永久基本农田、生态保护红线、城镇开发边界"
                "均未核查。 No control lines supplied: nothing was checked against them.",
            ),
        )
    if summary is None or summary.empty:
        return Part(
            "content-control-lines",
            title,
            ("已提供三区三线数据，调整用地与其无重叠。 Control lines supplied: no overlap.",),
        )
    by_type = (
        summary.reset_index()
        .groupby("line_type", sort=True)[["overlap_ha", "conflicts", "conditionals"]]
        .sum()
    )
    rows = tuple(
        (
            Cell(config.line_type_label(line_type)),
            Cell(ha(row["overlap_ha"]), True),
            Cell(mu(row["overlap_ha"]), True),
            Cell(f"{int(row['conflicts'])}", True),
            Cell(f"{int(row['conditionals'])}", True),
        )
        for line_type, row in by_type.iterrows()
    )
    crossings = results.tables.get("control_line_crossings")
    notes = []
    if crossings is not None and len(crossings):
        notes.append(
            f"控制线之间相互重叠 {len(crossings)} 处，合计 {ha(crossings['overlap_ha'].sum())} ha。 "
            f"{len(crossings)} overlaps between control lines."
        )
    table = MemoTable(
        "control_lines",
        "按控制线类型 By line type",
        ("控制线 Line type", "重叠 ha", "重叠 亩", "冲突 conflicts", "有条件 conditional"),
        rows,
    )
    return Part("content-control-lines", title, tuple(notes), (table,))


def baselines_part(results) -> Part:
    """Each re-designation's before/after: 批复规划 → 调整后, the current survey use beside
    (the ``baselines`` table; the farmer bases too, whose plan is not re-designated)."""
    table = results.tables.get("baselines")
    rows = []
    if table is not None:
        for (layer, zone, current, planned, adjusted), row in table.iterrows():
            rows.append(
                (
                    Cell(str(zone)),
                    Cell(str(current)),
                    Cell(str(planned)),
                    Cell(str(adjusted) if layer == "land_adjustments" else f"{adjusted}（未调整）"),
                    Cell(ha(row["area_ha"]), True),
                    Cell(mu(row["area_ha"]), True),
                )
            )
    table = MemoTable(
        "baselines",
        "调整前后 Before and after (批复规划 → 调整后，现状并列)",
        ("编码 Code", STATES["current"], STATES["planned"], STATES["adjusted"], "ha", "亩"),
        tuple(rows),
        "用地性质调整的法定基准是批复规划用途；现状调查用途仅作对照。 The legal baseline of a "
        "re-designation is the approved plan's use; the current survey use is shown beside it.",
    )
    return Part("content-baselines", "调整前后用地 Before and after", (), (table,) if rows else ())


def yields_part(results) -> Part:
    yields = results.tables.get("zone_yields")
    rows = []
    if yields is not None:
        shown = yields[yields["revenue_per_ha"].notna()]
        for (layer, zone), row in shown.iterrows():
            rows.append(
                (
                    Cell(f"{zone}"),
                    Cell(str(layer)),
                    Cell(f"{row['revenue_per_ha']:,.0f}", True),
                    Cell(f"{row['target_revenue_per_ha']:,.0f}", True),
                    Cell(f"{row['pct_of_target']:.1f}", True),
                    Cell(
                        "—"
                        if pd.isna(row["output_pct_of_target"])
                        else f"{row['output_pct_of_target']:.1f}",
                        True,
                    ),
                )
            )
    table = MemoTable(
        "yields",
        "地均收入与2025年目标 Revenue per ha against the 2025 targets",
        ("分区 Zone", "图层 Layer", "地均收入 万元/ha", "目标 万元/ha", "达标 %", "产值达标 %"),
        tuple(rows),
        "产出为合成数据时仅示方法。 With synthetic parcel economics the figures show the method.",
    )
    return Part("content-yields", "目标与产出 Targets and yields", (), (table,) if rows else ())


def areas_part(results) -> Part:
    areas = results.areas
    rows = []
    if areas is not None and "stated_area_ha" in areas.columns:
        stated = areas[areas["stated_area_ha"].notna()]
        for (_layer, code), row in stated.iterrows():
            rows.append(
                (
                    Cell(str(code)),
                    Cell(_text(row.get("name_zh"))),
                    Cell(ha(row["stated_area_ha"]), True),
                    Cell(ha(row["area_ha"]), True),
                    Cell(mu(row["area_ha"]), True),
                    Cell(
                        f"{round(row['stated_diff_pct'], 2) + 0.0:+.2f}".replace("-0.00", "0.00"),
                        True,
                    ),
                )
            )
    table = MemoTable(
        "areas",
        "规划面积与量算面积 Stated and measured areas (EPSG:4548)",
        ("编码 Code", "名称 Name", "规划 ha", "量算 ha", "量算 亩", "差 %"),
        tuple(rows),
        f"容差 tolerance {results.area_tolerance:.0%}。",
    )
    return Part("content-areas", "面积核对 Stated vs measured areas", (), (table,) if rows else ())


def plan_figures_part(results) -> Part:
    frame = consistency_frame(results.checks)
    wrong = frame[frame["status"] == "mismatch"]
    rows = tuple(
        (
            Cell(_text(r.plan_section)),
            Cell(_text(r.subject)),
            Cell(ha(r.stated), True),
            Cell(ha(r.recomputed), True),
            Cell(_text(r.unit)),
        )
        for r in wrong.itertuples(index=False)
    )
    paragraph = (
        f"核算规划数字 {len(frame)} 个，不一致 {len(wrong)} 处（原文数字未作更正；全部核对见 {ANNEX}）。 "
        f"{len(frame)} figures recomputed, {len(wrong)} do not match."
    )
    table = MemoTable(
        "plan_figures",
        "规划自身不一致的数字 The plan's inconsistent figures",
        ("章节 Section", "对象 Subject", "规划数字", "核算值", "单位"),
        rows,
    )
    return Part(
        "content-plan-figures",
        "规划数字一致性 The plan's own figures",
        (paragraph,),
        (table,) if rows else (),
    )


def content(results, conclusion: Conclusion) -> MemoSection:
    return MemoSection(
        "content",
        "审查内容",
        "What was reviewed",
        (
            control_lines_part(results, conclusion),
            baselines_part(results),
            yields_part(results),
            areas_part(results),
            plan_figures_part(results),
        ),
    )
