"""Yield per hectare (地均产出): zones, enterprise parcels and the Zhongguancun benchmark.

Definitions (plan section 一（二）6 and Table 1-1):

- urban construction land (城镇建设用地): parcels whose ``current_use`` class has
  ``group == "construction"`` in ``land_use_classes``;
- industrial land (工业用地): parcels whose ``current_use`` class has ``counts_as_industrial``;
- built (已建成): ``status == "built"``; built land is judged on the *current* use;
- revenue per hectare = revenue (营业收入) / built urban-construction ha, 万元/公顷;
- output per hectare = industrial output (工业总产值) / built industrial ha, 万元/公顷;
- 元/平方米 = 万元/公顷 × 10 000 元/万元 ÷ 10 000 m²/ha, i.e. the same number.

A parcel cut by a zone boundary gives the zone the part of its revenue and output equal to its
area share. Targets come from the GeoPackage's own ``land_facts`` table: F12, 12000 万元/公顷
revenue per built ha by 2025 (the Miyun park's target), and F15, 11000 元/平方米 output for
high-tech manufacturers; F05 (8311) and F06 (5934) are the park's 2020 figures.

Parcel grades (亩均评价) compare a parcel's revenue per ha with the F12 target; the thresholds
are fractions of the target (``Grading``; defaults A ≥ 100 %, B ≥ 70 %, C ≥ 40 %, D below).
Built parcels graded below ``Grading.low_efficiency_below`` (default 40 %, i.e. grade D) are
flagged as low-efficiency land (低效用地) candidates for 腾退, as the plan asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.crs import require_projected
from ..core.errors import DataError
from ..core.landuse import parcel_uses
from ..core.measure import M2_PER_HA, MU_PER_HA
from ..core.vocabulary import MIYUN_PARK_ZH, VOCABULARY
from .mix import BUILT, CURRENT_USE, PARCELS, STATUS, check_classes, class_flags, zone_code_columns
from .overlay import allocate

FACTS = CATALOGUE["land_facts"]
BENCHMARK = CATALOGUE["zgc_benchmark"]
REVENUE = PARCELS.field("revenue_10k_cny").name
OUTPUT = PARCELS.field("output_10k_cny").name
ENTERPRISE = PARCELS.field("enterprise").name
SECTOR = PARCELS.field("sector").name
YUAN_PER_10K_CNY = 10_000.0
YUAN_PER_M2_PER_10K_PER_HA = YUAN_PER_10K_CNY / M2_PER_HA  # 万元/公顷 -> 元/平方米 (= 1)
NO_GRADE = "n/a"
GRADES = ("A", "B", "C", "D")

TARGET_FACTS = {  # Targets attribute: (land_facts.fact_code, unit), codes from the vocabulary
    "revenue_per_ha": (VOCABULARY.fact("revenue_target_per_ha_2025"), "万元/公顷"),
    "output_yuan_per_m2": (VOCABULARY.fact("output_target_yuan_per_m2_2025"), "元/平方米"),
    "revenue_per_ha_2020": (VOCABULARY.fact("park_revenue_per_ha_2020"), "万元/公顷"),
    "output_per_ha_2020": (VOCABULARY.fact("park_output_per_ha_2020"), "万元/公顷"),
}
ZONE_YIELD_COLUMNS = (
    "built_construction_ha",
    "built_industrial_ha",
    "revenue_10k_cny",
    "output_10k_cny",
    "revenue_per_ha",
    "output_per_ha",
    "output_yuan_per_m2",
    "target_revenue_per_ha",
    "gap_per_ha",
    "pct_of_target",
    "revenue_needed_10k_cny",
    "target_output_yuan_per_m2",
    "output_pct_of_target",
)


@dataclass(frozen=True)
class Targets:
    """The plan's yield figures, read from ``land_facts`` by fact code.

    ``revenue_per_ha`` (F12, 万元/公顷, 2025), ``output_yuan_per_m2`` (F15, 元/平方米, 2025),
    ``revenue_per_ha_2020`` (F05) and ``output_per_ha_2020`` (F06), both 万元/公顷.
    """

    revenue_per_ha: float
    output_yuan_per_m2: float
    revenue_per_ha_2020: float
    output_per_ha_2020: float

    @classmethod
    def from_land_facts(cls, facts: pd.DataFrame) -> Targets:
        """Look every figure up by fact code; DataError when one is missing or in another unit."""
        return cls(
            **{name: plan_fact(facts, code, unit) for name, (code, unit) in TARGET_FACTS.items()}
        )


def plan_fact(facts: pd.DataFrame, code: str, unit: str | None = None) -> float:
    """The value of fact ``code`` in the ``land_facts`` table (DataError when absent or empty)."""
    id_field, value_field = FACTS.id_field, FACTS.field("value").name
    unit_field = FACTS.field("unit").name
    if id_field not in facts.columns or value_field not in facts.columns:
        raise DataError(
            f"table '{FACTS.name}' lacks '{id_field}' or '{value_field}'; restore it from "
            "geodata/miyun.gpkg"
        )
    rows = facts[facts[id_field] == code]
    if rows.empty or pd.isna(rows[value_field].iloc[0]):
        raise DataError(
            f"table '{FACTS.name}' has no value for fact {code}"
            + (f" ({unit})" if unit else "")
            + "; add the row (see geodata/sources/land_facts.csv) and run again"
        )
    if unit and unit_field in facts.columns and rows[unit_field].iloc[0] != unit:
        raise DataError(
            f"table '{FACTS.name}' fact {code} is in '{rows[unit_field].iloc[0]}', expected "
            f"'{unit}'; convert the value and correct the unit"
        )
    return float(rows[value_field].iloc[0])


@dataclass(frozen=True)
class Grading:
    """Grade thresholds as fractions of the revenue target (defaults: A ≥ 1.0, B ≥ 0.7, C ≥ 0.4).

    ``low_efficiency_below``: built parcels below this fraction are 低效用地 candidates.
    """

    a: float = 1.0
    b: float = 0.7
    c: float = 0.4
    low_efficiency_below: float = 0.4

    def __post_init__(self) -> None:
        if not (self.a >= self.b >= self.c >= 0):
            raise ValueError(
                f"grade thresholds must decrease: A {self.a} >= B {self.b} >= C {self.c} >= 0"
            )
        if self.low_efficiency_below < 0:
            raise ValueError("low_efficiency_below must be >= 0")

    def grade(self, ratio: pd.Series) -> pd.Series:
        """A/B/C/D for each ratio to the target; ``n/a`` where the ratio is NaN."""
        values = ratio.to_numpy(dtype=float)
        grades = np.select(
            [np.isnan(values), values >= self.a, values >= self.b, values >= self.c],
            [NO_GRADE, "A", "B", "C"],
            default="D",
        )
        return pd.Series(grades, index=ratio.index, name="grade", dtype=object)


def parcel_flags(parcels: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """0/1 flags per parcel: built urban-construction land, built industrial land."""
    flags = class_flags(classes)
    current = parcel_uses(parcels, ("current",))["current"]
    codes, uniques = pd.factorize(current.to_numpy(dtype=object), use_na_sentinel=True)
    check_classes(current, list(uniques), classes)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)  # mapped once each

    def flag(column: str) -> np.ndarray:
        per_class = distinct.map(flags[column]).fillna(False).to_numpy(dtype=bool)
        return np.append(per_class, False)[codes]  # code -1 (none) takes the appended False

    built = (parcels[STATUS] == BUILT).fillna(False).to_numpy(dtype=bool)
    construction = flag("construction")
    industrial = flag("industrial")
    return pd.DataFrame(
        {
            "built_construction": (built & construction).astype(float),
            "built_industrial": (built & industrial).astype(float),
        },
        index=parcels.index,
    )


def parcel_money(parcels: pd.DataFrame) -> pd.DataFrame:
    """Revenue and output of every parcel as floats (NaN where not reported)."""
    return _money(parcels)


def _money(parcels: pd.DataFrame) -> pd.DataFrame:
    columns = {}
    for field in (REVENUE, OUTPUT):
        column = parcels[field] if field in parcels.columns else pd.Series(np.nan, parcels.index)
        columns[field] = pd.to_numeric(column, errors="coerce").astype(float)
    return pd.DataFrame(columns, index=parcels.index)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator.div(denominator.where(denominator > 0))


def zone_yields(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    classes: pd.DataFrame,
    targets: Targets,
    *,
    pieces: pd.DataFrame,
    zone_layer: str = "zones",
    flags: pd.DataFrame | None = None,
    money: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Revenue and output per built hectare of every zone, against the plan's targets.

    Parameters
    ----------
    zones, parcels
        In EPSG:4548; zones indexed by zone code, parcels by parcel code.
    classes
        The ``land_use_classes`` table (construction group, industrial flag).
    targets
        ``Targets.from_land_facts(plan["land_facts"])``.
    pieces
        ``overlay_pieces(zones, parcels)``: the overlay is computed once, by the caller.
    flags, money
        ``parcel_flags(parcels, classes)`` and ``parcel_money(parcels)`` when already
        computed (they depend on the parcels only: once for every zone layer).

    Returns
    -------
    pandas.DataFrame
        Index = zone code. Columns:

        - ``built_construction_ha``: built urban-construction land in the zone (ha);
        - ``built_industrial_ha``: built industrial land (ha);
        - ``revenue_10k_cny``, ``output_10k_cny``: revenue and industrial output (万元) of the
          parcels in the zone, split by area share (NaN when no parcel reports any);
        - ``revenue_per_ha``: revenue / built_construction_ha (万元/公顷);
        - ``output_per_ha``: output / built_industrial_ha (万元/公顷);
        - ``output_yuan_per_m2``: the same output per built industrial m² in 元;
        - ``target_revenue_per_ha``: the 2025 target (F12, 万元/公顷);
        - ``gap_per_ha``: target − revenue_per_ha (positive = short of the target);
        - ``pct_of_target``: revenue_per_ha / target × 100;
        - ``revenue_needed_10k_cny``: extra revenue (万元) the zone needs on its current built
          land to reach the target, 0 when it is already there;
        - ``target_output_yuan_per_m2``: the manufacturers' target (F15, 元/平方米);
        - ``output_pct_of_target``: output_yuan_per_m2 / that target × 100.
        Per-ha figures are NaN where the zone has no built land of the kind.
    """
    if flags is None:
        flags = parcel_flags(parcels, classes)
    land = allocate(pieces, flags, weight="area_m2") / M2_PER_HA
    money_values = _money(parcels) if money is None else money
    money = allocate(pieces, money_values)
    reported = allocate(pieces, money_values.notna().astype(float))
    money = money.where(reported > 0)
    out = pd.DataFrame(index=pd.Index(zones.index, name="zone"))
    out["built_construction_ha"] = land["built_construction"]
    out["built_industrial_ha"] = land["built_industrial"]
    out["revenue_10k_cny"] = money[REVENUE]
    out["output_10k_cny"] = money[OUTPUT]
    out["revenue_per_ha"] = _ratio(out["revenue_10k_cny"], out["built_construction_ha"])
    out["output_per_ha"] = _ratio(out["output_10k_cny"], out["built_industrial_ha"])
    out["output_yuan_per_m2"] = out["output_per_ha"] * YUAN_PER_M2_PER_10K_PER_HA
    out["target_revenue_per_ha"] = targets.revenue_per_ha
    out["gap_per_ha"] = targets.revenue_per_ha - out["revenue_per_ha"]
    out["pct_of_target"] = out["revenue_per_ha"] / targets.revenue_per_ha * 100
    needed = targets.revenue_per_ha * out["built_construction_ha"] - out["revenue_10k_cny"]
    out["revenue_needed_10k_cny"] = needed.clip(lower=0.0)
    out["target_output_yuan_per_m2"] = targets.output_yuan_per_m2
    out["output_pct_of_target"] = out["output_yuan_per_m2"] / targets.output_yuan_per_m2 * 100
    return out[list(ZONE_YIELD_COLUMNS)]


