"""Consistency checks of the plan against itself: Table 1-1, unit conversions, Table 2-1, text."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator

import pandas as pd

from ..core.consistency import Consistency
from ..core.measure import MU_PER_HA
from ..core.plan import PlanData
from ..core.vocabulary import MIYUN_PARK_ZH
from . import plan_text
from .recompute import (
    APPROX_RATE_PP,
    HA_PER_KM2,
    LAYERS,
    WAN_PER_YI,
    YUAN_M2_PER_WAN_HA,
    Fact,
    compare,
    exact,
    half_unit,
    keyed_table,
    land_facts,
    layer_table,
    missing_facts,
    not_checked,
    number,
    printed,
)

_INDICATORS = LAYERS["indicators"]
_BENCHMARK = LAYERS["zgc_benchmark"]
_RATE = re.compile(r"年均增速(约)?([0-9.]+)%")
PEER_PARKS_ZH = ("海淀园", "朝阳园", "亦庄园", "顺义园")  # "成熟园区" named in 一（二）6


# --- Table 1-1 --------------------------------------------------------------------------


def benchmark_checks(plan: PlanData) -> Iterator[Consistency]:
    """Table 1-1's Miyun row: implied areas vs the stated ones, the same figures in the text."""
    table = keyed_table(plan, _BENCHMARK.name)
    facts = land_facts(plan)
    subject = f"{MIYUN_PARK_ZH} Miyun park"
    if table is None or MIYUN_PARK_ZH not in table.index:
        yield not_checked("benchmark", "implied_area", subject, "表1-1", "ha", "Table 1-1 missing")
        return
    row = table.loc[MIYUN_PARK_ZH]
    revenue = number(row.get("total_revenue_100m_cny"))
    revenue_ha = number(row.get("revenue_per_ha_10k_cny"))
    output = number(row.get("industrial_output_100m_cny"))
    output_ha = number(row.get("output_per_ha_10k_cny"))
    implied = (
        ("F03", revenue, revenue_ha, "总收入 ÷ 单位面积收入 revenue ÷ revenue per ha"),
        ("F04", output, output_ha, "工业总产值 ÷ 单位面积工业产值 output ÷ output per ha"),
    )
    for code, amount, per_ha, how in implied:
        problem = missing_facts(facts, code)
        if problem or amount is None or not per_ha:
            yield not_checked("benchmark", "implied_area", subject, "表1-1", "ha", problem or how)
            continue
        fact = facts[code]
        yield compare(
            "benchmark",
            "implied_area",
            f"{subject}: {fact.label}",
            f"表1-1；{fact.section}",
            "ha",
            printed(fact.value),
            lambda a, p: a * WAN_PER_YI / p,
            (printed(amount), printed(per_ha)),
            f"Table 1-1 {how} = implied area, vs the area stated in {fact.section}",
        )
    same = (
        ("F05", revenue_ha, "万元/公顷"),
        ("F06", output_ha, "万元/公顷"),
        ("F07", revenue, "亿元"),
        ("F08", output, "亿元"),
    )
    for code, value, unit in same:
        if code not in facts or value is None:
            continue
        fact = facts[code]
        yield compare(
            "benchmark",
            "table_vs_text",
            f"{subject}: {fact.label}",
            fact.section,
            unit,
            printed(fact.value),
            lambda v: v,
            (printed(value),),
            "Table 1-1 vs the same figure in the text",
        )
    if "F09" in facts and "F07" in facts:
        reg, tab = facts["F09"], facts["F07"]
        yield Consistency(
            "benchmark",
            "revenue_basis",
            f"{subject}: {reg.label}",
            f"{reg.section}；表1-1",
            tab.value,
            reg.value,
            "亿元",
            "different_basis",
            f"the text's 2020 revenue {reg.value:g} 亿元 is counted by place of registration "
            f"(注册地口径); Table 1-1 gives {tab.value:g} 亿元 and yields use that",
        )
    yield from _peer_check(table, subject)


