"""The fast validation paths (issue 11) give the same findings as the exact computations.

The district check tests ``covers`` on a prepared outline before any difference, the overlap
check tells touching neighbours from overlapping ones by a DE-9IM predicate before any
intersection, and the code checks run on whole columns. Each is compared here, on awkward
parcels written into a real GeoPackage, with the exact per-feature computation the validator
did before (every difference, every intersection, a regex per row).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from gpkg_edit import overwrite, read, set_value
from shapely import affinity
from shapely.geometry import box

from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.io import geopackage as store
from miyun_spatial.validate.layers import OUTSIDE_TOLERANCE, OVERLAP_MIN_M2, validate
from miyun_spatial.validate.text import _MARKUP

PARCELS = CATALOGUE["land_parcels"]


def _row(template: pd.Series, code: str | None, geometry) -> dict:
    return {**template.to_dict(), "parcel_code": code, "geometry": geometry}


def _free_spot(district, parcels) -> tuple[float, float]:
    """A point inside the district with no parcel within 500 m."""
    minx, miny, maxx, maxy = district.bounds
    for x in np.linspace(minx, maxx, 25)[1:-1]:
        for y in np.linspace(miny, maxy, 25)[1:-1]:
            square = box(x - 500, y - 500, x + 500, y + 500)
            if district.contains(square) and not parcels.intersects(square).any():
                return float(x), float(y)
    raise AssertionError("no free spot in the district")


@pytest.fixture(scope="module")
def awkward(tmp_path_factory, default_gpkg):
    """A copy whose land_parcels hold every awkward case next to the default parcels."""
    path = tmp_path_factory.mktemp("awkward") / "plan.gpkg"
    path.write_bytes(default_gpkg.read_bytes())
    parcels = read(path, "land_parcels")
    district = shapely.union_all(read(path, "district").geometry.values)
    template = parcels.iloc[0].copy()
    template[["enterprise", "sector", "project_code", "proposed_use"]] = None
    template[["revenue_10k_cny", "output_10k_cny"]] = np.nan
    template["employees"] = pd.NA
    edge = district.exterior if district.geom_type == "Polygon" else district.geoms[0].exterior
    on_edge = edge.interpolate(0.3, normalized=True)
    x, y = on_edge.x, on_edge.y
    corner = parcels.geometry.iloc[5]
    cx, cy = corner.representative_point().x, corner.representative_point().y
    ix, iy = _free_spot(district, parcels)
    extra = [
        _row(template, "X-POKE", box(x - 150, y - 150, x + 150, y + 150)),  # across the edge
        _row(template, "X-FAR", box(x - 150, y - 150, x + 150, y + 150).buffer(0)),
        _row(template, "X-INSIDE", box(cx - 5, cy - 5, cx + 5, cy + 5)),  # inside a parcel
        _row(template, "X-DUP", parcels.geometry.iloc[7]),  # the same outline twice
        _row(template, "X-A", box(ix - 100, iy - 100, ix, iy)),  # touches X-B along an edge
        _row(template, "X-B", box(ix, iy - 60, ix + 100, iy + 40)),  # without shared vertices
        _row(template, "X-C", box(ix + 100, iy + 40, ix + 200, iy + 140)),  # a corner only
        _row(template, "X-TINY", box(ix - 100.5, iy - 100, ix - 99.995, iy)),  # 0.5 m² overlap
        _row(template, "x bad code", box(ix - 300, iy - 300, ix - 250, iy - 250)),
        _row(template, "X-ÄÖ", box(ix - 400, iy - 400, ix - 350, iy - 350)),
    ]
    # entirely outside: the edge box moved away from the district
    far = affinity.translate(extra[0]["geometry"], xoff=0, yoff=0)
    while district.intersects(far):
        far = affinity.translate(far, xoff=5_000)
    extra[1]["geometry"] = far
    moved = parcels.copy()
    c2 = moved.index[moved["parcel_code"] == "C2-010"][0]
    moved.loc[c2, "geometry"] = affinity.translate(moved.loc[c2, "geometry"], xoff=25)
    added = pd.DataFrame(extra, index=pd.RangeIndex(900, 900 + len(extra), name="fid"))
    frame = pd.concat([moved, added.set_geometry("geometry", crs=moved.crs)])
    overwrite(path, "land_parcels", frame)
    return store.load(path)


def _exact_outside(parcels, district) -> set[tuple]:
    out = shapely.area(shapely.difference(parcels.geometry.values, district))
    total = parcels.geometry.area.to_numpy()
    share = np.divide(out, total, out=np.zeros_like(out), where=total > 0)
    return {
        (int(fid), "error" if s > 0.5 else "warning", f"{s:.1%} / {o / 10_000:.2f} ha")
        for fid, s, o in zip(parcels.index, share, out, strict=True)
        if s > OUTSIDE_TOLERANCE
    }


def _exact_overlaps(parcels) -> set[tuple]:
    geoms = parcels.geometry.values
    left, right = parcels.sindex.query(geoms, predicate="intersects")
    keep = left < right
    areas = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]]))
    return {
        (int(parcels.index[i]), int(parcels.index[j]), f"{a:.0f} m²")
        for i, j, a in zip(left[keep], right[keep], areas, strict=True)
        if a > OVERLAP_MIN_M2
    }


def _found(findings, check: str) -> list:
    return [f for f in findings if f.layer == PARCELS.name and f.check == check]


def test_outside_the_district_equals_the_exact_difference(awkward):
    parcels = awkward["land_parcels"]
    district = shapely.union_all(awkward["district"].geometry.values)
    expected = _exact_outside(parcels, district)
    found = {
        (f.fid, f.level, re.sub(r" of the feature \((.*)\) lies.*", r" / \1", f.message))
        for f in _found(validate(awkward), "outside_district")
    }
    assert found == expected
    codes = dict(zip(parcels.index, parcels["parcel_code"], strict=True))
    assert {codes[fid] for fid, *_ in found} == {"X-POKE", "X-FAR"}
    assert "error" in {level for _, level, _ in found}  # X-FAR lies wholly outside


def test_overlaps_equal_every_exact_intersection(awkward):
    parcels = awkward["land_parcels"]
    expected = _exact_overlaps(parcels)
    codes = dict(zip(parcels.index, parcels["parcel_code"], strict=True))
    found = set()
    for f in _found(validate(awkward), "overlap"):
        other, m2 = re.match(r"overlaps (\S+) by .* \((\d+) m²\)", f.message).groups()
        other_fid = next(fid for fid, code in codes.items() if code == other)
        found.add((f.fid, other_fid, f"{m2} m²"))
    assert found == expected
    involved = {codes[i] for i, _, _ in found} | {codes[j] for _, j, _ in found}
    assert {"X-INSIDE", "X-DUP", "C2-010"} <= involved  # contained, equal, shifted
    assert not involved & {"X-A", "X-B", "X-C", "X-TINY"}  # touching only, or below 1 m²


def test_code_checks_equal_a_regex_per_row(awkward):
    parcels = awkward["land_parcels"]
    pattern = re.compile(PARCELS.code_pattern)
    expected = {
        int(fid)
        for fid, code in parcels["parcel_code"].items()
        if isinstance(code, str) and not pattern.match(str(code))
    }
    found = _found(validate(awkward), "code_pattern")
    assert {f.fid for f in found} == expected
    assert {f.code for f in found} == {"x bad code", "X-ÄÖ"}
    assert all(f.level == "warning" for f in found)


def test_default_findings_are_unchanged(default_plan):
    """On the default data: exactly the informational notes, nothing found by the fast paths."""
    findings = validate(default_plan)
    assert [(f.level, f.check, f.layer) for f in findings if f.level != "info"] == []
    parcels = default_plan["land_parcels"]
    district = shapely.union_all(default_plan["district"].geometry.values)
    assert _exact_outside(parcels, district) == set()
    assert _exact_overlaps(parcels) == set()


def test_markup_check_equals_a_regex_per_row(gpkg_copy):
    texts = {
        "C2-001": "<b>bold</b>",
        "C2-002": "JavaScript:alert(1)",
        "C2-003": "x onClick = go()",
        "C2-004": "ratio 3:2, a=b, 1 < 2",  # ':' '=' '<' without markup
        "C2-005": "示例企业（合成）",
    }
    for code, text in texts.items():
        set_value(gpkg_copy, "land_parcels", "parcel_code", code, "enterprise", text)
    plan = store.load(gpkg_copy)
    parcels = plan["land_parcels"]
    expected = {
        int(fid)
        for fid, text in parcels["enterprise"].items()
        if isinstance(text, str) and _MARKUP.search(text)
    }
    found = {f.fid for f in _found(validate(plan), "markup_in_text") if "'enterprise'" in f.message}
    assert found == expected
    codes = dict(zip(parcels.index, parcels["parcel_code"], strict=True))
    assert {codes[fid] for fid in found} == {"C2-001", "C2-002", "C2-003"}