def parcel_yields(
    parcels: gpd.GeoDataFrame,
    targets: Targets,
    *,
    zone_codes: pd.DataFrame | None = None,
    grading: Grading | None = None,
) -> pd.DataFrame:
    """Yield and 亩均 grade of every parcel, flagging low-efficiency land (低效用地).

    Parameters
    ----------
    parcels
        In EPSG:4548, index = parcel code.
    targets
        ``Targets.from_land_facts(...)``.
    zone_codes
        Optional columns to put first (e.g. the cluster / park / zgc zone of each parcel),
        indexed by parcel code.
    grading
        Grade thresholds (fractions of the revenue target); default ``Grading()``.

    Returns
    -------
    pandas.DataFrame
        Index = parcel code; all parcels. Columns: the ``zone_codes`` columns, then
        ``current_use``, ``status``, ``enterprise``, ``sector``, ``area_ha``, ``area_mu``,
        ``revenue_10k_cny``, ``output_10k_cny`` (as reported), ``revenue_per_ha`` (万元/公顷 of
        parcel area), ``output_per_ha`` (万元/公顷), ``yuan_per_m2`` (industrial output, 元 per
        m²), ``pct_of_target`` (revenue_per_ha / F12 × 100), ``output_pct_of_target``
        (yuan_per_m2 / F15 × 100), ``grade`` (A/B/C/D on pct_of_target, ``n/a`` where the parcel
        reports no revenue) and ``low_efficiency`` (built, graded, and below
        ``grading.low_efficiency_below`` of the target).
    """
    require_projected(parcels, layer=PARCELS.name)
    grading = grading or Grading()
    area_ha = pd.Series(parcels.geometry.area.to_numpy() / M2_PER_HA, index=parcels.index)
    money = _money(parcels)
    index = pd.Index(parcels.index, name=PARCELS.id_field)
    out = zone_code_columns(index, zone_codes, parcels.index)
    for field in (CURRENT_USE, STATUS, ENTERPRISE, SECTOR):
        out[field] = parcels[field] if field in parcels.columns else None
    out["area_ha"] = area_ha
    out["area_mu"] = area_ha * MU_PER_HA
    out["revenue_10k_cny"] = money[REVENUE]
    out["output_10k_cny"] = money[OUTPUT]
    out["revenue_per_ha"] = _ratio(money[REVENUE], area_ha)
    out["output_per_ha"] = _ratio(money[OUTPUT], area_ha)
    out["yuan_per_m2"] = out["output_per_ha"] * YUAN_PER_M2_PER_10K_PER_HA
    ratio = out["revenue_per_ha"] / targets.revenue_per_ha
    out["pct_of_target"] = ratio * 100
    out["output_pct_of_target"] = out["yuan_per_m2"] / targets.output_yuan_per_m2 * 100
    out["grade"] = grading.grade(ratio)
    built = (out[STATUS] == BUILT).fillna(False).astype(bool)
    out["low_efficiency"] = built & ratio.notna() & (ratio < grading.low_efficiency_below)
    return out


