"""``miyun-spatial report`` as a user runs it: outputs, exit codes, one-line errors, and text
edited in QGIS that must stay text (never a formula in Excel, never a script in the page)."""

from __future__ import annotations

import html
import json
import shutil

import openpyxl
import pytest
from conftest import run_cli, sha256
from gpkg_edit import set_value

HOSTILE = '<img src=x onerror="window.__pwned=1">'
FORMULA = '=HYPERLINK("http://example.invalid","x")'


@pytest.mark.slow
def test_report_writes_both_files_and_lists_the_mismatches(cli, gpkg_copy, tmp_path):
    before = sha256(gpkg_copy)
    out = tmp_path / "out"
    result = cli("report", gpkg_copy, "--out", out)
    assert result.returncode == 0, result.stderr
    assert sha256(gpkg_copy) == before  # read-only
    assert sorted(p.name for p in out.iterdir()) == [
        ".miyun-run.json",
        "report.html",
        "report.xlsx",
    ]
    lines = result.stdout.splitlines()
    assert lines[0] == f"wrote {out / 'report.xlsx'}"
    assert "10 mismatches" in lines[2]
    mismatch_lines = [line for line in lines if line.startswith("  [不一致 mismatch]")]
    assert len(mismatch_lines) == 10
    assert any("595,000" in line and "195,000" in line for line in mismatch_lines)
    assert openpyxl.load_workbook(out / "report.xlsx").sheetnames[0] == "概览"


@pytest.mark.slow
def test_report_json(cli, default_gpkg, tmp_path):
    result = cli("report", default_gpkg, "--out", tmp_path, "--json", "-q")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["outputs"] == [str(tmp_path / "report.xlsx"), str(tmp_path / "report.html")]
    totals = {(m["stated"], m["recomputed"]) for m in payload["mismatches"]}
    assert (1_055_260, 655_260) in totals and (282_848, 159_748) in totals
    assert all(m["plan_section"] for m in payload["mismatches"])


def test_not_a_geopackage(cli, tmp_path):
    bad = tmp_path / "plan.gpkg"
    bad.write_text("not a database", encoding="utf-8")
    result = cli("report", bad, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "is not a GeoPackage" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_data_with_errors_writes_no_report(cli, gpkg_copy, tmp_path):
    set_value(gpkg_copy, "clusters", "code", "C3", "code", "C1")  # duplicate code
    result = cli("report", gpkg_copy, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "validation errors" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_output(cli, default_gpkg, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = cli("report", default_gpkg, "--out", blocker / "sub")
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1


# a report of a hostile copy: their tests are slow (conftest)
SLOW_FIXTURES = {"hostile_report"}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, default_gpkg):
    """Names edited in QGIS into markup and a spreadsheet formula; the report of that copy."""
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    set_value(path, "clusters", "code", "C2", "name_zh", HOSTILE)
    set_value(path, "farmer_bases", "code", "B3", "name_zh", FORMULA)
    set_value(path, "projects", "code", "J01", "name_zh", HOSTILE)
    result = run_cli("report", path, "--out", folder / "out")
    assert result.returncode == 0, result.stderr
    return folder / "out"


def test_edited_text_is_text_in_the_workbook(hostile_report):
    book = openpyxl.load_workbook(hostile_report / "report.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    assert [c.value for c in cells if c.value == FORMULA]  # kept verbatim, as text
    assert [c.value for c in cells if c.value == HOSTILE]


def test_edited_text_is_escaped_in_the_page(hostile_report):
    text = (hostile_report / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in text  # never as markup
    assert "&lt;img src=x onerror=" in text  # but as text, escaped (quotes as &quot; or &#34;)
    assert HOSTILE in html.unescape(text)


@pytest.mark.browser
def test_edited_text_never_runs(browser, hostile_report):
    browser.get((hostile_report / "report.html").as_uri())
    assert browser.execute_script("return window.__pwned === undefined")
    # no image but the report's own maps (inline PNG)
    images = browser.execute_script(
        "return [...document.querySelectorAll('img')].map(i => i.closest('figure.map') !== null"
        " && i.src.startsWith('data:image/png;base64,'))"
    )
    assert images and all(images)
    areas = browser.find_element("css selector", "table[data-table=areas]").text
    assert HOSTILE in areas and FORMULA in areas
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
