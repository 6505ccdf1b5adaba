"""The maps as documents of a district government, in headless Chromium at 1280x800.

No Leaflet prefix or flag in the attribution; the panels cover at most a quarter of the view;
each page's subject sits at the centre of the space the panels leave; J09's label is shown;
the B2 note reads as a Chinese sentence; the index links every file the run wrote; a local
tile folder given with --basemap-tiles is drawn, its attribution shown and kept inert.
Expected figures come from the files and the browser's own geometry, not from the page code.
"""

from __future__ import annotations

import itertools
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pyogrio
import pytest
from conftest import load_page, run_cli
from test_maps_layout import BOXES_JS, open_at, overlap, subjects

pytestmark = pytest.mark.browser

W, H = 1280, 800


@pytest.fixture(scope="module")
def built(built_offline) -> Path:
    """``build --offline`` of the default data (the session's, read only)."""
    return built_offline


def union_share(rects, width: int, height: int) -> float:
    """Share of width x height covered by the union of rects (x0, y0, x1, y1), exactly: by
    the slabs between the rectangles' distinct x edges."""
    clipped = [
        (max(0, x0), max(0, y0), min(width, x1), min(height, y1)) for x0, y0, x1, y1 in rects
    ]
    clipped = [r for r in clipped if r[2] > r[0] and r[3] > r[1]]
    xs = sorted({v for r in clipped for v in (r[0], r[2])})
    area = 0.0
    for a, b in itertools.pairwise(xs):
        spans = sorted((r[1], r[3]) for r in clipped if r[0] <= a and r[2] >= b)
        covered, top, bottom = 0.0, None, None
        for y0, y1 in spans:
            if top is None or y0 > bottom:
                covered += 0 if top is None else bottom - top
                top, bottom = y0, y1
            else:
                bottom = max(bottom, y1)
        covered += 0 if top is None else bottom - top
        area += (b - a) * covered
    return area / (width * height)


def test_union_share_is_exact_on_known_rectangles():
    assert union_share([(0, 0, 10, 10)], 100, 100) == pytest.approx(0.01)
    assert union_share([(0, 0, 10, 10), (5, 5, 15, 15)], 100, 100) == pytest.approx(175 / 1e4)
    assert union_share([(-5, 0, 10, 200)], 100, 100) == pytest.approx(0.1)


def panels(browser) -> list[tuple[str, float, float, float, float]]:
    return [tuple(p) for p in browser.execute_script(BOXES_JS, {})["panels"]]


def test_no_leaflet_prefix_or_flag_and_panels_cover_at_most_a_quarter(browser, built, default_gpkg):
    for page in subjects(default_gpkg):
        open_at(browser, built / page, W, H)
        attribution = browser.execute_script(
            """const a = document.querySelector('.leaflet-control-attribution');
               return a && [a.textContent, a.querySelectorAll('svg, img').length,
                            [...a.querySelectorAll('a')].map(x => x.href)];"""
        )
        assert attribution is not None, page
        text, images, links = attribution
        assert "Leaflet" not in text and images == 0, (page, text)
        assert not any("leafletjs" in href for href in links), (page, links)
        assert "miyun-spatial" in text and "37号" in text, (page, text)
        share = union_share([p[1:] for p in panels(browser)], W, H)
        assert share <= 0.25, f"{page}: panels cover {share:.1%} of {W}x{H}"


def empty_rectangles_around(box, rects, width, height):
    """Every rectangle with edges on the panels' edges (or the map's) that holds ``box`` and
    overlaps no panel: the spaces the panels leave around the subject."""
    xs = sorted({0, width, *(v for r in rects for v in (r[0], r[2]))})
    ys = sorted({0, height, *(v for r in rects for v in (r[1], r[3]))})
    lefts = [x for x in xs if x <= box[0]]
    rights = [x for x in xs if x >= box[2]]
    tops = [y for y in ys if y <= box[1]]
    bottoms = [y for y in ys if y >= box[3]]
    for x0, x1, y0, y1 in itertools.product(lefts, rights, tops, bottoms):
        candidate = (x0, y0, x1, y1)
        if not any(overlap(candidate, r) for r in rects):
            yield candidate


