"""The 三区三线 section and the 调整前后 baselines of the data annex (report.html, report.xlsx).

From ``Results.tables`` (nothing is measured here):

- ``control_lines`` (both files): per line type, the overlaps of the changing parcels with the
  lines (``control_line_conflicts`` rows of layer ``parcels``: ha, 亩, and their count by
  verdict); the largest conflicts and conditionals, at most :data:`TOP_ROWS` of them, with how
  many more control_line_conflicts.csv lists; and the 三线冲突 crossings, also bounded;
- ``baselines`` (both files): 现状 / 批复规划 / 调整后 per zone in ha and 亩, bounded in
  report.html (report.xlsx has every row);
- report.xlsx alone (:data:`XLSX_ONLY`) has the three control-line tables, each on a sheet
  of its own, with the values of their CSV files: whole up to :data:`SHEET_ROWS` rows, beyond
  that the conflicts and conditionals first (``sheet_rows``; the CSVs have every row).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ...core.catalogue import CATALOGUE
from .metric_tables import metric_table
from .model import Column, Section, Table, make_table

TOP_ROWS = 5  # rows report.html lists of a long control-line or baseline table
SHEET_ROWS = 20_000  # rows of a whole table's report.xlsx sheet (every row in its CSV)
PARCELS = "parcels"  # the layer of control_line_conflicts whose rows are the parcels themselves
VERDICTS = ("conflict", "conditional", "compliant")
VERDICT_TEXT = {"conflict": "冲突 conflict", "conditional": "有条件 conditional"}
VERDICT_TEXT["compliant"] = "符合 compliant"
NO_LINES = "未提供三区三线数据 No control_lines layer: the overlaps were not measured."
# sections report.html leaves out (their tables are whole in report.xlsx and the CSVs)
XLSX_ONLY = frozenset(
    {"control_line_conflicts", "control_line_summary", "control_line_crossings", "baseline_rows"}
    | {"baselines"}  # report.html: its total is a note of 三区三线 (the page budget)
)
LINE_TYPE_LABELS = {v.value: v.label for v in CATALOGUE["control_lines"].field("line_type").values}
_TYPE_COLUMNS = (
    Column("line_type", "管控线类型", "Line type"),
    Column("overlaps", "重叠处数", "Overlaps", "", "int"),
    Column("overlap_ha", "重叠面积", "Overlap", "ha", "ha"),
    Column("overlap_mu", "重叠面积", "Overlap", "亩", "mu"),
    Column("conflict", "冲突数", "Conflicts", "", "int"),
    Column("conditional", "有条件数", "Conditionals", "", "int"),
    Column("compliant", "符合数", "Compliant", "", "int"),
)


def more_note(shown: int, total: int, csv_name: str) -> str:
    """'and n more, see X.csv' for a table cut to its first ``shown`` of ``total`` rows."""
    if total <= shown:
        return f"共 {total} 行，全部列出。 All {total} rows."
    rest = total - shown
    return (
        f"按面积列出前 {shown} 行，另有 {rest} 行见 {csv_name}。 The {shown} largest of {total} "
        f"rows; and {rest} more, see {csv_name} (report.xlsx has every row)."
    )


def parcel_overlaps(conflicts: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``control_line_conflicts`` for the parcels themselves (not zone pieces)."""
    flat = conflicts.reset_index()
    return flat[flat["layer"] == PARCELS]


def by_line_type(conflicts: pd.DataFrame) -> pd.DataFrame:
    """Per line type: overlaps, their area (ha, 亩) and their count by verdict."""
    rows = parcel_overlaps(conflicts)
    if not len(rows):
        return pd.DataFrame(columns=[c.key for c in _TYPE_COLUMNS])
    groups = rows.groupby("line_type", sort=False)
    out = pd.DataFrame(
        {
            "overlaps": groups.size(),
            "overlap_ha": groups["overlap_ha"].sum(),
            "overlap_mu": groups["overlap_mu"].sum(),
        }
    )
    counts = rows.groupby(["line_type", "verdict"], sort=False).size().unstack(fill_value=0)
    for verdict in VERDICTS:
        out[verdict] = counts[verdict] if verdict in counts.columns else 0
    out = out.reset_index()
    out["line_type"] = out["line_type"].map(lambda v: LINE_TYPE_LABELS.get(v, v))
    total = {"line_type": "合计 Total", **{c: out[c].sum() for c in out.columns[1:]}}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


