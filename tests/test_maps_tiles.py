"""Large parcel layers as raster tiles: built, small page, tiles seen in Chromium, click lookup.

The threshold is lowered (``MapOptions.tiles_above``) so that a few thousand synthetic parcels
(benchmarks/build_scale.py's Voronoi cells over the park) take the tiled path. Both builds skip
the memo (``build(skip=("memo",))``): its PDF grows with the parcels (500 pages here, four
minutes of WeasyPrint) and nothing here reads it. The vector build, there to compare its
tables and land-use page with the tiled build's, also skips the documents (static maps, atlas,
reports: three quarters of its time), which are the tiled build's to check. Both are built once
per test run (``conftest.made_once``), whichever xdist worker asks first.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import load_page, made_once
from PIL import Image
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

PARCELS = 3_000
THRESHOLD = 1_000


DOCUMENTS = ("memo", "static maps", "reports")


def _build(gpkg: Path, out: Path, tiles_above: int, skip: tuple[str, ...]) -> Path:
    from miyun_spatial.flow.build import build
    from miyun_spatial.render.maps.options import MapOptions

    options = MapOptions(offline=True, tiles_above=tiles_above)
    build(gpkg, out, map_options=options, jobs=2, skip=skip)
    return out


def _make(work: Path) -> None:
    from build_scale import make_gpkg

    gpkg = make_gpkg(work / "parcels.gpkg", PARCELS)
    _build(gpkg, work / "tiled", THRESHOLD, ("memo",))
    _build(gpkg, work / "vector", 10**9, DOCUMENTS)


# two builds of 3,000 parcels: their tests are slow (conftest)
SLOW_FIXTURES = {"built"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work, _ = made_once(tmp_path_factory, "tiles", _make)
    return work / "parcels.gpkg", work / "tiled", work / "vector"


def _target(gpkg: Path):
    """A park parcel far from its edges: its code, planned-use colour and a lon/lat inside."""
    parcels = pyogrio.read_dataframe(gpkg, layer="land_parcels")
    classes = pyogrio.read_dataframe(gpkg, layer="land_use_classes", read_geometry=False)
    colors = dict(zip(classes["code"], classes["color_hex"], strict=True))
    radius = shapely.maximum_inscribed_circle(parcels.geometry.values)  # centre -> nearest edge
    best = int(np.argmax(shapely.length(radius)))
    centre = shapely.get_point(radius[best], 0)
    lon, lat = Transformer.from_crs(parcels.crs, "EPSG:4326", always_xy=True).transform(
        centre.x, centre.y
    )
    row = parcels.iloc[best]
    return row["parcel_code"], colors[row["planned_use"]], lon, lat


def _tile_pixel(lon: float, lat: float, zoom: int):
    n = 2.0**zoom
    x = (lon + 180.0) / 360.0 * n
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(x), int(y), int((x % 1) * 256), int((y % 1) * 256)


def test_tiled_build_keeps_tables_and_a_small_page(built):
    _gpkg, tiled, vector = built
    assert (tiled / "tiles" / "planned").is_dir() and not (vector / "tiles").exists()
    # the skipped step wrote nothing, the others everything (the report embeds the static maps)
    assert not list(tiled.glob("review.*")) and (tiled / "report.html").is_file()
    assert (tiled / "atlas.pdf").is_file() and (tiled / "results.gpkg").is_file()
    assert not (vector / "report.html").exists() and (vector / "results.gpkg").is_file()
    for csv in sorted(vector.glob("*.csv")):
        assert (tiled / csv.name).read_bytes() == csv.read_bytes(), csv.name
    for page in tiled.glob("*.html"):
        assert page.stat().st_size < 10 * 2**20, page.name
    # the vector page embeds every parcel's code, the tiled one none of them
    assert "C2-0001500" in (vector / "land_use.html").read_text(encoding="utf-8")
    assert "C2-0001500" not in (tiled / "land_use.html").read_text(encoding="utf-8")


def test_tiles_shown_from_file_and_parcel_found_on_click(built, browser):
    gpkg, tiled, _vector = built
    code, color, lon, lat = _target(gpkg)
    zoom = max(int(p.name) for p in (tiled / "tiles" / "planned").iterdir())
    tx, ty, px, py = _tile_pixel(lon, lat, zoom)
    png = tiled / "tiles" / "planned" / str(zoom) / str(tx) / f"{ty}.png"
    rgb = Image.open(png).convert("RGB").getpixel((px, py))
    assert "#{:02x}{:02x}{:02x}".format(*rgb) == color.lower()

    load_page(browser, tiled / "land_use.html")
    browser.execute_script(
        "miyun.map.setView([arguments[0], arguments[1]], arguments[2], {animate: false});",
        lat,
        lon,
        zoom,
    )
    deadline = time.monotonic() + 20
    while True:
        images = browser.execute_script(
            "return Array.from(document.querySelectorAll('.miyun-tiles-pl img'))"
            ".map(i => [i.src, i.complete, i.naturalWidth]);"
        )
        loaded = [src for src, done, width in images if done and width > 0]
        if any(src.endswith(f"/planned/{zoom}/{tx}/{ty}.png") for src in loaded):
            break
        assert time.monotonic() < deadline, images
        time.sleep(0.2)
    assert all(src.startswith("file://") for src in loaded)
    found = browser.execute_async_script(
        "const done = arguments[2];"
        "miyun.tileParcel(L.latLng(arguments[0], arguments[1]), r => done(r));",
        lat,
        lon,
    )
    assert found is not None and found[0] == code
    browser.execute_script(
        "miyun.map.fire('click', {latlng: L.latLng(arguments[0], arguments[1])});", lat, lon
    )
    deadline = time.monotonic() + 10
    while code not in (
        browser.execute_script(
            "const p = document.querySelector('.miyun-tile-parcel'); return p ? p.textContent : '';"
        )
        or ""
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    urls = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not urls, urls