@pytest.mark.parametrize("page", ["base_B2.html", "base_B7.html", "bases.html", "projects.html"])
def test_subject_is_centred_in_the_space_the_panels_leave(browser, built, default_gpkg, page):
    wanted = subjects(default_gpkg)[page]
    open_at(browser, built / page, W, H)
    found = browser.execute_script(BOXES_JS, wanted)
    boxes = list(found["features"].values())
    box = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rects = [p[1:] for p in found["panels"]]
    assert not [p[0] for p in found["panels"] if overlap((cx, cy, cx + 1, cy + 1), p[1:])], page
    # the free rectangle around the subject whose centre is nearest the subject's centre
    offsets = [
        max(abs((r[0] + r[2]) / 2 - cx) / W, abs((r[1] + r[3]) / 2 - cy) / H)
        for r in empty_rectangles_around(box, rects, W, H)
        if (r[2] - r[0]) * (r[3] - r[1]) >= 0.25 * W * H  # a real space, not a gap
    ]
    assert offsets, f"{page}: no free space of a quarter of the view holds the subject"
    assert min(offsets) <= 0.06, f"{page}: subject centre {cx:.0f},{cy:.0f} is off-centre"


def test_j09_label_is_in_the_dom_and_visible(browser, built, default_gpkg):
    projects = pyogrio.read_dataframe(default_gpkg, layer="projects", read_geometry=False)
    name = projects.loc[projects["code"] == "J09", "name_zh"].iloc[0]
    open_at(browser, built / "projects.html", W, H)
    labels = browser.execute_script(
        """return [...document.querySelectorAll('.miyun-label-icon')].map(el => {
             const r = el.firstChild.getBoundingClientRect(), s = getComputedStyle(el);
             return [el.textContent, s.visibility, r.left, r.top, r.right, r.bottom]; });"""
    )
    j09 = [lab for lab in labels if lab[0].split(" ")[0] == "J09"]
    assert j09, "J09 has no label in the DOM"
    text, visibility, *box = j09[0]
    assert visibility == "visible" and box[2] > box[0], j09
    assert box[0] >= 0 and box[1] >= 0 and box[2] <= W and box[3] <= H, box
    assert text == "J09" or name.startswith(text.split(" ", 1)[1].rstrip("…")), text
    others = [lab for lab in labels if lab[1] == "visible" and lab is not j09[0]]
    assert not [lab[0] for lab in others if overlap(box, lab[2:])], "J09's label is covered"


def test_b2_note_is_a_chinese_sentence_with_the_english_on_its_own_line(browser, built):
    open_at(browser, built / "overview.html", W, H)
    browser.execute_script(
        """miyun.layers.farmer_bases.eachLayer(l => {
             if (l.feature.properties._q.startsWith('B2 ')) { miyun.show(miyun.map, l); } });"""
    )
    time.sleep(0.2)
    cell = browser.execute_script(
        """const th = [...document.querySelectorAll('.leaflet-popup-content th')]
             .find(t => t.textContent.startsWith('备注'));
           if (!th) return null;
           const td = th.nextElementSibling, en = td.querySelector('.miyun-notes-en');
           return [td.firstChild.textContent, en && en.textContent];"""
    )
    assert cell is not None, "B2's popup has no 备注 row"
    zh, en = cell
    assert "河南寨镇" in zh and not re.search(r"[A-Za-z]{3}", zh), zh
    assert en and "riverside" in en, en


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "http")):
            self.hrefs.append(unquote(href))


def test_index_links_every_file_the_build_wrote(built):
    parser = _Links()
    parser.feed((built / "index.html").read_text(encoding="utf-8"))
    linked = set(parser.hrefs)
    written = {
        p.relative_to(built).as_posix()
        for p in built.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name != "index.html"
    }
    assert {"report.html", "report.xlsx", "results.gpkg", "static/bases.png"} <= written
    assert written - linked == set(), f"not linked from index.html: {sorted(written - linked)}"
    assert linked - written == set(), f"broken links: {sorted(linked - written)}"
    text = (built / "index.html").read_text(encoding="utf-8")
    with (built / "areas.csv").open(encoding="utf-8-sig") as handle:
        rows = sum(1 for _ in handle) - 1
    assert f"{rows:,} 行 rows" in text  # the table's row count, read from the file