def benchmark_table(
    benchmark: pd.DataFrame, targets: Targets, *, miyun: str = MIYUN_PARK_ZH
) -> pd.DataFrame:
    """Table 1-1 (the 17 Zhongguancun sub-parks, 2020) with implied land and Miyun's position.

    Returns
    -------
    pandas.DataFrame
        Index = ``park_zh`` in the table's order. The table's columns (``park_en``,
        ``total_revenue_100m_cny``, ``revenue_per_ha_10k_cny``, ``industrial_output_100m_cny``,
        ``output_per_ha_10k_cny``) and:

        - ``implied_built_ha``: total revenue (亿元 × 10 000 = 万元) / revenue per ha;
        - ``implied_industrial_ha``: industrial output / output per ha (NaN without the latter);
        - ``revenue_rank``, ``output_rank``: 1 = highest per-ha figure among the parks;
        - ``is_miyun``: the Miyun park's row;
        - ``target_revenue_per_ha``, ``gap_to_target_per_ha`` (target − 2020 figure),
          ``pct_of_target`` and ``revenue_needed_100m_cny`` (extra revenue, 亿元, on the implied
          built area): on the Miyun row only (its 2025 target, F12).
    """
    id_field = BENCHMARK.id_field
    if id_field not in benchmark.columns:
        raise DataError(f"table '{BENCHMARK.name}' has no field '{id_field}'; restore it")
    table = benchmark.set_index(id_field)
    if miyun not in table.index:
        raise DataError(
            f"table '{BENCHMARK.name}' has no row '{miyun}' (the Miyun park); restore Table 1-1 "
            "from geodata/sources/zgc_parks_2020.csv"
        )
    keep = [f.name for f in BENCHMARK.fields if f.name in table.columns and f.name != "note"]
    out = table[keep].copy()
    revenue_10k = out["total_revenue_100m_cny"].astype(float) * YUAN_PER_10K_CNY
    output_10k = out["industrial_output_100m_cny"].astype(float) * YUAN_PER_10K_CNY
    out["implied_built_ha"] = _ratio(revenue_10k, out["revenue_per_ha_10k_cny"].astype(float))
    out["implied_industrial_ha"] = _ratio(output_10k, out["output_per_ha_10k_cny"].astype(float))
    out["revenue_rank"] = out["revenue_per_ha_10k_cny"].rank(ascending=False, method="min")
    out["output_rank"] = out["output_per_ha_10k_cny"].rank(ascending=False, method="min")
    out["revenue_rank"] = out["revenue_rank"].astype("Int64")
    out["output_rank"] = out["output_rank"].astype("Int64")
    out["is_miyun"] = out.index == miyun
    per_ha = out["revenue_per_ha_10k_cny"].astype(float)
    target = pd.Series(np.nan, index=out.index).where(~out["is_miyun"], targets.revenue_per_ha)
    out["target_revenue_per_ha"] = target
    out["gap_to_target_per_ha"] = target - per_ha
    out["pct_of_target"] = per_ha / target * 100
    out["revenue_needed_100m_cny"] = (
        out["gap_to_target_per_ha"] * out["implied_built_ha"] / YUAN_PER_10K_CNY
    ).clip(lower=0)
    return out


__all__ = [
    "GRADES",
    "NO_GRADE",
    "Grading",
    "Targets",
    "benchmark_table",
    "parcel_flags",
    "parcel_money",
    "parcel_yields",
    "plan_fact",
    "zone_yields",
]
