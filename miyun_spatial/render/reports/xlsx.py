"""report.xlsx with openpyxl: one sheet per section, each table an Excel table, native charts.

The workbook is written in openpyxl's streaming (write-only) mode: each sheet is laid out
first (column widths, frozen panes), then its rows are streamed to the file.

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
import warnings
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.marker import DataPoint
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableColumn, TableStyleInfo

from ...io.cells import starts_formula
from ...io.outputs import write_atomic
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
    return write_atomic(Path(path), lambda tmp: workbook(report).save(tmp))


def workbook(report: Report) -> Workbook:
    """``report`` as a streaming (write-only) openpyxl workbook, one sheet per section.

    Rows go to the file as they are appended, so memory and time grow with the cells written
    and nothing else; the workbook can be saved once.
    """
    book = Workbook(write_only=True)
    book.properties.title = f"{report.title_zh} {report.title_en}"
    book.properties.creator = "miyun-spatial"
    for section in report.sections:
        _write_section(book.create_sheet(section.name_zh), section)
    return book


def _write_section(ws: WriteOnlyWorksheet, section: Section) -> None:
    """Lay the section out (rows, widths, frozen header), then stream its rows."""
    rows: list[list] = [
        [_text(ws, section.title, font=TITLE_FONT)],
        [_text(ws, section.subtitle, font=SUBTITLE_FONT)],
        *([_text(ws, note, font=NOTE_FONT)] for note in section.notes),
        [],
    ]
    placed: dict[str, tuple[int, int]] = {}  # table key -> (header row, last row)
    widths: dict[int, float] = {}
    for table in section.tables:
        header, last = _table_rows(ws, table, rows, widths)
        placed[table.key] = (header, last)
        excel = ExcelTable(
            displayName=f"t_{section.key}_{table.key}",
            ref=f"A{header}:{get_column_letter(len(table.columns))}{last}",
        )
        excel.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
        excel.tableColumns = [
            TableColumn(id=j, name=h)
            for j, h in enumerate(_unique([c.header for c in table.columns]), start=1)
        ]
        excel.autoFilter = AutoFilter(ref=excel.ref)
        with warnings.catch_warnings():  # the columns are given: the write-only warning is moot
            warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
            ws.add_table(excel)
        rows += [[], []]
    for index, width in widths.items():
        ws.column_dimensions[get_column_letter(index)].width = width
    if placed:  # the title block and the first table's header stay in view
        ws.freeze_panes = f"A{next(iter(placed.values()))[0] + 1}"
    for row in rows:
        ws.append(row)
    chart_col = max(widths, default=1) + 2
    for i, chart in enumerate(section.charts):
        table = section.table(chart.table)
        header, last = placed[chart.table]
        anchor = f"{get_column_letter(chart_col)}{4 + i * CHART_ROWS}"
        ws.add_chart(_excel_chart(ws, chart, table, header, last), anchor)


def _table_rows(
    ws: WriteOnlyWorksheet, table: Table, rows: list[list], widths: dict[int, float]
) -> tuple[int, int]:
    """Append ``table``'s title, note, header and data rows to ``rows``; (header, last) row."""
    rows.append([_text(ws, table.title, font=TABLE_TITLE_FONT)])
    if table.note:
        rows.append([_text(ws, table.note, font=NOTE_FONT)])
    headers = _unique([c.header for c in table.columns])
    rows.append([_text(ws, h, alignment=HEADER_ALIGN) for h in headers])
    header_row = len(rows)
    for j, header in enumerate(headers, start=1):
        widths[j] = max(widths.get(j, MIN_WIDTH), _header_width(header))
    values = table.cell_values()
    formats = [number_format(c) for c in table.columns]
    for record in values:
        rows.append([_value(ws, fmt, value) for fmt, value in zip(formats, record, strict=True)])
    if not values:
        rows.append([])
    for j, column in enumerate(table.columns, start=1):
        sample = [column.display(r[j - 1]) for r in values[:WIDTH_SAMPLE]]
        widths[j] = min(MAX_WIDTH, max([widths[j], *(text_width(s) + 2 for s in sample)]))
    return header_row, len(rows)


def _unique(headers: list[str]) -> list[str]:
    """Excel table headers must be unique: repeat names get ' (2)', ' (3)'."""
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        seen[header] = seen.get(header, 0) + 1
        out.append(header if seen[header] == 1 else f"{header} ({seen[header]})")
    return out


UNIT_FORMATS = {"万元": "#,##0", "亿元": "#,##0.00", "ha": "#,##0.00", "亩": "#,##0.0"}


def number_format(column: Column) -> str | None:
    """The Excel number format of a numeric column (None for text): by unit, else by kind.

    Money in 万元 shows no decimals, ha two, shares as per cent, whatever the column's kind.
    """
    if not column.numeric:
        return None
    if column.kind in ("share", "pct", "index"):
        return column.excel_format
    return UNIT_FORMATS.get(column.unit, column.excel_format)


def _text(ws: WriteOnlyWorksheet, value: str, *, font=None, alignment=None) -> Cell:
    cell = WriteOnlyCell(ws, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if starts_formula(cell.value):
        # Excel's own leading apostrophe (OWASP rule, as in the CSVs): shown as typed, and
        # still text after the cell is edited
        cell.quotePrefix = True
    return cell


def _value(ws: WriteOnlyWorksheet, number_format: str | None, value):
    """A cell for ``value``: text as text, numbers with the column's number format."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text(ws, value)
    if isinstance(value, bool) or number_format is None or not isinstance(value, int | float):
        return value
    cell = WriteOnlyCell(ws, value)
    if number_format == "General":  # a column of mixed figures: a format per value
        number_format = "#,##0" if float(value).is_integer() else "#,##0.00"
    cell.number_format = number_format
    return cell


def text_width(text: str) -> float:
    """Display width in Excel character units (wide CJK characters count twice)."""
    longest = max(str(text).split("\n"), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def _header_width(header: str) -> float:
    """Headers wrap: wide enough for the longer of the Chinese and the English part."""
    parts = header.split(" ", 1)
    return min(MAX_WIDTH, max(text_width(p) for p in parts) + 2)


def _excel_chart(
    ws: WriteOnlyWorksheet, chart: Chart, table: Table, header: int, last: int
) -> BarChart:
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
