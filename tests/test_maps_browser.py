"""The maps in real headless Chromium: requests, console, features drawn, legend, escaping, tools.

Expectations come from the GeoPackage read independently (pyogrio, shapely, pyproj) and from
the plan's own figures, never from the map code.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlparse

import prcoords
import pyogrio
import pytest
import shapely
import xyzservices.providers as xyz
from conftest import load_page, run_cli
from gpkg_edit import overwrite, read
from pyproj import Geod

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__pwned=1">'
SCHEMATIC_DASH = "6 4"
PAGES = (
    "overview.html",
    "bases.html",
    *(f"base_B{i}.html" for i in range(1, 8)),
    "land_use.html",
    "yield.html",
    "projects.html",
)


# -- generated once per session ------------------------------------------------------------


def _maps(out: Path, *args) -> Path:
    result = run_cli("maps", *args, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def offline_maps(tmp_path_factory, default_gpkg) -> Path:
    return _maps(tmp_path_factory.mktemp("offline") / "maps", default_gpkg, "--offline")


@pytest.fixture(scope="session")
def online_maps(tmp_path_factory, default_gpkg) -> Path:
    return _maps(tmp_path_factory.mktemp("online") / "maps", default_gpkg)


@pytest.fixture(scope="session")
def edited_gpkg(tmp_path_factory, default_gpkg) -> Path:
    """A copy where names are hostile markup, a colour is an injection and B2 is surveyed."""
    path = tmp_path_factory.mktemp("edited") / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    first = {"clusters", "park_in_park", "support_nodes", "zgc_park", "other_sites", "places"}
    for layer in first:
        _edit(path, layer, lambda f: f.index == f.index[0], name_zh=HOSTILE)
    _edit(path, "farmer_bases", lambda f: f["code"] == "B1", name_zh=HOSTILE, town_zh=HOSTILE,
          direction_zh=HOSTILE)  # fmt: skip
    _edit(path, "farmer_bases", lambda f: f["code"] == "B2", geom_source="surveyed")
    _edit(path, "projects", lambda f: f["code"] == "J01", name_zh=HOSTILE)
    # the source line on every map face quotes the boundary's source and licence
    _edit(path, "district", lambda f: f.index == f.index[0], source=HOSTILE, licence=HOSTILE)
    _edit(path, "land_parcels", lambda f: f.index == f.index[0], enterprise=HOSTILE)
    with sqlite3.connect(path) as con:  # an attribute table: no R-tree triggers
        con.execute("UPDATE land_use_classes SET name_zh = ? WHERE code = 'M1'", (HOSTILE,))
    con.close()
    return path


def _edit(path: Path, layer: str, where, **values) -> None:
    """Set attributes of the features ``where(frame)`` selects, rewriting the layer via GDAL."""
    frame = read(path, layer)
    rows = where(frame)
    assert rows.sum() >= 1
    for column, value in values.items():
        frame[column] = frame[column].astype(object)
        frame.loc[rows, column] = value
    overwrite(path, layer, frame)


@pytest.fixture(scope="session")
def edited_maps(tmp_path_factory, edited_gpkg) -> Path:
    return _maps(tmp_path_factory.mktemp("edited-maps") / "maps", edited_gpkg, "--offline")


# -- helpers ------------------------------------------------------------------------------------


def open_page(driver, path: Path) -> tuple[list[str], list[dict]]:
    """Load ``path``; return the URLs it requested and its console errors."""
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get_log("browser")
    load_page(driver, path)
    time.sleep(0.3)  # let late requests (tiles, images) show up in the log
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return urls, errors


DRAWN_JS = """
const map = miyun.map, out = {};
for (const group of Object.values(miyun.layers)) { if (!map.hasLayer(group)) map.addLayer(group); }
map.fitBounds(L.featureGroup(Object.values(miyun.layers)).getBounds(), {animate: false});
for (const [key, group] of Object.entries(miyun.layers)) {
  let n = 0, drawn = 0;
  group.eachLayer(l => {
    n++;
    if (l._parts ? l._parts.length > 0 : (l._point !== undefined && !l._empty())) drawn++;
  });
  out[key] = [n, drawn];
}
return out;
"""


HITS_JS = """miyun.index.filter(
  h => h.q.includes(miyun.esc('onerror=')) && h.layer._miyunGroup.getPopup())"""


def feature_count(gpkg: Path, layer: str) -> int:
    return pyogrio.read_info(gpkg, layer=layer)["features"]


# -- tests --------------------------------------------------------------------------------------


def test_offline_pages_request_nothing_and_draw_every_feature(browser, offline_maps, default_gpkg):
    """Offline: only file: and data: URLs, no console error, every feature embedded is drawn."""
    count = {
        layer: feature_count(default_gpkg, layer)
        for layer in pyogrio.list_layers(default_gpkg)[:, 0]
    }
    expected = {
        "overview.html": {
            name: count[name]
            for name in (
                "clusters",
                "park_in_park",
                "support_nodes",
                "farmer_bases",
                "zgc_park",
                "other_sites",
                "land_adjustments",
                "projects",
                "district",
                "places",
            )
        },
        "bases.html": {"farmer_bases": count["farmer_bases"], "places": count["places"]},
        "land_use.html": {
            "land_parcels": count["land_parcels"],
            "zones_clusters": count["clusters"],
        },
        "yield.html": {"yield_parcels": count["land_parcels"], "yield_zgc_park": count["zgc_park"]},
        "projects.html": {"projects": count["projects"], "clusters": count["clusters"]},
        **{f"base_B{i}.html": {"base": 1, "district": 1} for i in range(1, 8)},
    }
    for page in PAGES:
        urls, errors = open_page(browser, offline_maps / page)
        assert not errors, f"{page}: console errors {errors}"
        foreign = [u for u in urls if urlparse(u).scheme not in ("file", "data")]
        assert not foreign, f"{page} requested {foreign}"
        drawn = browser.execute_script(DRAWN_JS)
        for key, n in expected[page].items():
            assert drawn[key] == [n, n], f"{page}: layer {key} drew {drawn[key]}, expected {n}"


def test_index_lists_and_links_every_map(browser, offline_maps, default_gpkg):
    urls, errors = open_page(browser, offline_maps / "index.html")
    assert not errors and all(urlparse(u).scheme == "file" for u in urls)
    links = browser.execute_script(
        "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
    )
    codes = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases", read_geometry=False)["code"]
    assert sorted(codes) == [f"B{i}" for i in range(1, 8)]  # the plan's seven bases
    assert set(links) == set(PAGES)
    assert {p.name for p in offline_maps.glob("*.html")} == {*PAGES, "index.html"}
    rows = browser.execute_script(
        "return [...document.querySelectorAll('tbody tr')].map(r => r.cells.length)"
    )
    assert rows == [3] * len(PAGES)  # map, one-line description, key figures


def test_bases_legend_counts_and_areas(browser, offline_maps, default_gpkg):
    open_page(browser, offline_maps / "bases.html")
    rows = browser.execute_script(
        """return Object.fromEntries([...document.querySelectorAll('.miyun-legend tr[data-value]')]
             .map(r => [r.dataset.value, [r.querySelector('.count')?.textContent,
                                          r.querySelector('.area')?.textContent]]));"""
    )
    bases = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases")
    assert bases.crs.to_epsg() == 4548
    # plan section 五（六）: five bases to upgrade, one to transform, one to exit
    assert {k: int(rows[k][0]) for k in ("upgrade", "transform", "exit")} == {
        "upgrade": 5,
        "transform": 1,
        "exit": 1,
    }
    for category, group in bases.groupby("category"):
        hectares = shapely.area(group.geometry.values).sum() / 10_000
        assert rows[category][1].startswith(f"{hectares:,.2f} ha"), (category, rows[category])
        assert f"{hectares * 15:,.1f} 亩" in rows[category][1]


def test_hostile_text_is_shown_as_text_and_never_runs(browser, edited_maps):
    for page in ("index.html", *PAGES):
        source = (edited_maps / page).read_text(encoding="utf-8")
        assert "<img src=x" not in source and 'onload="window' not in source, page
        _, errors = open_page(browser, edited_maps / page)
        assert not errors, f"{page}: {errors}"
        assert browser.execute_script("return window.__pwned") is None, page
        # as text: labels outside the view or overlapping others are in the page but not shown
        assert HOSTILE in browser.execute_script("return document.body.textContent"), page
        if page == "index.html":
            continue
        # open the popup of every feature whose text holds the markup, as the search box does
        hits = browser.execute_script(f"return {HITS_JS}.length")
        assert hits >= 1 or page.startswith("base_"), page
        for i in range(hits):
            browser.execute_script(f"miyun.show(miyun.map, {HITS_JS}[arguments[0]].layer);", i)
            popup = browser.execute_script(
                "const p = document.querySelector('.leaflet-popup-content'); return p && p.innerText"
            )
            assert popup and HOSTILE in popup, (page, i, popup)
        assert browser.execute_script("return window.__pwned") is None, page
        assert (
            browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
        )


def test_schematic_dashed_and_surveyed_solid(browser, edited_maps, edited_gpkg):
    open_page(browser, edited_maps / "bases.html")
    dashes = browser.execute_script(
        """const out = {}; miyun.layers.farmer_bases.eachLayer(
             l => { out[l.feature.properties._q.split(' ')[0]] = l.options.dashArray; }); return out;"""
    )
    sources = pyogrio.read_dataframe(edited_gpkg, layer="farmer_bases", read_geometry=False)
    for code, source in zip(sources["code"], sources["geom_source"], strict=True):
        assert dashes[code] == (None if source == "surveyed" else SCHEMATIC_DASH), code
    assert dashes["B2"] is None


def test_land_use_views_recolour_parcels(browser, offline_maps, default_gpkg):
    open_page(browser, offline_maps / "land_use.html")
    parcels = pyogrio.read_dataframe(default_gpkg, layer="land_parcels", read_geometry=False)
    classes = pyogrio.read_dataframe(default_gpkg, layer="land_use_classes", read_geometry=False)
    color = dict(zip(classes["code"], classes["color_hex"].str.lower(), strict=True))
    reserve = set(classes.loc[classes["group"] == "reserve", "code"])
    adjusted = parcels["proposed_use"].fillna(parcels["planned_use"])
    views = {
        "cu": parcels["current_use"],
        "pl": parcels["planned_use"],
        "po": adjusted,
    }
    for view, uses in views.items():
        browser.find_element("css selector", f'.miyun-views input[value="{view}"]').click()
        # reserve land (LB) is tinted and hatched: a canvas pattern, not a flat colour
        fills = browser.execute_script(
            """const out = {}; miyun.layers.land_parcels.eachLayer(l => {
                 const f = l.options.fillColor;
                 out[l.feature.properties._q.split(' ')[0]] =
                   f instanceof CanvasPattern ? 'pattern' : f; }); return out;"""
        )
        expected = {
            code: "pattern" if use in reserve else color[use]
            for code, use in zip(parcels["parcel_code"], uses, strict=True)
        }
        assert fills == expected, view
    assert (views["po"] != views["pl"]).sum() > 0  # the default data proposes changes (A1)
    assert views["pl"].isin(reserve).any()  # B7 becomes reserve land: the pattern is drawn


def test_measure_search_mouse_position_and_fullscreen(browser, offline_maps):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, offline_maps / "overview.html")
    container = browser.find_element("css selector", ".folium-map")
    browser.find_element("css selector", ".miyun-measure a").click()
    offsets = [(-200, -100), (150, -120), (60, 160)]
    for dx, dy in offsets:
        ActionChains(browser).move_to_element_with_offset(container, dx, dy).click().perform()
    text = browser.find_element("css selector", ".miyun-measure-out").text
    points = browser.execute_script(
        """const c = miyun.map.getSize(); return arguments[0].map(([dx, dy]) => {
             const ll = miyun.map.containerPointToLatLng([c.x / 2 + dx, c.y / 2 + dy]);
             return [ll.lng, ll.lat]; });""",
        offsets,
    )
    geod = Geod(ellps="WGS84")
    lons, lats = zip(*points, strict=True)
    length = sum(geod.inv(*points[i], *points[i + 1])[2] for i in range(len(points) - 1))
    area_ha = abs(geod.polygon_area_perimeter(lons, lats)[0]) / 10_000
    shown_km = float(text.split("距离 Distance: ")[1].split(" km")[0])
    shown_ha = float(text.split("面积 Area: ")[1].split(" ha")[0].replace(",", ""))
    assert shown_km == pytest.approx(length / 1000, rel=0.01)
    assert shown_ha == pytest.approx(area_ha, rel=0.01)
    browser.find_element("css selector", ".miyun-measure a").click()  # measuring off

    ActionChains(browser).move_to_element_with_offset(container, 10, 10).perform()
    assert "lat" in browser.find_element("css selector", ".miyun-mouse").text

    box = browser.find_element("css selector", ".miyun-search input")
    box.send_keys("B7")
    browser.find_element("css selector", ".miyun-search li").click()
    popup = browser.find_element("css selector", ".leaflet-popup-content").get_attribute(
        "textContent"
    )
    assert "B7" in popup and "逐步退出" in popup

    browser.find_element("css selector", ".miyun-fullscreen a").click()
    assert browser.execute_script(
        "return !!document.fullscreenElement || document.body.classList.contains('miyun-full')"
    )


def test_every_map_has_provenance_legend_and_tools(browser, offline_maps):
    for page in PAGES:
        open_page(browser, offline_maps / page)
        present = browser.execute_script(
            """return ['.miyun-note', '.miyun-legend', '.leaflet-control-scale',
                       '.leaflet-control-layers', '.miyun-search', '.miyun-measure',
                       '.miyun-fullscreen', '.miyun-mouse']
                      .filter(s => !document.querySelector(s));"""
        )
        assert present == [], f"{page} lacks {present}"
        note = browser.execute_script("return document.querySelector('.miyun-note').textContent")
        assert "schematic" in note and "synthetic" in note, page


def test_online_pages_request_only_their_tiles(browser, online_maps):
    """Default pages: Leaflet and all code inline; only the OpenStreetMap tiles are fetched."""
    tile_host = urlparse(xyz.OpenStreetMap.Mapnik.url).hostname
    for page in ("overview.html", "base_B3.html"):
        urls, _ = open_page(browser, online_maps / page)
        hosts = {urlparse(u).hostname for u in urls if urlparse(u).scheme in ("http", "https")}
        assert hosts == {tile_host}, (page, hosts)
        attribution = browser.find_element("css selector", ".leaflet-control-attribution").text
        assert "OpenStreetMap" in attribution


def test_gaode_pages_shift_the_data_to_gcj02(browser, tmp_path, default_gpkg, offline_maps):
    gaode = _maps(tmp_path / "gaode", default_gpkg, "--basemap", "gaode")
    corner = "return miyun.layers.farmer_bases.getLayers()[0].getLatLngs()[0][0];"
    urls, _ = open_page(browser, gaode / "bases.html")
    hosts = {urlparse(u).hostname for u in urls if urlparse(u).scheme in ("http", "https")}
    assert hosts and all(h.endswith("autonavi.com") for h in hosts), hosts  # Gaode tiles only
    shifted = browser.execute_script(corner)
    open_page(browser, offline_maps / "bases.html")
    wgs = browser.execute_script(corner)
    expected = prcoords.wgs_gcj((wgs["lat"], wgs["lng"]))
    assert shifted["lat"] == pytest.approx(expected.lat, abs=2e-6)
    assert shifted["lng"] == pytest.approx(expected.lon, abs=2e-6)
    assert abs(shifted["lng"] - wgs["lng"]) > 1e-3  # hundreds of metres, not noise