def _tiles(folder: Path, lon=(116.6, 117.5), lat=(40.1, 40.8), zooms=range(8, 14)) -> int:
    """Flat 256x256 PNG tiles covering the district at ``zooms``, laid out as z/x/y.png."""
    import math

    from PIL import Image

    def tile(lo, la, z):
        n = 2**z
        x = int((lo + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(la))) / math.pi) / 2 * n)
        return x, y

    count = 0
    for z in zooms:
        (x0, y1), (x1, y0) = tile(lon[0], lat[0], z), tile(lon[1], lat[1], z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                target = folder / str(z) / str(x) / f"{y}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (256, 256), (205, 225, 195)).save(target)
                count += 1
    return count


HOSTILE = '<img src=x onerror="window.__pwned=1">{{7*7}} 天地图缓存 © 测绘局'


def test_local_tile_folder_is_drawn_with_its_attribution_kept_inert(
    browser, tmp_path, default_gpkg
):
    assert _tiles(tmp_path / "tiles") > 0
    out = tmp_path / "maps"
    refused = run_cli(
        "maps", default_gpkg, "--out", out, "--offline", "--basemap-tiles", tmp_path / "tiles"
    )
    assert refused.returncode != 0 and refused.stderr.count("\n") == 1, refused.stderr
    assert "--basemap-attribution" in refused.stderr and not out.exists()
    result = run_cli(
        "maps",
        default_gpkg,
        "--out",
        out,
        "--offline",
        "--basemap-tiles",
        tmp_path / "tiles",
        "--basemap-attribution",
        HOSTILE,
    )
    assert result.returncode == 0, result.stderr
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert '"../tiles/{z}/{x}/{y}.png"' in html  # relative to the pages: copied together
    load_page(browser, out / "overview.html")
    time.sleep(0.5)
    state = browser.execute_script(
        """const tiles = [...document.querySelectorAll('img.leaflet-tile')];
           return [tiles.filter(t => t.complete && t.naturalWidth === 256).length,
                   tiles.length ? tiles[0].src : '',
                   document.querySelector('.leaflet-control-attribution').textContent,
                   window.__pwned === undefined,
                   document.querySelectorAll('.leaflet-control-attribution img').length];"""
    )
    loaded, src, attribution, inert, images = state
    assert loaded > 0 and src.startswith((tmp_path / "tiles").as_uri()), (loaded, src)
    assert HOSTILE in attribution and inert and images == 0, attribution
    assert "49" not in attribution


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)//{z}/{x}/{y}",
        "http://tiles.local/{z}/{x}.png",
        "http://tiles.local/{{z}}/{x}/{y}.png",
        'http://tiles.local/{z}/{x}/{y}.png"onload="x',
    ],
)
def test_tile_urls_that_are_not_xyz_templates_are_refused(tmp_path, default_gpkg, url):
    result = run_cli(
        "maps", default_gpkg, "--out", tmp_path / "m", "--basemap-tiles", url,
        "--basemap-attribution", "x",
    )  # fmt: skip
    assert result.returncode != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "--basemap-tiles" in result.stderr and "Traceback" not in result.stderr


def test_legends_fit_and_their_number_columns_are_labelled(browser, built, default_gpkg):
    for page in subjects(default_gpkg):
        open_at(browser, built / page, W, H)
        legend = browser.execute_script(
            """const p = document.querySelector('.miyun-legend-panel'), r = p.getBoundingClientRect();
               return [r.left, r.top, r.right, r.bottom, p.scrollHeight, p.clientHeight,
                       getComputedStyle(p).overflowY];"""
        )
        *box, scroll, client, overflow = legend
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= W and box[3] <= H, (page, box)
        assert scroll <= client + 1 or overflow in ("auto", "scroll"), (page, legend)
    open_at(browser, built / "land_use.html", W, H)
    heads = browser.execute_script(
        """return [...document.querySelectorAll('.miyun-legend .miyun-section[data-view-layer] th')]
             .map(th => th.textContent).filter(t => t);"""
    )
    assert len(heads) == 3 and "地块" in heads[0] and "规划" in heads[1], heads
    open_at(browser, built / "bases.html", W, H)
    heads = browser.execute_script(
        "return [...document.querySelectorAll('.miyun-legend th')].map(th => th.textContent)"
    )
    assert any("面积" in h and "ha" in h for h in heads) and any("数量" in h for h in heads), heads
