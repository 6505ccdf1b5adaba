"""Scenario outputs: hostile text stays inert (CSV, XLSX read with openpyxl, HTML and the
side-by-side map in headless Chromium); the default scenarios; build --scenario."""

from __future__ import annotations

import csv
import json
import time

import openpyxl
import pandas as pd
import pytest
from conftest import load_page

PAYLOADS = (
    "</script><script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "{{ 7*7 }}{% raw %}",
    '=HYPERLINK("http://example.invalid","x")',
)
NAME, DESCRIPTION, DIRECTION, TOWN = PAYLOADS


def _toml_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, default_gpkg):
    """The scenarios command run on a TOML scenario full of hostile text; its output folder."""
    from conftest import run_cli

    root = tmp_path_factory.mktemp("hostile_scenarios")
    toml = root / "hostile.toml"
    toml.write_text(
        f"""
[[scenarios]]
scenario_code = "H1"
name = {_toml_text(NAME)}
description = {_toml_text(DESCRIPTION + " " + TOWN)}
provenance = "user"
  [[scenarios.edits]]
  edit_code = "E1"
  layer = "farmer_bases"
  feature_code = "B7"
  field = "name_zh"
  value = {_toml_text(NAME + DIRECTION)}
  [[scenarios.edits]]
  edit_code = "E2"
  layer = "farmer_bases"
  feature_code = "B7"
  field = "direction_zh"
  value = {_toml_text(TOWN)}
  [[scenarios.edits]]
  edit_code = "E3"
  layer = "farmer_bases"
  feature_code = "B7"
  field = "category"
  value = "upgrade"
""",
        encoding="utf-8",
    )
    out = root / "out"
    result = run_cli("scenarios", default_gpkg, "--scenarios", toml, "--out", out, cwd=root)
    assert result.returncode == 0, result.stderr
    assert not (root / "pwned_dir").exists()
    return out


