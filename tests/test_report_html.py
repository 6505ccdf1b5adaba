"""report.html in real headless Chromium: every section, charts drawn, no console errors, no
requests but the file itself; the review document's front matter (plan cited, data mark,
findings, maps); and the A4 print: at most 30 pages on the default data, no chart narrower
than half the text width, no table wider than its page, with the CJK font and without."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pypdf
import pytest
from conftest import CHROMEDRIVER, CHROMIUM, need

from miyun_spatial.render.reports.content import LISTING_ROWS

SECTIONS = (
    "summary",
    "areas",
    "mix",
    "adjustments",
    "control_lines",
    "yield",
    "evaluation",
    "indicators",
    "projects",
    "checks",
)
HTML_SECTIONS = ("maps", *SECTIONS, "appendix")
A4_POINTS = (595, 842)  # 210 x 297 mm


@pytest.fixture(scope="module")
def page(built_default):
    return built_default / "report.html"


def test_page_is_self_contained_and_escaped(page):
    text = page.read_text(encoding="utf-8")
    assert page.stat().st_size < 10 * 2**20  # maps embedded at screen resolution
    assert "<script" not in text.lower()
    assert 'http-equiv="Content-Security-Policy"' in text
    # the only URLs are XML namespace names, which browsers never fetch
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"""(src|href)=["'](?!#|data:image/png;base64,)""", text)
    for key in HTML_SECTIONS:
        assert f'<section id="{key}"' in text
    # the front matter: the plan cited, the data mark, the findings before any section
    assert (
        "北京市密云区人民政府《密云区“十四五”时期高精尖产业发展规划》（密政发〔2021〕37号，2021-10-12）"
        in text
    )
    assert '<div class="mark" role="note" id="data-mark">示意/合成数据，不作审批依据' in text
    assert text.index('id="findings"') < text.index('<section id="maps"')
    assert re.search(r"<dd>\d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Asia/Shanghai, UTC\+08:00\)</dd>", text)


def _open(driver, path) -> None:
    """Load ``path`` after a blank page, with the logs of the blank start flushed."""
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get_log("browser")
    driver.get(path.as_uri())


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@pytest.mark.browser
def test_renders_in_chromium_without_errors_or_requests(browser, page, default_plan):
    _open(browser, page)
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    requests = [url for url in _requests(browser) if not url.startswith("data:image/png;")]
    assert requests == [page.as_uri()], requests  # inline maps aside, nothing is fetched
    headings = browser.execute_script(
        "return [...document.querySelectorAll('section > h2')].map(h => h.parentNode.id)"
    )
    assert tuple(headings) == HTML_SECTIONS
    charts = browser.execute_script(
        "return [...document.querySelectorAll('figure.chart svg')].map(s => {"
        "  const r = s.getBoundingClientRect(); return [s.closest('figure').id, r.width, r.height,"
        "  s.querySelectorAll('path').length]; })"
    )
    assert [c[0] for c in charts] == [
        "chart-mix_current",
        "chart-mix_adjusted",
        "chart-yield_vs_target",
        "chart-benchmark_rank",
    ]
    assert all(width > 300 and height > 150 and paths > 10 for _id, width, height, paths in charts)
    # the ids of the four inline SVGs never collide
    duplicated = browser.execute_script(
        "const ids = [...document.querySelectorAll('[id]')].map(e => e.id);"
        "return ids.filter((id, i) => ids.indexOf(id) !== i);"
    )
    assert duplicated == []
    flagged = browser.execute_script(
        "return [...document.querySelectorAll('table[data-table=consistency] tr.flag')]"
        ".map(r => r.cells[0].textContent)"
    )
    assert flagged == ["不一致 mismatch"] * LISTING_ROWS  # mismatches first, in the appendix
    mismatches = browser.execute_script(
        "return [...document.querySelectorAll('table[data-table=plan_mismatches] tbody tr')]"
        ".map(r => r.cells[2].textContent)"
    )
    assert len(mismatches) == 10 and "595,000.00" in mismatches  # all of them, in the findings
    rows = browser.execute_script(
        "return document.querySelectorAll('table[data-table=parcel_yields] tbody tr').length"
    )
    parcels = default_plan["land_parcels"]
    enterprise = int((parcels["enterprise"].notna() | parcels["revenue_10k_cny"].notna()).sum())
    assert rows == LISTING_ROWS < enterprise  # capped: the full list is in CSV and XLSX
    note = browser.find_element("css selector", "#table-parcel_yields + p.note").text
    assert f"共 {enterprise} 行" in note and "parcel_yields.csv" in note
    maps = browser.execute_script(
        "return [...document.querySelectorAll('figure.map img')].map(i => "
        "[i.closest('figure').id, i.naturalWidth])"
    )
    keys = [key for key, _width in maps]
    assert keys[:2] == ["map-overview", "map-bases"] and "map-area_A1" in keys
    assert {f"map-base_B{i}" for i in range(1, 8)} <= set(keys)
    # every PNG decoded, at about 150 dpi on an A4 page (the files beside keep 300 dpi)
    with_files = page.parent / "static"
    for key, width in maps:
        full = _png_width((with_files / f"{key.removeprefix('map-')}.png").read_bytes())
        assert full >= 300 / 25.4 * 200  # the file: at least 200 mm at 300 dpi
        assert 1200 <= width <= 1800 and full / width >= 1.9, (key, width, full)
    text = browser.find_element("id", "projects").text
    assert "1,055,260" in text and "655,260" in text  # the printed total beside the items' sum


