"""The data annex's 三区三线 and 调整前后 parts: report.xlsx read back with openpyxl against the
CSV files of the same build (read here with the csv module), report.html parsed against them,
hostile text kept as text, and build --scenario's matrix as a sheet of report.xlsx."""

from __future__ import annotations

import csv
import math
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd

from miyun_spatial.render.reports.control_lines_section import TOP_ROWS, control_line_sheets
from miyun_spatial.render.reports.model import Report
from miyun_spatial.render.reports.xlsx import write_xlsx

WHOLE = {  # sheet -> the CSV it holds whole
    "管控线重叠明细": "control_line_conflicts.csv",
    "管控线按分区汇总": "control_line_summary.csv",
    "三线冲突": "control_line_crossings.csv",
    "调整前后明细": "baselines.csv",
}


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _data_rows(ws) -> tuple[list[str], list[tuple]]:
    """(header, data rows) of the first table of a sheet: the row after the frozen panes' top."""
    header_row = int(ws.freeze_panes[1:]) - 1
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    header = [str(h) for h in rows[0] if h is not None]
    data = [r[: len(header)] for r in rows[1:] if any(v is not None for v in r)]
    return header, data


def _same(cell, text: str) -> bool:
    if isinstance(cell, bool):
        return text == str(cell)
    if isinstance(cell, int | float):
        return math.isclose(cell, float(text), rel_tol=1e-12, abs_tol=1e-9)
    if text in ("True", "False"):  # booleans are shown 是/否
        return cell == {"True": "是 yes", "False": "否 no"}[text]
    return (cell or "") == text.removeprefix("'") or (cell or "") == text


def test_xlsx_sheets_hold_the_csv_tables(built_default):
    book = openpyxl.load_workbook(built_default / "report.xlsx")
    for sheet, name in WHOLE.items():
        ws = book[sheet]
        assert ws.freeze_panes is not None
        header, rows = _data_rows(ws)
        table = _csv(built_default / name)
        assert len(header) == len(table[0]), (sheet, header, table[0])
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in header), header
        assert len(rows) == len(table) - 1 > 0, sheet
        for got, want in zip(rows, table[1:], strict=True):
            assert all(_same(c, t) for c, t in zip(got, want, strict=True)), (sheet, got, want)
            numbers = [c for c, t in zip(got, want, strict=True) if _is_number(t)]
            assert all(isinstance(c, int | float) for c in numbers), got


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text not in ("nan", "inf")


def _parcel_rows(out: Path) -> pd.DataFrame:
    table = _csv(out / "control_line_conflicts.csv")
    frame = pd.DataFrame(table[1:], columns=table[0])
    frame = frame[frame["layer"] == "parcels"]
    return frame.astype({"overlap_ha": float, "overlap_mu": float})


def test_xlsx_summary_by_line_type_totals_equal_the_csv(built_default):
    rows = _parcel_rows(built_default)
    ws = openpyxl.load_workbook(built_default / "report.xlsx")["三区三线"]
    _header, data = _data_rows(ws)
    total = next(r for r in data if r[0] == "合计 Total")
    assert math.isclose(total[2], rows["overlap_ha"].sum(), rel_tol=1e-9)
    assert math.isclose(total[3], rows["overlap_mu"].sum(), rel_tol=1e-9)
    counts = rows["verdict"].value_counts()
    assert total[1] == len(rows)
    assert list(total[4:7]) == [
        int(counts.get(v, 0)) for v in ("conflict", "conditional", "compliant")
    ]


