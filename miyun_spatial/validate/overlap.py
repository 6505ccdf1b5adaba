"""Which features of a polygon layer have intersecting interiors: the overlap check's candidates.

A parcel layer is a tiling: each parcel touches about six neighbours and overlaps none. The
exact test of a pair is the DE-9IM predicate ``T********`` (``shapely.relate_pattern``), about
3.5 µs a pair; at a million parcels that is 3.3 million pairs. Most of them are settled
first, exactly and much faster, by a certificate:

    Two strictly convex polygons that share an edge, traversed in opposite directions
    when both rings are oriented alike, lie on opposite sides of that edge's line:
    their interiors are disjoint.

Convexity is established with Shewchuk's error-bounded orientation filter (a turn counts
only when the floating-point determinant exceeds its rounding bound, so its sign is certain)
on valid, hole-free single polygons; shared edges are found by exact coordinate equality.
A pair the certificate does not settle (non-convex parcels, collinear vertices, T-junctions,
holes, multi-part features, neighbours meeting at a corner, pairs that do not touch at all)
goes through the exact predicate as before. The certificate never says "disjoint" for a pair
whose interiors meet, so the pairs returned are exactly those of the predicate alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from ..core.parallel import chunked, threads

CHUNK = 20_000  # polygons per chunk of the convexity test (small arrays stay in the cache)
QUERY_CHUNK = 50_000  # features queried at a time: their pairs found both ways, kept once
PAIR_CHUNK = 250_000  # pairs whose box overlap is computed at a time
PARALLEL_PAIRS = 50_000  # feature pairs beyond which the exact predicate runs in threads
# Shewchuk's ccwerrboundA: |det| above this times the sum of the products' magnitudes means
# the computed sign of the orientation determinant is the true sign.
_EPSILON = 2.0**-53
_CCW_ERRBOUND = (3.0 + 16.0 * _EPSILON) * _EPSILON
_HASH = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F], dtype=np.uint64)


def interior_pairs(
    geoms: np.ndarray, *, min_box_overlap: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i < j, sorted by i then j) of the pairs of ``geoms`` whose interiors meet.

    ``geoms``: valid, non-empty polygons or multipolygons (the validator's usable features;
    the convexity test relies on valid rings being simple).
    Equal to keeping the bounding-box pairs for which ``relate_pattern(a, b, "T********")``
    holds; pairs of convex neighbours sharing an edge are settled without it.
    ``min_box_overlap``: only pairs whose bounding boxes overlap by more than this area (the
    most two features can overlap by) are tested and returned; in a tiling that leaves out
    every pair of neighbours meeting at an edge or a corner before any predicate.
    """
    geoms = np.asarray(geoms, dtype=object)
    left, right = candidate_pairs(geoms)
    if min_box_overlap is not None:
        bounds = shapely.bounds(geoms)
        keep = np.concatenate(
            [
                box_overlap(bounds, left[lo:hi], right[lo:hi]) > min_box_overlap
                for lo, hi in _slices(len(left), PAIR_CHUNK)
            ]
        )  # by chunks: the four corner arrays of 1.35 M pairs were 86 MB at once (300k parcels)
        left, right = left[keep], right[keep]
    rest = np.flatnonzero(~edge_separated(geoms, left, right))
    order = np.lexsort((right[rest], left[rest]))  # only the pairs left, by i then j
    rest = rest[order]
    # interiors meet only where the features intersect: the cheaper predicate goes first
    rest = rest[
        chunked(shapely.intersects, geoms[left[rest]], geoms[right[rest]], min_items=PARALLEL_PAIRS)
    ]
    meet = chunked(_interiors_meet, geoms[left[rest]], geoms[right[rest]], min_items=PARALLEL_PAIRS)
    rest = rest[meet]
    return left[rest], right[rest]