def _peer_check(table: pd.DataFrame, subject: str) -> Iterator[Consistency]:
    peers = [p for p in PEER_PARKS_ZH if p in table.index]
    if len(peers) != len(PEER_PARKS_ZH):
        return
    miyun = table.loc[MIYUN_PARK_ZH]
    columns = ("revenue_per_ha_10k_cny", "output_per_ha_10k_cny")
    above = [
        p
        for p in peers
        if all((number(table.loc[p, c]) or 0.0) > (number(miyun[c]) or math.inf) for c in columns)
    ]
    yield Consistency(
        "benchmark",
        "peers_ahead",
        f"{subject}: 落后于 {'、'.join(PEER_PARKS_ZH)}",
        "一（二）6；表1-1",
        float(len(PEER_PARKS_ZH)),
        float(len(above)),
        "个",
        "consistent" if len(above) == len(PEER_PARKS_ZH) else "mismatch",
        "parks the text names as far ahead of Miyun, counted where Table 1-1 shows both "
        "revenue and output per ha above Miyun's",
    )


# --- unit conversions -------------------------------------------------------------------


def unit_checks(plan: PlanData) -> Iterator[Consistency]:
    """108 ha = 1620 亩, 19.44 km² vs 1000.84 ha, 1300 亩 vs the candidates, 1.2 亿 = 12000 万."""
    facts = land_facts(plan)
    if not missing_facts(facts, "F13", "F14"):
        ha, mu = facts["F13"], facts["F14"]
        yield compare(
            "units",
            "ha_to_mu",
            f"A1 {ha.value:g} 公顷 = {mu.value:g} 亩",
            ha.section,
            "亩",
            printed(mu.value),
            lambda v: v * MU_PER_HA,
            (printed(ha.value),),
            f"{ha.value:g} ha × {MU_PER_HA:g} 亩/ha",
        )
    if not missing_facts(facts, "F10", "F01"):
        km2, ha = facts["F10"], facts["F01"]
        yield compare(
            "units",
            "park_extent",
            f"密云园 {km2.value:g} 平方公里 vs {ha.value:g} 公顷",
            f"{km2.section}；{ha.section}",
            "ha",
            printed(ha.value),
            lambda v: v * HA_PER_KM2,
            (printed(km2.value),),
            f"the 'existing extent' of {km2.value:g} km² ({km2.section}, 附件2任务26) is "
            f"{km2.value * HA_PER_KM2:,.0f} ha, not the planned area of {ha.value:g} ha "
            f"({ha.section}); Z1 is digitized at the planned area",
        )
    if "F11" in facts:
        yield _expansion_mu(plan, facts["F11"])
    if not missing_facts(facts, "F12"):
        target = facts["F12"]
        text = plan_text.PARK_REVENUE_TARGET_YI
        yield compare(
            "units",
            "yi_to_wan",
            f"密云园收入目标 {text.value:g} 亿元/公顷 = {target.value:g} 万元/公顷",
            text.section,
            "万元/公顷",
            printed(target.value),
            lambda v: v * WAN_PER_YI,
            (printed(text.value),),
            f"“{text.quote_zh}” × 10 000 万元/亿元 vs land_facts F12",
        )
    yield from _manufacturing_yield_basis(plan, facts)


def _expansion_mu(plan: PlanData, fact: Fact) -> Consistency:
    """1300 亩 of expansion land vs the candidates the plan names (any combination of them)."""
    spec = LAYERS["zgc_park"]
    status_field = spec.category_field
    current = spec.field(status_field).value_spec("current").value
    park = layer_table(plan, spec.name)
    candidates: list[tuple[str, float]] = []
    if park is not None and status_field in park.columns:
        for code, status, stated in zip(
            park[spec.id_field], park[status_field], park["stated_area_ha"], strict=True
        ):
            value = number(stated)
            if status != current and value is not None:
                candidates.append((str(code), value))
    target_ha = fact.value / MU_PER_HA
    combos = [
        (" + ".join(c for c, _a in combo), sum(a for _c, a in combo), combo)
        for n in range(1, len(candidates) + 1)
        for combo in itertools.combinations(candidates, n)
    ]
    if not combos:
        return not_checked(
            "units", "expansion_mu", f"扩区 {fact.value:g} 亩", fact.section, "ha", "no candidates"
        )
    tolerance = half_unit(fact.value) / MU_PER_HA
    codes, total, combo = min(combos, key=lambda item: abs(item[1] - target_ha))
    agree = abs(total - target_ha) <= tolerance + sum(half_unit(a) for _c, a in combo)
    named = ", ".join(f"{c} {a:g}" for c, a in candidates)
    detail = (
        f"{fact.value:g} 亩 = {target_ha:.2f} ha = {codes}"
        if agree
        else f"{fact.value:g} 亩 = {target_ha:.2f} ha, but no combination of the expansion "
        f"candidates the plan names in 一（二）3 ({named} ha) adds up to it; the closest is "
        f"{codes} = {total:g} ha"
    )
    return Consistency(
        "units",
        "expansion_mu",
        f"扩区 {fact.value:g} 亩 expansion land",
        f"{fact.section}；一（二）3",
        target_ha,
        total,
        "ha",
        "consistent" if agree else "mismatch",
        detail,
    )


