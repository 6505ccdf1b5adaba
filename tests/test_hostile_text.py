"""Text in a GeoPackage is data, never code (issue 9).

Every free-text field of every catalogue layer (found from the catalogue, not a hand list) gets
Jinja syntax, markup, ``javascript:`` URLs and spreadsheet formulas; ``build`` (and the other
commands) must run no payload and show each text as typed: in the files, in headless Chromium,
in the CSVs read back with the csv module and in report.xlsx read back with openpyxl.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from branca.element import Element
from conftest import made_once, run_cli

from miyun_spatial.core.catalogue import CATALOGUE, FieldSpec, LayerSpec
from miyun_spatial.io.cells import inert_frame
from miyun_spatial.render.maps.fields import esc
from miyun_spatial.render.maps.layers import to_json
from miyun_spatial.validate.control_lines import MARKUP_FIELDS
from miyun_spatial.validate.text import _MARKUP

PWNED_DIR = "pwned_dir"  # what the Jinja payload below would create in the working folder
JINJA = "ZQ{{ 7*7 }}QZ"  # rendered by a template this becomes ZQ49QZ
# retitles the window, clears the screen and turns the text red, if a terminal acts on it
TERMINAL = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mRED\x9b1m"
PAYLOADS = (
    JINJA,
    "{{ lipsum.__globals__.os.mkdir(dict(pwned_dir=1)|first) }}",
    "{% if 1 %}IF-RAN{% endif %}",
    "{% raw %}",
    "{# unclosed comment",
    "a {%- x -%} b \\ {{ '\\' }}",
    "</script><script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "javascript:window.__pwned=3",
    "=1+1",
    '=HYPERLINK("http://example.invalid/","点击")',
    "@SUM(1,2)",
    "+cmd|' /C calc'!A0",
    "-1+2",
    "\t=1+1",
    "\r=1+1",
    "$\\nocommand{x}$ (matplotlib mathtext)",
    "VT\x0bSOH\x01<&>\"' (XML-illegal control characters)",
    TERMINAL,
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# text fields the pipeline interprets (units are converted), not free text
INTERPRETED = {"unit"}
# control-line names come from the 一张图 system: markup there is refused (an error, tested in
# test_control_lines); they get the other payloads
INERT_ONLY = {("control_lines", name) for name in MARKUP_FIELDS}


def free_text_fields(spec: LayerSpec) -> list[FieldSpec]:
    """Text fields without allowed values, pattern, reference or uniqueness: free text."""
    return [
        f
        for f in spec.fields
        if f.type == "text"
        and not (f.values or f.pattern or f.ref or f.unique)
        and f.name != spec.id_field
        and f.name not in INTERPRETED
    ]


def _no_geometry_trigger(*_args):
    raise RuntimeError("an R-tree trigger fired: only attribute columns may be edited here")


def inject(path: Path) -> dict[tuple[str, str], int]:
    """Prefix every free-text value with a payload (rotating through PAYLOADS, per feature).

    Plain SQLite, attribute columns only: GDAL's R-tree triggers need their SQL functions
    declared, and fail loudly if one were ever called. Returns the rows edited per field.
    """
    edited = {}
    with sqlite3.connect(path) as con:
        for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            con.create_function(name, 1, _no_geometry_trigger)
        tables = {row[0] for row in con.execute("SELECT table_name FROM gpkg_contents")}
        k = 0
        for spec in CATALOGUE.layers:
            if spec.name not in tables:
                continue
            columns = {row[1] for row in con.execute(f'PRAGMA table_info("{spec.name}")')}
            pk = next(r[1] for r in con.execute(f'PRAGMA table_info("{spec.name}")') if r[5])
            for field in free_text_fields(spec):
                if field.name not in columns:
                    continue
                rows = [r[0] for r in con.execute(f'SELECT "{pk}" FROM "{spec.name}"')]
                payloads = PAYLOADS
                if (spec.name, field.name) in INERT_ONLY:
                    payloads = tuple(p for p in PAYLOADS if not _MARKUP.search(p))
                for fid in rows:
                    payload = payloads[k % len(payloads)]
                    k += 1
                    con.execute(
                        f'UPDATE "{spec.name}" SET "{field.name}" = ? || '
                        f'coalesce("{field.name}", \'\') WHERE "{pk}" = ?',
                        (payload, fid),
                    )
                edited[(spec.name, field.name)] = len(rows)
    con.close()
    return edited


# a whole build of the hostile copy: their tests are slow (conftest)
SLOW_FIXTURES = {"hostile"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, default_gpkg):
    """A hostile copy of the default GeoPackage, built in a clean working folder; once per
    test run, whichever xdist worker asks first (read only)."""

    def make(root: Path) -> dict:
        gpkg = root / "plan.gpkg"
        shutil.copyfile(default_gpkg, gpkg)
        edited = inject(gpkg)
        (root / "cwd").mkdir()
        result = run_cli("build", gpkg, "--out", root / "out", "--offline", cwd=root / "cwd")
        return {
            "build": [result.returncode, result.stdout, result.stderr],
            "edited": [[layer, field, n] for (layer, field), n in edited.items()],
        }

    root, made = made_once(tmp_path_factory, "hostile-text", make)
    code, stdout, stderr = made["build"]
    return {
        "gpkg": root / "plan.gpkg",
        "out": root / "out",
        "cwd": root / "cwd",
        "build": subprocess.CompletedProcess(["build"], code, stdout, stderr),
        "edited": {(layer, field): n for layer, field, n in made["edited"]},
    }


# -- the chokepoints ------------------------------------------------------------------------


@pytest.mark.parametrize("text", PAYLOADS)
def test_to_json_is_inert_to_the_second_jinja_pass(text):
    value = {"name": text, "nested": [{"k": text}], text: 1}
    encoded = to_json(value)
    assert json.loads(encoded) == value
    for opener in ("{{", "{%", "{#", "</"):
        assert opener not in encoded
    # what branca does with every element's script output: compile it as a template, render
    assert Element(encoded).render() == encoded


@pytest.mark.parametrize("text", PAYLOADS)
def test_escaped_html_is_inert_to_the_second_jinja_pass(text):
    html = esc(text)
    assert "{" not in html and "}" not in html and "<" not in html
    # Jinja normalises line breaks (CR to LF); nothing else may change
    assert Element(html).render() == html.replace("\r", "\n")


def test_every_layer_has_free_text_to_attack():
    attacked = {spec.name for spec in CATALOGUE.layers if free_text_fields(spec)}
    assert {"clusters", "farmer_bases", "projects", "land_parcels", "places"} <= attacked


# -- the whole pipeline ---------------------------------------------------------------------


def test_build_runs_no_payload_and_keeps_the_text(hostile):
    result = hostile["build"]
    assert result.returncode == 0, result.stderr
    assert len(hostile["edited"]) >= 40  # every free-text field of every layer
    assert not (hostile["cwd"] / PWNED_DIR).exists()
    assert list(hostile["cwd"].iterdir()) == []
    html_pages = sorted(hostile["out"].glob("*.html"))
    assert len(html_pages) >= 10
    for page in html_pages:
        text = page.read_text(encoding="utf-8")
        assert "ZQ49QZ" not in text, page.name
        assert text.count("IF-RAN") == text.count("endif"), page.name  # the tags are kept
        assert "<img src=x" not in text and "<script>window.__pwned" not in text, page.name


def test_report_html_holds_the_text_escaped(hostile):
    text = (hostile["out"] / "report.html").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in text and "ZQ49QZ" not in text
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in text
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=1" in text
    assert "<img src=x" not in text


# -- spreadsheets ---------------------------------------------------------------------------


def test_inert_frame_prefixes_text_and_keeps_numbers():
    frame = pd.DataFrame(
        {"name": ["=1+1", "-x", "ok", None, "@SUM(1)"], "n": [-1.5, 2, 3, 4, 5]},
        index=pd.Index(["+a", "b", "\tc", "d", "e"], name="code"),
    )
    safe = inert_frame(frame)
    names = safe["name"].tolist()
    assert names[:3] + names[4:] == ["'=1+1", "'-x", "ok", "'@SUM(1)"] and pd.isna(names[3])
    assert safe["n"].tolist() == [-1.5, 2, 3, 4, 5] and safe["n"].dtype == frame["n"].dtype
    assert safe.index.tolist() == ["'+a", "b", "'\tc", "d", "e"] and safe.index.name == "code"
    assert frame.loc["+a", "name"] == "=1+1"  # the input is unchanged


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def test_every_csv_cell_that_would_start_a_formula_has_a_leading_quote(hostile):
    assert hostile["build"].returncode == 0, hostile["build"].stderr
    prefixed = 0
    paths = sorted(hostile["out"].glob("*.csv"))
    assert len(paths) >= 8
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
                        prefixed += 1
                    elif cell.startswith("-"):
                        assert _is_number(cell), (path.name, cell)  # numbers stay numbers
                    else:
                        assert not cell.startswith(FORMULA_START), (path.name, cell)
    assert prefixed >= 20  # the payloads did land in the CSVs, inert


def test_csv_on_stdout_is_inert_too(hostile):
    result = run_cli("areas", hostile["gpkg"], "--csv")
    assert result.returncode == 0, result.stderr
    cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
    assert any(c.startswith("'=HYPERLINK(") for c in cells)
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]


def test_report_xlsx_has_no_formula_cell_and_shows_the_text_as_typed(hostile):
    assert hostile["build"].returncode == 0, hostile["build"].stderr
    book = openpyxl.load_workbook(hostile["out"] / "report.xlsx")
    quoted = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    quoted += 1
    assert quoted >= 10


# -- the other commands -----------------------------------------------------------------------


def test_maps_report_validate_and_diff_run_no_payload(hostile, tmp_path, default_gpkg):
    work = tmp_path / "cwd"
    work.mkdir()
    gpkg = hostile["gpkg"]
    for args in (
        ("maps", gpkg, "--out", tmp_path / "maps"),
        ("report", gpkg, "--out", tmp_path / "report"),
        ("validate", gpkg),
        ("validate", gpkg, "--json"),
        ("diff", default_gpkg, gpkg),
        ("diff", default_gpkg, gpkg, "--json"),
    ):
        result = run_cli(*args, cwd=work)
        assert result.returncode == 0, (args[0], result.stderr[-600:])
        assert "ZQ49QZ" not in result.stdout + result.stderr
        assert list(work.iterdir()) == [], args  # the payload created nothing
        if "--json" not in args:  # on a terminal, control characters show as escapes
            for control in ("\x1b", "\x07", "\x9b"):
                assert control not in result.stdout + result.stderr, (args[0], control)
    diff = run_cli("diff", default_gpkg, gpkg, "--json", cwd=work)
    assert JINJA in diff.stdout  # shown as typed (JSON keeps it literal)
    for page in (tmp_path / "maps").glob("*.html"):
        assert "ZQ49QZ" not in page.read_text(encoding="utf-8"), page.name


# -- in a real browser ------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split())


POPUP_HITS_JS = """
const q = miyun.esc(arguments[0].toLowerCase());
const hits = miyun.index.filter(h => h.q.indexOf(q) >= 0 && h.layer._miyunGroup.getPopup());
"""
SEARCH_HITS_JS = """
const q = miyun.esc(arguments[0].toLowerCase());
return miyun.index.filter(h => h.q.indexOf(q) >= 0).length;
"""


@pytest.mark.browser
def test_in_chromium_nothing_runs_and_the_text_shows_as_typed(hostile, browser):
    from test_maps_browser import open_page

    out = hostile["out"]
    pages = sorted(out.glob("*.html"))
    names = dict(_base_names(hostile["gpkg"]))
    with sqlite3.connect(hostile["gpkg"]) as con:
        classes = [row[0] for row in con.execute("SELECT name_zh FROM land_use_classes")]
    con.close()
    assert any("{" in name for name in classes)
    popups = 0
    for page in pages:
        source = page.read_text(encoding="utf-8")
        assert 'href="javascript:' not in source.lower(), page.name
        _, errors = open_page(browser, page)
        assert not errors, f"{page.name}: {errors}"
        assert browser.execute_script("return window.__pwned") is None, page.name
        body = _normal(browser.execute_script("return document.body.innerText"))
        assert "ZQ49QZ" not in body and "IF-RAN" not in body.replace("%}IF-RAN{%", ""), page.name
        if page.name.startswith("base_B"):
            code = page.stem.removeprefix("base_")
            assert _normal(names[code]) in body, (page.name, names[code])  # the title, as typed
        if page.name == "land_use.html":  # the legend lists the land-use classes as typed
            assert any(_normal(n) in body for n in classes if "{" in n), page.name
        if page.name in ("index.html", "report.html", "review.html"):
            continue
        # the search box finds hostile names; the popup of a hit shows them as typed
        hits = browser.execute_script(SEARCH_HITS_JS, "ZQ{{ 7*7 }}QZ")
        if not hits:
            continue
        box = browser.find_element("css selector", ".miyun-search input")
        box.clear()
        box.send_keys("ZQ{{ 7*7 }}")
        items = browser.find_elements("css selector", ".miyun-search li")
        # the query with braces finds what miyun.index holds (escaped the same way as in Python)
        assert len(items) == min(hits, 12), page.name
        # open the popup of every hit that has one, as the search box does
        with_popup = browser.execute_script(POPUP_HITS_JS + "return hits.length;", "zq{{")
        for i in range(min(with_popup, 6)):
            browser.execute_script(
                POPUP_HITS_JS + "miyun.show(miyun.map, hits[arguments[1]].layer);", "zq{{", i
            )
            popup = browser.execute_script(
                "const p = document.querySelector('.leaflet-popup-content');return p && p.innerText"
            )
            assert popup and "ZQ49QZ" not in popup, (page.name, popup)
            popups += JINJA in popup
        assert browser.execute_script("return window.__pwned") is None, page.name
        assert (
            browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
        )
    assert popups >= 1  # at least one popup showed the Jinja text as typed


def _base_names(gpkg: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(gpkg) as con:
        rows = con.execute("SELECT code, name_zh FROM farmer_bases").fetchall()
    con.close()
    return rows


def test_qgis_styles_in_results_gpkg_are_xml_with_the_labels_as_typed(hostile):
    assert hostile["build"].returncode == 0, hostile["build"].stderr
    with sqlite3.connect(hostile["out"] / "results.gpkg") as con:
        styles = con.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall()
    con.close()
    assert len(styles) >= 5
    labels = []
    for table, qml in styles:
        root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line; raises if invalid
        labels += [c.get("label") for c in root.iter("category")]
        labels += [o.get("name") for o in root.iter("Option") if o.get("name")]
        assert root.tag == "qgis", table
    text = "\n".join(label for label in labels if label)
    assert "{{ 7*7 }}" in text or "{%" in text  # land-use class names, as typed
    assert "VTSOH<&>\"'" in text  # illegal control characters dropped, the rest kept


def test_the_qgis_project_in_results_gpkg_keeps_the_labels_as_text(hostile):
    from miyun_spatial.io.qgis_project import stored_project

    qgs = stored_project(hostile["out"] / "results.gpkg")
    root = ET.fromstring(qgs.split("\n", 1)[1])  # raises if the hostile labels broke the XML
    assert root.find(".//script") is None
    labels = "\n".join(c.get("label") or "" for c in root.iter("category"))
    assert "{{ 7*7 }}" in labels or "{%" in labels  # the class names, as typed, as attributes
