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
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from branca.element import Element
from conftest import run_cli

from miyun_spatial.catalogue import CATALOGUE, FieldSpec, LayerSpec
from miyun_spatial.maps.fields import esc
from miyun_spatial.maps.layers import to_json
from miyun_spatial.outputs import inert_frame

PWNED_DIR = "pwned_dir"  # what the Jinja payload below would create in the working folder
JINJA = "ZQ{{ 7*7 }}QZ"  # rendered by a template this becomes ZQ49QZ
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
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# text fields the pipeline interprets (units are converted), not free text
INTERPRETED = {"unit"}


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
                for fid in rows:
                    payload = PAYLOADS[k % len(PAYLOADS)]
                    k += 1
                    con.execute(
                        f'UPDATE "{spec.name}" SET "{field.name}" = ? || '
                        f'coalesce("{field.name}", \'\') WHERE "{pk}" = ?',
                        (payload, fid),
                    )
                edited[(spec.name, field.name)] = len(rows)
    con.close()
    return edited


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, default_gpkg):
    """A hostile copy of the default GeoPackage, built in a clean working folder."""
    root = tmp_path_factory.mktemp("hostile")
    gpkg = root / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    edited = inject(gpkg)
    work = root / "cwd"
    work.mkdir()
    result = run_cli("build", gpkg, "--out", root / "out", "--offline", cwd=work)
    return {"gpkg": gpkg, "out": root / "out", "cwd": work, "build": result, "edited": edited}


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
