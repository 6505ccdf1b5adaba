"""What the review memo says, taken from one run's Results and its Conclusion (nothing is
computed here beyond formatting): the sections 审查对象, 审查依据, 审查内容, 问题清单, 审查结论,
as plain text and tables of text, for :mod:`.html` to lay out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import pandas as pd

from ... import __version__
from ...analysis.conclusion import Conclusion, Issue
from ...core.citation import PLAN_CITATION, PLAN_CITATION_EN
from ...core.review import REVIEW, ReviewConfig
from ..maps.pages.bases import base_filename
from ..reports.review import data_mark, data_mark_detail, local_time, local_time_text
from .model import ANNEX, MU_PER_HA, Cell, Memo, MemoSection, MemoTable, Part, ha, mu
from .model import text_of as _text
from .parts import content


def run_id(generated: datetime, sha256: str) -> str:
    """'20261207T094500-837fa040': the run's local time and the input's digest."""
    return f"{local_time(generated):%Y%m%dT%H%M%S}-{(sha256 or 'nodigest')[:8]}"


# --- where an issue is shown ---------------------------------------------------------------


def _slug(code: str) -> str:  # as the static maps name their files (render/static/maps.py)
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)[:40] or "x"


def issue_files(issue: Issue, files: Collection[str]) -> tuple[str | None, str | None]:
    """(the static figure, the map page) the issue's feature appears on, among ``files``."""
    if (issue.condition or "").startswith("control_line"):  # the annex's 三区三线 section
        figure, page = "static/control_lines.png", f"{ANNEX}#control_lines"
    elif issue.layer == "land_adjustments":
        figure, page = f"static/area_{_slug(issue.code)}.png", "land_use.html"
    elif issue.layer == "farmer_bases":
        figure, page = f"static/base_{_slug(issue.code)}.png", base_filename(issue.code)
    elif issue.layer == "land_parcels":
        figure, page = "static/land_use_adjusted.png", "land_use.html"
    elif issue.layer == "plan":
        figure, page = None, f"{ANNEX}#checks"
    else:
        figure, page = "static/overview.png", "overview.html"
    shown_page = page if page and page.split("#")[0] in files else None
    return (figure if figure in files else None), shown_page


# --- the sections --------------------------------------------------------------------------


def subject(results) -> MemoSection:
    """审查对象: the re-designations and the bases, where and how much."""
    rows = []
    totals = results.tables.get("adjustment_totals")
    adjustments = results.plan.layers.get("land_adjustments")
    where = {}
    if adjustments is not None and "location_zh" in adjustments.columns:
        where = dict(zip(adjustments["code"].astype(str), adjustments["location_zh"], strict=True))
    if totals is not None:
        for code, row in totals.iterrows():
            rows.append(
                (
                    Cell(str(code)),
                    Cell(_text(row.get("name_zh"))),
                    Cell(_text(where.get(str(code)))),
                    Cell(f"{_text(row.get('from_use'))} → {_text(row.get('to_uses'))}"),
                    Cell(ha(row["area_ha"]), True),
                    Cell(mu(row["area_ha"]), True),
                    Cell(ha(row["changed_ha"]), True),
                    Cell(mu(row["changed_ha"]), True),
                )
            )
    table = MemoTable(
        "subject",
        "用地性质调整 Re-designations (批复规划 → 调整后 approved plan to adjusted)",
        (
            "编码 Code",
            "名称 Name",
            "位置 Where",
            "批复规划→调整后",
            "范围 ha",
            "范围 亩",
            "调整 ha",
            "调整 亩",
        ),
        tuple(rows),
    )
    parts = [
        Part(
            "subject-plan",
            "规划 Plan",
            (f"{PLAN_CITATION}。 {PLAN_CITATION_EN}.",),
        ),
        Part("subject-adjustments", "调整用地 Re-designated land", (), (table,) if rows else ()),
    ]
    bases = (
        results.areas.xs("farmer_bases", level="layer")
        if "farmer_bases" in set(results.areas.index.get_level_values("layer"))
        else None
    )
    if bases is not None and len(bases):
        total = float(bases["area_ha"].sum())
        parts.append(
            Part(
                "subject-bases",
                "农民就业产业基地 Farmer bases",
                (
                    f"{len(bases)} 个基地（{'、'.join(map(str, bases.index))}），合计 {ha(total)} ha"
                    f"（{mu(total)} 亩）。 {len(bases)} bases, {ha(total)} ha in all.",
                ),
            )
        )
    changing = results.tables.get("changing_parcels")
    if changing is not None and len(changing):
        area = float(changing["area_ha"].sum())
        parts.append(
            Part(
                "subject-parcels",
                "用途改变的地块 Parcels whose use changes",
                (
                    f"{len(changing)} 个地块，{ha(area)} ha（{mu(area)} 亩）（明细见数据附件 "
                    f"{ANNEX} 与 changing_parcels.csv）。",
                ),
            )
        )
    return MemoSection("subject", "审查对象", "Subject of the review", tuple(parts))


