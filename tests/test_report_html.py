"""report.html in real headless Chromium: every section, charts drawn, no console errors, no
requests but the file itself, and an A4 print with a page break before every section."""

from __future__ import annotations

import base64
import json
import re

import pytest

SECTIONS = ("summary", "areas", "mix", "adjustments", "yield", "indicators", "projects", "checks")
A4_POINTS = (595, 842)  # 210 x 297 mm


@pytest.fixture(scope="module")
def page(built_default):
    return built_default / "report.html"


def test_page_is_self_contained_and_escaped(page):
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert 'http-equiv="Content-Security-Policy"' in text
    # the only URLs are XML namespace names, which browsers never fetch
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"""(src|href)=["'](?!#)""", text)
    for key in SECTIONS:
        assert f'<section id="{key}"' in text


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
    requests = _requests(browser)
    assert requests == [page.as_uri()], requests
    headings = browser.execute_script(
        "return [...document.querySelectorAll('section > h2')].map(h => h.parentNode.id)"
    )
    assert tuple(headings) == SECTIONS
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
    assert flagged == ["不一致 mismatch"] * 10
    rows = browser.execute_script(
        "return document.querySelectorAll('table[data-table=parcel_yields] tbody tr').length"
    )
    parcels = default_plan["land_parcels"]
    assert rows == int((parcels["enterprise"].notna() | parcels["revenue_10k_cny"].notna()).sum())
    text = browser.find_element("id", "projects").text
    assert "1,055,260" in text and "655,260" in text  # the printed total beside the items' sum


@pytest.mark.browser
def test_prints_on_a4_with_a_page_per_section(browser, page):
    _open(browser, page)
    pdf = base64.b64decode(
        browser.execute_cdp_cmd(
            "Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True}
        )["data"]
    )
    boxes = [
        tuple(round(float(v)) for v in box.split()[2:])
        for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)
        for box in [box.decode()]
    ]
    assert set(boxes) == {A4_POINTS, A4_POINTS[::-1]}  # portrait, and landscape for wide tables
    assert len(boxes) >= 1 + len(SECTIONS)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    breaks = browser.execute_script(
        "return [...document.querySelectorAll('section')].map(s => "
        "[s.id, getComputedStyle(s).breakBefore, getComputedStyle(s).page])"
    )
    assert [(key, brk) for key, brk, _page in breaks] == [(k, "page") for k in SECTIONS]
    wide = {key for key, _brk, named in breaks if named == "wide"}
    assert {"checks", "yield"} <= wide and "summary" not in wide
    # no table is wider than the printable width of its page (A4 minus 12 mm margins)
    for width_mm, selector in ((297 - 24, "section.wide"), (210 - 24, "section:not(.wide)")):
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": round(width_mm / 25.4 * 96), "height": 1000, "deviceScaleFactor": 1,
             "mobile": False},
        )  # fmt: skip
        too_wide = browser.execute_script(
            f"return [...document.querySelectorAll('{selector} table')]"
            ".filter(t => t.scrollWidth > t.closest('section').clientWidth + 1)"
            ".map(t => t.dataset.table)"
        )
        assert too_wide == [], (width_mm, too_wide)


@pytest.mark.parametrize("font", ["installed", "none"])
def test_charts_are_inline_svg_with_or_without_a_chinese_font(monkeypatch, font):
    import pandas as pd

    from miyun_spatial.reports import charts
    from miyun_spatial.reports.model import Chart, Column, make_table

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
