"""The overlap check's certificate (``validate_overlap``) never hides a pair whose interiors meet.

Pairs of strictly convex features sharing an edge in opposite directions are settled without
the DE-9IM predicate; every other pair still gets it. On crafted layers (duplicates in both
orientations, shifted and contained squares, T-junctions, corners, holes, multi-part
features, collinear vertices) and on a perturbed Voronoi tiling, the pairs found must be
exactly those of the predicate on every bounding-box pair.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box

from miyun_spatial.validate.overlap import edge_separated, interior_pairs


def _exact(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    left, right = left[keep], right[keep]
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    meet = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    return left, right, left[meet], right[meet]


def _check(geoms) -> tuple[int, int]:
    geoms = np.asarray(geoms, dtype=object)
    assert shapely.is_valid(geoms).all()
    left, right, meet_left, meet_right = _exact(geoms)
    separated = edge_separated(geoms, left, right)
    meets = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    assert not (separated & meets).any(), "a certified pair overlaps"
    found_left, found_right = interior_pairs(geoms)
    assert np.array_equal(found_left, meet_left) and np.array_equal(found_right, meet_right)
    # pairs whose boxes share at most 1 m² left out first: the same pairs as filtering after
    boxes = [shapely.box(*b) for b in shapely.bounds(geoms)]
    shared = np.array(
        [boxes[i].intersection(boxes[j]).area for i, j in zip(meet_left, meet_right, strict=True)]
    )
    big_left, big_right = interior_pairs(geoms, min_box_overlap=1.0)
    assert np.array_equal(big_left, meet_left[shared > 1.0])
    assert np.array_equal(big_right, meet_right[shared > 1.0])
    return int(separated.sum()), len(meet_left)


def test_crafted_neighbours_and_overlaps():
    grid = [box(x, y, x + 10, y + 10) for x in range(0, 50, 10) for y in range(0, 50, 10)]
    cw = shapely.orient_polygons(grid[6], exterior_cw=True)
    ccw = shapely.orient_polygons(grid[7], exterior_cw=False)
    hole = Polygon(
        [(100, 0), (130, 0), (130, 30), (100, 30)], [[(110, 10), (120, 10), (120, 20), (110, 20)]]
    )
    extra = [
        cw,  # a duplicate of grid[6], clockwise
        shapely.reverse(ccw),  # a duplicate of grid[7], the other way round
        affinity.translate(grid[12], 0.5, 0),  # overlaps grid[12] and grid[17]
        box(22, 22, 24, 24),  # inside grid[12]
        Polygon([(50, 0), (60, 0), (60, 10), (50, 10), (50, 5)]),  # collinear vertex at x=50
        box(50, 5, 60, 15),  # T-junction against the previous one's edge, overlaps it
        box(60, 15, 70, 25),  # touches the previous one at a corner only
        Polygon([(0, -10), (50, -10), (50, 0), (40, -5), (10, -5), (0, 0)]),  # not convex
        hole,
        box(110, 10, 120, 20),  # fills the hole exactly: touches, no overlap
        box(112, 12, 118, 18),  # inside the hole: no overlap with the ring
        box(125, 25, 135, 35),  # overlaps the holed polygon's corner
        MultiPolygon([box(200, 0, 210, 10), box(220, 0, 230, 10)]),
        box(210, 0, 220, 10),  # between the two parts, touching both
        MultiPolygon([box(300, 0, 310, 10)]),  # one part: convex
        box(310, 0, 320, 10),
        box(305, 5, 315, 15),  # overlaps both
    ]
    certified, meeting = _check(grid + extra)
    assert certified >= 40  # the grid's shared edges
    assert meeting >= 8


def test_a_perturbed_voronoi_tiling():
    rng = np.random.default_rng(4548)
    region = box(0, 0, 2_000, 2_000)
    points = shapely.multipoints(rng.uniform(0, 2_000, (3_000, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=region))
    cells = shapely.intersection(cells, region)
    cells = cells[shapely.get_type_id(cells) == shapely.GeometryType.POLYGON]
    moved = rng.choice(len(cells), 40, replace=False)
    shifted = [affinity.translate(cells[i], rng.uniform(-3, 3), rng.uniform(-3, 3)) for i in moved]
    duplicated = [cells[i] for i in rng.choice(len(cells), 10, replace=False)]
    reversed_ = [shapely.reverse(cells[i]) for i in rng.choice(len(cells), 10, replace=False)]
    scaled = [affinity.scale(cells[i], 0.5, 0.5) for i in rng.choice(len(cells), 10, replace=False)]
    geoms = np.concatenate([cells, shifted, duplicated, reversed_, scaled])
    certified, meeting = _check(geoms)
    assert certified > 2 * len(cells)  # most neighbours are settled by the certificate
    assert meeting >= 70  # and every overlap is still found


def test_chunked_candidates_are_the_one_shot_pairs(monkeypatch):
    """The candidates queried a few features at a time, and the box overlap a few pairs at a
    time, give the pairs of one query and one filter over everything (chunk edges included)."""
    from miyun_spatial.validate import overlap

    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 300, 3_000), rng.uniform(0, 300, 3_000)
    geoms = shapely.buffer(shapely.points(x, y), rng.uniform(0.5, 6, len(x)), quad_segs=2)
    whole_left, whole_right = interior_pairs(geoms, min_box_overlap=1.0)
    all_left, all_right = overlap.candidate_pairs(geoms)
    monkeypatch.setattr(overlap, "QUERY_CHUNK", 7)
    monkeypatch.setattr(overlap, "PAIR_CHUNK", 11)
    left, right = overlap.candidate_pairs(geoms)
    assert len(left) > 1_000
    assert set(zip(left.tolist(), right.tolist(), strict=True)) == set(
        zip(all_left.tolist(), all_right.tolist(), strict=True)
    )
    assert len(left) == len(all_left) and (left < right).all()
    chunked_left, chunked_right = interior_pairs(geoms, min_box_overlap=1.0)
    assert len(whole_left) > 100
    assert np.array_equal(chunked_left, whole_left) and np.array_equal(chunked_right, whole_right)
    empty = overlap.candidate_pairs(geoms[:0])
    assert len(empty[0]) == len(empty[1]) == 0
