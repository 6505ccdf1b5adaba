"""Land-use adjustments: A1's 108 ha, transition matrices, changing parcels, the bases."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from miyun_spatial.core.crs import WORK_CRS
from miyun_spatial.metrics import adjustment_tables, mix_tables, prepare
from miyun_spatial.metrics.adjustments import changing_parcels, land_use_transitions
from miyun_spatial.metrics.overlay import overlay_pieces

X0, Y0 = 480_000.0, 4_460_000.0
A1_HA, A1_MU = 108.0, 1620.0  # plan section 一（二）2: 约108公顷（1620亩）


@pytest.fixture(scope="module")
def inputs(default_work, default_plan):
    return prepare(default_work, default_plan)


@pytest.fixture(scope="module")
def tables(inputs):
    return adjustment_tables(inputs)


def test_a1_re_designates_about_108_ha_of_f3_to_research_and_industry(tables):
    a1 = tables["adjustment_totals"].loc["A1"]
    assert a1["from_use"] == "F3"
    assert a1["changed_ha"] == pytest.approx(A1_HA, rel=0.005)
    assert a1["changed_mu"] == pytest.approx(A1_MU, rel=0.005)
    assert a1["changed_from_declared_ha"] == pytest.approx(a1["changed_ha"])
    assert a1["remaining_declared_ha"] == pytest.approx(0.0, abs=0.01)
    assert set(a1["to_uses"].split("/")) == {"A35", "M1"}
    assert 0 < a1["to_industrial_ha"] < a1["changed_ha"]  # M1 is industrial, A35 is not


def test_a1_transitions_add_up_to_108_ha(tables):
    moves = tables["transitions"].loc[("land_adjustments", "A1")]
    second = moves.xs("planned_to_adjusted", level="kind")
    assert set(second.index) == {("F3", "A35"), ("F3", "M1")}
    assert second["area_ha"].sum() == pytest.approx(A1_HA, rel=0.005)
    first = moves.xs("current_to_planned", level="kind")
    assert first["area_ha"].sum() == pytest.approx(A1_HA, rel=0.005)
    assert (second["area_mu"] / second["area_ha"]).to_numpy() == pytest.approx(15.0)


def test_transitions_sum_to_the_covered_area_and_agree_with_the_mix(tables, inputs):
    mix = mix_tables(inputs)["mix"]
    moves = tables["transitions"]
    covered = mix.drop("uncovered", level="class")["area_ha"]
    for kind, source, target in (
        ("current_to_planned", "current", "planned"),
        ("planned_to_adjusted", "planned", "adjusted"),
    ):
        part = moves.xs(kind, level="kind")["area_ha"]
        by_from = part.groupby(level=["layer", "zone", "from_use"]).sum()
        by_to = part.groupby(level=["layer", "zone", "to_use"]).sum()
        src = covered.xs(source, level="use")
        dst = covered.xs(target, level="use")
        pd.testing.assert_series_equal(
            by_from.sort_index(), src.rename_axis(by_from.index.names).sort_index(), rtol=1e-9
        )
        pd.testing.assert_series_equal(
            by_to.sort_index(), dst.rename_axis(by_to.index.names).sort_index(), rtol=1e-9
        )


def test_changing_parcels_are_exactly_those_whose_use_changes(tables, default_work):
    parcels = default_work["land_parcels"].set_index("parcel_code")
    adjusted = parcels["proposed_use"].fillna(parcels["planned_use"])
    changes = (parcels["current_use"] != parcels["planned_use"]) | (
        parcels["planned_use"] != adjusted
    )
    table = tables["changing_parcels"]
    assert set(table.index) == set(parcels.index[changes])
    a1 = table[table["land_adjustments"] == "A1"]
    assert a1["planned_to_adjusted"].all()
    assert a1["area_ha"].sum() == pytest.approx(A1_HA, rel=0.005)


def base_row(tables, words):
    """The base whose plan name contains ``words`` (the plan names bases by town and name)."""
    changes = tables["base_land_changes"]
    names = changes["name_zh"].groupby(level="base").first()
    (code,) = [c for c, n in names.items() if all(w in n for w in words)]
    return changes.loc[code]


def test_huadu_base_becomes_multi_function_land(tables):
    huadu = base_row(tables, ("溪翁庄", "华都"))
    assert "F3" in huadu["land_change_zh"].iloc[0]
    planned = huadu["area_ha"].groupby(level="to_use").sum()
    assert list(planned.index) == ["F3"] and huadu["share"].sum() == pytest.approx(1.0)


def test_lvzhou_base_becomes_urban_construction_land(tables):
    lvzhou = base_row(tables, ("密云镇", "绿州"))
    assert "城镇建设用地" in lvzhou["land_change_zh"].iloc[0]
    assert (lvzhou["to_group"] == "construction").all()
    assert lvzhou["share"].sum() == pytest.approx(1.0)
    assert (lvzhou.index.get_level_values("from_use") == "E2").any()  # farmland built up


def test_jinhu_base_becomes_strategic_reserve(tables):
    jinhu = base_row(tables, ("太师屯", "金湖"))
    assert "战略留白" in jinhu["land_change_zh"].iloc[0]
    assert set(jinhu.index.get_level_values("to_use")) == {"LB"}
    assert (jinhu["to_group"] == "reserve").all()
    assert jinhu["area_mu"].sum() == pytest.approx(jinhu["area_ha"].sum() * 15)


# --- by hand ---------------------------------------------------------------------------------


def test_transitions_and_changes_by_hand():
    def rect(x0, x1):
        return box(X0 + x0, Y0, X0 + x1, Y0 + 100)

    parcels = gpd.GeoDataFrame(
        {
            "current_use": ["E2", "M1", "E2"],
            "planned_use": ["F3", "M1", "M1"],
            "proposed_use": ["A35", None, None],
        },
        geometry=[rect(0, 100), rect(100, 300), rect(300, 400)],
        index=pd.Index(["a", "b", "c"], name="parcel_code"),
        crs=WORK_CRS,
    )
    zones = gpd.GeoDataFrame(
        geometry=[rect(50, 350)], index=pd.Index(["Z"], name="code"), crs=WORK_CRS
    )
    pieces = overlay_pieces(zones, parcels, zone_layer="zones", parcel_layer="land_parcels")
    moves = land_use_transitions(zones, parcels, pieces=pieces)["area_ha"]
    # a: half inside (0.5 ha), b: whole (2 ha), c: half inside (0.5 ha)
    assert moves[("Z", "E2", "F3", "current_to_planned")] == pytest.approx(0.5)
    assert moves[("Z", "E2", "M1", "current_to_planned")] == pytest.approx(0.5)
    assert moves[("Z", "M1", "M1", "current_to_planned")] == pytest.approx(2.0)
    assert moves[("Z", "F3", "A35", "planned_to_adjusted")] == pytest.approx(0.5)
    assert moves[("Z", "M1", "M1", "planned_to_adjusted")] == pytest.approx(2.5)
    assert len(moves) == 5
    changed = changing_parcels(parcels)
    assert list(changed.index) == ["a", "c"]
    assert changed.loc["a", ["current_to_planned", "planned_to_adjusted"]].tolist() == [True, True]
    assert changed.loc["c", "adjusted_use"] == "M1" and changed.loc["c", "area_mu"] == 15.0
