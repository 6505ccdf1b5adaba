"""The change of every monitored plan indicator between two versions (``diff OLD NEW``).

Each version is analysed as a build analyses it (``analysis.run.analyse``, default preset);
the ``indicator_monitoring`` tables are joined on ``indicator_code``.
"""

from __future__ import annotations

import pandas as pd

from ..core.errors import MiyunError
from ..core.plan import PlanData
from .run import analyse

COLUMNS = [
    "indicator_zh",
    "unit",
    "target_2025",
    "value_old",
    "value_new",
    "change",
    "warning_old",
    "warning_new",
]


def monitoring_of(plan: PlanData) -> tuple[pd.DataFrame | None, str | None]:
    """``indicator_monitoring`` of ``plan``, or (None, why) when it cannot be computed."""
    try:
        results = analyse(plan, (), checks=False)
    except MiyunError as exc:
        return None, f"{plan.path}: {exc}"
    return results.tables.get("indicator_monitoring"), None


def indicator_changes(old: PlanData, new: PlanData) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """One row per indicator of either version (index ``indicator_code``): its values and
    warnings before and after, and ``change`` = new − old; and the notes on a version that
    could not be analysed."""
    before, why_old = monitoring_of(old)
    after, why_new = monitoring_of(new)
    notes = tuple(w for w in (why_old, why_new) if w)
    empty = pd.DataFrame(columns=["indicator_zh", "unit", "target_2025", "value", "warning"])
    before = empty if before is None else before
    after = empty if after is None else after
    index = after.index.union(before.index, sort=False)
    out = pd.DataFrame(index=pd.Index(index, name="indicator_code"))
    for column in ("indicator_zh", "unit", "target_2025"):
        out[column] = after[column].reindex(index).combine_first(before[column].reindex(index))
    out["value_old"] = pd.to_numeric(before["value"].reindex(index), errors="coerce")
    out["value_new"] = pd.to_numeric(after["value"].reindex(index), errors="coerce")
    out["change"] = out["value_new"] - out["value_old"]
    out["warning_old"] = before["warning"].reindex(index)
    out["warning_new"] = after["warning"].reindex(index)
    return out[COLUMNS], notes


__all__ = ["indicator_changes", "monitoring_of"]