def _png_width(png: bytes) -> int:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big")  # IHDR: width, then height


def _print_pdf(driver, path) -> bytes:
    _open(driver, path)
    return base64.b64decode(
        driver.execute_cdp_cmd(
            "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}
        )["data"]
    )


def _print_layout(driver) -> dict:
    """Charts and tables measured at the printable width of their A4 page (12 mm margins)."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    out = {"charts": [], "tables": []}
    for width_mm, selector in ((297 - 24, "section.wide"), (210 - 24, "section:not(.wide)")):
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": round(width_mm / 25.4 * 96), "height": 1000, "deviceScaleFactor": 1,
             "mobile": False},
        )  # fmt: skip
        found = driver.execute_script(
            "const sel = arguments[0];"
            "const text = s => s.getBoundingClientRect().width;"
            "return {charts: [...document.querySelectorAll(sel + ' figure.chart svg')].map(c =>"
            "  [c.closest('figure').id, c.getBoundingClientRect().width, text(c.closest('section'))]),"
            " tables: [...document.querySelectorAll(sel + ' table')].map(t =>"
            "  [t.dataset.table, Math.max(t.scrollWidth, t.getBoundingClientRect().width),"
            "   text(t.closest('section')),"
            "   Math.max(...[...t.querySelectorAll('td, th')].map(c => c.scrollWidth - c.clientWidth))])};",
            selector,
        )
        out["charts"] += found["charts"]
        out["tables"] += found["tables"]
    return out


def _page_fill(page) -> float:
    """How far down the page its content reaches (0..1), from the positions of its text
    (every map and chart has a caption or labels below it); the page number is left out."""
    lowest = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # (tm x cm) translation, y
            if y > FOOTER_PT:
                lowest.append(y)

    page.extract_text(visitor_text=visit)
    return 1 - min(lowest) / float(page.mediabox[3]) if lowest else 0.0


FOOTER_PT = 40  # the bottom margin (14 mm) holds only the page number
MIN_FILL = 1 / 3  # no near-empty page: each but the last is filled at least a third down


def _check_print(pdf: bytes, layout: dict) -> int:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fills = [_page_fill(page) for page in reader.pages]
    assert all(f >= MIN_FILL for f in fills[:-1]), [round(f, 2) for f in fills]
    sizes = {tuple(sorted(round(float(v)) for v in page.mediabox[2:])) for page in reader.pages}
    assert sizes == {tuple(sorted(A4_POINTS))}  # A4, portrait or landscape
    assert len(reader.pages) <= MAX_PAGES, len(reader.pages)
    assert len(layout["charts"]) == 4
    for key, width, text_width in layout["charts"]:
        assert width >= text_width / 2, (key, width, text_width)
    for key, width, text_width, cell_overflow in layout["tables"]:
        assert width <= text_width + 1, (key, width, text_width)
        assert cell_overflow <= 1, (key, cell_overflow)  # nothing spills out of a cell
    return len(reader.pages)


MAX_PAGES = 32  # 30 before the 三区三线 and 调整前后 sections (+2)


@pytest.mark.browser
def test_prints_on_a4_in_at_most_30_pages_with_the_cjk_font(browser, page):
    need(bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout),
         "no CJK font installed (apt-get install fonts-wqy-zenhei)")  # fmt: skip
    pdf = _print_pdf(browser, page)
    pages = _check_print(pdf, _print_layout(browser))
    assert pages >= 1 + len(SECTIONS) // 2
    breaks = browser.execute_script(
        "return [...document.querySelectorAll('section')].map(s => "
        "[s.id, getComputedStyle(s).breakBefore, getComputedStyle(s).page])"
    )
    named = {key: (brk, name) for key, brk, name in breaks}
    assert named["maps"][0] == "page" and named["appendix"] == ("page", "wide")
    assert named["summary"][1] != "wide" and named["checks"][1] == "wide"


@pytest.fixture
def fontless_report(tmp_path, monkeypatch, default_results):
    """report.html made on a machine without a CJK font: matplotlib lays out with DejaVu."""
    from miyun_spatial.render.reports import charts, write_reports
    from miyun_spatial.render.static import output as static_output

    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    monkeypatch.setattr(static_output, "cjk_font", lambda: None)
    write_reports(default_results, tmp_path)
    return tmp_path / "report.html"


@pytest.fixture
def fontless_browser(tmp_path):
    """Chromium whose fontconfig sees only DejaVu: a machine without any CJK font."""
    need(
        CHROMIUM is not None and CHROMEDRIVER is not None,
        "Debian chromium + chromium-driver are not installed",
    )
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    need(dejavu.is_dir(), "fonts-dejavu-core is not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{dejavu}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env=env), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.browser
def test_prints_on_a4_in_at_most_30_pages_without_a_cjk_font(fontless_browser, fontless_report):
    fonts = fontless_browser.execute_script(
        "return document.fonts.check('10pt \"WenQuanYi Zen Hei\"', '密')"
    )
    pdf = _print_pdf(fontless_browser, fontless_report)
    assert b"WenQuanYi" not in pdf and b"Noto" not in pdf, fonts  # really no CJK font used
    _check_print(pdf, _print_layout(fontless_browser))


@pytest.mark.parametrize("font", ["installed", "none"])
def test_charts_are_inline_svg_with_or_without_a_chinese_font(monkeypatch, font):
    import pandas as pd

    from miyun_spatial.render.reports import charts
    from miyun_spatial.render.reports.model import Chart, Column, make_table

    if font == "none":  # a machine without any CJK font: no warning, text left to the browser
        monkeypatch.setattr(charts, "cjk_font", lambda: None)
    frame = pd.DataFrame({"park": ["密云园", "<b>x</b> & 海淀园"], "value": [8311.0, 21346.0]})
    table = make_table(
        "t",
        "表",
        "Table",
        frame,
        (Column("park", "园区", "Park"), Column("value", "收入", "Revenue")),
    )
    chart = Chart(
        "rank", "排名", "Ranking", "t", "park", ("value",), kind="barh", highlight="密云园"
    )
    svg = charts.chart_svg(chart, table)
    assert svg.startswith("<svg ") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "密云园" in texts and "&lt;b&gt;x&lt;/b&gt; &amp; 海淀园" in texts
    assert "<b>" not in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("rank-") for i in ids)
    assert charts.HIGHLIGHT.lstrip("#") in svg.lower().replace("#", "")


def test_embedded_figures_stay_within_the_page_budget_whatever_the_data():
    """Figures of finely mixed parcels compress badly: maps of random colours (as
    incompressible as a map gets) still fit the figures' budget, and each stays a whole-factor
    reduction of its file; a small figure is embedded as it is."""
    import numpy as np
    from PIL import Image

    from miyun_spatial.render.reports.html import EMBED_BUDGET, embedded_pngs

    def png(width: int, height: int, seed: int) -> bytes:
        pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)
        out = io.BytesIO()
        Image.fromarray(pixels).save(out, format="PNG")
        return out.getvalue()

    budget = EMBED_BUDGET // 10
    noisy = [png(3508, 1240, seed) for seed in range(4)]
    assert sum(map(len, noisy)) > 10 * budget
    embedded = embedded_pngs(noisy, budget)
    assert sum(map(len, embedded)) <= budget
    for data in embedded:
        with Image.open(io.BytesIO(data)) as image:
            factor = -(-3508 // image.width)  # Image.reduce(k) is ceil(3508 / k) wide
            assert image.width == -(-3508 // factor) and factor >= 2
    small = png(400, 300, 99)
    assert embedded_pngs([small]) == [small]
