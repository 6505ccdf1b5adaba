"""The evaluation engine: indicator values, scores, groups, grades (亩均效益综合评价).

For each enterprise row (a parcel), in this order:

1. ``group``: the first ``[[groups]]`` rule whose ``when`` holds (no rules: one group
   ``all``); a row matching none is not graded (reason ``no group``);
2. exemption: the first ``[[exempt]]`` rule that holds makes the row 不参评 (reason = its name);
3. each indicator's ``value`` = its formula; its ratio r = value / benchmark (``higher``) or
   benchmark / value (``lower``), NaN where value or benchmark is missing or not > 0 for a
   ``lower`` indicator; r is capped at the indicator's ``cap`` (else ``scoring.cap``);
   a group statistic benchmark (mean, median, quantile, linear interpolation) is taken over
   the rows of the group that are neither exempt nor missing that indicator's value;
4. indicator score = scale × weight × r; a missing r follows the indicator's ``missing`` rule:
   ``not_graded`` (the row is not graded, reason ``missing: key``), ``zero`` (score 0) or
   ``reweight`` (left out; the total is multiplied by weights_sum / weights present);
5. total = the sum of the indicator scores (in configuration order);
6. grade: ``thresholds``: the first grade whose threshold the total reaches (>=), else the last;
   ``rank``: within the group, rank = 1 + the number of graded rows scoring strictly more,
   share = rank / graded rows; the first grade whose cut-off the share does not exceed (<=).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .config import Config, ConfigError, Indicator
from .formula import FormulaError

ALL_GROUP = "all"
NO_GROUP = "no group"
REASON_NAMES = ("score", "grade", "far_standard")  # what the 低效用地 reasons may read too


def check_names(config: Config, columns, *, known=(), table: str = "the table") -> list[str]:
    """Names the formulas read that are neither columns nor constants: ConfigError for a
    name that is not known at all; returned (as a list) for known fields absent from the
    data, which make their indicators not computable."""
    absent = []
    scoring = config.names("scoring")
    late = config.names("low_efficiency") - scoring - set(REASON_NAMES)
    for name in sorted(scoring | late):
        if name in columns:
            continue
        if name in known:
            absent.append(name)
            continue
        raise ConfigError(
            f"{config.origin}: a formula reads '{name}', which is not a column of {table} nor a "
            f"constant; fix the name (columns: {', '.join(sorted(map(str, columns)))})"
        )
    return absent


def _computed(formula, frame: pd.DataFrame, constants, key: str):
    """``formula`` on ``frame``; a formula that fails on the data is a ConfigError on ``key``."""
    try:
        return formula.evaluate(frame, constants)
    except FormulaError as exc:
        raise ConfigError(
            f"key '{key}' ({formula.text}) cannot be computed: {exc}; fix the formula"
        ) from None


def _condition(rule, frame: pd.DataFrame, constants) -> np.ndarray:
    value = _computed(rule.when, frame, constants, f"{rule.name}.when")
    if value.dtype != bool:
        value = value.fillna(False).astype(bool) if value.dtype == object else value.fillna(0) != 0
    return value.to_numpy(dtype=bool)


def assign_groups(frame: pd.DataFrame, config: Config) -> pd.Series:
    """The group of every row (None where no rule holds)."""
    if not config.groups:
        return pd.Series(ALL_GROUP, index=frame.index, dtype=object)
    out = np.full(len(frame), None, dtype=object)
    for rule in config.groups:
        hit = _condition(rule, frame, config.constants) & pd.isna(out)
        out[hit] = rule.name
    return pd.Series(out, index=frame.index, dtype=object)


def exemptions(frame: pd.DataFrame, config: Config) -> pd.Series:
    """The exemption (不参评) reason of every row, None where the row takes part."""
    out = np.full(len(frame), None, dtype=object)
    for rule in config.exempt:
        hit = _condition(rule, frame, config.constants) & pd.isna(out)
        out[hit] = rule.name
    return pd.Series(out, index=frame.index, dtype=object)


def _benchmark(
    indicator: Indicator, values: pd.Series, groups: pd.Series, pool: pd.Series, facts
) -> pd.Series:
    b = indicator.benchmark
    if b.value is not None:
        return pd.Series(b.value, index=values.index, dtype=float)
    if b.fact is not None:
        return pd.Series(facts(b.fact), index=values.index, dtype=float)
    usable = values.where(pool & values.notna())
    grouped = usable.groupby(groups, dropna=True)
    if b.stat == "mean":
        per_group = grouped.mean()
    elif b.stat == "median":
        per_group = grouped.median()
    else:
        per_group = grouped.quantile(b.q)
    return groups.map(per_group).astype(float)


def _ratio(indicator: Indicator, values: pd.Series, benchmark: pd.Series) -> pd.Series:
    if indicator.direction == "higher":
        ratio = values / benchmark.where(benchmark > 0)
    else:
        ratio = benchmark.where(benchmark > 0) / values.where(values > 0)
    cap = indicator.cap
    return ratio if cap is None else ratio.clip(upper=cap)


def evaluate(
    table: pd.DataFrame,
    config: Config,
    *,
    facts=None,
    known: frozenset[str] | set[str] = frozenset(),
    table_name: str = "the table",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score and grade every row of ``table`` (index = parcel code).

    ``facts(code) -> float`` resolves ``{fact = "..."}`` benchmarks (``land_facts``); ``known``
    names fields that may be absent (the catalogue's optional fields): an indicator reading
    one is reported as not computable, its value missing.

    Returns ``(rows, indicators)``: rows indexed like ``table`` with ``group``, ``<key>_value``,
    ``<key>_benchmark``, ``<key>_score`` for each indicator, ``score``, ``grade``,
    ``rank_share`` (rank grading), ``reason`` (why not graded, else None); indicators indexed
    by key with label, unit, weight, benchmark kind, computable and why not.
    """
    absent = check_names(config, table.columns, known=known, table=table_name)
    frame = table.copy()
    for name in absent:
        frame[name] = np.nan
    cap = config.cap
    groups = assign_groups(frame, config)
    exempt = exemptions(frame, config)
    pool = exempt.isna() & groups.notna()
    out = pd.DataFrame({"group": groups}, index=table.index)
    reason = pd.Series(None, index=table.index, dtype=object)
    reason[groups.isna()] = NO_GROUP
    reason[exempt.notna() & reason.isna()] = "不参评 exempt: " + exempt[exempt.notna()]
    total = pd.Series(0.0, index=table.index)
    present_weight = pd.Series(0.0, index=table.index)
    missing_rows = pd.Series(None, index=table.index, dtype=object)
    summary = []
    for indicator in config.indicators:
        if cap is not None and indicator.cap is None:
            indicator = _with_cap(indicator, cap)
        computed = _computed(
            indicator.formula, frame, config.constants, f"indicators.{indicator.key}.formula"
        )
        values = pd.to_numeric(computed, errors="coerce").astype(float)
        if not np.isfinite(values.fillna(0)).all():
            values = values.where(np.isfinite(values))
        benchmark = _benchmark(indicator, values, groups, pool, facts)
        ratio = _ratio(indicator, values, benchmark)
        score = config.scale * indicator.weight * ratio
        missing = ratio.isna()
        if indicator.missing == "zero":
            score = score.fillna(0.0)
            present_weight += indicator.weight
        elif indicator.missing == "reweight":
            present_weight += indicator.weight * (~missing)
        else:
            present_weight += indicator.weight
            first = missing & missing_rows.isna()
            missing_rows[first] = f"missing: {indicator.key}"
        total = total + score.fillna(0.0)
        out[f"{indicator.key}_value"] = values
        out[f"{indicator.key}_benchmark"] = benchmark
        out[f"{indicator.key}_score"] = score
        reads = sorted(indicator.formula.names & set(absent))
        summary.append(
            {
                "key": indicator.key,
                "label_zh": indicator.label_zh,
                "label_en": indicator.label_en,
                "unit": indicator.unit,
                "formula": indicator.formula.text,
                "weight": indicator.weight,
                "benchmark": _benchmark_text(indicator),
                "direction": indicator.direction,
                "cap": indicator.cap,
                "missing_rule": indicator.missing,
                "computable": not reads,
                "why_not": (
                    f"field {', '.join(reads)} not in {table_name} (optional; add it to compute "
                    "this indicator)"
                    if reads
                    else None
                ),
                "rows_with_value": int(values.notna().sum()),
            }
        )
    scale = pd.Series(config.weights_sum, index=table.index).div(
        present_weight.where(present_weight > 0)
    )
    reweighted = any(i.missing == "reweight" for i in config.indicators)
    if reweighted:
        total = total * scale
    reason[reason.isna() & missing_rows.notna()] = missing_rows
    if reweighted:
        reason[reason.isna() & total.isna()] = "missing: every indicator"
    graded = reason.isna()
    out["score"] = total.where(graded)
    out["grade"], out["rank_share"] = _grades(out["score"], groups, graded, config)
    out["reason"] = reason
    indicators = pd.DataFrame(summary).set_index("key")
    return out, indicators