def test_csv_cells_never_start_a_formula(hostile):
    with open(hostile / "scenario_list.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["name"] == NAME
    with open(hostile / "scenario_edits.csv", encoding="utf-8-sig", newline="") as fh:
        edits = {r["edit_code"]: r for r in csv.DictReader(fh)}
    assert edits["E2"]["value"] == "'" + TOWN
    for name in ("scenario_list.csv", "scenario_edits.csv", "scenarios.csv"):
        with open(hostile / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                assert not any(cell.startswith(("=", "+", "@")) for cell in row), (name, row)


def test_xlsx_holds_text_not_formulas(hostile):
    book = openpyxl.load_workbook(hostile / "scenarios.xlsx")
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert "'" + TOWN in texts
    assert NAME in texts


@pytest.mark.browser
def test_matrix_page_shows_the_text_and_runs_none_of_it(hostile, browser):
    page = hostile / "scenarios.html"
    text = page.read_text(encoding="utf-8")
    assert "<img src=x" not in text and "<script>window.__pwned" not in text
    load_page(browser, page)
    assert browser.execute_script("return window.__pwned") is None
    body = browser.find_element("tag name", "body").text
    assert NAME in body and '<img src=x onerror="window.__pwned=2">' in body
    assert not browser.find_elements("tag name", "img")
    # the bars of the category change are drawn (one up, one down)
    assert browser.find_elements("css selector", ".bar.up")
    assert browser.find_elements("css selector", ".bar.down")


def _requests(driver) -> list[str]:
    """Network URLs the page requested (file: and data: are the page and its inline data)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                urls.append(url)
    return urls


@pytest.mark.browser
def test_side_by_side_map_is_synchronized_and_inert(hostile, browser):
    page = hostile / "scenario_H1.html"
    text = page.read_text(encoding="utf-8")
    assert "<img src=x" not in text and "<script>window.__pwned" not in text
    assert "{{ 7*7 }}" not in text.split("scenario-data")[1]  # braces in the data are escaped
    load_page(browser, page)
    assert _requests(browser) == []  # offline: nothing but the file itself
    assert browser.execute_script("return window.__pwned") is None
    assert browser.execute_script("return window.miyunScenarioMaps.length") == 2
    # move the base map: the scenario map follows
    browser.execute_script(
        "window.miyunScenarioMaps[0].setView([40.4, 116.9], 13, {animate: false})"
    )
    center = browser.execute_script(
        "var c = window.miyunScenarioMaps[1].getCenter();"
        "return [c.lat, c.lng, window.miyunScenarioMaps[1].getZoom()]"
    )
    assert abs(center[0] - 40.4) < 1e-6 and abs(center[1] - 116.9) < 1e-6 and center[2] == 13
    # the edited name arrives as text in the scenario map's data, the base keeps its own
    names = browser.execute_script(
        "var d = JSON.parse(document.getElementById('scenario-data').textContent);"
        "var l = d.layers.filter(function (x) { return x.base.features.some(function (f) {"
        "  return f.properties['名称 name'] && f.properties['名称 name'].indexOf('金湖') >= 0; }); })[0];"
        "function pick(side) { return l[side].features.filter(function (f) {"
        "  return f.properties['修改 edited'] === '是 yes'; })[0].properties['名称 name']; }"
        "return [pick('base'), pick('scenario')];"
    )
    assert "金湖" in names[0] and names[1] == NAME + DIRECTION
    # a popup shows the text as text
    browser.execute_script(
        "var m = window.miyunScenarioMaps[1]; m.eachLayer(function (l) {"
        "  if (l.feature && l.feature.properties['修改 edited'] === '是 yes' && !window.__opened) {"
        "    l.openPopup(); window.__opened = 1; } });"
    )
    popup, deadline = "", time.monotonic() + 10
    while not popup and time.monotonic() < deadline:  # the popup is drawn asynchronously
        popup = " ".join(
            e.text for e in browser.find_elements("css selector", ".leaflet-popup-content")
        )
        time.sleep(0.05)
    assert NAME in popup
    assert browser.execute_script("return window.__pwned") is None
    assert not browser.find_elements("css selector", ".leaflet-popup-content img")


def test_default_scenarios_run_and_change_what_they_edit(cli, tmp_path, default_gpkg):
    out = tmp_path / "out"
    result = cli("scenarios", default_gpkg, "--out", out, "--no-maps")
    assert result.returncode == 0, result.stderr
    listing = pd.read_csv(out / "scenario_list.csv", encoding="utf-8-sig", index_col=0)
    assert list(listing.index) == ["B7-upgrade", "park-expansion", "A1-kept"]
    assert set(listing["provenance"]) == {"illustrative"}
    matrix = pd.read_csv(out / "scenarios.csv", encoding="utf-8-sig", index_col="key")
    assert matrix.loc["category/farmer_bases/exit", "B7-upgrade Δ"] == -1
    assert matrix.loc["parcel_area/planned/LB", "B7-upgrade"] == pytest.approx(0.0, abs=1e-9)
    assert matrix.loc["park_area/Z1", "park-expansion Δ"] == pytest.approx(120.0, rel=1e-6)
    assert matrix.loc["adjustment/A1/changed_ha", "A1-kept"] == pytest.approx(0.0, abs=1e-9)
    assert matrix.loc["adjustment/A1/changed_ha", "base"] == pytest.approx(108.0, rel=1e-6)


@pytest.mark.slow
def test_build_with_a_scenario_builds_the_edited_data(cli, tmp_path, default_gpkg, built_scenario):
    out = built_scenario  # build --scenario B7-upgrade --offline, the session's (exit 0)
    bases = pd.read_csv(out / "base_land_changes.csv", encoding="utf-8-sig")
    b7 = bases[bases["base"] == "B7"]
    assert set(b7["category"]) == {"upgrade"} and set(b7["to_use"]) == {"M1"}
    matrix = pd.read_csv(out / "scenarios.csv", encoding="utf-8-sig", index_col="key")
    assert list(matrix.columns[-2:]) == ["B7-upgrade", "B7-upgrade Δ"]
    assert (out / "scenario_B7-upgrade.html").is_file() and (out / "report.xlsx").is_file()
    bad = cli("build", default_gpkg, "--scenario", "nope", "--out", tmp_path / "o2", "-q")
    assert bad.returncode == 1 and "no scenario 'nope'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