def _top(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    return frame.sort_values(by, ascending=False, kind="stable").head(TOP_ROWS)


def _top_conflicts(conflicts: pd.DataFrame) -> Table:
    rows = parcel_overlaps(conflicts)
    rows = rows[rows["verdict"].isin(("conflict", "conditional"))].drop(columns=["layer"])
    shown = _top(rows, "overlap_ha").copy()
    shown["verdict"] = shown["verdict"].map(VERDICT_TEXT).fillna(shown["verdict"])
    shown["line_type"] = shown["line_type"].map(lambda v: LINE_TYPE_LABELS.get(v, v))
    return metric_table(
        "control_line_top_conflicts",
        "冲突与有条件重叠（按面积）",
        "Conflicts and conditional overlaps, largest first",
        shown.drop(columns=["feature_code"]).set_index("parcel_code"),
        note=more_note(len(shown), len(rows), "control_line_conflicts.csv"),
    )


def control_lines_section(tables: Mapping[str, pd.DataFrame]) -> Section:
    """三区三线: the summary per line type, the largest conflicts, the crossings."""
    conflicts = tables.get("control_line_conflicts")
    crossings = tables.get("control_line_crossings")
    notes = []
    out: list[Table] = []
    if conflicts is None or not len(conflicts):
        notes.append(NO_LINES if conflicts is None else "无重叠 No changing parcel meets a line.")
    if conflicts is not None:
        out.append(
            make_table(
                "control_line_types",
                "按管控线类型汇总（用途改变的地块）",
                "By line type (parcels whose use changes)",
                by_line_type(conflicts),
                _TYPE_COLUMNS,
                note="Counts of control_line_conflicts.csv rows of layer parcels, by verdict "
                "(rules: core/control_rules.json).",
            )
        )
        out.append(_top_conflicts(conflicts))
    if crossings is not None:  # the pairs: report.xlsx 三线冲突, control_line_crossings.csv
        area = float(crossings["overlap_ha"].sum())
        notes.append(
            f"三线冲突 {len(crossings)} 处，{area:,.2f} ha（"
            f"{float(crossings['overlap_mu'].sum()):,.1f} 亩）。 Crossings: {len(crossings)} "
            f"pairs of lines of different types, {area:,.2f} ha (control_line_crossings.csv)."
        )
    baselines = tables.get("baselines")
    if baselines is not None:
        ha = float(baselines["area_ha"].sum())
        notes.append(
            f"调整前后 Baselines: {ha:,.2f} ha（{float(baselines['area_mu'].sum()):,.1f} 亩）"
            f" in {len(baselines)} rows (现状 / 批复规划 / 调整后 per zone: baselines.csv, "
            "report.xlsx 调整前后)."
        )
    notes.append(
        "Control lines are schematic in the default data; by zone: control_line_summary.csv "
        "and report.xlsx."
    )
    return Section(
        "control_lines",
        "三区三线",
        "Control lines",
        "Overlaps of the parcels whose use changes with 永久基本农田, 生态保护红线, "
        "城镇开发边界 and 水源保护区, each judged by the control rules, measured in EPSG:4548.",
        tuple(out),
        (),
        notes=tuple(notes),
    )


def baselines_section(tables: Mapping[str, pd.DataFrame]) -> Section:
    """调整前后: the area of every (现状, 批复规划, 调整后) use triple per zone."""
    frame = tables.get("baselines")
    out: tuple[Table, ...] = ()
    notes = ["Not computed: baselines (metrics unavailable)."] if frame is None else []
    if frame is not None:
        flat = frame.reset_index()
        total = float(flat["area_ha"].sum())
        notes.append(
            f"合计 {total:,.2f} ha（{float(flat['area_mu'].sum()):,.1f} 亩），{len(flat)} 行。 "
            f"Total {total:,.2f} ha in {len(flat)} rows."
        )
        out = (
            metric_table(
                "baselines",
                "现状、批复规划与调整后用地（按分区）",
                "Current, approved-plan and adjusted use by zone",
                _top(flat, "area_ha").set_index(list(frame.index.names)),
                note=more_note(min(TOP_ROWS, len(flat)), len(flat), "baselines.csv"),
            ),
        )
    return Section(
        "baselines",
        "调整前后",
        "Baselines",
        "Baselines: a re-designation is measured against the approved plan (批复规划 → 调整后); the "
        "current survey use (现状) is shown beside it, never as the baseline.",
        out,
        (),
        notes=tuple(notes),
    )


def sheet_rows(frame: pd.DataFrame, csv_name: str) -> tuple[pd.DataFrame, str]:
    """``frame`` as a workbook sheet holds it, and the sheet's note: whole up to
    :data:`SHEET_ROWS` rows; beyond, the rows with conflicts first, then those with
    conditionals, then the rest, each in the CSV's order, cut at SHEET_ROWS (a sheet has at
    most 1,048,576 rows, and one that long is read by no reviewer: the CSV has every row)."""
    if len(frame) <= SHEET_ROWS:
        return frame, csv_name
    if "verdict" in frame.columns:
        rank = frame["verdict"].map({"conflict": 0, "conditional": 1}).fillna(2)
    elif {"conflicts", "conditionals"} <= set(frame.columns):
        rank = pd.Series(
            np.where(frame["conflicts"] > 0, 0, np.where(frame["conditionals"] > 0, 1, 2)),
            index=frame.index,
        )
    else:
        rank = pd.Series(0, index=frame.index)
    order = np.argsort(rank.to_numpy(), kind="stable")[:SHEET_ROWS]
    note = (
        f"仅列出 {SHEET_ROWS:,} 行（冲突、有条件优先），共 {len(frame):,} 行见 {csv_name}。 "
        f"{SHEET_ROWS:,} of {len(frame):,} rows (conflicts, then conditionals, first); "
        f"every row in {csv_name}."
    )
    return frame.iloc[order], note


def _sheet_table(key: str, zh: str, en: str, frame: pd.DataFrame) -> Table:
    shown, note = sheet_rows(frame, f"{key}.csv")
    return metric_table(key, zh, en, shown, note=note)


def _whole(key: str, zh: str, en: str, frame: pd.DataFrame | None, subtitle: str) -> Section:
    tables = () if frame is None else (_sheet_table(key, zh, en, frame),)
    notes = () if frame is not None else (NO_LINES,)
    return Section(key, zh, en, subtitle, tables, (), notes=notes)


def control_line_sheets(tables: Mapping[str, pd.DataFrame]) -> tuple[Section, ...]:
    """The three control-line tables and the baselines whole, one report.xlsx sheet each
    (:data:`XLSX_ONLY`), with the values of their CSV files."""
    baselines = tables.get("baselines")
    return (
        _whole(
            "control_line_conflicts",
            "管控线重叠明细",
            "Control-line overlaps",
            tables.get("control_line_conflicts"),
            "Every overlap of a changing parcel (layer parcels) or of a zone's piece of it "
            "with a control line: ha, 亩, rule and verdict.",
        ),
        _whole(
            "control_line_summary",
            "管控线按分区汇总",
            "Control lines by zone and line type",
            tables.get("control_line_summary"),
            "Per parcel, zone and line: the overlap with the lines of each type and the count "
            "of conflicts and conditionals.",
        ),
        _whole(
            "control_line_crossings",
            "三线冲突",
            "Control-line crossings",
            tables.get("control_line_crossings"),
            "Lines of different types that overlap (三线冲突).",
        ),
        Section(
            "baseline_rows",
            "调整前后明细",
            "Baselines, every row",
            "States: the 现状 / 批复规划 / 调整后 use of the parcel pieces of every zone, in ha and 亩.",
            ()
            if baselines is None
            else (_sheet_table("baselines", "调整前后明细", "Baselines", baselines),),
            (),
        ),
    )


__all__ = [
    "SHEET_ROWS",
    "TOP_ROWS",
    "XLSX_ONLY",
    "baselines_section",
    "by_line_type",
    "control_line_sheets",
    "control_lines_section",
    "more_note",
]
