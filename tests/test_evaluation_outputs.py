"""The evaluation's other outputs: indicator monitoring (红/黄/绿) against an independent
computation, the synthetic enterprise fields' calibration, results.gpkg's styled
``low_efficiency_land`` layer, and the build's CSVs."""

from __future__ import annotations

import math
import sqlite3

import pandas as pd
import pyogrio
import pytest
import shapely

from miyun_spatial.metrics.evaluation import ConfigError, parse_config
from miyun_spatial.metrics.evaluation.config import PRESET_DIR, Monitoring
from miyun_spatial.metrics.evaluation.monitoring import indicator_monitoring

INDICATORS = pd.DataFrame(
    {
        "indicator_code": ["X1", "X2", "X3", "X4", "X5"],
        "group_zh": ["g"] * 5,
        "indicator_zh": ["产值", "收入", "能耗", "覆盖率", "企业数"],
        "indicator_en": ["a", "b", "c", "d", "e"],
        "unit": ["亿元", "万元/公顷", "吨", "%", "家"],
        "baseline_2020": [100.0, 8000.0, 0.3, None, 10.0],
        "target_2025": [200.0, 12000.0, None, 100.0, 20.0],
    }
)


def test_monitoring_equals_an_independent_computation():
    computed = {"收入": 10500.0, "企业数": 13.0}
    table = indicator_monitoring(
        INDICATORS, computed, Monitoring(assessment_year=2023, green=1.0, amber=0.8), synthetic=True
    )
    assert list(table.index) == ["X1", "X2", "X4", "X5"]  # X3 has no 2025 target
    for code, base, target, value in (
        ("X1", 100.0, 200.0, 100.0),
        ("X2", 8000.0, 12000.0, 10500.0),
        ("X5", 10.0, 20.0, 13.0),
    ):
        row = table.loc[code]
        expected = base * (target / base) ** (3 / 5)
        assert row["value"] == pytest.approx(value, abs=1e-9)
        assert row["expected"] == pytest.approx(expected, rel=1e-12)
        assert row["gap"] == pytest.approx(target - value, abs=1e-9)
        assert row["required_growth_pct"] == pytest.approx(
            ((target / base) ** 0.2 - 1) * 100, rel=1e-12
        )
        ratio = value / expected
        warning = "green" if ratio >= 1.0 else "amber" if ratio >= 0.8 else "red"
        assert row["warning"] == warning, code
    assert table.loc["X2", "value_source"] == "computed from land_parcels (synthetic)"
    assert table.loc["X1", "value_source"] == "plan 2020 baseline"
    assert table.loc["X4", "warning"] == "n/a"  # no baseline: no trajectory
    assert [table.loc[c, "warning"] for c in ("X1", "X2", "X5")] == ["red", "green", "amber"]


