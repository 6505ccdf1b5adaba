"""The 亩均效益评价 engine on an enterprise table written here, against an independent
computation in plain Python: scores, group benchmarks, caps, exemptions, missing data, grades
by thresholds and by rank within groups; 低效用地 reasons and their totals."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from miyun_spatial.metrics.evaluation import evaluate, identify, parse_config, totals

ROWS = [  # code, revenue, tax, area_mu, energy, employees, status, supply_year, far, use
    ("E01", 9000.0, 450.0, 30.0, 1200.0, 120, "built", 2015, 1.4, "M1"),
    ("E02", 5200.0, 120.0, 42.0, 2100.0, 80, "built", 2012, 0.6, "M1"),
    ("E03", 2400.0, 96.0, 12.0, None, 40, "built", 2018, 1.1, "M1"),
    ("E04", 15000.0, 900.0, 55.0, 800.0, 200, "built", 2010, 2.0, "M2"),
    ("E05", 3100.0, 40.0, 25.0, 3000.0, 60, "built", 2016, 0.4, "M1"),
    ("E06", 2600.0, 150.0, 8.0, 500.0, 30, "built", 2019, 1.2, "M1"),
    ("E07", 800.0, 20.0, 10.0, 300.0, 15, "built", 2014, 0.8, "M1"),
    ("E08", 1500.0, 75.0, 6.0, 200.0, 25, "built", 2017, 1.0, "M1"),
    ("E09", 600.0, None, 9.0, 400.0, 12, "built", 2013, 0.5, "M1"),
    ("E10", 1200.0, 30.0, 14.0, 250.0, 18, "built", 2011, 0.9, "M1"),
    ("E11", 1900.0, 110.0, 5.0, 150.0, 22, "built", 2015, 1.3, "M1"),
    ("E12", 400.0, 8.0, 20.0, 0.0, 5, "built", 2024, 0.3, "M1"),  # new: exempt
    ("E13", None, None, 40.0, None, None, "unbuilt", 2019, None, "M1"),  # supplied, idle
    ("E14", None, None, 33.0, None, None, "unbuilt", None, None, "M1"),  # approved only
    ("E15", 0.0, 0.0, 18.0, 10.0, 3, "built", 2016, 1.1, "M1"),  # built, no revenue
]

CONFIG = """
[preset]
name = "test"
source = "written for this test"

[constants]
reference_year = 2025
new_years = 2
idle_years = 3

[scoring]
weights_sum = 100
cap = 1.5

[grading]
method = "rank"
grades = ["A", "B", "C", "D"]
rank_cutoffs = { A = 0.2, B = 0.6, C = 0.95 }
not_graded = "不参评"

[[groups]]
name = "large"
when = "revenue_10k_cny >= 2000"

[[groups]]
name = "small"
when = "revenue_10k_cny < 2000"

[[exempt]]
name = "new"
when = "reference_year - supply_year < new_years"

[[exempt]]
name = "not built"
when = 'status != "built"'

[[indicators]]
key = "tax"
formula = "tax_10k_cny / area_mu"
weight = 50
benchmark = { stat = "mean" }

[[indicators]]
key = "energy"
formula = "revenue_10k_cny / energy_tce"
weight = 30
benchmark = { stat = "quantile", q = 0.75 }
missing = "zero"

[[indicators]]
key = "labour"
formula = "revenue_10k_cny / employees"
weight = 20
benchmark = 40
cap = 1.2
missing = "reweight"

[low_efficiency]
[low_efficiency.far_standard]
M1 = 1.0
M2 = 1.5

[[low_efficiency.reasons]]
name = "approved_not_supplied"
when = 'supply_status == "approved"'

[[low_efficiency.reasons]]
name = "supplied_not_used"
when = 'supply_status == "supplied" and status == "unbuilt" and reference_year - supply_year >= idle_years'

[[low_efficiency.reasons]]
name = "underused"
when = 'status == "built" and far < far_standard'

[[low_efficiency.reasons]]
name = "built_not_operating"
when = 'status == "built" and revenue_10k_cny == 0'

