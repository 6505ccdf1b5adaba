"""report.xlsx with openpyxl: one sheet per section, each table an Excel table, native charts.

Sheets carry the section's Chinese name; row 1 gives the title with its English name, row 2
the English subtitle. Every table is an Excel table (filter buttons, banded rows) named
``t_<section>_<table>``, with a header row of ``中文 English (unit)`` labels, numbers stored
unrounded (to the 15 significant digits a workbook keeps) and shown with a number format,
and the rows above the first table's data frozen. Text is always stored as text, never as a
formula, whatever it starts with.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.marker import DataPoint
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from ..outputs import starts_formula, write_atomic
from .charts import HIGHLIGHT, SERIES
from .model import Chart, Column, Report, Section, Table

log = logging.getLogger(__name__)

TITLE_FONT = Font(bold=True, size=14)
SUBTITLE_FONT = Font(italic=True, color="555555")
TABLE_TITLE_FONT = Font(bold=True, size=11)
NOTE_FONT = Font(italic=True, size=9, color="555555")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="top")
TABLE_STYLE = "TableStyleLight9"
MAX_WIDTH = 60
MIN_WIDTH = 6
WIDTH_SAMPLE = 300  # rows looked at to size a column
CHART_ROWS = 22  # vertical space per chart


def write_xlsx(report: Report, path: Path) -> Path:
    """Write ``report`` to ``path`` atomically; return the path."""
    book = workbook(report)
    return write_atomic(Path(path), book.save)


def workbook(report: Report) -> Workbook:
    """``report`` as an openpyxl workbook, one sheet per section (not saved)."""
    book = Workbook()
    book.remove(book.active)
    book.properties.title = f"{report.title_zh} {report.title_en}"
    book.properties.creator = "miyun-spatial"
    for section in report.sections:
        _write_section(book.create_sheet(section.name_zh), section)
    return book


def _write_section(ws: Worksheet, section: Section) -> None:
    _text(ws["A1"], section.title).font = TITLE_FONT
    _text(ws["A2"], section.subtitle).font = SUBTITLE_FONT
    row = 3
    for note in section.notes:
        _text(ws.cell(row, 1), note).font = NOTE_FONT
        row += 1
    row += 1
    placed: dict[str, tuple[int, int]] = {}  # table key -> (header row, last row)
    widths: dict[int, float] = {}
    freeze = None
    for table in section.tables:
        header, last = _write_table(ws, table, row, section.key, widths)
        placed[table.key] = (header, last)
        freeze = freeze or f"A{header + 1}"
        row = last + 3
    for index, width in widths.items():
        ws.column_dimensions[get_column_letter(index)].width = width
    if freeze:
        ws.freeze_panes = freeze
    chart_col = max(widths, default=1) + 2
    for i, chart in enumerate(section.charts):
        table = section.table(chart.table)
        header, last = placed[chart.table]
        anchor = f"{get_column_letter(chart_col)}{4 + i * CHART_ROWS}"
        ws.add_chart(_excel_chart(ws, chart, table, header, last), anchor)


def _write_table(
    ws: Worksheet, table: Table, row: int, section: str, widths: dict[int, float]
) -> tuple[int, int]:
    _text(ws.cell(row, 1), table.title).font = TABLE_TITLE_FONT
    row += 1
    if table.note:
        _text(ws.cell(row, 1), table.note).font = NOTE_FONT
        row += 1
    header_row = row
    headers = _unique([c.header for c in table.columns])
    for j, header in enumerate(headers, start=1):
        cell = ws.cell(header_row, j)
        _text(cell, header)
        cell.alignment = HEADER_ALIGN
        widths[j] = max(widths.get(j, MIN_WIDTH), _header_width(header))
    rows = table.cell_values()
    for i, values in enumerate(rows, start=header_row + 1):
        for j, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            _value(ws.cell(i, j), column, value)
    for j, column in enumerate(table.columns, start=1):
        sample = [column.display(r[j - 1]) for r in rows[:WIDTH_SAMPLE]]
        widths[j] = min(MAX_WIDTH, max([widths[j], *(text_width(s) + 2 for s in sample)]))
    last = header_row + max(len(rows), 1)
    ref = f"A{header_row}:{get_column_letter(len(table.columns))}{last}"
    excel = ExcelTable(displayName=f"t_{section}_{table.key}", ref=ref)
    excel.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
    ws.add_table(excel)
    return header_row, last


def _unique(headers: list[str]) -> list[str]:
    """Excel table headers must be unique: repeat names get ' (2)', ' (3)'."""
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        out.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return out


def _text(cell, value: str):
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if starts_formula(cell.value):
        # Excel's own leading apostrophe (OWASP rule, as in the CSVs): shown as typed, and
        # still text after the cell is edited
        cell.quotePrefix = True
    return cell


def _value(cell, column: Column, value) -> None:
    if value is None:
        return
    if isinstance(value, str):
        _text(cell, value)
    elif isinstance(value, bool):
        cell.value = value
    else:
        cell.value = value
        if column.numeric and isinstance(value, int | float):
            cell.number_format = column.excel_format


def text_width(text: str) -> float:
    """Display width in Excel character units (wide CJK characters count twice)."""
    longest = max(str(text).split("\n"), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def _header_width(header: str) -> float:
    """Headers wrap: wide enough for the longer of the Chinese and the English part."""
    parts = header.split(" ", 1)
    return min(MAX_WIDTH, max(text_width(p) for p in parts) + 2)


def _excel_chart(ws: Worksheet, chart: Chart, table: Table, header: int, last: int) -> BarChart:
    keys = [c.key for c in table.columns]
    excel = BarChart()
    excel.title = chart.title
    excel.style = 10
    excel.width, excel.height = 22, 11
    if chart.kind == "bar":
        excel.type, excel.grouping = "col", "clustered"
    elif chart.kind == "barh":
        excel.type, excel.grouping = "bar", "clustered"
        excel.x_axis.scaling.orientation = "maxMin"  # first row at the top, as in the table
        excel.height = max(11, 0.5 * (last - header) + 3)
    else:
        excel.type, excel.grouping, excel.overlap = "bar", "percentStacked", 100
        excel.x_axis.scaling.orientation = "maxMin"
        excel.height = max(11, 0.6 * (last - header) + 4)
    for i, key in enumerate(chart.series):
        col = keys.index(key) + 1
        excel.add_data(
            Reference(ws, min_col=col, min_row=header, max_row=last), titles_from_data=True
        )
        series = excel.series[-1]
        color = chart.colors.get(key, SERIES[i % len(SERIES)])
        series.graphicalProperties.solidFill = color.lstrip("#").upper()
        series.graphicalProperties.line.solidFill = "555555" if chart.kind == "stacked" else None
    cat_col = keys.index(chart.category) + 1
    excel.set_categories(Reference(ws, min_col=cat_col, min_row=header + 1, max_row=last))
    if chart.highlight is not None:
        categories = table.frame[chart.category].tolist()
        if chart.highlight in categories:
            point = DataPoint(idx=categories.index(chart.highlight))
            point.graphicalProperties.solidFill = HIGHLIGHT.lstrip("#").upper()
            excel.series[0].dPt.append(point)
    excel.y_axis.title = chart.value_label
    excel.x_axis.delete = False
    excel.y_axis.delete = False
    excel.legend.position = "b"
    if len(chart.series) == 1 and chart.kind != "stacked":
        excel.legend = None
    return excel