def test_monitoring_thresholds_are_checked():
    text = (PRESET_DIR / "plan.toml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match=r"monitoring\.amber"):
        parse_config(text.replace("amber = 0.9", "amber = 1.5"))
    with pytest.raises(ConfigError, match=r"monitoring\.assessment_year"):
        parse_config(text.replace("assessment_year = 2025", 'assessment_year = "soon"'))


def test_synthetic_enterprise_fields_are_calibrated_to_the_plan(default_gpkg):
    parcels = pyogrio.read_dataframe(default_gpkg, layer="land_parcels")
    assert (parcels["data_basis"] == "synthetic").all()
    industrial = parcels["current_use"].isin(["M1", "M2"]) & parcels["output_10k_cny"].notna()
    rnd = parcels.loc[industrial, "rnd_10k_cny"].sum()
    revenue = parcels.loc[industrial, "revenue_10k_cny"].sum()
    assert rnd / revenue * 100 == pytest.approx(3.0, abs=0.01)  # plan: 研发投入强度 2020
    energy = parcels.loc[industrial, "energy_tce"].sum()
    value_added = parcels.loc[industrial, "value_added_10k_cny"].sum()
    assert energy / value_added == pytest.approx(0.3446, abs=1e-4)  # plan: 万元GDP能耗 2020
    built = parcels["status"] == "built"
    area_m2 = shapely.area(parcels.geometry.values)
    building = parcels["far"] * area_m2
    assert (building[built] - parcels.loc[built, "building_area_m2"]).abs().max() < 0.1
    assert set(parcels["supply_status"].dropna()) <= {"approved", "supplied", "not_applicable"}


@pytest.fixture(scope="module")
def build_outputs(built_default):
    return built_default


def test_build_writes_the_evaluation_tables(build_outputs, default_gpkg):
    rows = pd.read_csv(build_outputs / "enterprise_evaluation.csv", encoding="utf-8-sig")
    yields = pd.read_csv(build_outputs / "parcel_yields.csv", encoding="utf-8-sig")
    assert dict(zip(rows["parcel_code"], rows["grade"], strict=True)) == dict(
        zip(yields["parcel_code"], yields["grade"], strict=True)
    )  # the default preset: plan
    monitoring = pd.read_csv(build_outputs / "indicator_monitoring.csv", encoding="utf-8-sig")
    park = monitoring.set_index("indicator_code").loc["I06"]
    assert park["value"] == pytest.approx(8311.0, abs=0.01) and park["warning"] == "red"
    parcels = pyogrio.read_dataframe(default_gpkg, layer="land_parcels", read_geometry=False)
    above = parcels["current_use"].isin(["M1", "M2"]) & (parcels["revenue_10k_cny"] >= 2000)
    above &= parcels["status"].eq("built") & parcels["rnd_10k_cny"].notna()
    intensity = (
        parcels.loc[above, "rnd_10k_cny"].sum() / parcels.loc[above, "revenue_10k_cny"].sum()
    )
    rnd = monitoring.set_index("indicator_code").loc["I08"]
    assert rnd["value"] == pytest.approx(intensity * 100, rel=1e-9)


def test_results_gpkg_has_the_low_efficiency_layer_styled(build_outputs):
    path = build_outputs / "results.gpkg"
    layer = pyogrio.read_dataframe(path, layer="low_efficiency_land")
    listed = pd.read_csv(build_outputs / "low_efficiency_land.csv", encoding="utf-8-sig")
    assert list(layer["parcel_code"]) == list(listed["parcel_code"]) and len(layer) > 0
    assert layer.crs.to_epsg() == 4548
    area = shapely.area(layer.geometry.values) / 10_000
    assert area == pytest.approx(layer["area_ha"].to_numpy(), rel=1e-9)
    for reasons, first in zip(layer["reasons"], layer["reason"], strict=True):
        assert reasons.split(";")[0] == first
    with sqlite3.connect(path) as db:
        [(qml,)] = db.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'low_efficiency_land'"
        ).fetchall()
    assert 'attr="reason"' in qml and "批而未供" in qml and "投而未达标" in qml
    assert math.isclose(layer["area_mu"].sum(), layer["area_ha"].sum() * 15, rel_tol=1e-9)


def test_diff_gives_the_change_of_every_indicator(cli, default_gpkg, tmp_path):
    import json

    from gpkg_edit import set_value

    new = tmp_path / "new.gpkg"
    new.write_bytes(default_gpkg.read_bytes())
    parcels = pyogrio.read_dataframe(default_gpkg, layer="land_parcels", read_geometry=False)
    row = parcels[parcels["parcel_code"].str.startswith("C2-") & parcels["revenue_10k_cny"].gt(0)]
    code, revenue = row["parcel_code"].iloc[0], float(row["revenue_10k_cny"].iloc[0])
    set_value(new, "land_parcels", "parcel_code", code, "revenue_10k_cny", revenue + 46236.0)
    result = cli("diff", default_gpkg, new, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    rows = {r["indicator_code"]: r for r in payload["indicators"]}
    assert len(rows) == 12  # every indicator with a 2025 target
    # the park's built urban-construction land is the plan's 462.36 ha (F03)
    assert rows["I06"]["change"] == pytest.approx(46236.0 / 462.36, rel=1e-9)
    assert rows["I01"]["change"] == 0  # a 2020 baseline: unchanged
    text = cli("diff", default_gpkg, new)
    assert text.returncode == 0 and "plan indicators (规划指标监测)" in text.stdout
