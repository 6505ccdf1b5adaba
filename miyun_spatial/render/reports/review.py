"""The review document's front matter: the plan cited, the data mark, and the findings.

A land-use review reads the findings first: what the plan changes (re-designations, parcels
whose use changes, the farmer bases' categories), what is off target (yields against the 2025
targets, low-efficiency land, areas that differ from the plan's), and what the plan's own
figures get wrong (the plan-consistency mismatches of :mod:`miyun_spatial.checks`). Every
sentence is built from the metric tables and the checks: nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from ...core.catalogue import CATALOGUE
from ...core.citation import (
    LOCAL_TIMEZONE,
    PLAN_CITATION,
    PLAN_CITATION_EN,
    SCHEMATIC_MARK_EN,
    SCHEMATIC_MARK_ZH,
)
from ...core.consistency import consistency_frame
from ...core.measure import beyond_tolerance
from ...core.plan import PlanData
from ...core.vocabulary import VOCABULARY, park_code
from .model import Column, Table, make_table

PARK_LAYER = VOCABULARY.roles["park"].layer


@dataclass(frozen=True)
class FindingGroup:
    """One heading of the findings: sentences, and a table when the items need one."""

    key: str
    title_zh: str
    title_en: str
    items: tuple[str, ...]
    table: Table | None = None


@dataclass(frozen=True)
class MapFigure:
    """A static map embedded in the report (PNG bytes) with its caption."""

    key: str
    caption: str
    png: bytes
    wide: bool = True  # a full-page-width map; False for the three-panel location maps


def local_time(moment: datetime) -> datetime:
    """``moment`` in the plan's local time (Asia/Shanghai, UTC+8)."""
    return moment.astimezone(ZoneInfo(LOCAL_TIMEZONE))


def local_time_text(moment: datetime) -> str:
    shown = local_time(moment)
    offset = shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M} ({LOCAL_TIMEZONE}, UTC{offset[:3]}:{offset[3:]})"


def citation() -> tuple[str, str]:
    return PLAN_CITATION, PLAN_CITATION_EN


def schematic_share(plan_layers: Mapping[str, pd.DataFrame]) -> tuple[int, int]:
    """(features with schematic geometry, features with synthetic attributes) in the data."""
    schematic = synthetic = 0
    for spec in CATALOGUE.layers:
        frame = plan_layers.get(spec.name)
        if frame is None or spec.role == "attributes":
            continue
        if "geom_source" in frame.columns:
            schematic += int((frame["geom_source"] == "schematic").sum())
        if "data_basis" in frame.columns:
            synthetic += int((frame["data_basis"] == "synthetic").sum())
    return schematic, synthetic


def data_mark(plan_layers: Mapping[str, pd.DataFrame]) -> str | None:
    """The mark every page carries while any schematic or synthetic data is present."""
    schematic, synthetic = schematic_share(plan_layers)
    if not (schematic or synthetic):
        return None
    return f"{SCHEMATIC_MARK_ZH} {SCHEMATIC_MARK_EN}"


def data_mark_detail(plan_layers: Mapping[str, pd.DataFrame]) -> str:
    schematic, synthetic = schematic_share(plan_layers)
    return (
        f"{schematic} 个要素的几何为示意（由规划文字推定位置，未经测量），{synthetic} 个地块的属性为合成"
        f"数据（按规划公布的总量生成）。 {schematic} features have schematic outlines drawn from "
        f"the plan's text, {synthetic} parcels synthetic attributes calibrated to the plan's "
        "totals: the figures show the method, not surveyed facts."
    )


# --- findings -------------------------------------------------------------------------------


def findings(
    tables: Mapping[str, pd.DataFrame],
    plan: PlanData,
    areas: pd.DataFrame,
    checks,
    area_tolerance: float,
) -> tuple[FindingGroup, ...]:
    """The three headings of the findings, from the metric tables and the consistency checks."""
    return (
        FindingGroup("changes", "规划带来的变化", "What changes", changes(tables, plan.layers)),
        FindingGroup(
            "off_target",
            "未达目标与偏差",
            "What is off target",
            off_target(tables, plan, areas, area_tolerance),
        ),
        plan_errors(checks),
    )


