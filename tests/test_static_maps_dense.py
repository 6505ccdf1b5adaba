"""Static maps above VECTOR_PARCELS_MAX parcels, and the paths every polygon is drawn with:
the vertices match shapely's rings on awkward geometries, and a dense land-use map shows each
class's colour where its parcels are."""

from __future__ import annotations

import io

import numpy as np
import pytest
import shapely
from shapely import MultiPolygon, Point, Polygon

OUTER = [(0, 0), (0, 10), (10, 10), (10, 0)]  # clockwise
HOLE_SAME_WAY = [(3, 3), (3, 7), (7, 7), (7, 3)]  # clockwise too: must be turned
HOLE_AT_START = [(0, 0), (4, 2), (2, 4)]  # a hole touching the exterior at its first vertex


def _geometries():
    square = Polygon([(20, 0), (30, 0), (30, 10), (20, 10)])
    touching = Polygon([(40, 0), (50, 0), (45, 5), (50, 10), (40, 10), (45, 5)])  # bow tie
    return np.array(
        [
            square,
            Polygon(OUTER, [HOLE_SAME_WAY]),
            None,
            MultiPolygon([shapely.affinity.translate(square, 0, 20)]),  # one part
            MultiPolygon([Polygon(OUTER, [HOLE_SAME_WAY]), shapely.affinity.translate(square, 40)]),
            Point(1, 1),
            Polygon(),
            touching,
            Polygon(OUTER, [HOLE_AT_START]),
            shapely.affinity.translate(square, 0, 40),
        ],
        dtype=object,
    )


def _rings(geom) -> list[np.ndarray]:
    """The rings of a (multi)polygon as shapely gives them, holes turned against their
    exterior (the way the paths must be for the non-zero fill rule)."""
    out = []
    for part in shapely.get_parts(geom):
        exterior = np.asarray(part.exterior.coords)
        out.append(exterior)
        for interior in part.interiors:
            ring = np.asarray(interior.coords)
            if shapely.is_ccw(interior) == shapely.is_ccw(part.exterior):
                ring = ring[::-1]
            out.append(ring)
    return out


def _expected(geoms, groups) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    from matplotlib.path import Path as MplPath

    found: dict[int, list[np.ndarray]] = {}
    for geom, group in zip(geoms, groups, strict=True):
        if group < 0 or geom is None or geom.is_empty or geom.geom_type not in (
            "Polygon", "MultiPolygon"
        ):  # fmt: skip
            continue
        found.setdefault(int(group), []).extend(_rings(geom))
    expected = {}
    for group, rings in found.items():
        codes = [
            np.r_[MplPath.MOVETO, [MplPath.LINETO] * (len(r) - 2), MplPath.CLOSEPOLY] for r in rings
        ]
        expected[group] = (np.concatenate(rings), np.concatenate(codes))
    return expected


@pytest.mark.parametrize("chunk", [100_000, 3, 1])
@pytest.mark.parametrize("grouped", [False, True])
def test_paths_follow_the_rings_of_awkward_geometries(monkeypatch, chunk, grouped):
    """Holes (turned or touching the exterior at its start), multipolygons of one and two
    parts, a ring touching itself, empty, missing and point geometries, and geometries left
    out (group -1): each path holds exactly the rings shapely gives, in order."""
    from miyun_spatial.render.static import elements as static_elements

    monkeypatch.setattr(static_elements, "CHUNK", chunk)
    geoms = _geometries()
    groups = np.array([1, 0, 0, -1, 1, 0, 0, 2, 0, 1]) if grouped else np.arange(len(geoms))
    paths = static_elements.polygon_paths(geoms, groups if grouped else None)
    expected = _expected(geoms, groups)
    assert len(paths) == (3 if grouped else len(geoms))
    for group, path in enumerate(paths):
        if group not in expected:
            assert path is None, group
            continue
        vertices, codes = expected[group]
        assert np.array_equal(path.vertices, vertices), group
        assert np.array_equal(path.codes, codes), group


def test_mostly_left_out_geometries_give_the_same_paths(monkeypatch):
    """Chunks where few geometries are drawn take only those: same paths as a full pass."""
    from miyun_spatial.render.static import elements as static_elements

    geoms = np.array([shapely.box(i, 0, i + 1, 1) for i in range(40)], dtype=object)
    groups = np.full(len(geoms), -1)
    groups[[3, 17, 18, 39]] = [1, 0, 1, 0]
    monkeypatch.setattr(static_elements, "CHUNK", 10)
    paths = static_elements.polygon_paths(geoms, groups)
    expected = _expected(geoms, groups)
    for group, path in enumerate(paths):
        assert np.array_equal(path.vertices, expected[group][0])
        assert np.array_equal(path.codes, expected[group][1])


