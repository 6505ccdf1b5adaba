"""scenarios.xlsx: the matrix, the scenarios and their edits, one sheet each.

Text from the data is stored as text, never as a formula (``io.cells``); numbers unrounded.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ...analysis.scenarios import ScenarioRun
from ...core.citation import SCHEMATIC_MARK_EN, SCHEMATIC_MARK_ZH
from ...io.cells import inert_cell
from ...io.outputs import write_atomic
from .tables import edits_frame, scenarios_frame

BOLD = Font(bold=True)
SHEETS = (
    ("情景比较", "Scenario matrix"),
    ("情景方案", "Scenarios"),
    ("情景修改", "Scenario edits"),
)


def write_scenarios_xlsx(run: ScenarioRun, path: Path) -> Path:
    return write_atomic(Path(path), lambda tmp: scenario_workbook(run).save(tmp))


def scenario_workbook(run: ScenarioRun, workbook: Workbook | None = None) -> Workbook:
    """The three sheets, in a new workbook or appended to ``workbook``."""
    book = workbook or Workbook()
    if workbook is None:
        book.remove(book.active)
    scenarios = [s for s, _ in run.scenarios]
    frames = (run.matrix, scenarios_frame(scenarios), edits_frame(scenarios))
    for (zh, en), frame in zip(SHEETS, frames, strict=True):
        sheet = book.create_sheet(zh)
        sheet.append([f"{zh} {en}"])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([f"{SCHEMATIC_MARK_ZH} {SCHEMATIC_MARK_EN}"])
        add_frame(sheet, frame.reset_index())
    return book


def add_frame(sheet, frame: pd.DataFrame) -> None:
    header_row = sheet.max_row + 1
    sheet.append([_cell(c) for c in frame.columns])
    for cell in sheet[header_row]:
        cell.font = BOLD
    for row in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for i, column in enumerate(frame.columns, 1):
        width = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
        sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        # control characters a workbook cannot hold are dropped; a formula start stays text
        return inert_cell(ILLEGAL_CHARACTERS_RE.sub("", value))
    if hasattr(value, "item"):
        return value.item()
    return value
