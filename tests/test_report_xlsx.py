"""report.xlsx read back with openpyxl: every sheet, header and number equals the metric tables.

The workbook is the one ``miyun-spatial build`` writes (session fixture ``built_default``);
the expected numbers are the metric tables computed here in-process, and the plan's own
tables read from geodata/sources.
"""

from __future__ import annotations

import csv
import math
import re
import zipfile
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pandas as pd
import pytest
from conftest import sha256

from miyun_spatial import __version__
from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.core.landuse import USE_LABELS
from miyun_spatial.metrics import compute_all
from miyun_spatial.metrics.areas import feature_areas
from miyun_spatial.validate.layers import validate

SHEETS = (
    "概览",
    "面积",
    "用地结构",
    "用地调整",
    "三区三线",
    "调整前后",
    "地均产出",
    "亩均评价",
    "指标",
)
SHEETS += ("项目", "校验", "管控线重叠明细", "管控线按分区汇总", "三线冲突", "调整前后明细")
ENGLISH = ("Summary", "Areas", "Land-use mix", "Adjustments", "Control lines", "Baselines", "Yield", "Evaluation", "Indicators", "Projects",
           "Checks", "Control-line overlaps", "Control lines by zone and line type",
           "Control-line crossings", "Baselines, every row")  # fmt: skip
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
SOURCES = Path(__file__).resolve().parents[1] / "geodata" / "sources"


@pytest.fixture(scope="module")
def book(built_default):
    return openpyxl.load_workbook(built_default / "report.xlsx")


@pytest.fixture(scope="module")
def metrics(default_work, default_plan):
    return compute_all(default_work, default_plan)


@pytest.fixture(scope="module")
def areas(default_work):
    return feature_areas({s.name: default_work[s.name] for s in CATALOGUE.plan_layers})


def excel_table(ws, name: str) -> pd.DataFrame:
    """An Excel table (ListObject) of ``ws`` as a frame: header row -> columns."""
    cells = ws[ws.tables[name].ref]
    header = [c.value for c in cells[0]]
    rows = [[c.value for c in row] for row in cells[1:]]
    return pd.DataFrame(rows, columns=header, dtype=object)


def table_cells(ws, name: str):
    cells = ws[ws.tables[name].ref]
    return [c.value for c in cells[0]], cells[1:]


EXCEL_DIGITS = 1e-14  # an XLSX file holds 15 significant digits


def same(actual, expected) -> bool:
    """Equal numbers (to the 15 significant digits a workbook keeps), or both missing."""
    missing = expected is None or (isinstance(expected, float) and math.isnan(expected))
    if missing or expected is pd.NA:
        return actual is None
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=EXCEL_DIGITS, abs_tol=1e-300)
    return actual == expected


def assert_column(frame: pd.DataFrame, header: str, expected) -> None:
    values = list(expected)
    assert len(frame) == len(values), header
    bad = [(i, a, e) for i, (a, e) in enumerate(zip(frame[header], values, strict=True))
           if not same(a, e)]  # fmt: skip
    assert not bad, f"{header}: {bad[:3]}"


def test_sheets_titles_and_subtitles(book):
    assert tuple(book.sheetnames) == SHEETS
    for ws, en in zip(book.worksheets, ENGLISH, strict=True):
        assert ws["A1"].value == f"{ws.title} {en}"
        assert re.match(r"^[A-Z][a-z]+[ ,:]", ws["A2"].value or "")  # an English subtitle
        assert ws.tables, ws.title