def test_dense_land_use_map_shows_each_class_where_its_parcels_are(default_plan, default_work):
    """6,400 parcels over the park (above VECTOR_PARCELS_MAX): the west half of one class,
    the east half of another, one more beyond the park's box but in the map's view (at its
    fixed scale). The PNG shows each class's colour where its parcels are, the parcel beyond
    the park too, and the background between."""
    from datetime import UTC, datetime

    from matplotlib.colors import to_rgb
    from PIL import Image

    from miyun_spatial.core.palette import land_use_colors
    from miyun_spatial.render.fonts import cjk_font, font_context
    from miyun_spatial.render.static.elements import DPI
    from miyun_spatial.render.static.maps import VECTOR_PARCELS_MAX, static_maps

    work = dict(default_work)
    parcels = work["land_parcels"]
    park = work["zgc_park"]
    x0, y0, x1, y1 = park[park["expansion_status"] == "current"].total_bounds
    side = 80
    step = ((x1 - x0) / side, (y1 - y0) / side)
    xs, ys = np.meshgrid(np.arange(side) * step[0] + x0, np.arange(side) * step[1] + y0)
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + step[0], ys.ravel() + step[1])
    far = shapely.box(x1 + 5 * step[0], y0, x1 + 40 * step[0], y1)  # beyond the park's box
    geoms = np.r_[boxes, [far]]
    dense = parcels.iloc[np.arange(len(geoms)) % len(parcels)].reset_index(drop=True)
    dense = dense.set_geometry(geoms, crs=parcels.crs)
    dense["parcel_code"] = [f"C9-{i:07d}" for i in range(len(dense))]
    classes = default_plan["land_use_classes"]
    colors = land_use_colors(classes)
    west, east = "M1", "G"
    assert {west, east} <= set(colors) and to_rgb(colors[west]) != to_rgb(colors[east])
    dense["current_use"] = np.where(
        shapely.get_x(shapely.centroid(geoms)) < (x0 + x1) / 2, west, east
    )
    assert len(dense) > VECTOR_PARCELS_MAX
    work["land_parcels"] = dense
    maps = {m.key: m for m in static_maps(work, {}, classes,
                                           generated=datetime(2026, 1, 2, tzinfo=UTC))}  # fmt: skip
    buffer = io.BytesIO()
    with font_context(cjk_font()):  # as render() draws
        figure = maps["land_use_current"].draw()
        figure.savefig(buffer, format="png", dpi=DPI)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    ax = figure.axes[0]

    def pixel(x, y):
        px, py = ax.transData.transform((x, y))
        return np.array(image.getpixel((int(px), int(image.height - py)))) / 255

    ym = (y0 + y1) / 2
    for x, code in ((x0 + (x1 - x0) * 0.3, west), (x0 + (x1 - x0) * 0.7, east)):
        assert np.abs(pixel(x, ym) - to_rgb(colors[code])).max() < 0.02, code
    (v0, v1), (w0, w1) = ax.get_xlim(), ax.get_ylim()
    assert v0 < x0 and x1 + 40 * step[0] < v1 and w0 < y0 and y1 < w1  # all in the view
    assert np.abs(pixel(x1 + 20 * step[0], ym) - to_rgb(colors[east])).max() < 0.02
    assert np.abs(pixel(x1 + 2.5 * step[0], ym) - to_rgb(colors[east])).max() > 0.1  # no parcel


def test_yield_map_is_the_same_whatever_the_order_of_the_table(default_plan, default_results):
    """Grades are taken by position when parcel_yields lists the parcels in the layer's order,
    looked up by parcel code otherwise (shuffled rows, a grade left empty): the same map."""
    from datetime import UTC, datetime

    from miyun_spatial.render.static.maps import render, static_maps

    work = default_results.work
    table = default_results.tables["parcel_yields"]
    shuffled = table.sample(frac=1.0, random_state=7)
    emptied = table.copy()
    emptied["grade"] = emptied["grade"].astype(object)
    first = emptied.index[0]
    emptied.loc[first, "grade"] = None  # shown as n/a, as the table's own "n/a"
    expected = table.copy()
    expected["grade"] = expected["grade"].astype(object)
    expected.loc[first, "grade"] = "n/a"
    pngs = []
    for parcel_yields in (table, shuffled, emptied, expected):
        maps = {m.key: m for m in static_maps(work, {"parcel_yields": parcel_yields},
                                               default_plan["land_use_classes"],
                                               generated=datetime(2026, 1, 2, tzinfo=UTC))}  # fmt: skip
        pngs.append(render(maps["yield"], ("png",))["png"])
    assert pngs[0] == pngs[1]
    assert pngs[2] == pngs[3]
