"""Land-use mix: hand-computed entropy / HHI, areas that add up, the default plan's figures."""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from miyun_spatial.core.crs import WORK_CRS
from miyun_spatial.core.errors import CRSError, DataError
from miyun_spatial.core.landuse import parcel_uses
from miyun_spatial.metrics import mix_tables, prepare
from miyun_spatial.metrics.mix import herfindahl, land_use_mix, mix_indices, shannon_entropy
from miyun_spatial.metrics.overlay import overlay_pieces

X0, Y0 = 480_000.0, 4_460_000.0
K_DEFAULT = 15  # classes in the default land_use_classes table


def rect(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def classes_table(codes):
    return pd.DataFrame(
        {
            "code": codes,
            "group": ["construction"] * len(codes),
            "counts_as_industrial": [c.startswith("M") for c in codes],
        }
    )


# --- entropy and HHI by hand ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shares", "k", "expected"),
    [
        ([5.0], 15, 0.0),  # one class
        ([1.0] * 15, 15, 1.0),  # all K classes equal
        ([1.0, 1.0], 4, math.log(2) / math.log(4)),  # = 0.5
        ([3.0, 1.0], 2, -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)),
        ([2.0, 0.0, 2.0], 3, math.log(2) / math.log(3)),  # zero areas do not count
    ],
)
def test_shannon_entropy_by_hand(shares, k, expected):
    assert shannon_entropy(shares, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("shares", "expected"),
    [([7.0], 1.0), ([1.0, 1.0], 0.5), ([3.0, 1.0], 0.625), ([1.0] * 15, 1 / 15)],
)
def test_herfindahl_by_hand(shares, expected):
    assert herfindahl(shares) == pytest.approx(expected, abs=1e-12)


def test_indices_of_nothing_are_nan():
    assert math.isnan(shannon_entropy([0.0, 0.0], 5))
    assert math.isnan(herfindahl([]))


# --- a small plan built by hand ------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    """Zone 'ALL' holds the 4 classes on 1 ha each; 'ONE' one class; 'HALF' is half covered."""
    codes = ["R", "B", "M1", "G"]
    parcels = gpd.GeoDataFrame(
        {
            "current_use": ["R", "B", "M1", "G", "M1", "M1"],
            "planned_use": ["R", "B", "M1", "G", "B", "M1"],
            "proposed_use": [None, None, "G", None, None, None],
        },
        geometry=[
            rect(0, 0, 100, 100),
            rect(100, 0, 200, 100),
            rect(200, 0, 300, 100),
            rect(300, 0, 400, 100),
            rect(0, 200, 100, 300),
            rect(0, 400, 100, 450),
        ],
        index=pd.Index(["p1", "p2", "p3", "p4", "p5", "p6"], name="parcel_code"),
        crs=WORK_CRS,
    )
    zones = gpd.GeoDataFrame(
        geometry=[rect(0, 0, 400, 100), rect(0, 200, 100, 300), rect(0, 400, 100, 500)],
        index=pd.Index(["ALL", "ONE", "HALF"], name="code"),
        crs=WORK_CRS,
    )
    table = land_use_mix(
        zones, parcels, classes=classes_table(codes), pieces=overlay_pieces(zones, parcels)
    )
    return zones, parcels, table, mix_indices(table, k=len(codes))


def test_entropy_is_one_when_all_k_classes_are_equal(small):
    _z, _p, _mix, indices = small
    assert indices.loc[("ALL", "current"), "entropy"] == pytest.approx(1.0, abs=1e-12)
    assert indices.loc[("ALL", "current"), "hhi"] == pytest.approx(0.25, abs=1e-12)


def test_entropy_is_zero_for_a_single_class(small):
    _z, _p, _mix, indices = small
    assert indices.loc[("ONE", "current"), "entropy"] == 0.0
    assert indices.loc[("ONE", "current"), "hhi"] == 1.0


def test_adjusted_use_is_proposed_where_set_else_planned(small):
    _z, parcels, mix, indices = small
    uses = parcel_uses(parcels)
    assert uses.loc["p3", "adjusted"] == "G" and uses.loc["p5", "adjusted"] == "B"
    # ALL after adjustment: R, B, G, G -> shares 1/4, 1/4, 1/2 over K = 4
    adjusted = mix.loc[("ALL", "adjusted")]
    assert adjusted.loc["G", "area_ha"] == pytest.approx(2.0)
    expected = -(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5)) / math.log(4)
    assert indices.loc[("ALL", "adjusted"), "entropy"] == pytest.approx(expected)
    assert mix.loc[("ONE", "planned", "B"), "area_ha"] == pytest.approx(1.0)