def box_overlap(bounds: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Area shared by the bounding boxes (rows of ``bounds``) of each pair (left, right)."""
    lo = np.maximum(bounds[left, :2], bounds[right, :2])
    hi = np.minimum(bounds[left, 2:], bounds[right, 2:])
    return np.prod(np.clip(hi - lo, 0, None), axis=1)


def candidate_pairs(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of features whose parts' bounding boxes meet.

    A multi-part feature is queried by its parts: one whose parts lie far apart has a box
    over everything between them, and would otherwise be paired with every feature there
    (at 100k parcels, a few such features made tens of millions of pairs). Single-part
    features are queried as they are (no copy).
    """
    many = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
    if not len(many):
        tree = shapely.STRtree(geoms)
        lefts, rights = [], []
        for lo, hi in _slices(len(geoms), QUERY_CHUNK):  # each pair twice: kept once, by chunk
            left, right = tree.query(geoms[lo:hi])
            left += lo
            keep = left < right
            lefts.append(left[keep])
            rights.append(right[keep])
        return np.concatenate(lefts), np.concatenate(rights)
    parts, owner = shapely.get_parts(geoms[many], return_index=True)
    single = np.ones(len(geoms), dtype=bool)
    single[many] = False
    items = np.concatenate([geoms[single], parts])
    whose = np.concatenate([np.flatnonzero(single), many[owner]])
    a, b = shapely.STRtree(items).query(items)
    a, b = whose[a], whose[b]
    keep = a < b
    n = np.int64(len(geoms))
    key = np.unique(a[keep].astype(np.int64) * n + b[keep])  # a pair once, by i then j
    return key // n, key % n


def _slices(n: int, size: int) -> list[tuple[int, int]]:
    """(lo, hi) of consecutive slices of at most ``size`` of ``range(n)``; one, empty, for 0."""
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)] or [(0, 0)]