def basis(config: ReviewConfig = REVIEW) -> MemoSection:
    """审查依据: the plan, then the laws and standards of review.json."""
    items = [f"{PLAN_CITATION} {PLAN_CITATION_EN}"]
    items += [f"{b.title} {b.en}".strip() for b in config.basis]
    return MemoSection(
        "basis",
        "审查依据",
        "Basis of the review",
        (Part("basis-list", "依据 References", tuple(items)),),
    )


ISSUES_CSV = "review_issues.csv"  # every issue, as the memo numbers them
ROWS_PER_KIND = 20  # the memo lists this many issues of each kind, the CSV all of them


def _kinds(conclusion: Conclusion, config: ReviewConfig) -> list[tuple[str, list]]:
    """(kind label, [(number, issue), ...]): the issues grouped by kind in the order the
    kinds first appear, numbered in that order (the memo and the CSV alike)."""
    rule_of = {r.condition: r for r in config.rules}
    groups: dict[str, list] = {}
    for issue in conclusion.issues:
        rule = rule_of.get(issue.condition)
        groups.setdefault(rule.zh if rule else "提示 note", []).append(issue)
    numbered, number = [], 0
    for kind, members in groups.items():
        numbered.append((kind, [(number + i, issue) for i, issue in enumerate(members, 1)]))
        number += len(members)
    return numbered


def issue_table(
    conclusion: Conclusion, files: Collection[str], config: ReviewConfig = REVIEW
) -> pd.DataFrame:
    """Every issue, one row each, numbered as in the memo (``review_issues.csv``)."""
    rows = []
    for kind, numbered in _kinds(conclusion, config):
        for number, issue in numbered:
            figure, page = issue_files(issue, files)
            rows.append(
                {
                    "number": number,
                    "kind": kind,
                    "condition": issue.condition or "",
                    "layer": issue.layer,
                    "feature_code": issue.code,
                    "parcel_code": issue.parcel or "",
                    "area_ha": issue.area_ha,
                    "area_mu": None if issue.area_ha is None else issue.area_ha * MU_PER_HA,
                    "detail_zh": issue.zh,
                    "detail_en": issue.en,
                    "figure": figure or "",
                    "map": page or "",
                }
            )
    columns = ["number", "kind", "condition", "layer", "feature_code", "parcel_code",
               "area_ha", "area_mu", "detail_zh", "detail_en", "figure", "map"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).set_index("number")


