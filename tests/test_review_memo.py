"""The review memo (issue 21): review.html and review.pdf written by the build, its sections, the
conclusion decided by data rules, the PDF's font, page numbers and data mark, inert hostile text.

Expected figures come from the GeoPackage read with pyogrio and measured with shapely here, not
from the code under test; expected verdicts from the rules the issue states (any conflict ->
不予通过; a conditional row, no control lines or an area beyond tolerance -> 有条件通过; else 通过).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from conftest import need
from pypdf import PdfReader

from miyun_spatial.analysis.conclusion import ReviewInputs, conclude, review_conclusion
from miyun_spatial.analysis.run import load_and_analyse
from miyun_spatial.core.citation import SCHEMATIC_MARK_ZH
from miyun_spatial.render.memo import memo
from miyun_spatial.render.memo.html import render_memo

SECTIONS = {
    "subject": "审查对象",
    "basis": "审查依据",
    "content": "审查内容",
    "issues": "问题清单",
    "conclusion": "审查结论",
    "sign": "签署",
}
CONFLICT_INDEX = ["layer", "feature_code", "parcel_code", "line_type", "line_code"]
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


class Outline(HTMLParser):
    """Sections (id -> heading text), table cells by table key, links, all text."""

    def __init__(self):
        super().__init__()
        self.sections: dict[str, str] = {}
        self.cells: dict[str, list[str]] = {}
        self.links: list[str] = []
        self.text: list[str] = []
        self._section = self._table = None
        self._in_h2 = self._in_td = False
        self._buffer = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section] = ""
        elif tag == "h2":
            self._in_h2 = True
        elif tag == "table":
            self._table = a.get("data-table")
            self.cells.setdefault(self._table, [])
        elif tag == "td":
            self._in_td, self._buffer = True, ""
        elif tag == "a":
            self.links.append(a.get("href"))

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        elif tag == "td":
            self._in_td = False
            self.cells[self._table].append(self._buffer)

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h2 and self._section:
            self.sections[self._section] += data
        if self._in_td:
            self._buffer += data


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def conflicts(*rows) -> pd.DataFrame:
    """A ``control_line_conflicts`` table (h21a's schema) of ``rows`` (verdict, line_type)."""
    records = [
        {
            "layer": "land_adjustments",
            "feature_code": "A1",
            "parcel_code": f"P{i:03d}",
            "line_type": line_type,
            "line_code": f"L{i}",
            "current_use": "E2",
            "planned_use": "M1",
            "overlap_ha": 2.5 + i,
            "overlap_mu": (2.5 + i) * 15,
            "rule": "no construction",
            "verdict": verdict,
        }
        for i, (verdict, line_type) in enumerate(rows)
    ]
    columns = [*CONFLICT_INDEX, "current_use", "planned_use", "overlap_ha", "overlap_mu"]
    return pd.DataFrame(records, columns=[*columns, "rule", "verdict"]).set_index(CONFLICT_INDEX)


def decide(tables, *, supplied=True, checks=(), areas=None):
    return review_conclusion(
        ReviewInputs(tables, checks, areas, control_lines_supplied=supplied, area_tolerance=0.05)
    )


# -- the conclusion function, on tables of the control-line schema ---------------------------


def test_a_conflict_is_not_approved():
    table = conflicts(("compliant", "ecological_redline"), ("conflict", "permanent_farmland"))
    result = decide({"control_line_conflicts": table})
    assert result.verdict.zh == "不予通过"
    assert [(r.condition, n) for r, n in result.reasons] == [("control_line_conflict", 1)]
    (issue,) = result.issues
    assert (issue.code, issue.parcel, issue.area_ha) == ("A1", "P001", 3.5)


def test_a_conditional_overlap_is_approved_with_conditions():
    table = conflicts(("conditional", "urban_boundary"), ("compliant", "urban_boundary"))
    assert decide({"control_line_conflicts": table}).verdict.zh == "有条件通过"


def test_compliant_lines_and_areas_within_tolerance_pass():
    areas = pd.DataFrame(
        {"area_ha": [100.0, 50.0], "stated_area_ha": [102.0, None]},
        index=pd.MultiIndex.from_tuples([("clusters", "C9"), ("clusters", "C8")]),
    )
    table = conflicts(("compliant", "permanent_farmland"))
    result = decide({"control_line_conflicts": table}, areas=areas)
    assert result.verdict.zh == "通过" and result.reasons == () and result.issues == ()
    # the same without the control lines: not checked, so conditional
    missing = decide({}, supplied=False, areas=areas)
    assert missing.verdict.zh == "有条件通过"
    assert [r.condition for r, _ in missing.reasons] == ["control_lines_missing"]
    # and an area 10 % off its stated one
    off = areas.assign(area_ha=[112.2, 50.0])
    beyond = decide({"control_line_conflicts": table}, areas=off)
    assert beyond.verdict.zh == "有条件通过"
    assert [(i.condition, i.code) for i in beyond.issues] == [("area_beyond_tolerance", "C9")]


def test_empty_or_missing_tables_are_no_conflict():
    empty = conflicts()
    assert decide({"control_line_conflicts": empty}).verdict.zh == "通过"
    assert decide({"control_line_conflicts": None}).verdict.zh == "通过"


# -- the default data -----------------------------------------------------------------------


def _base_change_ha(gpkg: Path, base: str, before: str, after: str) -> float:
    """Area of the parcels' pieces inside ``base`` whose current use is ``before`` and planned
    use ``after`` (shapely on the layers read directly, EPSG:4548)."""
    bases = pyogrio.read_dataframe(gpkg, layer="farmer_bases")
    parcels = pyogrio.read_dataframe(gpkg, layer="land_parcels")
    assert bases.crs.to_epsg() == 4548 and parcels.crs.to_epsg() == 4548
    shape = bases.loc[bases["code"] == base].geometry.iloc[0]
    chosen = parcels[(parcels["current_use"] == before) & (parcels["planned_use"] == after)]
    return float(sum(shape.intersection(g).area for g in chosen.geometry)) / 1e4


def _adjusted_ha(gpkg: Path, code: str, current: str, planned: str, proposed: str) -> float:
    """Area of the parcels' pieces inside re-designation ``code`` in that triple of uses."""
    zones = pyogrio.read_dataframe(gpkg, layer="land_adjustments")
    parcels = pyogrio.read_dataframe(gpkg, layer="land_parcels")
    shape = zones.loc[zones["code"] == code].geometry.iloc[0]
    chosen = parcels[
        (parcels["current_use"] == current)
        & (parcels["planned_use"] == planned)
        & (parcels["proposed_use"] == proposed)
    ]
    return float(sum(shape.intersection(g).area for g in chosen.geometry)) / 1e4


@pytest.fixture(scope="module")
def review_html(built_default) -> str:
    return (built_default / "review.html").read_text(encoding="utf-8")


def test_build_writes_every_section(built_default, review_html, default_gpkg):
    page = outline(review_html)
    for key, title in SECTIONS.items():
        assert title in page.sections.get(key, ""), key
    text = "".join(page.text)
    # the default data carry schematic control lines, some crossed by changing parcels
    assert "未提供三区三线数据" not in text
    assert "审查结论：不予通过" in text
    assert "report.html" in page.links and (built_default / "report.html").is_file()
    for law in ("《中华人民共和国土地管理法》", "《中华人民共和国城乡规划法》", "GB/T 21010-2017"):
        assert law in text
    # 问题清单: B2's farmland that becomes industrial land, with its figure and map page
    cells = page.cells["issues"]
    expected = _base_change_ha(default_gpkg, "B2", "E2", "M1")
    row = cells.index("B2")
    assert f"{expected:,.2f} ha（{expected * 15:,.1f} 亩）" == cells[row + 1]
    assert cells[row + 3 : row + 5] == ["static/base_B2.png", "base_B2.html"]
    assert (built_default / "static" / "base_B2.png").is_file()
    # 审查内容: A1 before/after from the approved plan (F3), current use beside it
    baselines = page.cells["baselines"]
    a1 = [baselines[i : i + 6] for i in range(0, len(baselines), 6) if baselines[i] == "A1"]
    assert {(r[2], r[3]) for r in a1} == {("F3", "M1"), ("F3", "A35")}
    assert all(r[1] == "E2" for r in a1)
    m1 = next(r for r in a1 if r[3] == "M1")
    assert m1[4] == f"{_adjusted_ha(default_gpkg, 'A1', 'E2', 'F3', 'M1'):,.2f}"
    # the run: id, tool version and the input's SHA-256 (of the file, computed here)
    import hashlib

    digest = hashlib.sha256(default_gpkg.read_bytes()).hexdigest()
    assert digest in text and "miyun-spatial" in text
    manifest = (built_default / ".miyun-run.json").read_text(encoding="utf-8")
    assert '"review.html"' in manifest and '"review.pdf"' in manifest


def test_the_memo_lists_the_first_of_each_kind_and_the_csv_all(built_default, review_html):
    """review_issues.csv holds every issue, numbered 1..N; the memo shows at most 20 of a kind
    and one line for the rest, whose count and area the CSV gives; the control-line issues
    are the verdicts of control_line_conflicts.csv."""
    every = pd.read_csv(built_default / "review_issues.csv", encoding="utf-8-sig")
    assert every["number"].tolist() == list(range(1, len(every) + 1))
    lines = pd.read_csv(built_default / "control_line_conflicts.csv", encoding="utf-8-sig")
    verdicts = lines["verdict"].value_counts()
    by_condition = every["condition"].value_counts()
    assert by_condition["control_line_conflict"] == verdicts["conflict"] > 20
    assert by_condition["control_line_conditional"] == verdicts["conditional"]
    cells = outline(review_html).cells["issues"]
    rows = [cells[i : i + 7] for i in range(0, len(cells), 7)]
    shown = [r for r in rows if r[0] != "…"]
    assert len(shown) < len(every) and f"共 {len(every)} 项" in review_html
    for kind, members in every.groupby("kind", sort=False):
        listed = [r for r in shown if r[1] == kind]
        assert [int(r[0]) for r in listed] == members["number"].tolist()[:20]
        rest = [r for r in rows if r[0] == "…" and r[1] == kind]
        if len(members) <= 20:
            assert rest == []
            continue
        (line,) = rest
        area = members["area_ha"].iloc[20:].sum()
        assert line[2].startswith(f"另 {len(members) - 20} 项")
        assert line[3] == f"{area:,.2f} ha（{area * 15:,.1f} 亩）"
        assert line[6] == "review_issues.csv"
    first = every.iloc[0]
    assert shown[0][2] == f"{first['feature_code']} / {first['parcel_code']}"
    assert "review_issues.csv" in (built_default / "index.html").read_text(encoding="utf-8")


def _pages(pdf: Path) -> list[str]:
    count = len(PdfReader(pdf).pages)
    return [
        subprocess.run(
            ["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, count + 1)
    ]


def test_pdf_embeds_the_font_and_numbers_and_marks_every_page(built_default):
    pdf = built_default / "review.pdf"
    need(shutil.which("pdftotext"), "pdftotext missing (apt-get install poppler-utils)")
    reader = PdfReader(pdf)
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    embedded.add(str(descendant.get_object()["/BaseFont"]))
    assert any("WenQuanYi" in name for name in embedded), embedded
    pages = _pages(pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, 1):
        assert SCHEMATIC_MARK_ZH in text, number
        assert f"第 {number} 页 / 共 {len(pages)} 页" in text, number
        body = [
            line
            for line in text.splitlines()
            if line.strip() and SCHEMATIC_MARK_ZH not in line and "页 / 共" not in line
        ]
        assert len(body) >= 5, f"page {number} is (nearly) empty"
    assert "审查结论" in "".join(pages) and "审定" in pages[-1]


# -- an input changes, the conclusion follows --------------------------------------------------


def test_an_area_beyond_tolerance_enters_the_conclusion(gpkg_copy):
    from test_hostile_text import _no_geometry_trigger

    with sqlite3.connect(gpkg_copy) as con:
        for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            con.create_function(name, 1, _no_geometry_trigger)  # attributes only
        con.execute("UPDATE land_adjustments SET stated_area_ha = 150 WHERE code = 'A1'")
    con.close()
    results = load_and_analyse(gpkg_copy)
    conclusion = conclude(results)
    reasons = {rule.condition for rule, _n in conclusion.reasons}
    assert "area_beyond_tolerance" in reasons
    off = [i for i in conclusion.issues if i.condition == "area_beyond_tolerance"]
    assert {i.code for i in off} == {"A1"}
    html = render_memo(memo(results, conclusion, generated=NOW))
    assert "量算面积与规划面积相差超过容差" in html and "150.00" in html


def test_conflict_rows_make_the_memo_say_not_approved(default_results):
    table = conflicts(("conflict", "permanent_farmland"), ("conditional", "urban_boundary"))
    summary = pd.DataFrame(
        {
            "layer": ["land_adjustments"] * 2,
            "feature_code": ["A1"] * 2,
            "line_type": ["permanent_farmland", "urban_boundary"],
            "overlap_ha": [2.5, 3.5],
            "overlap_mu": [37.5, 52.5],
            "conflicts": [1, 0],
            "conditionals": [0, 1],
        }
    ).set_index(["layer", "feature_code", "line_type"])
    tables = {
        **default_results.tables,
        "control_line_conflicts": table,
        "control_line_summary": summary,
    }
    results = replace(default_results, tables=tables)
    conclusion = review_conclusion(
        ReviewInputs(tables, results.checks, results.areas, area_tolerance=0.05)
    )
    page = outline(render_memo(memo(results, conclusion, generated=NOW)))
    text = "".join(page.text)
    assert "不予通过" in text and "未提供三区三线数据" not in text
    lines = page.cells["control_lines"]
    assert lines[:5] == ["永久基本农田 permanent basic farmland", "2.50", "37.5", "1", "0"]
    assert "P000" in "".join(page.cells["issues"])


# -- hostile text stays text -----------------------------------------------------------------


def test_hostile_text_stays_inert(tmp_path, default_gpkg, default_results):
    from test_hostile_text import PAYLOADS, inject

    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    inject(gpkg)
    results = load_and_analyse(gpkg)
    payload = '<img src=x onerror="window.__pwned=2">{{ 7*7 }}'
    table = conflicts(("conflict", payload)).rename(index={"L0": "</td><script>x</script>"})
    table["rule"] = "{% if 1 %}IF-RAN{% endif %}<b>bold</b>"
    tables = {**results.tables, "control_line_conflicts": table}
    conclusion = review_conclusion(
        ReviewInputs(tables, results.checks, results.areas, area_tolerance=0.05)
    )
    html = render_memo(memo(replace(results, tables=tables), conclusion, generated=NOW))
    assert "ZQ49QZ" not in html and "{{ 7*7 }}" in html
    assert "<img src=x" not in html and "<script>" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in html
    assert html.count("IF-RAN") == html.count("endif")
    # the names typed into the GeoPackage show as typed, escaped (read back with pyogrio)
    names = pyogrio.read_dataframe(gpkg, layer="land_adjustments", read_geometry=False)
    for name in names["name_zh"]:
        assert html_escape(name) in html
    for raw in PAYLOADS:
        if "<" in raw:
            assert raw not in html


# -- the figures say which state they show, with areas ----------------------------------------


def test_the_a1_figure_shows_the_approved_plan_and_the_adjusted_use(built_default, default_gpkg):
    import xml.etree.ElementTree as ET

    from test_static_maps import _group, _texts

    root = ET.parse(built_default / "static" / "area_A1.svg").getroot()
    titles = {
        s: " ".join(_texts(_group(root, f"state-{s}"))) for s in ("current", "planned", "adjusted")
    }
    assert titles == {
        "current": "现状 current",
        "planned": "批复规划 approved plan",
        "adjusted": "调整后 adjusted",
    }
    planned = " ".join(_texts(_group(root, "areas-planned")))
    adjusted = " ".join(_texts(_group(root, "areas-adjusted")))
    f3 = sum(_adjusted_ha(default_gpkg, "A1", "E2", "F3", use) for use in ("M1", "A35"))
    assert f"F3 {f3:,.2f} ha / {f3 * 15:,.0f} 亩" in planned
    m1 = _adjusted_ha(default_gpkg, "A1", "E2", "F3", "M1")
    assert f"M1 {m1:,.2f} ha" in adjusted and "F3" not in adjusted
    assert "E2" in " ".join(_texts(_group(root, "areas-current")))


def test_the_mark_is_printed_only_while_data_is_schematic(default_results):
    marked = render_memo(memo(default_results, conclude(default_results), generated=NOW))
    assert "@top-center" in marked and 'id="data-mark"' in marked
    layers = {}
    for name, frame in default_results.plan.layers.items():
        frame = frame.copy()
        if "geom_source" in frame.columns:
            frame["geom_source"] = "surveyed"
        if "data_basis" in frame.columns:
            frame["data_basis"] = "reported"
        layers[name] = frame
    surveyed = replace(default_results, plan=replace(default_results.plan, layers=layers))
    clean = render_memo(memo(surveyed, conclude(surveyed), generated=NOW))
    assert "@top-center" not in clean and 'id="data-mark"' not in clean
    assert SCHEMATIC_MARK_ZH not in clean