def _interiors_meet(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return shapely.relate_pattern(a, b, "T********")


def edge_separated(geoms: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True for the pairs (``geoms[left]``, ``geoms[right]``) proven to have disjoint interiors:
    both strictly convex and sharing an edge in opposite directions (see the module docstring).

    False means "not proven", not "overlapping". ``left``, ``right``: positions in ``geoms``.
    """
    out = np.zeros(len(left), dtype=bool)
    if not len(left):
        return out
    bounds = [*range(0, len(geoms), CHUNK), len(geoms)]
    chunks = [(lo, geoms[lo:hi]) for lo, hi in itertools.pairwise(bounds) if hi > lo]

    small = np.int32 if len(geoms) < 2**31 else np.int64

    def edges(chunk: tuple[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        owner, start, end = _convex_edges(chunk[1], offset=chunk[0])
        with np.errstate(over="ignore"):
            undirected = _point_hash(start) + _point_hash(end)  # the same for the reverse
        return owner.astype(small), np.concatenate([start, end], axis=1), undirected

    with ThreadPoolExecutor(threads()) as pool:
        parts = list(pool.map(edges, chunks))
    owner = np.concatenate([p[0] for p in parts])
    if not len(owner):
        return out
    packed = np.concatenate([p[1] for p in parts])
    undirected = np.concatenate([p[2] for p in parts])
    del parts
    n = np.int64(len(geoms))
    separated = _opposite_edges(owner, packed, undirected, n)
    if not len(separated):
        return out
    key = left.astype(np.int64) * n + right.astype(np.int64)
    pos = np.minimum(np.searchsorted(separated, key), len(separated) - 1)
    return separated[pos] == key


def _convex_edges(geoms: np.ndarray, *, offset: int = 0) -> tuple[np.ndarray, ...]:
    """The edges of every strictly convex polygon of one ring (no hole, one part) in ``geoms``.

    Returns ``(owner, start, end)``: the position (plus ``offset``) of the polygon each edge
    belongs to and the edge's end points, every ring oriented clockwise (interior on the
    right of each edge).
    """
    empty = np.empty(0, dtype=np.int64), np.empty((0, 2)), np.empty((0, 2))
    polygonal = np.isin(
        shapely.get_type_id(geoms),
        (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON),
    )
    xy, owner = shapely.get_coordinates(np.where(polygonal, geoms, None), return_index=True)
    if not len(owner):
        return empty
    xy += 0.0  # -0.0 -> 0.0: equal coordinates get equal bits
    # One ring: its first point comes back only as its last (a valid ring does not touch
    # itself; a second ring ends elsewhere or passes through that point again).
    firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    counts = np.diff(np.r_[firsts, len(owner)])
    at_first = (xy == np.repeat(xy[firsts], counts, axis=0)).all(axis=1)
    one_ring = (np.add.reduceat(at_first, firsts) == 2) & at_first[firsts + counts - 1]
    keep = np.repeat(one_ring, counts)
    xy, owner = xy[keep], owner[keep]
    if not len(owner):
        return empty
    seg = np.flatnonzero(owner[:-1] == owner[1:])  # rows starting an edge (rings are closed)
    seg_owner = owner[seg]
    firsts = np.flatnonzero(np.r_[True, seg_owner[1:] != seg_owner[:-1]])
    counts = np.diff(np.r_[firsts, len(seg)])
    following = np.arange(1, len(seg) + 1)
    following[firsts + counts - 1] = firsts  # the edge after the last is the first
    a, b = xy[seg], xy[seg + 1]
    c = b[following]
    sign = _orientation_sign(a, b, c)
    lowest = np.minimum.reduceat(sign, firsts)
    highest = np.maximum.reduceat(sign, firsts)
    # every turn certainly the same way: a simple ring (valid polygons have simple rings) is
    # then strictly convex
    cw, ccw = highest == -1, lowest == 1
    take = np.repeat(cw | ccw, counts)
    flip = np.repeat(ccw, counts)[take][:, None]
    a, b = a[take], b[take]
    start = np.where(flip, b, a)  # counter-clockwise rings reversed: clockwise
    end = np.where(flip, a, b)
    return seg_owner[take].astype(np.int64) + offset, start, end


def _orientation_sign(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """+1 / -1 where the turn a -> b -> c is certainly left / right, 0 where uncertain.

    Shewchuk's orient2d with its first, floating-point stage only: the sign is trusted when
    the determinant's magnitude exceeds its error bound (IEEE doubles, no fused operations).
    """
    left = (a[:, 0] - c[:, 0]) * (b[:, 1] - c[:, 1])
    right = (a[:, 1] - c[:, 1]) * (b[:, 0] - c[:, 0])
    det = left - right
    bound = _CCW_ERRBOUND * (np.abs(left) + np.abs(right))
    return np.where(det > bound, 1, np.where(-det > bound, -1, 0)).astype(np.int8)


def _point_hash(xy: np.ndarray) -> np.ndarray:
    bits = np.ascontiguousarray(xy).view(np.uint64)
    with np.errstate(over="ignore"):
        mixed = bits * _HASH
    return mixed[:, 0] ^ (mixed[:, 1] >> np.uint64(29)) ^ (mixed[:, 1] << np.uint64(35))


def _opposite_edges(owner: np.ndarray, edges: np.ndarray, undirected: np.ndarray, n: np.int64):
    """Sorted keys ``i * n + j`` (i < j, possibly repeated) of the polygons sharing an edge in
    opposite directions, by exact coordinate equality.

    ``edges``: rows (x0, y0, x1, y1); ``undirected``: a hash of each edge that is the same for
    its reverse, which only brings the candidates together.
    """
    order = np.argsort(undirected)
    h = undirected[order]
    same = h[:-1] == h[1:]  # neighbours in hash order: an edge and its reverse
    del h
    a, b = order[:-1][same], order[1:][same]
    del order, same
    match = (edges[a, 0] == edges[b, 2]) & (edges[a, 1] == edges[b, 3])
    match &= (edges[a, 2] == edges[b, 0]) & (edges[a, 3] == edges[b, 1])
    i, j = owner[a[match]].astype(np.int64), owner[b[match]].astype(np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    distinct = lo != hi
    return np.sort(lo[distinct] * n + hi[distinct])


__all__ = ["box_overlap", "edge_separated", "interior_pairs"]


def overlapping_pairs(geoms: np.ndarray, min_m2: float) -> Iterator[tuple[int, int, float]]:
    """(i, j, area m²) of the pairs of ``geoms`` whose interiors share more than ``min_m2``."""
    left, right = interior_pairs(geoms, min_box_overlap=min_m2)
    if not len(left):
        return
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    for i, j, area in zip(left, right, areas, strict=True):
        if area > min_m2:
            yield int(i), int(j), float(area)