def issues(
    conclusion: Conclusion, files: Collection[str], config: ReviewConfig = REVIEW
) -> MemoSection:
    """问题清单: per kind, its first ``ROWS_PER_KIND`` issues and a line for the rest (count
    and area; all of them in ``review_issues.csv``), so the memo stays readable."""
    rows, counts = [], []
    csv_href = ISSUES_CSV if ISSUES_CSV in files else None
    for kind, numbered in _kinds(conclusion, config):
        counts.append(f"{kind} {len(numbered)} 项")
        for number, issue in numbered[:ROWS_PER_KIND]:
            figure, page = issue_files(issue, files)
            rows.append(
                (
                    Cell(str(number), True),
                    Cell(kind),
                    Cell(f"{issue.code}" + (f" / {issue.parcel}" if issue.parcel else "")),
                    Cell(issue.area_text, True),
                    Cell(f"{issue.zh}。 {issue.en}"),
                    Cell(figure or "—", href=figure),
                    Cell(page or "—", href=page),
                )
            )
        rest = numbered[ROWS_PER_KIND:]
        if rest:
            area = sum(i.area_ha for _n, i in rest if i.area_ha is not None)
            rows.append(
                (
                    Cell("…", True),
                    Cell(kind),
                    Cell(f"另 {len(rest)} 项 {len(rest)} more"),
                    Cell(f"{ha(area)} ha（{mu(area)} 亩）", True),
                    Cell(
                        f"其余 {len(rest)} 项见 {ISSUES_CSV}。 The other {len(rest)} in {ISSUES_CSV}."
                    ),
                    Cell("—"),
                    Cell(ISSUES_CSV if csv_href else "—", href=csv_href),
                )
            )
    table = MemoTable(
        "issues",
        "问题清单 Issues",
        ("序号", "类别 Kind", "编码 Code", "面积 Area", "说明 Detail", "图件 Figure", "地图 Map"),
        tuple(rows),
        widths=(5, 13, 9, 12, 39, 11, 11),
    )
    n = len(conclusion.issues)
    summary = (
        f"共 {n} 项（{'；'.join(counts)}）；每类列出前 {ROWS_PER_KIND} 项，全部见 {ISSUES_CSV}。 "
        f"{n} items; the first {ROWS_PER_KIND} of each kind here, all of them in {ISSUES_CSV}."
        if n
        else "无 None."
    )
    return MemoSection(
        "issues",
        "问题清单",
        "Issues",
        (Part("issues-list", "清单 List", (summary,), (table,) if rows else ()),),
    )


def conclusion_section(conclusion: Conclusion) -> MemoSection:
    reasons = tuple(
        f"{rule.zh}（{n} 项）→ {REVIEW.verdicts[rule.verdict].zh}。 {rule.en} ({n}) → "
        f"{REVIEW.verdicts[rule.verdict].en}."
        for rule, n in conclusion.reasons
    )
    head = f"审查结论：{conclusion.verdict.zh}。 Conclusion: {conclusion.verdict.en}."
    rule_note = (
        "结论由 core/review.json 的规则按问题清单得出（取最严格者），非人工填写。 Derived from the issue "
        "list by the rules of core/review.json (the most severe applies), not written by hand."
    )
    return MemoSection(
        "conclusion",
        "审查结论",
        "Conclusion",
        (Part("conclusion-verdict", "结论 Verdict", (head, *reasons, rule_note)),),
    )


def memo(
    results,
    conclusion: Conclusion,
    *,
    generated: datetime,
    files: Collection[str] = (),
    config: ReviewConfig = REVIEW,
) -> Memo:
    """The memo of ``results`` and its ``conclusion``; ``files``: the build's output files
    (relative paths), which figures and map pages an issue may link to."""
    plan = results.plan
    rid = run_id(generated, plan.sha256)
    run: Mapping[str, str] = {
        "运行编号 Run id": rid,
        "生成时间 Generated": local_time_text(generated),
        "工具版本 Tool": f"miyun-spatial {__version__}",
        "输入文件 Input": plan.path.name,
        "输入 SHA-256": plan.sha256 or "—",
        "数据附件 Data annex": ANNEX,
    }
    return Memo(
        title_zh=config.title_zh,
        title_en=config.title_en,
        mark=data_mark(plan.layers),
        mark_detail=data_mark_detail(plan.layers),
        run=tuple(run.items()),
        sections=(
            subject(results),
            basis(config),
            content(results, conclusion),
            issues(conclusion, set(files), config),
            conclusion_section(conclusion),
        ),
        verdict_key=conclusion.verdict.key,
        verdict_text=conclusion.text,
        sign_off=config.sign_off,
        date=f"{local_time(generated):%Y-%m-%d}",
        run_id=rid,
        footer=f"miyun-spatial {__version__} · run {rid} · SHA-256 {(plan.sha256 or '—')[:16]}…",
    )


__all__ = ["ANNEX", "ISSUES_CSV", "Memo", "issue_files", "issue_table", "memo", "run_id"]