[[low_efficiency.reasons]]
name = "below_standard"
when = 'grade == "D"'
"""


def table() -> pd.DataFrame:
    columns = ["code", "revenue_10k_cny", "tax_10k_cny", "area_mu", "energy_tce", "employees",
               "status", "supply_year", "far", "current_use"]  # fmt: skip
    frame = pd.DataFrame(ROWS, columns=columns).set_index("code")
    for column in ("revenue_10k_cny", "tax_10k_cny", "energy_tce", "employees", "supply_year",
                   "far"):  # fmt: skip
        frame[column] = frame[column].astype(float)
    frame["supply_status"] = ["supplied"] * 13 + ["approved", "supplied"]
    frame["area_ha"] = frame["area_mu"] / 15
    return frame


def expected(rows):
    """The evaluation computed row by row, in plain Python."""

    def group(r):
        rev = r["revenue"]
        if rev is None:
            return None
        return "large" if rev >= 2000 else "small"

    def exempt(r):
        if r["year"] is not None and 2025 - r["year"] < 2:
            return "new"
        if r["status"] != "built":
            return "not built"
        return None

    def div(a, b):
        return None if a is None or b is None or b == 0 else a / b

    recs = []
    for code, rev, tax, mu, energy, emp, status, year, _far, _use in rows:
        r = {"code": code, "revenue": rev, "status": status, "year": year}
        r["group"], r["exempt"] = group(r), exempt(r)
        r["tax"] = div(tax, mu)
        r["energy"] = div(rev, energy)
        r["labour"] = div(rev, emp)
        recs.append(r)
    pool = [r for r in recs if r["group"] and not r["exempt"]]
    bench = {}
    for g in ("large", "small"):
        members = [r for r in pool if r["group"] == g]
        bench[g, "tax"] = statistics.fmean(r["tax"] for r in members if r["tax"] is not None)
        energies = sorted(r["energy"] for r in members if r["energy"] is not None)
        bench[g, "energy"] = float(np.quantile(energies, 0.75))
    out = {}
    for r in recs:
        if r["group"] is None:
            out[r["code"]] = (None, "no group")
            continue
        if r["exempt"]:
            out[r["code"]] = (None, "exempt")
            continue
        if r["tax"] is None:
            out[r["code"]] = (None, "missing: tax")
            continue
        tax = 50 * min(r["tax"] / bench[r["group"], "tax"], 1.5)
        energy = (
            0.0 if r["energy"] is None else 30 * min(r["energy"] / bench[r["group"], "energy"], 1.5)
        )
        weights = 80.0
        labour = 0.0
        if r["labour"] is not None:
            labour = 20 * min(r["labour"] / 40, 1.2)
            weights += 20
        out[r["code"]] = ((tax + energy + labour) * 100 / weights, None)
    return out, bench


def rank_grades(scores: dict[str, float], groups: dict[str, str]) -> dict[str, str]:
    grades = {}
    for g in set(groups.values()):
        members = {c: s for c, s in scores.items() if groups[c] == g}
        n = len(members)
        for code, s in members.items():
            share = (1 + sum(1 for t in members.values() if t > s)) / n
            grades[code] = next(
                (name for name, cut in (("A", 0.2), ("B", 0.6), ("C", 0.95)) if share <= cut), "D"
            )
    return grades


@pytest.fixture(scope="module")
def evaluated():
    config = parse_config(CONFIG, origin="test.toml")
    rows, indicators = evaluate(table(), config)
    return config, rows, indicators


def test_scores_equal_an_independent_computation(evaluated):
    _config, rows, _ = evaluated
    want, bench = expected(ROWS)
    for code, (score, reason) in want.items():
        got = rows.loc[code]
        if score is None:
            assert math.isnan(got["score"]) and got["grade"] == "不参评", code
            assert reason.split(":")[0] in got["reason"], (code, got["reason"])
        else:
            assert got["score"] == pytest.approx(score, rel=0, abs=1e-9), code
            assert pd.isna(got["reason"])
            assert got["tax_benchmark"] == pytest.approx(bench[got["group"], "tax"], abs=1e-9)
    assert rows.loc["E12", "reason"].endswith("new")  # exempt before anything else
    assert rows.loc["E09", "reason"] == "missing: tax"  # not_graded rule
    assert rows.loc["E03", "energy_score"] == 0.0  # zero rule


def test_rank_cut_offs_hold_within_groups(evaluated):
    _config, rows, _ = evaluated
    want, _ = expected(ROWS)
    scores = {c: s for c, (s, _r) in want.items() if s is not None}
    groups = {c: rows.loc[c, "group"] for c in scores}
    grades = rank_grades(scores, groups)
    assert {c: rows.loc[c, "grade"] for c in scores} == grades
    for g in ("large", "small"):
        graded = [c for c in scores if groups[c] == g]
        top = [c for c in graded if grades[c] == "A"]
        assert len(top) <= 0.2 * len(graded) + 1e-9 and top  # A is the top 20 % of its group


def test_threshold_grading_and_scale():
    text = CONFIG.replace('method = "rank"', 'method = "thresholds"').replace(
        "rank_cutoffs = { A = 0.2, B = 0.6, C = 0.95 }", "thresholds = { A = 90, B = 60, C = 30 }"
    )
    rows, _ = evaluate(table(), parse_config(text))
    want, _ = expected(ROWS)
    for code, (score, _reason) in want.items():
        if score is None:
            continue
        grade = "A" if score >= 90 else "B" if score >= 60 else "C" if score >= 30 else "D"
        assert rows.loc[code, "grade"] == grade, code


def test_low_efficiency_lists_every_parcel_with_its_reasons(evaluated):
    config, rows, _ = evaluated
    frame = table()
    listed = identify(frame, rows, config)
    standard = {"M1": 1.0, "M2": 1.5}
    want = {}
    for code, rev, _tax, _mu, _e, _emp, status, year, far, use in ROWS:
        supply = frame.loc[code, "supply_status"]
        reasons = []
        if supply == "approved":
            reasons.append("approved_not_supplied")
        if supply == "supplied" and status == "unbuilt" and year is not None and 2025 - year >= 3:
            reasons.append("supplied_not_used")
        if status == "built" and far is not None and far < standard[use]:
            reasons.append("underused")
        if status == "built" and rev == 0:
            reasons.append("built_not_operating")
        if rows.loc[code, "grade"] == "D":
            reasons.append("below_standard")
        if reasons:
            want[code] = ";".join(reasons)
    assert listed["reasons"].to_dict() == want
    assert {"approved_not_supplied", "supplied_not_used", "underused", "built_not_operating",
            "below_standard"} <= {r for v in want.values() for r in v.split(";")}  # fmt: skip
    places = pd.DataFrame({"zone": ["Z1"] * 8 + [None] * 7}, index=frame.index)
    sums = totals(listed, config, places)
    for reason in [*(r.name for r in config.low_efficiency.reasons), "any"]:
        members = [c for c, v in want.items() if reason == "any" or reason in v.split(";")]
        area = sum(frame.loc[c, "area_mu"] for c in members)
        overall = sums.loc[("all", "all", reason)]
        assert overall["parcels"] == len(members)
        assert overall["area_mu"] == pytest.approx(area, abs=1e-9)
        assert overall["area_ha"] == pytest.approx(area / 15, abs=1e-9)
        by_zone = sums.xs(("zone", reason), level=("by", "reason"))
        assert by_zone["area_mu"].sum() == pytest.approx(area, abs=1e-9)
        assert by_zone["parcels"].sum() == len(members)


def test_a_configured_field_the_table_lacks_is_reported_not_computed():
    config = parse_config(CONFIG)
    frame = table().drop(columns=["energy_tce"])
    rows, indicators = evaluate(frame, config, known={"energy_tce"})
    assert not indicators.loc["energy", "computable"]
    assert "energy_tce" in indicators.loc["energy", "why_not"]
    assert indicators.loc["tax", "computable"]
    assert (rows["energy_score"].fillna(0) == 0).all()  # missing = "zero"
