"""Recomputing the plan's figures: the :class:`Consistency` record and the comparison rules.

When two printed figures are compared, each is taken with the rounding its printing implies
(half a unit of its last digit: 220 means 219.5-220.5, 28.9 means 28.85-28.95) and they agree
when the recomputation from the printed inputs can reach the stated figure. A growth rate
printed with 约 ("about") allows ±0.5 percentage point; a rate printed without it is taken as
exact. Money amounts of the project list and counts are exact. Measured areas agree with
stated ones within a relative tolerance (the outlines are schematic).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.consistency import Consistency
from ..core.measure import beyond_tolerance
from ..core.plan import PlanData
from ..core.vocabulary import VOCABULARY
from ..core.vocabulary import park_code as vocabulary_park_code

APPROX_RATE_PP = 0.5  # 约15% = 14.5-15.5 %
HA_PER_KM2 = 100.0
WAN_PER_YI = 10_000.0  # 1 亿元 = 10 000 万元
YUAN_M2_PER_WAN_HA = 1.0  # 1 万元/公顷 = 1 元/平方米

LAYERS = {name: CATALOGUE[name] for name in CATALOGUE.names}
PARK_LAYER = VOCABULARY.roles["park"].layer


def half_unit(value: float) -> float:
    """Half a unit of the last printed digit: 220 -> 0.5, 28.9 -> 0.05, 1000.84 -> 0.005."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return 0.5 * 10.0 ** min(int(exponent), 0)


Figure = tuple[float, float]  # (value, half-width of its rounding interval)


def printed(value: float) -> Figure:
    return float(value), half_unit(value)


def exact(value: float) -> Figure:
    return float(value), 0.0


def bounds(formula: Callable[..., float], *figures: Figure) -> tuple[float, float, float]:
    """``formula`` at the figures' values, and its range over their rounding intervals.

    The formula must be monotone in each argument (sums, products, ratios, powers of
    positive amounts), so its extremes lie at the corners of the intervals.
    """
    central = formula(*(v for v, _h in figures))
    corners = [
        formula(*(v + s * h for (v, h), s in zip(figures, signs, strict=True)))
        for signs in itertools.product((-1.0, 1.0), repeat=len(figures))
    ]
    return central, min(corners), max(corners)


def _reaches(stated: Figure, low: float, high: float) -> bool:
    value, half = stated
    eps = 1e-9 * max(1.0, abs(value))
    return high >= value - half - eps and low <= value + half + eps


def compare(
    group: str,
    check: str,
    subject: str,
    section: str,
    unit: str,
    stated: Figure,
    formula: Callable[..., float],
    inputs: tuple[Figure, ...],
    detail: str,
    *,
    basis: str = "plan vs plan",
) -> Consistency:
    """``formula(*inputs)`` against ``stated``, each figure with its rounding interval."""
    central, low, high = bounds(formula, *inputs)
    agree = _reaches(stated, low, high)
    return Consistency(
        group,
        check,
        subject,
        section,
        stated[0],
        central,
        unit,
        "consistent" if agree else "mismatch",
        detail,
        basis,
    )


def relative(
    group: str,
    check: str,
    subject: str,
    section: str,
    unit: str,
    stated: float,
    recomputed: float,
    tolerance: float,
    detail: str,
    *,
    basis: str = "plan vs data",
) -> Consistency:
    """A measured figure against a stated one, within a relative ``tolerance``."""
    agree = not beyond_tolerance(float(recomputed), float(stated), tolerance)
    return Consistency(
        group,
        check,
        subject,
        section,
        float(stated),
        float(recomputed),
        unit,
        "consistent" if agree else "mismatch",
        f"{detail} (tolerance {tolerance:.1%})",
        basis,
    )


def not_checked(
    group: str, check: str, subject: str, section: str, unit: str, why: str
) -> Consistency:
    """A figure that could not be recomputed, and why (a missing table, a missing fact...)."""
    return Consistency(group, check, subject, section, None, None, unit, "not_checked", why)


def layer_table(plan: PlanData, name: str) -> pd.DataFrame | None:
    """The layer or table ``name`` as read, or None when the GeoPackage lacks it."""
    return plan.layers.get(name)


def keyed_table(plan: PlanData, name: str) -> pd.DataFrame | None:
    """An attribute table indexed by its id field (first row wins on duplicates)."""
    frame = layer_table(plan, name)
    if frame is None:
        return None
    key = LAYERS[name].id_field
    if key not in frame.columns:
        return None
    unique = frame[frame[key].notna()].drop_duplicates(key)
    return unique.set_index(pd.Index(unique[key].astype(str), name=key))


def number(value) -> float | None:
    """``value`` as a float, or None when it is missing or not a number."""
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


@dataclass(frozen=True)
class Fact:
    """One row of ``land_facts``: a figure the plan states, with its unit and section."""

    code: str
    value: float
    unit: str
    section: str
    label: str


def land_facts(plan: PlanData) -> dict[str, Fact]:
    """The plan's land and productivity facts by fact code (rows without a value left out)."""
    table = keyed_table(plan, LAYERS["land_facts"].name)
    if table is None:
        return {}
    facts = {}
    for code, row in table.iterrows():
        value = number(row.get("value"))
        if value is not None:
            facts[str(code)] = Fact(
                str(code),
                value,
                str(row.get("unit") or ""),
                str(row.get("plan_section") or ""),
                f"{row.get('subject_zh') or ''} {row.get('fact_zh') or ''}".strip(),
            )
    return facts


def missing_facts(facts: dict[str, Fact], *codes: str) -> str | None:
    """Why a check cannot run ('land_facts F13 missing ...'), or None when all are there."""
    absent = [c for c in codes if c not in facts]
    return (
        f"land_facts {', '.join(absent)} missing: restore them from geodata/miyun.gpkg"
        if absent
        else None
    )


def park_code(plan: PlanData) -> str | None:
    """Code of the park's current extent (:func:`~miyun_spatial.core.vocabulary.park_code`)."""
    return vocabulary_park_code(plan.layers)
