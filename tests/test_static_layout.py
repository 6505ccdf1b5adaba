"""The 总图 as document layouts: A4 landscape at a fixed scale of the standard series, the scale
printed as text equal to the one measured on the vector output, a neat line whose coordinate
labels are the frame's real EPSG:4548 coordinates, a PDF beside each PNG/SVG, and atlas.pdf
with a contents page and one page per figure, its fonts embedded.

Measured on the files: the SVG's text positions (pt) and the PDF's words (pdftotext -bbox);
the expected extents come from the GeoPackage read with pyogrio and measured with shapely.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import need
from PIL import Image
from pypdf import PdfReader

SVG = "{http://www.w3.org/2000/svg}"
SERIES = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)  # 国家基本比例尺
A4_IN = (297 / 25.4, 210 / 25.4)
WHOLE = ("district", "clusters", "zgc_park", "park_in_park", "support_nodes", "other_sites",
         "farmer_bases", "land_adjustments")  # fmt: skip


@pytest.fixture(scope="module")
def rendered(default_static_maps):
    from miyun_spatial.render.static.maps import render

    return {key: render(default_static_maps[key]) for key in ("overview", "bases")}


@pytest.fixture(scope="module")
def whole_bounds(default_gpkg):
    """The district and every plan feature, read and measured independently."""
    layers = {info[0] for info in pyogrio.list_layers(default_gpkg)}
    bounds = [
        shapely.total_bounds(pyogrio.read_dataframe(default_gpkg, layer=name).geometry.values)
        for name in WHOLE
        if name in layers
    ]
    b = np.array(bounds)
    return b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()


def _group_text(root, gid: str) -> tuple[float, float, str]:
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == gid)
    text = next(group.iter(f"{SVG}text"))
    if text.get("x") is not None:
        x, y = float(text.get("x")), float(text.get("y"))
    else:  # rotated text: transform="translate(x y) rotate(-90)"
        x, y = map(
            float, re.search(r"translate\(([-\d.]+)[ ,]+([-\d.]+)", text.get("transform")).groups()
        )
    return x, y, "".join(text.itertext()).strip()


def _svg(rendered, key):
    return ET.fromstring(rendered[key]["svg"])


def _printed_scale(root) -> int:
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "scale-text")
    text = " ".join("".join(t.itertext()) for t in group.iter(f"{SVG}text"))
    match = re.search(r"比例尺 Scale 1:([\d\u2009 ]+)", text)
    assert match, text
    return int(re.sub(r"\D", "", match.group(1)))


def _ticks(root, axis: str) -> list[tuple[float, float, float]]:
    """(position on paper in pt, value printed in km, value in the id in m) per label."""
    out = []
    for g in root.iter(f"{SVG}g"):
        gid = g.get("id") or ""
        if gid.startswith(f"neat-{axis}-"):
            x, y, text = _group_text(root, gid)
            out.append((x if axis == "e" else y, float(text), float(gid.rsplit("-", 1)[1])))
    return sorted(out)


def _frame_pt(root) -> tuple[float, float, float, float]:
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "neat-line")
    path = next(group.iter(f"{SVG}path"))
    numbers = np.array([float(v) for v in re.findall(r"-?\d+\.?\d*", path.get("d"))])
    xs, ys = numbers[0::2], numbers[1::2]
    return xs.min(), ys.min(), xs.max(), ys.max()


def _fit(ticks) -> tuple[float, float]:
    """Ground metres per pt and the intercept, fitted on the labels' printed values."""
    positions = np.array([t[0] for t in ticks])
    metres = np.array([t[1] * 1000 for t in ticks])
    slope, intercept = np.polyfit(positions, metres, 1)
    return slope, intercept


@pytest.mark.parametrize("key", ("overview", "bases"))
def test_printed_scale_equals_the_measured_one(rendered, key):
    root = _svg(rendered, key)
    scale = _printed_scale(root)
    assert scale in SERIES
    for axis in ("e", "n"):
        ticks = _ticks(root, axis)
        assert len(ticks) >= 3, ticks
        assert all(abs(km * 1000 - m) < 1e-6 for _, km, m in ticks)  # label = coordinate
        (p0, km0, _), (p1, km1, _) = ticks[0], ticks[-1]
        paper_cm = abs(p1 - p0) / 72 * 2.54
        measured = abs(km1 - km0) * 1000 * 100 / paper_cm  # ground cm per paper cm
        assert measured == pytest.approx(scale, rel=0.005), (axis, measured, scale)


def test_pdf_scale_measured_from_its_words(rendered):
    pdftotext = shutil.which("pdftotext")
    need(pdftotext, "pdftotext missing (apt-get install poppler-utils)")
    scale = _printed_scale(_svg(rendered, "overview"))
    html = subprocess.run(
        [pdftotext, "-bbox", "-", "-"], input=rendered["overview"]["pdf"],
        capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    words = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)<', html
    )
    # the eastings below the frame: numbers of three digits on one line (the lowest such row)
    eastings = [(float(a), float(c), float(d), w) for a, b, c, d, w in words
                if re.fullmatch(r"\d{3}", w)]  # fmt: skip
    bottom = max(d for *_, d, _ in eastings)
    row = sorted(((a + c) / 2, float(w)) for a, c, d, w in eastings if abs(d - bottom) < 1)
    assert len(row) >= 3, row
    (x0, e0), (x1, e1) = row[0], row[-1]
    measured = (e1 - e0) * 1000 * 100 / ((x1 - x0) / 72 * 2.54)
    assert measured == pytest.approx(scale, rel=0.005)
    assert f"1:{scale}" in "".join(w for *_, w in words)


