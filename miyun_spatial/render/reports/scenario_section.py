"""The scenario matrix as a report.xlsx sheet (``build --scenario NAME``).

A scenario build hands the indicator x scenario matrix (``analysis.scenarios.scenario_matrix``)
to the report as the table :data:`MATRIX` of the tables it shows; the sheet has its values as
scenarios.csv has them. report.html leaves it out: scenarios.html draws it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ...core.scenario import BASE
from .model import Column, Section, make_table

MATRIX = "scenarios"  # the key of the matrix among the report's tables
SECTION = "scenario"  # its section (and report.xlsx sheet 情景比较)
DELTA = "Δ"  # suffix of a scenario's change column (analysis.scenarios.DELTA)
_LABELS = (
    Column("key", "指标键", "Key"),
    Column("group", "分组", "Group"),
    Column("indicator", "指标", "Indicator"),
    Column("unit", "单位", "Unit"),
)


def _value_column(name: str) -> Column:
    if name == BASE:
        return Column(name, "基准", "Base", "", "auto")
    if name.endswith(f" {DELTA}"):
        code = name.removesuffix(f" {DELTA}")
        return Column(name, f"{code} 变化", f"{code} change", "", "auto")
    return Column(name, f"{name} 情景", f"{name} scenario", "", "auto")


def scenario_section(tables: Mapping[str, pd.DataFrame]) -> Section | None:
    """情景比较: the matrix, or None when the build applied no scenario."""
    matrix = tables.get(MATRIX)
    if matrix is None:
        return None
    flat = matrix.reset_index()
    labels = [c for c in _LABELS if c.key in flat.columns]
    values = [_value_column(str(c)) for c in flat.columns if c not in {c.key for c in labels}]
    columns = (*labels, *values)
    table = make_table(
        "scenario_matrix",
        "情景比较（指标 x 情景）",
        "Scenario matrix (indicator x scenario)",
        flat[[c.key for c in columns]],
        columns,
        note="As scenarios.csv; the scenario edits are illustrative (scenarios.xlsx lists them).",
    )
    return Section(
        SECTION,
        "情景比较",
        "Scenario matrix",
        "The base and the scenario this build applied, side by side, and the change.",
        (table,),
        (),
    )


__all__ = ["MATRIX", "SECTION", "scenario_section"]