def _ha(value) -> str:
    return f"{float(value):,.2f} ha（{float(value) * 15:,.0f} 亩）"


def _sum_where(values: pd.Series, where: pd.Series) -> float:
    """The sum of ``values`` where ``where`` is true, as ``values[where].sum()`` gives it, without
    the index of the rows selected (a parcel table's index is 10^6 codes)."""
    return float(pd.Series(values.to_numpy()[where.to_numpy()]).sum())


def changes(tables: Mapping[str, pd.DataFrame], plan_layers) -> tuple[str, ...]:
    items: list[str] = []
    totals = tables.get("adjustment_totals")
    if totals is not None:
        for code, row in totals.iterrows():
            items.append(
                f"{code} {row.get('name_zh', '')}：{_ha(row['changed_ha'])} 由 {row['from_use']} "
                f"调整为 {row.get('to_uses', '')}，其中 {float(row['to_industrial_ha']):,.2f} ha "
                f"成为工业用地。 {code}: {float(row['changed_ha']):,.2f} ha re-designated from "
                f"{row['from_use']} to {row.get('to_uses', '')}, "
                f"{float(row['to_industrial_ha']):,.2f} ha of it industrial land."
            )
    changing = tables.get("changing_parcels")
    if changing is not None:
        planned = changing["current_to_planned"].astype(bool)
        adjusted = changing["planned_to_adjusted"].astype(bool)
        n_planned, n_adjusted = int(planned.sum()), int(adjusted.sum())
        area = changing["area_ha"]
        items.append(
            f"{n_planned} 个地块现状→规划用途改变（{_ha(_sum_where(area, planned))}），"
            f"{n_adjusted} 个地块因用地调整再改变（{_ha(_sum_where(area, adjusted))}）。 "
            f"{n_planned} parcels change use from current to planned, {n_adjusted} again "
            "with the re-designations (full list: changing_parcels.csv, report.xlsx 用地调整)."
        )
    bases = plan_layers.get("farmer_bases")
    if bases is not None and "category" in bases.columns:
        labels = {v.value: v.label for v in CATALOGUE["farmer_bases"].field("category").values}
        parts = []
        for value, label in labels.items():
            codes = bases.loc[bases["category"] == value, "code"].astype(str).tolist()
            if codes:
                parts.append(f"{label} {len(codes)}（{'、'.join(codes)}）")
        items.append(f"农民就业产业基地 Farmer bases: {'；'.join(parts)}。")
    land = tables.get("base_land_changes")
    if land is not None:
        flat = land.reset_index()
        unchanged = []
        for base, rows in flat.groupby("base", sort=True):
            moved = rows[rows["from_use"] != rows["to_use"]]
            if moved.empty:
                unchanged.append(str(base))
                continue
            pairs = "、".join(
                f"{r.from_use}→{r.to_use} {r.area_ha:,.1f} ha" for r in moved.itertuples()
            )
            note = rows["land_change_zh"].dropna()
            items.append(
                f"{base} {rows['name_zh'].iloc[0]}：{pairs}"
                + (f"（{note.iloc[0]}）" if len(note) else "")
            )
        if unchanged:
            items.append(f"{'、'.join(unchanged)}：规划用地与现状相同 planned use = current use。")
    return tuple(items) or ("无用地调整数据 No adjustment data.",)