class _Sections(HTMLParser):
    """Text of each table cell inside each <section id=...> of a page, row by row."""

    def __init__(self):
        super().__init__()
        self.section = None
        self.rows: dict[str, list[list[str]]] = {}
        self.text: dict[str, str] = {}
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs).get("id")
            self.rows.setdefault(self.section, [])
            self.text.setdefault(self.section, "")
        elif tag == "tr" and self.section:
            self.rows[self.section].append([])
        elif tag in ("td", "th") and self.section:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.section:
            self.rows[self.section][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.section:
            self.text[self.section] += data


def test_html_sections_show_the_csv_totals_and_stay_bounded(built_default):
    parser = _Sections()
    parser.feed((built_default / "report.html").read_text(encoding="utf-8"))
    assert "control_lines" in parser.rows and "baselines" not in parser.rows
    rows = _parcel_rows(built_default)
    total = next(r for r in parser.rows["control_lines"] if r and r[0] == "合计 Total")
    assert abs(float(total[2].replace(",", "")) - rows["overlap_ha"].sum()) < 0.006
    assert abs(float(total[3].replace(",", "")) - rows["overlap_mu"].sum()) < 0.06
    flagged = rows[rows["verdict"].isin(["conflict", "conditional"])]
    text = parser.text["control_lines"]
    assert f"另有 {len(flagged) - TOP_ROWS} 行见 control_line_conflicts.csv" in text
    # the listed rows are the largest overlaps, largest first
    listed = [r for r in parser.rows["control_lines"] if r and r[0] in set(flagged["parcel_code"])]
    assert len(listed) == TOP_ROWS
    assert not any(name == "管控线重叠明细" for name in parser.rows)
    baselines = pd.read_csv(built_default / "baselines.csv", encoding="utf-8-sig")
    assert f"{baselines['area_ha'].sum():,.2f} ha" in parser.text["control_lines"]


def test_review_memo_links_control_line_issues_to_the_annex_section(built_default):
    review = (built_default / "review.html").read_text(encoding="utf-8")
    assert 'href="report.html#control_lines"' in review
    assert 'id="control_lines"' in (built_default / "report.html").read_text(encoding="utf-8")


HOSTILE = ['=HYPERLINK("http://x","x")', "+1+1", "@SUM(A1)", "-2+3", "<script>{{ 7*7 }}"]


def test_hostile_text_stays_text_in_the_control_line_sheets(tmp_path):
    index = pd.MultiIndex.from_tuples(
        [("parcels", code, code, "urban_boundary", code) for code in HOSTILE],
        names=["layer", "feature_code", "parcel_code", "line_type", "line_code"],
    )
    conflicts = pd.DataFrame(
        {
            "current_use": HOSTILE,
            "planned_use": "A35",
            "overlap_ha": 1.5,
            "overlap_mu": 22.5,
            "rule": "r",
            "verdict": "conflict",
        },
        index=index,
    )
    sections = control_line_sheets({"control_line_conflicts": conflicts})
    path = write_xlsx(Report("标题", "Title", sections, None), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["管控线重叠明细"]
    _header, rows = _data_rows(ws)
    assert [r[1] for r in rows] == HOSTILE
    header_row = int(ws.freeze_panes[1:]) - 1
    for row in ws.iter_rows(min_row=header_row + 1, max_row=header_row + len(HOSTILE)):
        assert row[1].data_type == "s" and row[5].data_type == "s"
        assert isinstance(row[7].value, float)


def test_build_with_a_scenario_puts_the_matrix_in_report_xlsx(built_scenario):
    out = built_scenario  # build --scenario B7-upgrade --offline, the session's (exit 0)
    assert (out / "scenarios.xlsx").is_file()
    ws = openpyxl.load_workbook(out / "report.xlsx")["情景比较"]
    _header, rows = _data_rows(ws)
    table = _csv(out / "scenarios.csv")
    assert len(rows) == len(table) - 1 > 0
    for got, want in zip(rows, table[1:], strict=True):
        for c, t in zip(got, want, strict=True):
            assert (c is None and t == "") or _same(c, t), (got, want)


def test_a_sheet_longer_than_its_budget_lists_the_conflicts_first(built_default, tmp_path):
    """A control-line table of more rows than a sheet takes (SHEET_ROWS; a sheet ends at
    1,048,576 rows): the sheet holds SHEET_ROWS of them, every conflict before any
    conditional before the rest, each kind in the CSV's order, and its note says where every
    row is; the CSV is not touched."""
    from miyun_spatial.render.reports.control_lines_section import SHEET_ROWS

    table = pd.read_csv(built_default / "control_line_conflicts.csv", encoding="utf-8-sig")
    copies = -(-(SHEET_ROWS + 1000) // len(table))
    big = pd.concat(
        [table.assign(parcel_code=table["parcel_code"] + f"-{i}") for i in range(copies)],
        ignore_index=True,
    )
    levels = ["layer", "feature_code", "parcel_code", "line_type", "line_code"]
    sections = control_line_sheets({"control_line_conflicts": big.set_index(levels)})
    path = write_xlsx(Report("标题", "Title", sections, None), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["管控线重叠明细"]
    header, rows = _data_rows(ws)
    assert len(rows) == SHEET_ROWS < len(big)
    verdicts = [r[header.index(next(h for h in header if "verdict" in h.lower()))] for r in rows]
    rank = {"conflict": 0, "conditional": 1}
    assert [rank.get(v, 2) for v in verdicts] == sorted(rank.get(v, 2) for v in verdicts)
    conflicts = big[big["verdict"] == "conflict"]
    assert verdicts.count("conflict") == min(len(conflicts), SHEET_ROWS)
    got = [r[header.index(next(h for h in header if "parcel" in h.lower()))] for r in rows]
    assert got[: len(conflicts)] == conflicts["parcel_code"].tolist()[:SHEET_ROWS]
    notes = [c for row in ws.iter_rows(max_row=8, values_only=True) for c in row if c]
    assert any(f"{len(big):,}" in str(n) and "control_line_conflicts.csv" in str(n) for n in notes)