def test_uncovered_area_is_explicit(small):
    _z, _p, mix, indices = small
    assert mix.loc[("HALF", "current", "uncovered"), "area_ha"] == pytest.approx(0.5)
    assert mix.loc[("HALF", "current", "uncovered"), "area_mu"] == pytest.approx(7.5)
    assert mix.loc[("HALF", "current", "M1"), "share"] == pytest.approx(0.5)
    assert mix.loc[("ALL", "current", "uncovered"), "area_ha"] == 0.0
    assert indices.loc[("HALF", "planned"), "covered_ha"] == pytest.approx(0.5)
    assert indices.loc[("HALF", "planned"), "entropy"] == 0.0  # covered part: one class


def test_unknown_or_empty_class_is_named(small):
    zones, parcels, _mix, _indices = small
    bad = parcels.copy()
    bad["current_use"] = bad["current_use"].astype(object)
    bad.loc["p2", "current_use"] = "Q9"
    with pytest.raises(DataError, match=r"feature p2: 'current_use' = 'Q9' is not a code"):
        land_use_mix(
            zones,
            bad,
            classes=classes_table(["R", "B", "M1", "G"]),
            pieces=overlay_pieces(zones, bad),
        )
    bad.loc["p2", "current_use"] = None
    with pytest.raises(DataError, match=r"feature p2: 'current_use' is empty"):
        land_use_mix(zones, bad, pieces=overlay_pieces(zones, bad))


def test_never_computes_in_degrees(small):
    zones, parcels, _mix, _indices = small
    with pytest.raises(CRSError):
        overlay_pieces(zones.to_crs(4326), parcels.to_crs(4326))


# --- the default plan ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_mix(default_work, default_plan):
    return mix_tables(prepare(default_work, default_plan))


def test_class_areas_plus_uncovered_equal_the_zone_area(default_mix, default_work):
    mix = default_mix["mix"]
    totals = mix["area_ha"].groupby(level=["layer", "zone", "use"]).sum()
    for (layer, zone, _use), total in totals.items():
        frame = default_work[layer]
        geometry = frame.loc[frame["code"] == zone].geometry.iloc[0]
        measured = shapely.area(geometry) / 10_000
        assert total == pytest.approx(measured, rel=1e-4), (layer, zone)


def test_shares_sum_to_one_and_mu_is_fifteen_per_ha(default_mix):
    mix = default_mix["mix"]
    shares = mix["share"].groupby(level=["layer", "zone", "use"]).sum()
    assert shares.to_numpy() == pytest.approx(1.0, abs=1e-9)
    assert (mix["area_mu"] / mix["area_ha"]).dropna().to_numpy() == pytest.approx(15.0)


def test_z1_is_tiled_by_parcels_and_measures_1000_84_ha(default_mix):
    indices = default_mix["mix_indices"].loc[("zgc_park", "Z1")]
    assert indices["zone_ha"].to_numpy() == pytest.approx(1000.84, abs=0.01)  # plan, F01
    assert indices["uncovered_ha"].to_numpy() == pytest.approx(0.0, abs=0.01)
    assert ((indices["entropy"] > 0) & (indices["entropy"] < 1)).all()


def test_a1_is_108_ha_of_f3_then_research_and_industry(default_mix):
    a1 = default_mix["mix"].loc[("land_adjustments", "A1")]["area_ha"]
    assert a1.loc[("planned", "F3")] == pytest.approx(108.0, rel=0.005)  # plan, F13
    adjusted = a1.loc["adjusted"].drop("uncovered")
    assert set(adjusted.index) == {"A35", "M1"}
    assert adjusted.sum() == pytest.approx(108.0, rel=0.005)


def test_entropy_uses_the_full_class_list(default_mix):
    mix, indices = default_mix["mix"], default_mix["mix_indices"]
    z1 = mix.loc[("zgc_park", "Z1", "planned")]
    p = z1.drop("uncovered")["area_ha"]
    p = p / p.sum()
    expected = float(-(p * p.map(math.log)).sum() / math.log(K_DEFAULT))
    assert indices.loc[("zgc_park", "Z1", "planned"), "entropy"] == pytest.approx(expected)
    assert indices.loc[("zgc_park", "Z1", "planned"), "hhi"] == pytest.approx((p * p).sum())


def test_without_a_class_table_classes_sort_alphabetically(small):
    zones, parcels, _mix, _indices = small
    mix = land_use_mix(zones, parcels, uses=("current",), pieces=overlay_pieces(zones, parcels))
    assert list(mix.loc[("ALL", "current")].index) == ["B", "G", "M1", "R", "uncovered"]
    assert list(mix.index.get_level_values("zone").unique()) == ["ALL", "ONE", "HALF"]