def _with_cap(indicator: Indicator, cap: float) -> Indicator:
    return replace(indicator, cap=cap)


def _benchmark_text(indicator: Indicator) -> str:
    b = indicator.benchmark
    if b.value is not None:
        return f"{b.value:g}"
    if b.fact is not None:
        return f"land_facts {b.fact}"
    return f"group {b.stat}" + (f" q={b.q:g}" if b.q is not None else "")


def _grades(score: pd.Series, groups: pd.Series, graded: pd.Series, config: Config):
    grades = np.asarray(config.grades, dtype=object)
    values = score.to_numpy(dtype=float)
    out = np.full(len(score), config.not_graded, dtype=object)
    share = pd.Series(np.nan, index=score.index)
    mask = graded.to_numpy(dtype=bool)
    if config.method == "thresholds":
        conditions = [values >= t for t in config.cutoffs]
        picked = np.select(conditions, grades[:-1].tolist(), default=grades[-1])
        out[mask] = picked[mask]
        return pd.Series(out, index=score.index, dtype=object), share
    ranked = score.where(graded)
    rank = ranked.groupby(groups).rank(method="min", ascending=False)
    count = ranked.groupby(groups).transform("count")
    share = (rank / count).where(graded)
    s = share.to_numpy(dtype=float)
    picked = np.select([s <= c for c in config.cutoffs], grades[:-1].tolist(), default=grades[-1])
    out[mask] = picked[mask]
    return pd.Series(out, index=score.index, dtype=object), share


def enterprise_frame(parcels, *, mu_per_ha: float, m2_per_ha: float) -> pd.DataFrame:
    """The parcels' attributes with ``area_ha`` and ``area_mu`` (from the geometry, in the
    parcels' projected CRS): the table the formulas read."""
    frame = pd.DataFrame(parcels.drop(columns=parcels.geometry.name))
    area_ha = pd.Series(parcels.geometry.area.to_numpy() / m2_per_ha, index=parcels.index)
    frame["area_ha"] = area_ha
    frame["area_mu"] = area_ha * mu_per_ha
    return frame


def fact_lookup(facts: pd.DataFrame | None, lookup) -> object:
    """A ``code -> value`` resolver over ``land_facts`` (``lookup`` = ``yields.plan_fact``)."""

    def resolve(code: str) -> float:
        if facts is None:
            raise ConfigError(
                f"a benchmark reads fact {code} but table 'land_facts' is missing; restore it"
            )
        return lookup(facts, code)

    return resolve


__all__ = [
    "ALL_GROUP",
    "NO_GROUP",
    "assign_groups",
    "check_names",
    "enterprise_frame",
    "evaluate",
    "exemptions",
    "fact_lookup",
]
