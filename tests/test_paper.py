"""``build --paper a3-portrait``: every static figure and atlas.pdf on A3 portrait, each map at
a fixed scale of the standard series, printed as text and equal to the one measured on paper.

Measured on the files of one real build: PNG pixels read with PIL, PDF pages with pypdf, the
scale from the SVG's neat-line labels (ground km between two labels over their distance on
paper); the district's extent read from the GeoPackage with pyogrio and measured with shapely.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import cli_once, run_cli
from PIL import Image
from pypdf import PdfReader

SVG = "{http://www.w3.org/2000/svg}"
SERIES = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)  # 国家基本比例尺
A3_PORTRAIT_MM = (297.0, 420.0)
DPI = 300
PT_PER_MM = 72 / 25.4


# a whole build on A3 paper: their tests are slow (conftest)
SLOW_FIXTURES = {"a3"}


@pytest.fixture(scope="module")
def a3(tmp_path_factory, default_gpkg):
    """Built once per test run, whichever xdist worker asks first (read only)."""
    args = ("build", default_gpkg, "--paper", "a3-portrait", "-q")
    return cli_once(tmp_path_factory, "paper-a3", *args)[0]


@pytest.fixture(scope="module")
def district_extent(default_gpkg):
    frame = pyogrio.read_dataframe(default_gpkg, layer="district")
    assert frame.crs.to_epsg() == 4548
    x0, y0, x1, y1 = shapely.total_bounds(frame.geometry.values)
    return x1 - x0, y1 - y0


def _figures(a3, suffix):
    files = sorted((a3 / "static").glob(f"*.{suffix}"))
    assert len(files) >= 10, files  # 总图, park maps, control lines, projects, location maps
    return files


def test_every_png_is_a3_portrait_at_its_dpi(a3):
    for path in _figures(a3, "png"):
        with Image.open(path) as image:
            dpi = image.info["dpi"]
            assert dpi[0] == pytest.approx(DPI, abs=0.1), (path.name, dpi)
            expected = [mm / 25.4 * dpi[0] for mm in A3_PORTRAIT_MM]
            assert abs(image.width - expected[0]) <= 1, (path.name, image.size)
            assert abs(image.height - expected[1]) <= 1, (path.name, image.size)


def _is_a3_portrait(page) -> bool:
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    return abs(w - A3_PORTRAIT_MM[0] * PT_PER_MM) < 1 and abs(h - A3_PORTRAIT_MM[1] * PT_PER_MM) < 1


def test_every_pdf_and_the_atlas_are_a3_portrait(a3):
    figures = _figures(a3, "pdf")
    for path in figures:
        pages = PdfReader(path).pages
        assert len(pages) == 1 and _is_a3_portrait(pages[0]), path.name
    atlas = PdfReader(a3 / "atlas.pdf")
    assert len(atlas.pages) >= 1 + len(figures)
    for i, page in enumerate(atlas.pages):
        assert _is_a3_portrait(page), (i, page.mediabox)
    assert "A3 纵向 portrait" in atlas.pages[1].extract_text()


def _printed(root) -> list[int]:
    """Every scale printed in the legend column's scale text, in order."""
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "scale-text")
    text = " ".join("".join(t.itertext()) for t in group.iter(f"{SVG}text"))
    assert "比例尺 Scale" in text and "A3" in text, text
    return [int(re.sub(r"\D", "", m)) for m in re.findall(r"1:([\d][\d\u2009 ]*\d)", text)]


def _label_xy(group) -> tuple[float, float, str]:
    text = next(group.iter(f"{SVG}text"))
    if text.get("x") is not None:
        x, y = float(text.get("x")), float(text.get("y"))
    else:  # rotated: transform="translate(x y) rotate(-90)"
        x, y = map(
            float, re.search(r"translate\(([-\d.]+)[ ,]+([-\d.]+)", text.get("transform")).groups()
        )
    return x, y, "".join(text.itertext()).strip()


def _measured(root, prefix: str) -> float:
    """Ground cm per paper cm between the first and last easting label of one neat line."""
    ticks = []
    for g in root.iter(f"{SVG}g"):
        gid = g.get("id") or ""
        if re.fullmatch(rf"{re.escape(prefix)}neat-e-\d+", gid):
            x, _y, text = _label_xy(g)
            ticks.append((x, float(text)))
    ticks.sort()
    assert len(ticks) >= 2, (prefix, ticks)
    (x0, km0), (x1, km1) = ticks[0], ticks[-1]
    return (km1 - km0) * 1000 * 100 / ((x1 - x0) / 72 * 2.54)


def _frame_m(root, prefix: str = "") -> np.ndarray:
    """The neat line's width and height on paper, metres (its path in pt)."""
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == f"{prefix}neat-line")
    path = next(group.iter(f"{SVG}path"))
    numbers = np.array([float(v) for v in re.findall(r"-?\d+\.?\d*", path.get("d"))])
    xs, ys = numbers[0::2], numbers[1::2]
    return np.array([xs.max() - xs.min(), ys.max() - ys.min()]) / 72 * 0.0254


def test_every_figure_prints_a_series_scale_equal_to_the_measured_one(a3):
    panels = 0
    for path in _figures(a3, "svg"):
        root = ET.parse(path).getroot()
        printed = _printed(root)
        assert printed and all(s in SERIES for s in printed), (path.name, printed)
        if path.stem.startswith(("area_", "base_")):  # location, then the states' panels
            panels += 1
            state, where = printed
            assert _measured(root, "p2-") == pytest.approx(state, rel=0.005), path.name
            assert _measured(root, "p3-") == pytest.approx(state, rel=0.005), path.name
            assert _measured(root, "") == pytest.approx(where, rel=0.005), path.name
        else:
            (scale,) = printed
            assert _measured(root, "") == pytest.approx(scale, rel=0.005), path.name
    assert panels >= 2


def test_the_scale_is_the_largest_of_the_series_that_fits_the_district(a3, district_extent):
    extent = np.array(district_extent)
    for key, prefix in (("overview", ""), ("control_lines", ""), ("area_A1", "")):
        root = ET.parse(a3 / "static" / f"{key}.svg").getroot()
        scale = _printed(root)[-1 if key.startswith("area_") else 0]
        frame = _frame_m(root, prefix)
        assert (extent <= frame * scale).all(), (key, extent, frame * scale)
        larger = SERIES[SERIES.index(scale) - 1]
        assert not (extent <= frame * larger).all(), (key, extent, frame * larger)


def test_a_bad_paper_is_a_usage_error_in_one_line(default_gpkg, tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", default_gpkg, "--out", out, "--paper", "letter")
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr
    assert "--paper" in errors[0] and "'letter'" in errors[0]
    assert all(
        name in errors[0] for name in ("a4-landscape", "a4-portrait", "a3-landscape", "a3-portrait")
    )
    assert not out.exists()