def _manufacturing_yield_basis(plan: PlanData, facts: dict[str, Fact]):
    indicators = keyed_table(plan, _INDICATORS.name)
    if indicators is None or "I07" not in indicators.index or "F06" not in facts:
        return
    baseline = number(indicators.loc["I07", "baseline_2020"])
    park = facts["F06"]
    if baseline is None:
        return
    yield Consistency(
        "units",
        "manufacturing_yield_basis",
        "地均产值 output per ha: 表2-1 I07 vs 一（二）6",
        f"表2-1；{park.section}",
        baseline,
        park.value * YUAN_M2_PER_WAN_HA,
        "元/平方米",
        "different_basis",
        f"Table 2-1 gives {baseline:g} 元/m² for high-tech manufacturers; the park's built "
        f"industrial land yields {park.value:g} 万元/公顷 = {park.value:g} 元/m² (1 万元/公顷 "
        "= 1 元/m²): different bases, both as printed",
    )


# --- Table 2-1 --------------------------------------------------------------------------


def indicator_checks(plan: PlanData) -> Iterator[Consistency]:
    """Table 2-1: growth targets vs their printed rates, and the figures the text repeats."""
    table = keyed_table(plan, _INDICATORS.name)
    if table is None:
        yield not_checked("indicators", "growth", "表2-1", "表2-1", "", "indicators missing")
        return
    for code, row in table.iterrows():
        yield from _growth(str(code), row, table)
    facts = land_facts(plan)
    pairs = (
        ("I06", "baseline_2020", "F05"),
        ("I06", "target_2025", "F12"),
        ("I07", "target_2025", "F15"),
        ("I05", "target_2025", "F16"),
    )
    for code, column, fact_code in pairs:
        if code not in table.index or fact_code not in facts:
            continue
        value = number(table.loc[code, column])
        fact = facts[fact_code]
        if value is None:
            continue
        yield compare(
            "indicators",
            "table_vs_text",
            f"{code} {table.loc[code, 'indicator_zh']} ({column})",
            f"表2-1；{fact.section}",
            fact.unit,
            printed(fact.value),
            lambda v: v,
            (printed(value),),
            f"Table 2-1 vs land_facts {fact_code} ({fact.label})",
        )
    yield from _text_indicators(table)


def _growth(code: str, row: pd.Series, table: pd.DataFrame) -> Iterator[Consistency]:
    match = _RATE.search(str(row.get("note_zh") or ""))
    base, target = number(row.get("baseline_2020")), number(row.get("target_2025"))
    if not match or base is None or target is None:
        return
    about, rate = bool(match.group(1)), float(match.group(2))
    rate_fig = (rate, APPROX_RATE_PP if about else 0.0)
    years = plan_text.YEARS_2020_2025
    needed = ((target / base) ** (1 / years) - 1) * 100
    unit = str(row.get("unit") or "")
    detail = (
        f"{base:g} × (1 + {'约' if about else ''}{rate:g} %)^{years} vs the 2025 target "
        f"{target:g}; the target implies {needed:.2f} %/yr"
    )
    if unit == "%":
        detail += _share_reading(rate, table)
    yield compare(
        "indicators",
        "growth_rate",
        f"{code} {row.get('indicator_zh')}",
        "表2-1",
        unit,
        printed(target),
        lambda b, r: b * (1 + r / 100) ** years,
        (printed(base), rate_fig),
        detail,
    )


def _share_reading(rate: float, table: pd.DataFrame) -> str:
    """The rate printed beside a share, read as the growth of the share's numerator."""
    output = plan_text.HIGHTECH_MFG_OUTPUT_2020
    grown = output.value * (1 + rate / 100) ** plan_text.YEARS_2020_2025
    text = (
        f". Read as the growth of high-tech manufacturing output ({output.value:g} 亿元 in "
        f"2020, {output.section}) it gives {grown:.1f} 亿元 in 2025"
    )
    total = number(table.loc["I01", "target_2025"]) if "I01" in table.index else None
    if total:
        text += f", {grown / total * 100:.1f} % of the I01 target of {total:g} 亿元"
    return text