def test_headers_are_labelled_with_units_and_frozen(book):
    for ws in book.worksheets:
        first = next(iter(ws.tables.values()))
        header_row = int(re.match(r"[A-Z]+(\d+)", first.ref.split(":")[0]).group(1))
        assert ws.freeze_panes == f"A{header_row + 1}", ws.title
        for table in ws.tables.values():
            headers, _rows = table_cells(ws, table.name)
            assert len(set(headers)) == len(headers)
            for h in headers:  # Chinese first, English alongside
                assert re.search(r"[\u4e00-\u9fff]", h) or h.startswith(("SHA", "HHI", "fid")), h
        widths = [d.width for d in ws.column_dimensions.values() if d.width]
        assert widths and min(widths) >= 6, ws.title
    areas_headers, _ = table_cells(book["面积"], "t_areas_areas")
    assert "面积 Area (ha)" in areas_headers and "面积 Area (亩)" in areas_headers
    assert "规划面积 Stated area (ha)" in areas_headers


def test_summary(book, default_gpkg, default_plan):
    run = excel_table(book["概览"], "t_summary_run").set_index("项目 Item")["内容 Value"]
    assert run["SHA-256"] == sha256(default_gpkg) == default_plan.sha256
    assert run["工具版本 Tool version"] == f"miyun-spatial {__version__}"
    assert datetime.fromisoformat(run["生成时间 Run date"]).tzinfo is not None
    assert run["输入文件 Input file"] == str(default_gpkg)
    assert run["数据校验 Validation"].startswith("通过 passed: 0 errors")
    provenance = excel_table(book["概览"], "t_summary_provenance").set_index("图层 Layer")
    assert provenance.loc["land_parcels", "属性合成（示意） attributes synthetic"] == 417
    assert provenance.loc["farmer_bases", "几何示意 geometry schematic"] == 7
    figures = excel_table(book["概览"], "t_summary_key_figures")
    assert figures["数值 Value"].notna().all()


def test_areas_equal_the_areas_table(book, areas):
    sheet = excel_table(book["面积"], "t_areas_areas")
    flat = areas.reset_index()
    assert list(sheet["编码 Code"]) == list(flat["code"])
    assert list(sheet["图层 Layer"]) == list(flat["layer"])
    for header, column in (
        ("面积 Area (ha)", "area_ha"),
        ("面积 Area (亩)", "area_mu"),
        ("规划面积 Stated area (ha)", "stated_area_ha"),
        ("与规划面积差 Difference to stated (%)", "stated_diff_pct"),
        ("椭球面积 Geodesic area (ha)", "geodesic_area_ha"),
    ):
        assert_column(sheet, header, flat[column])
    bases = sheet[sheet["图层 Layer"] == "farmer_bases"]["分类 Category"].value_counts()
    assert bases.to_dict() == {"提质升级 upgrade": 5, "转型调整 transform": 1, "逐步退出 exit": 1}
    ws = book["面积"]
    headers, rows = table_cells(ws, "t_areas_areas")
    ha, mu = headers.index("面积 Area (ha)"), headers.index("面积 Area (亩)")
    assert {r[ha].number_format for r in rows} == {"#,##0.00"}
    assert {r[mu].number_format for r in rows} == {"#,##0.0"}


def test_land_use_mix_equals_the_metric(book, metrics):
    ws = book["用地结构"]
    sheet = excel_table(ws, "t_mix_mix")
    flat = metrics["mix"].reset_index()
    assert list(sheet["分区 Zone"]) == list(flat["zone"])
    assert list(sheet["用地分类 Class"]) == list(flat["class"])
    assert list(sheet["用地口径 Use"]) == [USE_LABELS[u] for u in flat["use"]]
    for header, column in (("面积 Area (ha)", "area_ha"), ("面积 Area (亩)", "area_mu"),
                           ("占比 Share", "share")):  # fmt: skip
        assert_column(sheet, header, flat[column])
    indices = excel_table(ws, "t_mix_mix_indices")
    expected = metrics["mix_indices"].reset_index()
    for header, column in (("熵指数 Entropy index", "entropy"), ("HHI Herfindahl-Hirschman index",
                           "hhi"), ("地块覆盖面积 Covered by parcels (ha)", "covered_ha")):  # fmt: skip
        assert_column(indices, header, expected[column])
    shares = excel_table(ws, "t_mix_mix_shares_adjusted")
    adjusted = metrics["mix"].xs("adjusted", level="use")["share"]
    for _i, row in shares.iterrows():
        zone = row["分区 Zone"].split()[0]
        for header in shares.columns[2:]:
            code = header.split()[0] if not header.startswith("无地块") else "uncovered"
            key = (row["图层 Layer"], zone, code)
            assert same(row[header], adjusted[key] if key in adjusted.index else 0.0), key
    share_cells = table_cells(ws, "t_mix_mix_shares_adjusted")[1]
    assert {c.number_format for c in share_cells[0][2:]} == {"0.0%"}


