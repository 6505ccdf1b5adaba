"""The zone x parcel overlay engine: hand-computed cases and geopandas.overlay on awkward data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from miyun_spatial.core import parallel
from miyun_spatial.core.crs import WORK_CRS
from miyun_spatial.core.errors import CRSError, DataError
from miyun_spatial.metrics import overlay
from miyun_spatial.metrics.overlay import (
    allocate,
    class_areas,
    main_zone,
    overlay_pieces,
    subdivide,
    zone_area_m2,
)

X0, Y0 = 480_000.0, 4_460_000.0  # inside EPSG:4548's zone, near Miyun


def shifted(geom):
    return shapely.affinity.translate(geom, X0, Y0)


def frame(geoms: dict, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        columns, geometry=[shifted(g) for g in geoms.values()], index=list(geoms), crs=WORK_CRS
    )


# --- hand-computed ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hand():
    zones = frame(
        {
            "Z": box(0, 0, 100, 100).difference(box(40, 40, 60, 60)),  # a zone with a hole
            "Y": box(50, 0, 150, 50),  # overlaps Z
        }
    )
    parcels = frame(
        {
            "a": box(10, 10, 20, 20),  # inside Z
            "b": box(90, 10, 110, 20),  # across Z's edge, inside Y
            "c": box(40, 40, 60, 60),  # exactly Z's hole
            "d": box(0, 80, 10, 90),  # inside Z, sharing its outer edge
            "e": MultiPolygon([box(30, 90, 35, 95), box(95, 95, 105, 105)]),
            "f": box(150, 60, 160, 70),  # outside both
            "g": box(20, 20, 80, 80).difference(box(30, 30, 70, 70)),  # a ring around the hole
        },
        use=["M1", "B", "G", "M1", "R", "E2", "A"],
        revenue=[100.0, 1000.0, None, 50.0, 10.0, 7.0, 400.0],
    )
    return zones, parcels, overlay_pieces(zones, parcels)


EXPECTED_M2 = {  # (zone, parcel): area, computed by hand from the coordinates above
    ("Z", "a"): 100.0,
    ("Z", "b"): 100.0,
    ("Z", "d"): 100.0,
    ("Z", "e"): 25.0 + 25.0,
    ("Z", "g"): 60 * 60 - 40 * 40,
    ("Y", "b"): 200.0,
    ("Y", "c"): 10 * 10,  # c lies in Z's hole but its corner is in Y
    ("Y", "g"): 30 * 30 - 20 * 20,
}


def test_pieces_have_the_hand_computed_areas(hand):
    _zones, _parcels, pieces = hand
    got = pieces["area_m2"].to_dict()
    assert set(got) == set(EXPECTED_M2)  # no piece for c in Z (the hole), nor for f (outside)
    for key, area in EXPECTED_M2.items():
        assert got[key] == pytest.approx(area, rel=1e-12), key


def test_wholly_inside_parcels_take_their_own_area(hand):
    _zones, _parcels, pieces = hand
    whole = pieces.index[pieces["whole"]].tolist()
    assert set(whole) == {("Z", "a"), ("Z", "d"), ("Z", "g"), ("Y", "b")}
    assert (pieces.loc[pieces["whole"], "share"] == 1.0).all()
    assert pieces.loc[("Z", "b"), "share"] == pytest.approx(0.5)
    assert pieces.loc[("Z", "e"), "share"] == pytest.approx(50 / 125)  # 25 + 25 of 25 + 100


def test_overlapping_zones_are_each_measured_in_full(hand):
    zones, _parcels, pieces = hand
    per_zone = pieces["area_m2"].groupby(level="zone").sum()
    assert per_zone["Y"] == pytest.approx(200.0 + 100.0 + 500.0)
    assert per_zone["Z"] == pytest.approx(100 + 100 + 100 + 50 + 2000)
    assert zone_area_m2(zones)["Z"] == pytest.approx(100 * 100 - 20 * 20)


def test_class_areas_and_allocation_by_area_share(hand):
    _zones, parcels, pieces = hand
    areas = class_areas(pieces, parcels["use"])
    assert areas.loc["Z", "M1"] == pytest.approx(200.0)  # a + d
    assert areas.loc["Y", "B"] == pytest.approx(200.0)
    assert areas.loc["Y", "G"] == pytest.approx(100.0)
    assert areas.loc["Y"].drop(["B", "A", "G"]).sum() == 0.0
    money = allocate(pieces, parcels[["revenue"]])
    # Z: a 100 + half of b 500 + d 50 + 40 % of e 4 + g 400; Y: all of b + g's 500/2000 share
    assert money.loc["Z", "revenue"] == pytest.approx(100 + 500 + 50 + 4 + 400)
    assert money.loc["Y", "revenue"] == pytest.approx(1000 + 400 * 500 / 2000)


def test_main_zone_is_the_zone_holding_most_of_the_parcel(hand):
    _zones, _parcels, pieces = hand
    main = main_zone(pieces)
    assert main["b"] == "Y" and main["g"] == "Z" and main["a"] == "Z"
    assert main["c"] == "Y"  # its only piece: Z's hole is not Z
    assert "f" not in main.index


# --- against geopandas.overlay on generated, awkward data ------------------------------------


def blob(cx, cy, r, rng, vertices=90):
    t = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    rr = r * (1 + 0.3 * np.sin(3 * t + rng.uniform(0, 6)) + rng.uniform(-0.1, 0.1, vertices))
    return shapely.make_valid(shapely.Polygon(np.c_[cx + rr * np.cos(t), cy + rr * np.sin(t)]))


@pytest.fixture(scope="module")
def awkward():
    """A jittered tiling with multipolygon and holed parcels, gaps, and overlapping zones."""
    rng = np.random.default_rng(7)
    k, step = 40, 75.0
    g = np.stack(np.meshgrid(np.arange(k + 1) * step, np.arange(k + 1) * step), axis=-1)
    g[1:-1, 1:-1] += rng.uniform(-0.3, 0.3, g[1:-1, 1:-1].shape) * step
    rings = np.stack([g[:-1, :-1], g[:-1, 1:], g[1:, 1:], g[1:, :-1], g[:-1, :-1]], axis=2)
    cells = list(shapely.polygons(rings.reshape(-1, 5, 2)))
    parcels = []
    for i, cell in enumerate(cells):
        if i % 97 == 0:  # a parcel with a hole, the hole being a parcel of its own
            inner = shapely.affinity.scale(cell, 0.4, 0.4)
            parcels += [cell.difference(inner), inner]
        elif i % 53 == 0 and i + 2 < len(cells):  # a multipolygon: this cell + the one after next
            parcels.append(MultiPolygon([cell, cells[i + 2]]))
            cells[i + 2] = None
        elif cell is not None and i % 41 != 0:  # every 41st cell left out: gaps
            parcels.append(cell)
    parcels = [p for p in parcels if p is not None]
    uses = np.array(["R", "A", "B", "M1", "M2", "G", "E2"])[rng.integers(0, 7, len(parcels))]
    parcel_frame = gpd.GeoDataFrame(
        {"use": uses, "revenue": rng.uniform(0, 100, len(parcels))},
        geometry=[shifted(p) for p in parcels],
        crs=WORK_CRS,
        index=pd.Index([f"P{i:04d}" for i in range(len(parcels))], name="parcel_code"),
    )
    side = k * step
    zones = {
        "square": box(300, 300, 1200, 1200),  # vertices on no grid line
        "holed": blob(2000, 800, 500, rng).difference(blob(2000, 800, 180, rng)),
        "multi": MultiPolygon([blob(700, 2300, 300, rng), blob(1500, 2300, 250, rng)]),
        "over1": blob(1800, 1800, 600, rng),
        "over2": blob(2200, 2100, 550, rng),  # overlaps over1
        "edge": box(0, 0, side, 600),  # shares the tiling's outer edge
        "aligned": box(*g[10, 10], *g[20, 20]).envelope,
    }
    zone_frame = frame(zones)
    zone_frame.index.name = "code"
    return zone_frame, parcel_frame


def reference_pieces(zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> pd.Series:
    """Area per (zone, parcel) with geopandas.overlay + groupby: the independent reference."""
    left = zones.rename_axis("zone").reset_index()
    right = parcels.rename_axis("parcel").reset_index()
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    area = pieces.geometry.area
    return area.groupby([pieces["zone"], pieces["parcel"]]).sum()


def assert_same_areas(ours: pd.Series, reference: pd.Series, rel: float = 1e-6) -> None:
    reference = reference[reference > 1e-9]
    assert set(ours.index) == set(reference.index)
    aligned = ours.reindex(reference.index)
    difference = (aligned - reference).abs() / reference
    assert difference.max() <= rel, difference.idxmax()


def test_pieces_equal_geopandas_overlay(awkward):
    zones, parcels = awkward
    pieces = overlay_pieces(zones, parcels)
    assert pieces["whole"].any() and (~pieces["whole"]).any()
    assert_same_areas(pieces["area_m2"], reference_pieces(zones, parcels))


def test_class_areas_equal_overlay_plus_groupby(awkward):
    zones, parcels = awkward
    ours = class_areas(overlay_pieces(zones, parcels), parcels["use"]).stack()
    left, right = zones.rename_axis("zone").reset_index(), parcels.reset_index()
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    reference = pieces.geometry.area.groupby([pieces["zone"], pieces["use"]]).sum()
    ours = ours[ours > 0]
    ours.index = ours.index.set_names(reference.index.names)
    assert_same_areas(ours, reference)


def test_threads_and_small_tiles_change_nothing(awkward, monkeypatch):
    zones, parcels = awkward
    plain = overlay_pieces(zones, parcels)
    monkeypatch.setattr(overlay, "THREAD_MIN_PREDICATES", 1)
    monkeypatch.setattr(overlay, "THREAD_MIN_INTERSECTIONS", 1)
    monkeypatch.setattr(parallel, "MAX_THREADS", 3)
    monkeypatch.setattr(overlay, "TILE_VERTICES", 8)
    threaded = overlay_pieces(zones, parcels)
    assert threaded.index.equals(plain.index)
    np.testing.assert_allclose(threaded["area_m2"], plain["area_m2"], rtol=1e-9)


def test_subdivided_tiles_partition_the_zone(awkward):
    zones, _parcels = awkward
    geoms = np.asarray(zones.geometry.array)
    tiles, owner = subdivide(geoms, max_vertices=12)
    assert len(tiles) > len(geoms)
    assert shapely.is_valid(tiles).all()
    assert (shapely.get_num_coordinates(tiles) <= 12).mean() > 0.9
    sums = np.bincount(owner, weights=shapely.area(tiles), minlength=len(geoms))
    np.testing.assert_allclose(sums, shapely.area(geoms), rtol=1e-9)


def test_the_caller_geometries_are_left_unprepared(awkward):
    zones, parcels = awkward
    overlay_pieces(zones, parcels)
    assert not shapely.is_prepared(np.asarray(zones.geometry.array)).any()


# --- refusals ------------------------------------------------------------------------------


def test_refuses_degrees(hand):
    zones, parcels, _pieces = hand
    with pytest.raises(CRSError, match="geographic"):
        overlay_pieces(zones.to_crs(4326), parcels)
    with pytest.raises(CRSError, match="Web Mercator"):
        overlay_pieces(zones, parcels.to_crs(3857))


def test_null_geometry_and_duplicate_codes_are_named(hand):
    zones, parcels, _pieces = hand
    broken = parcels.copy()
    broken.loc["d", "geometry"] = None
    with pytest.raises(DataError, match=r"layer 'parcels': feature d has no geometry"):
        overlay_pieces(zones, broken)
    empty = parcels.copy()
    empty.loc["d", "geometry"] = shapely.Polygon()  # an empty parcel covers nothing
    assert "d" not in overlay_pieces(zones, empty).index.get_level_values("parcel")
    twice = pd.concat([parcels, parcels.iloc[[0]]])
    with pytest.raises(DataError, match=r"codes a are used more than once"):
        overlay_pieces(zones, twice, parcel_layer="parcels")


def test_invalid_boundary_parcel_is_named():
    zones = frame({"Z": box(0, 0, 100, 100)})
    bowtie = shapely.Polygon([(90, 10), (110, 30), (110, 10), (90, 30), (90, 10)])
    parcels = frame({"ok": box(10, 10, 20, 20), "bad": bowtie})
    try:
        pieces = overlay_pieces(zones, parcels, parcel_layer="land_parcels")
    except DataError as exc:  # GEOS refused: the message must name the feature
        assert "land_parcels' feature bad: invalid geometry" in str(exc)
    else:  # GEOS coped: the valid parcel is still measured right
        assert pieces.loc[("Z", "ok"), "area_m2"] == pytest.approx(100.0)