def _text_indicators(table: pd.DataFrame) -> Iterator[Consistency]:
    if "I09" in table.index:
        value = number(table.loc["I09", "baseline_2020"])
        text = plan_text.RESEARCH_INSTITUTIONS_2020
        if value is not None:
            yield compare(
                "indicators",
                "table_vs_text",
                f"I09 {table.loc['I09', 'indicator_zh']} (2020)",
                f"表2-1；{text.section}",
                text.unit,
                exact(text.value),
                lambda v: v,
                (exact(value),),
                f"Table 2-1 gives {value:g} 家 for 2020; the text says “{text.quote_zh}”",
            )
    if "I13" in table.index:
        base = number(table.loc["I13", "baseline_2020"])
        target = number(table.loc["I13", "target_2025"])
        text = plan_text.NEW_GREEN_FACTORIES
        if base is not None and target is not None:
            yield compare(
                "indicators",
                "table_vs_text",
                f"I13 {table.loc['I13', 'indicator_zh']}: 新增 new",
                f"表2-1；{text.section}",
                text.unit,
                exact(text.value),
                lambda b, t: t - b,
                (exact(base), exact(target)),
                f"2025 target {target:g} − 2020 {base:g} vs “{text.quote_zh}”",
            )
    if "I01" in table.index:
        target = number(table.loc["I01", "target_2025"])
        extra, total = plan_text.BAOWO_EXTRA_OUTPUT, plan_text.BAOWO_TOTAL_OUTPUT
        if target is not None:
            yield compare(
                "indicators",
                "table_vs_text",
                f"I01 {table.loc['I01', 'indicator_zh']} + 宝沃 Baowo",
                total.section,
                total.unit,
                printed(total.value),
                lambda t, e: t + e,
                (printed(target), printed(extra.value)),
                f"2025 target {target:g} + {extra.value:g} 亿元 from Baowo vs “{total.quote_zh}”",
            )
    share = next(s for s in plan_text.SHARES if s.key == "hightech_mfg_share")
    if "I02" in table.index:
        base = number(table.loc["I02", "baseline_2020"])
        if base is not None:
            yield compare(
                "indicators",
                "table_vs_text",
                f"I02 {table.loc['I02', 'indicator_zh']} (2020)",
                f"表2-1；{share.section}",
                "%",
                printed(base),
                lambda p, w: p / w * 100,
                (printed(share.part), printed(plan_text.INDUSTRIAL_OUTPUT_2020.value)),
                f"{share.part:g} ÷ {plan_text.INDUSTRIAL_OUTPUT_2020.value:g} 亿元 "
                f"({share.section}, {plan_text.INDUSTRIAL_OUTPUT_2020.section}) vs Table 2-1",
            )


# --- sums and shares printed in the text -------------------------------------------------

_EXACT_UNITS = ("家", "项", "个")


def text_checks() -> Iterator[Consistency]:
    """Totals printed with their parts, and shares printed with their amounts (plan_text)."""
    for item in plan_text.PARTS_SUMS:
        figure = exact if item.unit in _EXACT_UNITS else printed
        parts = tuple(figure(v) for _label, v in item.parts)
        listing = " + ".join(f"{label} {v:g}" for label, v in item.parts)
        yield compare(
            "text",
            "parts_sum",
            item.subject,
            item.section,
            item.unit,
            figure(item.total),
            lambda *values: sum(values),
            parts,
            f"{listing} vs the printed total {item.total:g}: “{item.quote_zh}”",
        )
    for share in plan_text.SHARES:
        if share.key == "hightech_mfg_share":
            continue  # compared with Table 2-1 I02 under indicators
        yield compare(
            "text",
            "share",
            share.subject,
            share.section,
            "%",
            printed(share.share_pct),
            lambda p, w: p / w * 100,
            (printed(share.part), printed(share.whole)),
            f"{share.part:g} ÷ {share.whole:g} vs the printed share {share.share_pct:g} %: "
            f"“{share.quote_zh}”",
        )