def test_adjustments_equal_the_metrics(book, metrics):
    ws = book["用地调整"]
    transitions = excel_table(ws, "t_adjustments_transitions")
    flat = metrics["transitions"].reset_index()
    assert list(transitions["原用地 From"]) == list(flat["from_use"])
    assert_column(transitions, "面积 Area (ha)", flat["area_ha"])
    assert_column(transitions, "面积 Area (亩)", flat["area_mu"])
    changing = excel_table(ws, "t_adjustments_changing_parcels")
    expected = metrics["changing_parcels"].reset_index()
    assert list(changing["地块编码 Parcel code"]) == list(expected["parcel_code"])
    assert_column(changing, "面积 Area (ha)", expected["area_ha"])
    total = excel_table(ws, "t_adjustments_changing_total")
    assert total["面积 Area (ha)"][0] == pytest.approx(expected["area_ha"].sum(), rel=1e-12)
    a1 = excel_table(ws, "t_adjustments_adjustment_totals").set_index("编码 Code")
    assert same(
        a1.loc["A1", "调整面积 Re-designated (ha)"],
        metrics["adjustment_totals"].loc["A1", "changed_ha"],
    )
    assert a1.loc["A1", "调整面积 Re-designated (ha)"] == pytest.approx(108, rel=0.005)
    matrix = excel_table(ws, "t_adjustments_matrix_A1_planned_to_adjusted")
    matrix = matrix.set_index("原用地 → 新用地 from → to")
    a1 = metrics["transitions"].xs(("land_adjustments", "A1", "planned_to_adjusted"),
                                   level=("layer", "zone", "kind"))["area_ha"]  # fmt: skip
    for (source, target), area in a1.items():
        header = next(h for h in matrix.columns if h.split()[0] == target)
        assert same(matrix.loc[source, header], area)
    assert matrix.loc["合计 total", "合计 total (ha)"] == pytest.approx(108, rel=0.005)  # 一（二）2
    assert {h.split()[0] for h in matrix.columns} == {"A35", "M1", "合计"}  # research, industry
    bases = excel_table(ws, "t_adjustments_base_land_changes")
    assert_column(bases, "面积 Area (ha)", metrics["base_land_changes"]["area_ha"])


def test_yield_equals_the_metrics(book, metrics):
    ws = book["地均产出"]
    zones = excel_table(ws, "t_yield_zone_yields")
    expected = metrics["zone_yields"].reset_index()
    assert list(zones["分区 Zone"]) == list(expected["zone"])
    for header, column in (
        ("地均收入 Revenue per ha (万元/公顷)", "revenue_per_ha"),
        ("地均产值 Output per ha (万元/公顷)", "output_per_ha"),
        ("达标尚需收入 Revenue needed (万元)", "revenue_needed_10k_cny"),
        ("已建成城镇建设用地 Built urban-construction land (ha)", "built_construction_ha"),
    ):
        assert_column(zones, header, expected[column])
    park = zones[(zones["图层 Layer"] == "zgc_park") & (zones["分区 Zone"] == "Z1")].iloc[0]
    assert park["地均收入 Revenue per ha (万元/公顷)"] == pytest.approx(8311)  # plan 一（二）6
    bench = excel_table(ws, "t_yield_benchmark")
    with open(SOURCES / "zgc_parks_2020.csv", encoding="utf-8") as fh:
        table11 = {r["park_zh"]: float(r["revenue_per_ha_10k_cny"]) for r in csv.DictReader(fh)}
    ranked = sorted(table11, key=lambda p: -table11[p])
    assert list(bench["园区 Park (Chinese)"]) == ranked
    miyun = bench[bench["园区 Park (Chinese)"] == "密云园"].iloc[0]
    assert miyun["收入排名 Revenue rank"] == ranked.index("密云园") + 1 == 15
    parcels = excel_table(ws, "t_yield_parcel_yields")
    source = metrics["parcel_yields"]
    shown = source[source["enterprise"].notna() | source["revenue_10k_cny"].notna()]
    assert list(parcels["地块编码 Parcel code"]) == list(shown.index)
    assert_column(parcels, "地均收入 Revenue per ha (万元/公顷)", shown["revenue_per_ha"])


