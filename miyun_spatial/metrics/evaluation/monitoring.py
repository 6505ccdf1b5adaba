"""规划实施监测预警: every plan indicator with a 2025 target, its value, gap, trajectory, and a
红/黄/绿 warning by the thresholds of the evaluation configuration's ``[monitoring]``.

- ``value``: computed from the data where the data allow (``COMPUTED``), else the plan's 2020
  baseline; ``value_year`` = ``monitoring.data_year`` (the default data are calibrated to
  2020) or 2020 for a baseline;
- trajectory: the constant annual growth from the 2020 base to the 2025 target,
  ``required_growth_pct`` = ((target / base)^(1/5) − 1) × 100, and the value that path
  expects in ``monitoring.assessment_year``, ``expected`` = base × (target / base)^((year − 2020)/5);
- ``ratio`` = value / expected; warning ``green`` when ratio ≥ ``monitoring.green``, ``amber``
  when ≥ ``monitoring.amber``, else ``red``; ``n/a`` without a baseline or a value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .config import Monitoring

BASE_YEAR, TARGET_YEAR = 2020, 2025
WARNING_ZH = {"green": "绿", "amber": "黄", "red": "红", "n/a": "—"}


def computed_values(
    tables: Mapping[str, pd.DataFrame], enterprise: pd.DataFrame, park: tuple[str, str] | None
) -> dict[str, float]:
    """Indicator (by its Chinese name in the plan) -> the value the data give."""
    out: dict[str, float] = {}
    zone = tables.get("zone_yields")
    if zone is not None and park is not None and park in zone.index:
        out["密云园单位土地收入"] = float(zone.loc[park, "revenue_per_ha"])
    number = lambda c: pd.to_numeric(enterprise.get(c), errors="coerce")  # noqa: E731
    if "output_10k_cny" in enterprise and "employees" in enterprise:
        output, employees = number("output_10k_cny"), number("employees")
        both = output.notna() & employees.notna() & (employees > 0)
        if both.any():
            out["人均工业产值"] = float(output[both].sum() / employees[both].sum())
    if "rnd_10k_cny" in enterprise and "revenue_10k_cny" in enterprise:
        rnd, revenue = number("rnd_10k_cny"), number("revenue_10k_cny")
        industrial = enterprise.get("built_industrial", pd.Series(0, enterprise.index)) == 1
        above = industrial & rnd.notna() & (revenue >= 2000)  # 规上: 2000 万元 and more
        if above.any():
            out["规上工业企业研发投入强度"] = float(rnd[above].sum() / revenue[above].sum() * 100)
    return out


def indicator_monitoring(
    indicators: pd.DataFrame | None,
    computed: Mapping[str, float],
    monitoring: Monitoring,
    *,
    synthetic: bool,
) -> pd.DataFrame:
    """One row per indicator with a 2025 target (index = indicator_code)."""
    columns = ["group_zh", "indicator_zh", "indicator_en", "unit", "baseline_2020", "target_2025"]
    if indicators is None or "target_2025" not in indicators.columns:
        return pd.DataFrame(columns=columns).rename_axis("indicator_code")
    rows = indicators[pd.to_numeric(indicators["target_2025"], errors="coerce").notna()]
    out = pd.DataFrame({c: rows.get(c, None) for c in columns}).set_axis(
        rows["indicator_code"].astype(str).rename("indicator_code")
    )
    base = pd.to_numeric(out["baseline_2020"], errors="coerce").astype(float)
    target = pd.to_numeric(out["target_2025"], errors="coerce").astype(float)
    found = out["indicator_zh"].map(computed)
    source = "computed from land_parcels" + (" (synthetic)" if synthetic else "")
    out["value"] = found.where(found.notna(), base).astype(float)
    out["value_year"] = np.where(found.notna(), monitoring.data_year, BASE_YEAR)
    out["value_source"] = np.where(
        found.notna(), source, np.where(base.notna(), "plan 2020 baseline", "no value")
    )
    out["gap"] = target - out["value"]
    out["pct_of_target"] = out["value"] / target * 100
    usable = (base > 0) & (target > 0)
    growth = (target / base.where(usable)) ** (1 / (TARGET_YEAR - BASE_YEAR))
    out["required_growth_pct"] = (growth - 1) * 100
    years = monitoring.assessment_year - BASE_YEAR
    out["assessment_year"] = monitoring.assessment_year
    out["expected"] = base.where(usable) * growth**years
    out["ratio"] = out["value"] / out["expected"]
    ratio = out["ratio"].to_numpy(dtype=float)
    out["warning"] = np.select(
        [np.isnan(ratio), ratio >= monitoring.green, ratio >= monitoring.amber],
        ["n/a", "green", "amber"],
        default="red",
    )
    out["warning_zh"] = out["warning"].map(WARNING_ZH)
    return out


__all__ = ["WARNING_ZH", "computed_values", "indicator_monitoring"]
