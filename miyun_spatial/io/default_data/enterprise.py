"""Synthetic 亩均效益评价 and 低效用地 attributes of the default parcels (NOT statistics).

Added after the revenue / output / employees of ``parcels.add_economics`` with their own seed,
so those (and every figure calibrated on them) stay as they were. Calibration:

- ``rnd_10k_cny``: R&D of the built industrial enterprises scaled so that their total is
  exactly 3.0 % of their revenue, the plan's 2020 规上工业企业研发投入强度 (indicators table);
  services firms get a spread around 3 % too;
- ``energy_tce``: scaled so that total energy / total value added = 0.3446 吨标煤/万元, the
  plan's 2020 万元GDP能耗 (a district-wide ratio, used here only as the order of magnitude);
- ``value_added_10k_cny`` (工业增加值 = output × an assumed 22-32 % value-added rate),
  ``tax_10k_cny`` (an assumed 3-8 % of revenue), ``emissions_t`` (an assumed 0.002-0.02 t per
  万元 of value added): no published figure, assumptions of this generator;
- ``supply_status`` / ``supply_year``: built and under-construction parcels were supplied
  (2005-2019 and 2019-2022); unbuilt parcels planned for industry are approved, not supplied
  (批而未供) or supplied 2016-2023 and not yet built; other parcels not applicable;
- ``far`` (容积率, lognormal around 1.2 for industry, 1.8 for services; some below 1.0) and
  ``building_area_m2`` = far × parcel area, for built parcels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .plan_features import seed_for

RND_INTENSITY_2020 = 3.0  # % of revenue, indicators: 规上工业企业研发投入强度 2020
ENERGY_PER_10K_GDP_2020 = 0.3446  # 吨标煤 per 万元, indicators: 万元GDP能耗 2020
INDUSTRY = ("M1", "M2")


def _scale(raw: pd.Series, total: float, mask: pd.Series) -> pd.Series:
    return (raw * (total / raw[mask].sum())).where(mask).round(2)


def add_enterprise_attributes(parcels: pd.DataFrame) -> pd.DataFrame:
    """The parcels with the synthetic fields of the module docstring (NaN / None where none)."""
    rng = np.random.default_rng(seed_for("enterprise-attributes"))
    out = parcels.copy()
    n = len(out)
    revenue = pd.to_numeric(out["revenue_10k_cny"], errors="coerce")
    output = pd.to_numeric(out["output_10k_cny"], errors="coerce")
    earning = revenue.notna() & (revenue > 0)
    industrial = earning & out["current_use"].isin(INDUSTRY) & output.notna()
    built = out["status"] == "built"

    va_rate = pd.Series(rng.uniform(0.22, 0.32, n), index=out.index)
    value_added = (output * va_rate).where(industrial).round(2)
    tax = (revenue * rng.uniform(0.03, 0.08, n)).where(earning).round(2)
    rnd_raw = revenue * np.exp(rng.normal(0.0, 0.6, n))
    rnd = _scale(rnd_raw, RND_INTENSITY_2020 / 100 * revenue[industrial].sum(), industrial)
    services = earning & ~industrial
    rnd = rnd.where(industrial, (rnd_raw * RND_INTENSITY_2020 / 100).where(services).round(2))
    energy_raw = value_added * np.exp(rng.normal(0.0, 0.5, n))
    energy = _scale(energy_raw, ENERGY_PER_10K_GDP_2020 * value_added[industrial].sum(), industrial)
    emissions = (value_added * rng.uniform(0.002, 0.02, n)).where(industrial).round(3)

    status = np.full(n, None, dtype=object)
    year = np.full(n, np.nan)
    in_park = out["parcel_code"].str.match(r"^(C2|C3|A1)-").to_numpy()
    is_built = built.to_numpy()
    building = (out["status"] == "under_construction").to_numpy()
    planned_industry = out["planned_use"].isin(INDUSTRY).to_numpy()
    unbuilt = (out["status"] == "unbuilt").to_numpy()
    status[is_built | building] = "supplied"
    year[is_built] = rng.integers(2005, 2020, n)[is_built]
    year[building] = rng.integers(2019, 2023, n)[building]
    waiting = in_park & unbuilt & planned_industry
    approved = waiting & (rng.random(n) < 0.4)
    idle = waiting & ~approved
    status[approved] = "approved"
    status[idle] = "supplied"
    year[idle] = rng.integers(2016, 2024, n)[idle]
    status[pd.isna(status)] = "not_applicable"

    centre = np.where(out["current_use"].isin(INDUSTRY), 1.2, 1.8)
    far = pd.Series(centre * np.exp(rng.normal(0.0, 0.35, n)), index=out.index).round(2)
    far = far.where(built)
    area_m2 = out.geometry.area if hasattr(out, "geometry") else pd.Series(np.nan, out.index)

    out["tax_10k_cny"] = tax
    out["value_added_10k_cny"] = value_added
    out["energy_tce"] = energy
    out["emissions_t"] = emissions
    out["rnd_10k_cny"] = rnd
    out["supply_status"] = status
    out["supply_year"] = pd.array(np.where(np.isnan(year), None, year), dtype="Int64")
    out["far"] = far
    out["building_area_m2"] = (far * area_m2).round(1)
    return out


__all__ = ["ENERGY_PER_10K_GDP_2020", "RND_INTENSITY_2020", "add_enterprise_attributes"]
