"""The review's conclusion (通过 / 有条件通过 / 不予通过), decided once from the figures.

:func:`review_issues` lists what a reviewer must look at (control-line conflicts and
conditional overlaps, missing control lines, areas off the stated ones, the plan's own figures
that do not add up, non-construction land that becomes construction land);
:func:`review_conclusion` applies the rules of ``core/review.json`` to them: each rule names a
condition and the verdict it leads to, and the most severe verdict of the rules that hold is the
conclusion (the default verdict when none holds). Nothing here is hand-written per plan.

Control-line tables (``control_line_conflicts``: index (layer, feature_code, parcel_code,
line_type, line_code), columns current_use, planned_use, overlap_ha, overlap_mu, rule, verdict
in conflict / conditional / compliant) are read when present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..core.consistency import Consistency
from ..core.measure import MU_PER_HA, beyond_tolerance
from ..core.review import REVIEW, ReviewConfig, Rule, Verdict

CONFLICTS = "control_line_conflicts"
SUMMARY = "control_line_summary"
CROSSINGS = "control_line_crossings"
CONTROL_LINES_LAYER = "control_lines"
ADJUSTMENTS_LAYER = "land_adjustments"
# the two states of a transition kind: 现状 current, 批复规划 approved plan, 调整后 adjusted
STATE_WORDS = {
    "current_to_planned": ("现状", "批复规划", "current", "approved plan"),
    "planned_to_adjusted": ("批复规划", "调整后", "approved plan", "adjusted"),
}


@dataclass(frozen=True)
class Issue:
    """One item of the issue list: what, where (layer and feature code), how much, and the
    condition of review.json it makes true (None: listed for the reviewer, no rule)."""

    condition: str | None
    layer: str
    code: str
    zh: str
    en: str
    area_ha: float | None = None
    parcel: str | None = None

    @property
    def area_text(self) -> str:
        if self.area_ha is None:
            return "—"
        return f"{self.area_ha:,.2f} ha（{self.area_ha * MU_PER_HA:,.1f} 亩）"


@dataclass(frozen=True)
class Conclusion:
    """The verdict, the rules that hold (with how many issues each), and every issue."""

    verdict: Verdict
    reasons: tuple[tuple[Rule, int], ...]
    issues: tuple[Issue, ...]
    control_lines_supplied: bool

    @property
    def text(self) -> str:
        return f"{self.verdict.zh} {self.verdict.en}"


def _frame(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    table = tables.get(name)
    return None if table is None or table.empty else table


def control_line_issues(
    tables: Mapping[str, pd.DataFrame], config: ReviewConfig = REVIEW
) -> list[Issue]:
    """A conflict or conditional row of ``control_line_conflicts`` is one issue."""
    table = _frame(tables, CONFLICTS)
    if table is None:
        return []
    flat = table.reset_index()
    issues = []
    for verdict, condition in (
        ("conflict", "control_line_conflict"),
        ("conditional", "control_line_conditional"),
    ):
        for row in flat[flat["verdict"] == verdict].itertuples(index=False):
            line = config.line_type_label(row.line_type)
            label = "冲突" if verdict == "conflict" else "有条件"
            issues.append(
                Issue(
                    condition,
                    str(row.layer),
                    str(row.feature_code),
                    f"地块 {row.parcel_code}（{row.current_use}→{row.planned_use}）与{line} "
                    f"{row.line_code} 重叠，{label}：{row.rule}",
                    f"parcel {row.parcel_code} ({row.current_use} to {row.planned_use}) "
                    f"overlaps {row.line_code}: {verdict}",
                    float(row.overlap_ha),
                    str(row.parcel_code),
                )
            )
    return issues


def area_issues(
    tables: Mapping[str, pd.DataFrame], areas: pd.DataFrame | None, area_tolerance: float
) -> list[Issue]:
    """Plan features whose measured area, and re-designations whose changed area, are off the
    plan's stated area by more than ``area_tolerance``."""
    issues = []
    if areas is not None and {"area_ha", "stated_area_ha"} <= set(areas.columns):
        off = areas[beyond_tolerance(areas["area_ha"], areas["stated_area_ha"], area_tolerance)]
        for (layer, code), row in off.iterrows():
            issues.append(
                _area_issue(
                    layer, code, "量算面积", "measured", row["area_ha"], row["stated_area_ha"]
                )
            )
    totals = _frame(tables, "adjustment_totals")
    if totals is not None:
        off = totals[
            beyond_tolerance(totals["changed_ha"], totals["stated_area_ha"], area_tolerance)
        ]
        for code, row in off.iterrows():
            issues.append(
                _area_issue(
                    ADJUSTMENTS_LAYER,
                    code,
                    "调整地块面积",
                    "re-designated parcels",
                    row["changed_ha"],
                    row["stated_area_ha"],
                )
            )
    return issues


def _area_issue(layer, code, zh: str, en: str, measured: float, stated: float) -> Issue:
    diff = (measured - stated) / stated * 100 if stated else float("inf")
    return Issue(
        "area_beyond_tolerance",
        str(layer),
        str(code),
        f"{zh} {measured:,.2f} ha，规划面积 {stated:,.2f} ha，相差 {diff:+.1f}%",
        f"{en} {measured:,.2f} ha vs stated {stated:,.2f} ha ({diff:+.1f} %)",
        float(measured),
    )