@pytest.mark.parametrize("key", ("overview", "bases"))
def test_the_scale_is_the_largest_of_the_series_that_fits(rendered, whole_bounds, key):
    root = _svg(rendered, key)
    scale = _printed_scale(root)
    x0, y0, x1, y1 = _frame_pt(root)
    frame_m = np.array([x1 - x0, y1 - y0]) / 72 * 0.0254  # frame on paper, metres
    extent = np.array([whole_bounds[2] - whole_bounds[0], whole_bounds[3] - whole_bounds[1]])
    assert (extent <= frame_m * scale).all()
    larger = SERIES[SERIES.index(scale) - 1]
    assert not (extent <= frame_m * larger).all(), (extent, frame_m * larger)


@pytest.mark.parametrize("key", ("overview", "bases"))
def test_neat_line_labels_are_the_frame_coordinates(rendered, whole_bounds, key):
    root = _svg(rendered, key)
    scale = _printed_scale(root)
    fx0, fy0, fx1, fy1 = _frame_pt(root)
    se, ie = _fit(_ticks(root, "e"))
    sn, in_ = _fit(_ticks(root, "n"))
    west, east = se * fx0 + ie, se * fx1 + ie
    north, south = sn * fy0 + in_, sn * fy1 + in_  # SVG y runs downwards
    x0, y0, x1, y1 = whole_bounds
    # the frame holds the whole district, centred on it, at the printed scale
    assert west < x0 and x1 < east and south < y0 and y1 < north, (west, east, south, north)
    assert (west + east) / 2 == pytest.approx((x0 + x1) / 2, abs=50)
    assert (south + north) / 2 == pytest.approx((y0 + y1) / 2, abs=50)
    width_m = (fx1 - fx0) / 72 * 0.0254 * scale
    assert east - west == pytest.approx(width_m, rel=0.005)
    # EPSG:4548 over Miyun: eastings about 470-545 km (false easting 500 km), northings 4450 km
    assert 400_000 < west < east < 600_000 and 4_400_000 < south < north < 4_600_000


def test_png_is_a4_landscape_at_300_dpi(rendered):
    image = Image.open(io.BytesIO(rendered["overview"]["png"]))
    assert abs(image.width - A4_IN[0] * 300) <= 1 and abs(image.height - A4_IN[1] * 300) <= 1


def test_pdf_is_a4_vector(rendered):
    page = PdfReader(io.BytesIO(rendered["overview"]["pdf"])).pages[0]
    assert float(page.mediabox.width) == pytest.approx(A4_IN[0] * 72, abs=1)
    assert float(page.mediabox.height) == pytest.approx(A4_IN[1] * 72, abs=1)
    assert "比例尺" in page.extract_text()  # text, not pixels
    assert not page.images  # no raster in the map


def test_layout_refuses_unknown_paper():
    from miyun_spatial.render.static.layout import Layout

    with pytest.raises(ValueError, match="a4, a3"):
        Layout("letter")


def test_a3_takes_a_larger_scale_than_a4(whole_bounds):
    from miyun_spatial.render.static.layout import Layout, choose_scale

    a4 = choose_scale(whole_bounds, Layout("a4").frame_in)
    a3 = choose_scale(whole_bounds, Layout("a3").frame_in)
    portrait = choose_scale(whole_bounds, Layout("a4", "portrait").frame_in)
    assert a3 <= a4 < portrait


# --- atlas.pdf, as build writes it -------------------------------------------------------


@pytest.fixture(scope="module")
def atlas(built_default):
    return built_default / "atlas.pdf"


def test_atlas_has_contents_and_one_page_per_figure(atlas, built_default):
    static = built_default / "static"
    figures = sorted(static.glob("*.pdf"))
    assert {p.stem for p in figures} == {p.stem for p in static.glob("*.png")}
    reader = PdfReader(atlas)
    contents = reader.pages[0].extract_text()
    assert "目录" in contents and "图 1" in contents
    assert len(reader.pages) == 1 + len(figures)
    # in the report's order: the 总图 first; each page's size is its figure's
    assert reader.outline[0].title.startswith("图 1 高精尖产业空间布局总图")
    first = reader.pages[1]
    assert float(first.mediabox.width) == pytest.approx(A4_IN[0] * 72, abs=1)
    assert "高精尖产业空间布局总图" in first.extract_text()


def test_atlas_fonts_are_embedded(atlas):
    pdffonts = shutil.which("pdffonts")
    need(pdffonts, "pdffonts missing (apt-get install poppler-utils)")
    lines = subprocess.run([pdffonts, str(atlas)], capture_output=True, text=True, check=True)
    rows = lines.stdout.splitlines()[2:]
    assert rows, lines.stdout
    assert any("WenQuanYi" in r or "CJK" in r for r in rows), rows
    for row in rows:  # name type encoding emb sub uni object ID
        assert row.split()[-5] == "yes", row


def test_build_lists_the_atlas(built_default):
    index = (built_default / "index.html").read_text(encoding="utf-8")
    assert "atlas.pdf" in index
