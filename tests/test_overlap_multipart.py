"""The overlap check's candidates of multi-part features whose parts lie far apart."""

from __future__ import annotations

import itertools

import numpy as np
import shapely

from miyun_spatial.validate.overlap import candidate_pairs, interior_pairs


def _layer() -> np.ndarray:
    """A 20 x 20 grid of 10 m squares; three features made of a square and a copy of one up to
    190 m away (their boxes span the grid); a square over four others; an island in a hole,
    with another square inside it."""
    squares = [
        shapely.box(x * 10, y * 10, x * 10 + 10, y * 10 + 10) for y in range(20) for x in range(20)
    ]
    geoms = list(squares[3:])
    geoms[0] = shapely.MultiPolygon([squares[0], squares[399]])
    geoms[1] = shapely.MultiPolygon([squares[1], squares[380]])
    geoms[2] = shapely.MultiPolygon([squares[2], squares[19]])
    geoms.append(shapely.box(55, 55, 65, 65))  # over four squares
    ring = shapely.box(300, 300, 330, 330).difference(shapely.box(310, 310, 320, 320))
    geoms += [ring, shapely.box(310, 310, 320, 320), shapely.box(312, 312, 318, 318)]
    return np.array(geoms, dtype=object)


def test_pairs_equal_the_exact_predicate_on_every_pair():
    geoms = _layer()
    expected = [
        (i, j)
        for i, j in itertools.combinations(range(len(geoms)), 2)
        if shapely.relate_pattern(geoms[i], geoms[j], "T********")
    ]
    left, right = interior_pairs(geoms)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == expected
    # each far part over the square still there, four under the shifted square, the island's island
    assert len(expected) == 8


def test_distant_parts_are_not_paired_with_what_lies_between():
    geoms = _layer()
    left, right = candidate_pairs(geoms)
    pairs = set(zip(left.tolist(), right.tolist(), strict=True))
    assert all(i < j for i, j in pairs) and len(pairs) == len(left)
    # feature 0 (squares at both corners) meets only the neighbours of those two squares
    partners = {j for i, j in pairs if i == 0} | {i for i, j in pairs if j == 0}
    near = {
        k
        for k, g in enumerate(geoms)
        if k and shapely.intersects(shapely.envelope(shapely.get_parts(geoms[0])), g).any()
    }
    assert partners == near and len(near) < 10
