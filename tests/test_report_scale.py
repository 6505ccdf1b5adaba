"""Reports that stay readable at any size (issue 11): parcel lists capped, parcels summarised.

The parcel tables of the default data are shown whole (tests/test_report_xlsx.py). Here the
metric tables are grown to thousands of parcels (the default parcels repeated under new codes)
and the workbook is written and read back: the parcel lists stop at ``MAX_PARCEL_ROWS`` with
a note naming the CSV, the lowest-yielding parcels first, and the summary by cluster, class
and grade still adds up to every parcel.
"""

from __future__ import annotations

from dataclasses import replace

import openpyxl
import pandas as pd
import pytest

from miyun_spatial.metrics import compute_all
from miyun_spatial.render.reports import (
    XLSX_NAME,
    assemble_report,
    gather_inputs,
    write_report_files,
)
from miyun_spatial.render.reports.metric_tables import MAX_PARCEL_ROWS

COPIES = 12  # the default's 20 low-efficiency parcels become 240, more than the cap


def _grown(table: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for i in range(COPIES):
        part = table.copy()
        part.index = part.index.astype(str) + f"-{i:02d}"
        parts.append(part)
    grown = pd.concat(parts)
    grown.index.name = table.index.name
    return grown


# every figure computed and the report of grown tables: their tests are slow (conftest)
SLOW_FIXTURES = {"grown"}


@pytest.fixture(scope="module")
def grown(default_plan, default_work):
    tables = compute_all(default_work, default_plan)
    for key in ("parcel_yields", "changing_parcels"):
        tables[key] = _grown(tables[key])
    return tables


@pytest.fixture(scope="module")
def book(tmp_path_factory, default_results, grown):
    out = tmp_path_factory.mktemp("grown")
    inputs = gather_inputs(replace(default_results, tables=grown))
    write_report_files(assemble_report(inputs), out)
    return openpyxl.load_workbook(out / XLSX_NAME)


def _table(ws, name: str) -> pd.DataFrame:
    cells = ws[ws.tables[name].ref]
    return pd.DataFrame(
        [[c.value for c in row] for row in cells[1:]], columns=[c.value for c in cells[0]]
    )


def _texts(ws) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)


def test_parcel_yields_list_the_lowest_yielding_up_to_the_cap(book, grown):
    ws = book["地均产出"]
    listed = _table(ws, "t_yield_parcel_yields")
    assert len(listed) == MAX_PARCEL_ROWS
    assert set(listed["低效用地 Low-efficiency land"]) == {"是 yes"}
    low = grown["parcel_yields"]
    low = low[low["low_efficiency"]].sort_values("pct_of_target", kind="stable")
    assert list(listed["地块编码 Parcel code"]) == list(low.index[:MAX_PARCEL_ROWS])
    assert "parcel_yields.csv" in _texts(ws)


def test_changing_parcels_list_the_largest_up_to_the_cap(book, grown):
    ws = book["用地调整"]
    listed = _table(ws, "t_adjustments_changing_parcels")
    changing = grown["changing_parcels"]
    assert len(listed) == MAX_PARCEL_ROWS < len(changing)
    largest = changing["area_ha"].sort_values(ascending=False, kind="stable")
    assert list(listed["地块编码 Parcel code"]) == list(largest.index[:MAX_PARCEL_ROWS])
    total = _table(ws, "t_adjustments_changing_total")
    assert total["面积 Area (ha)"].iloc[0] == pytest.approx(changing["area_ha"].sum())
    assert "changing_parcels.csv" in _texts(ws)


def test_summary_adds_up_to_every_parcel(book, grown):
    ws = book["地均产出"]
    summary = _table(ws, "t_yield_parcel_summary")
    parcels = grown["parcel_yields"]
    assert summary["地块数 Parcels"].sum() == len(parcels)
    assert summary["面积 Area (ha)"].sum() == pytest.approx(parcels["area_ha"].sum())
    revenue = summary["营业收入 Revenue (万元)"].fillna(0).sum()
    assert revenue == pytest.approx(parcels["revenue_10k_cny"].sum())
    assert summary["低效用地地块 Low-efficiency parcels"].sum() == parcels["low_efficiency"].sum()
    assert len(summary) < 100  # a digest, whatever the number of parcels


def test_number_formats_and_frozen_headers(book):
    ws = book["地均产出"]
    cells = ws[ws.tables["t_yield_parcel_summary"].ref]
    header = [c.value for c in cells[0]]
    formats = {
        h: {c.number_format for c in col if isinstance(c.value, int | float)}
        for h, col in zip(header, zip(*cells[1:], strict=True), strict=True)
    }
    assert formats["面积 Area (ha)"] == {"#,##0.00"}
    assert formats["营业收入 Revenue (万元)"] == {"#,##0"}
    for sheet in book.worksheets:
        first = next(iter(sheet.tables.values()))
        header_row = int("".join(ch for ch in first.ref.split(":")[0] if ch.isdigit()))
        assert sheet.freeze_panes == f"A{header_row + 1}", sheet.title