def plan_figure_issues(checks: Sequence[Consistency]) -> list[Issue]:
    """Every plan-consistency mismatch (the plan's own figures that do not add up)."""
    return [
        Issue(
            "plan_figures_mismatch",
            "plan",
            c.plan_section,
            f"{c.subject}：规划数字 {_num(c.stated)} {c.unit}，核算 {_num(c.recomputed)} {c.unit}",
            c.detail,
        )
        for c in checks
        if c.status == "mismatch"
    ]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def construction_issues(
    tables: Mapping[str, pd.DataFrame], groups: Mapping[str, str], *, checked: bool
) -> list[Issue]:
    """Non-construction land (e.g. E2 农林用地) that becomes construction land: per farmer base
    (current → planned) and per re-designation (planned → adjusted). Listed for the reviewer;
    ``checked``: whether control lines were supplied to check it against."""
    note_zh = "已核查三区三线（见审查内容）" if checked else "未经三区三线核查"
    note_en = (
        "checked against the control lines" if checked else "not checked against any control line"
    )
    issues = []
    land = _frame(tables, "base_land_changes")
    if land is not None:
        for (base, before, after), row in land.iterrows():
            if groups.get(before) == "non_construction" and groups.get(after) == "construction":
                issues.append(
                    Issue(
                        None,
                        "farmer_bases",
                        str(base),
                        f"现状 {before} → 批复规划 {after}：非建设用地转为建设用地，{note_zh}",
                        f"current {before} to planned {after}: non-construction land becomes "
                        f"construction land, {note_en}",
                        float(row["area_ha"]),
                    )
                )
    moves = _frame(tables, "transitions")
    if moves is not None:
        flat = moves.reset_index()
        flat = flat[flat["layer"] == ADJUSTMENTS_LAYER]
        for row in flat.itertuples(index=False):
            before_zh, after_zh, before_en, after_en = STATE_WORDS[row.kind]
            if (
                groups.get(row.from_use) == "non_construction"
                and groups.get(row.to_use) == "construction"
            ):
                issues.append(
                    Issue(
                        None,
                        ADJUSTMENTS_LAYER,
                        str(row.zone),
                        f"{before_zh} {row.from_use} → {after_zh} {row.to_use}：非建设用地转为建设用地，"
                        f"{note_zh}",
                        f"{before_en} {row.from_use} to {after_en} {row.to_use}: non-construction "
                        f"land becomes construction land, {note_en}",
                        float(row.area_ha),
                    )
                )
    return issues


@dataclass(frozen=True)
class ReviewInputs:
    """What the review reads: the metric tables, the plan checks, the feature areas, whether
    control lines were supplied, the area tolerance and the land-use classes' groups."""

    tables: Mapping[str, pd.DataFrame]
    checks: Sequence[Consistency] = ()
    areas: pd.DataFrame | None = None
    control_lines_supplied: bool = True
    area_tolerance: float = 0.05
    class_groups: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, results) -> ReviewInputs:
        """The review inputs of one run's ``Results``."""
        lines = results.plan.layers.get(CONTROL_LINES_LAYER)
        return cls(
            results.tables,
            results.checks,
            results.areas,
            control_lines_supplied=lines is not None and len(lines) > 0,
            area_tolerance=results.area_tolerance,
            class_groups=class_groups(results.plan.layers.get("land_use_classes")),
        )


def review_issues(given: ReviewInputs, config: ReviewConfig = REVIEW) -> list[Issue]:
    """Every issue, in the order of review.json's rules, then the listed-only ones."""
    supplied = given.control_lines_supplied
    issues = control_line_issues(given.tables, config)
    if not supplied:
        issues.append(
            Issue(
                "control_lines_missing",
                CONTROL_LINES_LAYER,
                "—",
                "未提供三区三线数据（永久基本农田、生态保护红线、城镇开发边界），调整用地未经核查",
                "no control lines supplied: the adjusted uses are not checked against them",
            )
        )
    issues += area_issues(given.tables, given.areas, given.area_tolerance)
    issues += plan_figure_issues(given.checks)
    issues += construction_issues(given.tables, given.class_groups, checked=supplied)
    return issues


def review_conclusion(given: ReviewInputs, config: ReviewConfig = REVIEW) -> Conclusion:
    """The conclusion of the review by the rules of ``config`` (review.json)."""
    issues = review_issues(given, config)
    counts = pd.Series([i.condition for i in issues if i.condition], dtype=object).value_counts()
    reasons = tuple(
        (rule, int(counts[rule.condition])) for rule in config.rules if rule.condition in counts
    )
    verdict = config.verdicts[config.default_verdict]
    for rule, _n in reasons:
        candidate = config.verdicts[rule.verdict]
        if candidate.severity > verdict.severity:
            verdict = candidate
    return Conclusion(verdict, reasons, tuple(issues), given.control_lines_supplied)


def class_groups(classes: pd.DataFrame | None) -> dict[str, str]:
    """Land-use class code -> group (construction / reserve / non_construction)."""
    if classes is None or not {"code", "group"} <= set(classes.columns):
        return {}
    return dict(zip(classes["code"].astype(str), classes["group"].astype(str), strict=True))


def conclude(results) -> Conclusion:
    """:func:`review_conclusion` of one run's ``Results``."""
    return review_conclusion(ReviewInputs.of(results))


__all__ = [
    "Conclusion",
    "Issue",
    "ReviewInputs",
    "class_groups",
    "conclude",
    "review_conclusion",
    "review_issues",
]
