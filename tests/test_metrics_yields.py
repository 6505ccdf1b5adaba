"""Yield per hectare: the plan's 2020 figures, the targets, grades and Table 1-1."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from miyun_spatial.core.crs import WORK_CRS
from miyun_spatial.core.errors import DataError
from miyun_spatial.metrics import prepare, yield_tables
from miyun_spatial.metrics.overlay import overlay_pieces
from miyun_spatial.metrics.yields import (
    Grading,
    Targets,
    benchmark_table,
    parcel_yields,
    plan_fact,
    zone_yields,
)

X0, Y0 = 480_000.0, 4_460_000.0
# The plan's figures (section 一（二）6, Table 1-1, section 二（三）, Table 2-1)
PARK_REVENUE_2020, PARK_OUTPUT_2020 = 8311.0, 5934.0  # 万元/公顷
BUILT_CONSTRUCTION_HA, BUILT_INDUSTRIAL_HA = 462.36, 278.15
TARGET_REVENUE, TARGET_OUTPUT = 12000.0, 11000.0  # 万元/公顷, 元/平方米


def rect(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture(scope="module")
def default_yields(default_work, default_plan):
    return yield_tables(prepare(default_work, default_plan))


@pytest.fixture(scope="module")
def targets(default_plan):
    return Targets.from_land_facts(default_plan["land_facts"])


# --- the default plan ------------------------------------------------------------------------


def test_targets_come_from_land_facts(targets):
    assert targets.revenue_per_ha == TARGET_REVENUE
    assert targets.output_yuan_per_m2 == TARGET_OUTPUT
    assert (targets.revenue_per_ha_2020, targets.output_per_ha_2020) == (
        PARK_REVENUE_2020,
        PARK_OUTPUT_2020,
    )


def test_z1_reproduces_8311_and_5934(default_yields):
    z1 = default_yields["zone_yields"].loc[("zgc_park", "Z1")]
    assert z1["built_construction_ha"] == pytest.approx(BUILT_CONSTRUCTION_HA, abs=0.01)
    assert z1["built_industrial_ha"] == pytest.approx(BUILT_INDUSTRIAL_HA, abs=0.01)
    assert z1["revenue_per_ha"] == pytest.approx(PARK_REVENUE_2020, abs=0.01)
    assert z1["output_per_ha"] == pytest.approx(PARK_OUTPUT_2020, abs=0.01)
    assert z1["output_yuan_per_m2"] == pytest.approx(PARK_OUTPUT_2020 * 1e4 / 1e4, abs=0.01)


def test_z1_against_its_2025_target(default_yields):
    z1 = default_yields["zone_yields"].loc[("zgc_park", "Z1")]
    assert z1["gap_per_ha"] == pytest.approx(TARGET_REVENUE - PARK_REVENUE_2020, abs=0.01)
    assert z1["pct_of_target"] == pytest.approx(8311 / 12000 * 100, abs=1e-4)
    needed = (TARGET_REVENUE - PARK_REVENUE_2020) * BUILT_CONSTRUCTION_HA
    assert z1["revenue_needed_10k_cny"] == pytest.approx(needed, rel=1e-4)
    assert z1["output_pct_of_target"] == pytest.approx(5934 / 11000 * 100, abs=1e-4)


def test_c2_plus_c3_equals_z1(default_yields):
    """Z1 = C2 + C3: additive quantities must add up across the two clusters."""
    table = default_yields["zone_yields"]
    clusters = table.loc[[("clusters", "C2"), ("clusters", "C3")]]
    z1 = table.loc[("zgc_park", "Z1")]
    for column in ("built_construction_ha", "built_industrial_ha", "revenue_10k_cny"):
        assert clusters[column].sum() == pytest.approx(z1[column], rel=1e-9), column


def test_zones_without_built_land_have_no_yield(default_yields):
    c1 = default_yields["zone_yields"].loc[("clusters", "C1")]
    assert c1["built_construction_ha"] == 0.0
    assert math.isnan(c1["revenue_per_ha"]) and math.isnan(c1["revenue_needed_10k_cny"])


def test_parcel_grades_and_low_efficiency_on_the_default(default_yields):
    parcels = default_yields["parcel_yields"]
    graded = parcels[parcels["grade"] != "n/a"]
    assert graded["revenue_10k_cny"].notna().all()
    assert parcels.loc[parcels["grade"] == "n/a", "revenue_10k_cny"].isna().all()
    ratio = graded["revenue_10k_cny"] / graded["area_ha"] / TARGET_REVENUE
    expected = np.select([ratio >= 1.0, ratio >= 0.7, ratio >= 0.4], ["A", "B", "C"], "D")
    assert (graded["grade"].to_numpy() == expected).all()
    low = parcels[parcels["low_efficiency"]]
    assert len(low) > 0 and (low["grade"] == "D").all() and (low["status"] == "built").all()
    assert (graded["zgc_park"] == "Z1").all()  # all economics are inside the park


# --- area-share allocation and parcels, by hand ----------------------------------------------


@pytest.fixture(scope="module")
def classes():
    return pd.DataFrame(
        {
            "code": ["M1", "B", "E2"],
            "group": ["construction", "construction", "non_construction"],
            "counts_as_industrial": [True, False, False],
        }
    )


@pytest.fixture(scope="module")
def tiny_targets():
    return Targets(
        revenue_per_ha=TARGET_REVENUE,
        output_yuan_per_m2=TARGET_OUTPUT,
        revenue_per_ha_2020=PARK_REVENUE_2020,
        output_per_ha_2020=PARK_OUTPUT_2020,
    )


@pytest.fixture(scope="module")
def tiny():
    """p1 (1 ha, M1, built) is split 1/4 in West, 3/4 in East; p2 (1 ha, B, built) in East."""
    parcels = gpd.GeoDataFrame(
        {
            "current_use": ["M1", "B", "M1", "E2"],
            "planned_use": ["M1", "B", "M1", "M1"],
            "status": ["built", "built", "under_construction", "unbuilt"],
            "revenue_10k_cny": [12000.0, 3000.0, None, None],
            "output_10k_cny": [8000.0, None, None, None],
        },
        geometry=[
            rect(0, 0, 100, 100),
            rect(100, 0, 200, 100),
            rect(200, 0, 300, 100),
            rect(300, 0, 400, 100),
        ],
        index=pd.Index(["p1", "p2", "p3", "p4"], name="parcel_code"),
        crs=WORK_CRS,
    )
    zones = gpd.GeoDataFrame(
        geometry=[rect(-100, 0, 25, 100), rect(25, 0, 400, 100)],
        index=pd.Index(["West", "East"], name="code"),
        crs=WORK_CRS,
    )
    return zones, parcels


def test_revenue_is_split_by_area_share(tiny, classes, tiny_targets):
    zones, parcels = tiny
    table = zone_yields(
        zones, parcels, classes, tiny_targets, pieces=overlay_pieces(zones, parcels)
    )
    west, east = table.loc["West"], table.loc["East"]
    assert west["built_construction_ha"] == pytest.approx(0.25)
    assert west["revenue_10k_cny"] == pytest.approx(12000 * 0.25)
    assert west["revenue_per_ha"] == pytest.approx(12000.0)  # 3000 万元 on 0.25 ha
    assert east["built_construction_ha"] == pytest.approx(0.75 + 1.0)  # p3 is not built
    assert east["built_industrial_ha"] == pytest.approx(0.75)
    assert east["revenue_10k_cny"] == pytest.approx(9000 + 3000)
    assert east["output_per_ha"] == pytest.approx(6000 / 0.75)
    assert east["pct_of_target"] == pytest.approx(12000 / 1.75 / 12000 * 100)
    assert east["revenue_needed_10k_cny"] == pytest.approx(12000 * 1.75 - 12000)
    assert west["revenue_needed_10k_cny"] == 0.0  # at target


def test_parcel_yields_by_hand(tiny, tiny_targets):
    _zones, parcels = tiny
    table = parcel_yields(parcels, tiny_targets)
    assert table.loc["p1", "revenue_per_ha"] == pytest.approx(12000.0)
    assert table.loc["p1", "yuan_per_m2"] == pytest.approx(8000 * 10_000 / 10_000)
    assert table.loc["p1", "grade"] == "A" and table.loc["p2", "grade"] == "D"
    assert table.loc["p2", "pct_of_target"] == pytest.approx(25.0)
    assert table["low_efficiency"].to_dict() == {"p1": False, "p2": True, "p3": False, "p4": False}
    assert list(table.loc[["p3", "p4"], "grade"]) == ["n/a", "n/a"]
    assert table.loc["p1", "area_mu"] == pytest.approx(15.0)


@pytest.mark.parametrize(
    ("ratio", "grade"),
    [(1.2, "A"), (1.0, "A"), (0.7, "B"), (0.6999, "C"), (0.4, "C"), (0.3999, "D"), (0.0, "D")],
)
def test_default_grade_thresholds(ratio, grade):
    assert Grading().grade(pd.Series([ratio])).iloc[0] == grade


def test_grade_thresholds_are_configurable_and_checked():
    strict = Grading(a=1.5, b=1.0, c=0.8, low_efficiency_below=0.8)
    assert list(strict.grade(pd.Series([1.5, 1.2, 0.9, 0.5, np.nan]))) == [
        "A",
        "B",
        "C",
        "D",
        "n/a",
    ]
    with pytest.raises(ValueError, match="decrease"):
        Grading(a=0.5, b=0.7, c=0.4)


# --- land_facts lookups -----------------------------------------------------------------------


def test_missing_or_mis_unit_fact_is_a_clear_data_error(default_plan):
    facts = default_plan["land_facts"]
    assert plan_fact(facts, "F05") == PARK_REVENUE_2020
    with pytest.raises(DataError, match=r"land_facts' has no value for fact F12"):
        Targets.from_land_facts(facts[facts["fact_code"] != "F12"])
    wrong = facts.copy()
    wrong.loc[wrong["fact_code"] == "F15", "unit"] = "万元/公顷"
    with pytest.raises(DataError, match=r"F15 is in '万元/公顷', expected '元/平方米'"):
        Targets.from_land_facts(wrong)


# --- Table 1-1 -----------------------------------------------------------------------------------


def test_benchmark_implied_land_and_miyun_rank(default_plan, targets):
    table = benchmark_table(default_plan["zgc_benchmark"], targets)
    assert len(table) == 17 and table["is_miyun"].sum() == 1
    miyun = table.loc["密云园"]
    # 384 亿元 / 8311 万元/公顷 ≈ 462 ha: Table 1-1 agrees with the built area of section 一（二）6
    assert miyun["implied_built_ha"] == pytest.approx(384e4 / 8311)
    assert miyun["implied_built_ha"] == pytest.approx(BUILT_CONSTRUCTION_HA, rel=0.002)
    assert miyun["implied_industrial_ha"] == pytest.approx(BUILT_INDUSTRIAL_HA, rel=0.002)
    # lower revenue per ha than Miyun's 8311: Tongzhou 7830 and Fangshan 6332 -> 15th of 17
    assert miyun["revenue_rank"] == 15
    # lower output per ha than 5934: Mentougou 5479, Tongzhou 3264, Fangshan 3235 -> 13th of 16
    assert miyun["output_rank"] == 13
    assert miyun["gap_to_target_per_ha"] == pytest.approx(12000 - 8311)
    assert table.loc["丰台园", "revenue_rank"] == 1
    assert pd.isna(table.loc["西城园", "implied_industrial_ha"])  # no industrial land left
    assert table.loc[~table["is_miyun"], "gap_to_target_per_ha"].isna().all()