def test_indicators_and_projects(book, metrics):
    indicators = excel_table(book["指标"], "t_indicators_indicators").set_index("指标编码 Code")
    with open(SOURCES / "indicators.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cell = indicators.loc[row["indicator_code"], "2025年目标 2025 target"]
            assert same(cell, float(row["target_2025"]) if row["target_2025"] else None)
    computed = indicators.loc["I06", "数据计算值 Computed from the data"]
    assert same(computed, metrics["zone_yields"].loc[("zgc_park", "Z1"), "revenue_per_ha"])
    subtotals = excel_table(book["项目"], "t_projects_project_subtotals").set_index(
        "阶段（原文） Stage as printed"
    )
    sums: dict[str, float] = {}
    with open(SOURCES / "projects_annex1.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sums[row["stage_zh"]] = sums.get(row["stage_zh"], 0) + float(
                row["fixed_investment_10k_cny"]
            )
    for stage, total in sums.items():
        assert subtotals.loc[stage, "固投（项目合计） Fixed inv., sum (万元)"] == total
    assert subtotals.loc["合计", "固投（原文） Fixed inv., printed (万元)"] == 1_055_260
    assert subtotals.loc["合计", "固投（项目合计） Fixed inv., sum (万元)"] == 655_260


def test_checks_sheet(book, default_plan):
    ws = book["校验"]
    consistency = excel_table(ws, "t_checks_consistency")
    bad = consistency[consistency["结论 Status"] == "不一致 mismatch"]
    assert len(bad) == 10  # see test_consistency.test_every_plan_mismatch_is_reported
    assert (
        bad[["规划数字 Stated", "核算值 Recomputed", "规划章节 Plan section"]].notna().all().all()
    )
    assert list(bad.index) == list(range(len(bad)))  # mismatches first
    validation = excel_table(ws, "t_checks_validation")
    assert len(validation) == len(validate(default_plan))


def test_native_charts(book, built_default):
    counts = {ws.title: len(ws._charts) for ws in book.worksheets}
    assert counts == {"概览": 0, "面积": 0, "用地结构": 2, "用地调整": 0, "地均产出": 2, "亩均评价": 0, "指标": 0,
                      "项目": 0, "校验": 0, "三区三线": 0, "三线冲突": 0, "管控线按分区汇总": 0,
                      "管控线重叠明细": 0, "调整前后": 0, "调整前后明细": 0}  # fmt: skip
    with zipfile.ZipFile(built_default / "report.xlsx") as archive:
        charts = [ET.fromstring(archive.read(n)) for n in archive.namelist() if "charts/chart" in n]
    assert len(charts) == 4
    bars = [bar for chart in charts for bar in chart.iter(f"{{{CHART_NS}}}barChart")]
    assert len(bars) == 4
    groupings = sorted(b.find(f"{{{CHART_NS}}}grouping").get("val") for b in bars)
    assert groupings == ["clustered", "clustered", "percentStacked", "percentStacked"]
    refs = [f.text for chart in charts for f in chart.iter(f"{{{CHART_NS}}}f")]
    assert any(r.startswith("'用地结构'!") for r in refs)
    assert any(r.startswith("'地均产出'!") for r in refs)
