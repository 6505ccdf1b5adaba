"""Plan consistency: every mismatch in the plan's own figures is found, with both numbers.

Expectations are computed here from the source tables in geodata/sources (read with the csv
module) and from the plan's printed figures, never from the checking code.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from gpkg_edit import overwrite, read, set_value

from miyun_spatial.checks.consistency import annex1_subtotals, check_consistency, mismatches
from miyun_spatial.checks.recompute import half_unit
from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.core.consistency import STATUSES, consistency_frame
from miyun_spatial.flow.build import work_layers
from miyun_spatial.io import geopackage as store
from miyun_spatial.metrics import compute_all
from miyun_spatial.metrics.areas import feature_areas

SOURCES = Path(__file__).resolve().parents[1] / "geodata" / "sources"


def rows(name: str) -> list[dict[str, str]]:
    with open(SOURCES / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def checks_for(plan, *, tables=True):
    work = work_layers(plan)
    areas = feature_areas({s.name: work[s.name] for s in CATALOGUE.plan_layers if s.name in work})
    metric = compute_all(work, plan) if tables else {}
    return check_consistency(plan, areas=areas, tables=metric)


@pytest.fixture(scope="module")
def default_checks(default_plan):
    return checks_for(default_plan)


def find(checks, *, check: str, contains: str = ""):
    found = [c for c in checks if c.check == check and contains in c.subject]
    assert found, f"no {check} check about {contains!r}"
    return found


def annex_sums() -> dict[str, tuple[float, float]]:
    """Stage (as printed) -> (fixed, construction) summed from the project list itself."""
    sums: dict[str, list[float]] = {}
    for row in rows("projects_annex1.csv"):
        pair = sums.setdefault(row["stage_zh"], [0.0, 0.0])
        pair[0] += float(row["fixed_investment_10k_cny"])
        pair[1] += float(row["construction_investment_10k_cny"])
    sums["合计"] = [sum(p[0] for p in sums.values()), sum(p[1] for p in sums.values())]
    return {k: (v[0], v[1]) for k, v in sums.items()}


def test_annex1_subtotal_mismatches_are_all_found(default_checks):
    printed = {
        r["stage_zh"]: (
            float(r["stated_fixed_investment_10k_cny"]),
            float(r["stated_construction_investment_10k_cny"]),
        )
        for r in rows("projects_annex1_stated_totals.csv")
    }
    computed = annex_sums()
    expected_bad = set()
    for stage, (fixed, construction) in computed.items():
        for i, amount in enumerate((fixed, construction)):
            if amount != printed[stage][i]:
                expected_bad.add((stage, i, printed[stage][i], amount))
    # the plan's pre-start stage and its total: 595000 vs 195000, 175100 vs 52000, ...
    assert {(s, i) for s, i, _p, _c in expected_bad} == {
        ("正在推进开工项目", 0),
        ("正在推进开工项目", 1),
        ("合计", 0),
        ("合计", 1),
    }
    found = {
        (c.stated, c.recomputed)
        for c in default_checks
        if c.group == "projects" and c.status == "mismatch"
    }
    assert found == {(p, c) for _s, _i, p, c in expected_bad}
    for check in mismatches(default_checks):
        if check.group == "projects":
            assert check.plan_section == "附件1"
            assert f"{check.stated:,.0f}" in check.message
            assert f"{check.recomputed:,.0f}" in check.message


def test_printed_total_equals_the_printed_subtotals(default_checks):
    printed = {r["stage_zh"]: r for r in rows("projects_annex1_stated_totals.csv")}
    total = float(printed["合计"]["stated_fixed_investment_10k_cny"])
    subtotal_sum = sum(
        float(r["stated_fixed_investment_10k_cny"]) for k, r in printed.items() if k != "合计"
    )
    assert total == subtotal_sum == 1_055_260
    check = find(default_checks, check="total_of_subtotals", contains="Fixed")[0]
    assert (check.status, check.recomputed) == ("consistent", subtotal_sum)


def test_annex1_subtotals_table(default_plan):
    table = annex1_subtotals(default_plan)
    computed = annex_sums()
    for stage, (fixed, construction) in computed.items():
        assert table.loc[stage, "fixed_investment_10k_cny"] == fixed
        assert table.loc[stage, "construction_investment_10k_cny"] == construction
    assert table.loc["合计", "items"] == len(rows("projects_annex1.csv")) == 16
    assert table.loc["正在推进开工项目", "fixed_investment_10k_cny_diff"] == 195_000 - 595_000


def test_every_plan_mismatch_is_reported(default_checks):
    """The complete list for the default data, each expectation computed from the printed figures."""
    expected = {
        ("subtotal", 595_000.0, 195_000.0),
        ("subtotal", 175_100.0, 52_000.0),
        ("total", 1_055_260.0, 655_260.0),
        ("total", 282_848.0, 159_748.0),
        ("park_extent", 1000.84, 19.44 * 100),  # 19.44 km² (五（六）) vs 1000.84 ha (一（二）6)
        ("growth_rate", 300.0, 220 * 1.06**5),  # Table 2-1: 220 亿元 at 6 %/yr for 5 years
        ("growth_rate", 40.0, 28.9 * 1.15**5),  # a share with "年均增速15%" beside it
        ("table_vs_text", 27.0, 31.0),  # 27家 in the text (一（一）5) vs 31 in Table 2-1
        ("parts_sum", 37.7, 29.4 + 9.3),  # park tax 37.7 亿元 = 29.4 + 9.3 ?
        ("expansion_mu", 1300 / 15, 60 + 15),  # 1300 亩 vs any sum of 150/120/50/60/15 ha
    }
    found = {(c.check, c.stated, c.recomputed) for c in mismatches(default_checks)}
    assert len(found) == len(expected)
    for check, stated, recomputed in expected:
        assert any(
            f[0] == check and math.isclose(f[1], stated) and math.isclose(f[2], recomputed)
            for f in found
        ), (check, stated, recomputed)
    for c in mismatches(default_checks):
        assert c.plan_section and c.stated is not None and c.recomputed is not None
        assert c.message.startswith("[不一致 mismatch]")


def test_growth_targets_within_rounding_are_consistent(default_checks):
    # 12.4 × 1.15^5 = 24.94 ≈ 25 and 13.2 at 约15 % (14.5-15.5 %) reaches 26
    for code in ("I03", "I04"):
        check = find(default_checks, check="growth_rate", contains=code)[0]
        assert check.status == "consistent", check.message
    i03 = find(default_checks, check="growth_rate", contains="I03")[0]
    assert i03.recomputed == pytest.approx(12.4 * 1.15**5)


def test_consistent_figures(default_checks):
    counts = {c.subject.split(": ")[-1]: c for c in default_checks if c.check == "category_count"}
    assert {k.split()[0]: (c.stated, c.recomputed) for k, c in counts.items()} == {
        "提质升级": (5, 5),
        "转型调整": (1, 1),
        "逐步退出": (1, 1),
    }
    assert find(default_checks, check="ha_to_mu")[0].recomputed == 108 * 15 == 1620
    implied = find(default_checks, check="implied_area")
    assert [round(c.recomputed, 2) for c in implied] == [
        round(384 * 10_000 / 8311, 2),
        round(165 * 10_000 / 5934, 2),
    ]
    assert all(c.status == "consistent" for c in implied)
    park = {c.stated: c for c in default_checks if c.check == "park_from_parcels"}
    for stated in (1000.84, 358.71, 462.36, 278.15, 8311.0, 5934.0, 384.0, 165.0):
        assert park[stated].status == "consistent", park[stated].message
    layout = {
        c.subject.split()[0]: c.recomputed for c in find(default_checks, check="feature_count")
    }
    assert list(layout.values()) == [3, 3, 6, 7]


def test_the_frame_lists_mismatches_first_with_both_numbers(default_checks):
    frame = consistency_frame(default_checks)
    bad = frame[frame["status"] == "mismatch"]
    assert list(bad.index) == list(range(len(bad)))
    assert bad[["stated", "recomputed", "plan_section"]].notna().all().all()
    assert set(frame["status"]) <= set(STATUSES)


def test_half_unit_of_printed_figures():
    assert [half_unit(v) for v in (220, 28.9, 1000.84, 0.3446, 1_055_260)] == pytest.approx(
        [0.5, 0.05, 0.005, 0.00005, 0.5]
    )


def test_checking_never_changes_the_data(default_plan):
    before = {name: frame.copy() for name, frame in default_plan.layers.items()}
    checks_for(default_plan, tables=False)
    for name, frame in default_plan.layers.items():
        assert frame.equals(before[name]), name


def test_edits_in_qgis_show_up_as_mismatches(gpkg_copy):
    set_value(gpkg_copy, "farmer_bases", "code", "B5", "category", "transform")
    set_value(gpkg_copy, "projects", "code", "J01", "fixed_investment_10k_cny", 110_000.0)
    parcels = read(gpkg_copy, "land_parcels")
    richest = parcels["revenue_10k_cny"].idxmax()
    parcels.loc[richest, "revenue_10k_cny"] = parcels.loc[richest, "revenue_10k_cny"] * 2
    overwrite(gpkg_copy, "land_parcels", parcels)
    checks = checks_for(store.load(gpkg_copy))
    bad = {(c.check, c.subject.split(":")[-1].strip()): c for c in mismatches(checks)}
    assert bad[("category_count", "提质升级 upgrade")].recomputed == 4
    assert bad[("category_count", "转型调整 transform")].recomputed == 2
    negotiating = [c for c in mismatches(checks) if c.subject.startswith("在谈项目")]
    assert [(c.stated, c.recomputed) for c in negotiating] == [(240_500, 250_500)]
    revenue = [c for c in mismatches(checks) if c.check == "park_from_parcels"]
    assert {c.stated for c in revenue} == {8311.0, 384.0}


def test_missing_tables_are_reported_not_checked(gpkg_copy):
    from gpkg_edit import drop_layer

    drop_layer(gpkg_copy, "project_stated_totals")
    drop_layer(gpkg_copy, "land_facts")
    checks = checks_for(store.load(gpkg_copy), tables=False)
    skipped = [c for c in checks if c.status == "not_checked"]
    assert {c.group for c in skipped} >= {"projects", "park"}
    assert all(c.detail for c in skipped)