def off_target(tables, plan: PlanData, areas: pd.DataFrame, tolerance: float) -> tuple[str, ...]:
    items: list[str] = []
    yields = tables.get("zone_yields")
    code = park_code(plan.layers)
    if yields is not None and code and (PARK_LAYER, code) in yields.index:
        row = yields.loc[(PARK_LAYER, code)]
        items.append(
            f"{code} 中关村密云园地均收入 {row['revenue_per_ha']:,.0f} 万元/公顷，为2025年目标 "
            f"{row['target_revenue_per_ha']:,.0f} 的 {row['pct_of_target']:.1f}%；达标尚需收入 "
            f"{row['revenue_needed_10k_cny'] / 1e4:,.1f} 亿元。 Revenue per built ha is "
            f"{row['pct_of_target']:.1f} % of the 2025 target."
        )
        if row["output_pct_of_target"] == row["output_pct_of_target"]:
            items.append(
                f"{code} 地均产值 {row['output_per_ha']:,.0f} 万元/公顷（= 元/平方米），为目标 "
                f"{row['target_output_yuan_per_m2']:,.0f} 元/平方米的 "
                f"{row['output_pct_of_target']:.1f}%。 Output per built industrial ha is "
                f"{row['output_pct_of_target']:.1f} % of the target."
            )
    if yields is not None:
        below = yields[(yields["pct_of_target"] < 100) & yields["revenue_per_ha"].notna()]
        below = below.drop(index=[(PARK_LAYER, code)], errors="ignore")
        if len(below):
            zones = "、".join(f"{z}（{p:.0f}%）" for (_l, z), p in below["pct_of_target"].items())
            items.append(f"低于收入目标的分区 Zones below the revenue target: {zones}。")
    parcels = tables.get("parcel_yields")
    if parcels is not None:
        low = parcels["low_efficiency"].astype(bool)
        count = int(low.sum())
        items.append(
            f"低效用地 {count} 个地块（{_ha(_sum_where(parcels['area_ha'], low))}），为腾退/提升候选。 "
            f"{count} low-efficiency parcels (grade D, built): candidates for upgrading."
        )
    if areas is not None and "stated_diff_pct" in areas.columns:
        off = areas[beyond_tolerance(areas["area_ha"], areas["stated_area_ha"], tolerance)]
        if len(off):
            listed = "、".join(f"{c}（{d:+.1f}%）" for (_l, c), d in off["stated_diff_pct"].items())
            items.append(
                f"量算面积与规划面积相差超过 {tolerance:.0%}：{listed}。 Measured areas more than "
                f"{tolerance:.0%} off the plan's stated area."
            )
        else:
            items.append(
                f"所有规划要素的量算面积与规划面积相差不超过 {tolerance:.0%}（示意轮廓按规划面积绘制）。 "
                "Every measured area is within the tolerance of the stated one (schematic "
                "outlines are drawn to the stated areas)."
            )
    bench = tables.get("benchmark")
    if bench is not None and bench["is_miyun"].any():
        miyun = bench[bench["is_miyun"]].iloc[0]
        items.append(
            f"表1-1：密云园单位面积收入在 {len(bench)} 个中关村分园中排第 "
            f"{int(miyun['revenue_rank'])} 名。 Table 1-1: Miyun ranks "
            f"{int(miyun['revenue_rank'])} of {len(bench)} by revenue per ha."
        )
    return tuple(items) or ("无产出数据 No yield data.",)


def plan_errors(checks) -> FindingGroup:
    frame = consistency_frame(checks)
    wrong = frame[frame["status"] == "mismatch"]
    basis = int((frame["status"] == "different_basis").sum())
    items = [
        f"{len(frame)} 个规划数字经核算，{len(wrong)} 处不一致（下表，原文数字未作更正），"
        f"{basis} 处口径不同。 {len(frame)} figures of the plan recomputed: {len(wrong)} do not "
        f"match (below; never corrected), {basis} are on a different basis. All checks: "
        "appendix and report.xlsx 校验."
    ]
    columns = (
        Column("plan_section", "规划章节", "Section"),
        Column("subject", "对象", "Subject"),
        Column("stated", "规划数字", "Stated", kind="real"),
        Column("recomputed", "核算值", "Recomputed", kind="real"),
        Column("unit", "单位", "Unit"),
        Column("detail", "说明", "Detail"),
    )
    table = make_table(
        "plan_mismatches",
        "规划自身数字不一致",
        "The plan's own figures that do not add up",
        wrong,
        columns,
    )
    return FindingGroup(
        "plan_errors",
        "规划数字的问题",
        "What the plan's own figures get wrong",
        tuple(items),
        table,
    )
