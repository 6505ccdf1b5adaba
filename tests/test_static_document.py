"""The static maps as document layouts: the whole district on every 总图, the north arrow inside
the map frame, the frame filling the layout's width, labels that do not collide, halos instead
of boxes, the bases legend with counts and areas, 300 dpi.

Drawn with the real renderer (Agg) on the default data; the expected extents, counts and areas
come from the GeoPackage read with pyogrio and measured with shapely.
"""

from __future__ import annotations

import io

import pyogrio
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Annotation
from PIL import Image

from miyun_spatial.render.fonts import cjk_font, font_context

OVERVIEWS = ("overview", "bases")


@pytest.fixture(scope="module")
def figures(default_static_maps):
    from miyun_spatial.render.static.maps import render

    maps = default_static_maps
    out = {}
    with font_context(cjk_font()):
        for key in (*OVERVIEWS, "projects", "base_B7"):
            figure = maps[key].draw()
            FigureCanvasAgg(figure).draw()
            out[key] = figure
        png = render(maps["overview"], ("png",))["png"]
    return out, png


def _map_axes(figure):
    return figure.axes[0]


def test_png_is_300_dpi(figures):
    _, png = figures
    image = Image.open(io.BytesIO(png))
    assert abs(image.width - 297 / 25.4 * 300) <= 1  # A4 landscape at 300 dpi


@pytest.mark.parametrize("key", OVERVIEWS)
def test_the_whole_district_is_on_the_overview_maps(figures, default_gpkg, key):
    district = pyogrio.read_dataframe(default_gpkg, layer="district")
    x0, y0, x1, y1 = shapely.total_bounds(district.geometry.values)
    ax = _map_axes(figures[0][key])
    (a0, a1), (b0, b1) = ax.get_xlim(), ax.get_ylim()
    assert a0 <= x0 and x1 <= a1 and b0 <= y0 and y1 <= b1, (ax.get_xlim(), ax.get_ylim())
    figure = figures[0][key]
    frame = ax.get_window_extent()
    # the frame fills the layout beside the legend column: over 60 % of the figure's width
    assert frame.width / (figure.get_figwidth() * figure.dpi) > 0.6, frame


@pytest.mark.parametrize("key", (*OVERVIEWS, "projects", "base_B7"))
def test_north_arrow_is_inside_the_map_frame(figures, key):
    figure = figures[0][key]
    renderer = figure.canvas.get_renderer()
    arrows = [
        t
        for ax in figure.axes
        for t in ax.texts
        if getattr(t, "get_gid", lambda: None)() == "north-arrow"
    ]
    assert len(arrows) == 1, key
    arrow = arrows[0]
    ax = arrow.axes
    assert ax is figure.axes[0], f"{key}: the north arrow is not on the map"
    frame = ax.get_window_extent(renderer)
    box = arrow.get_window_extent(renderer)
    tip = arrow.arrow_patch.get_window_extent(renderer)
    for b in (box, tip):
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1


@pytest.mark.parametrize("key", (*OVERVIEWS, "projects"))
def test_labels_do_not_collide_and_have_halos_not_boxes(figures, key):
    figure = figures[0][key]
    renderer = figure.canvas.get_renderer()
    ax = _map_axes(figure)
    labels = [t for t in ax.texts if isinstance(t, Annotation) and t.get_gid() != "north-arrow"]
    assert len(labels) >= 5, key
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            inter = shapely.box(*box_a.extents).intersection(shapely.box(*box_b.extents)).area
            assert inter < 2.0, f"{key}: labels {a!r} and {b!r} overlap ({inter:.0f} px²)"
    for t in labels:
        assert t.get_bbox_patch() is None, f"{t.get_text()!r} has a box that cuts others"
        assert t.get_path_effects(), f"{t.get_text()!r} has no halo"


def test_towns_of_the_north_east_are_named_on_the_overview(figures):
    ax = _map_axes(figures[0]["overview"])
    texts = {t.get_text() for t in ax.texts}
    assert {"古北口镇", "新城子镇"} <= texts, texts


def test_bases_legend_gives_count_and_area_per_category(figures, default_gpkg):
    bases = pyogrio.read_dataframe(default_gpkg, layer="farmer_bases")
    assert bases.crs.to_epsg() == 4548
    area = shapely.area(bases.geometry.values) / 10_000
    figure = figures[0]["bases"]
    legend = [t.get_text() for ax in figure.axes if ax.get_legend() for t in ax.get_legend().texts]
    for category, zh in (("upgrade", "提质升级"), ("transform", "转型调整"), ("exit", "逐步退出")):
        mask = (bases["category"] == category).to_numpy()
        expected = f"{int(mask.sum())} 个 · {area[mask].sum():,.1f} ha"
        row = [t for t in legend if zh in t]
        assert row and expected in row[0], (category, expected, row)
