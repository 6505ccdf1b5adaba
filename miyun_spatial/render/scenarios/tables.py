"""The scenarios and their edits as plain tables (for the CSV, the workbook and the page)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...core.scenario import Scenario

SCENARIO_COLUMNS = ("scenario_code", "name", "description", "provenance", "edits")
EDIT_COLUMNS = ("scenario_code", "edit_code", "layer", "feature_code", "field", "value")


def scenarios_frame(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    rows = [(s.code, s.name, s.description, s.provenance, len(s.edits)) for s in scenarios]
    return pd.DataFrame(rows, columns=list(SCENARIO_COLUMNS)).set_index("scenario_code")


def edits_frame(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """One row per edit; an outline replacement shows its WKT's first 60 characters."""
    rows = [
        (
            s.code,
            e.code,
            e.layer,
            e.feature,
            e.field,
            e.value if not e.changes_geometry else _short(e.geometry_wkt or ""),
        )
        for s in scenarios
        for e in s.edits
    ]
    return pd.DataFrame(rows, columns=list(EDIT_COLUMNS)).set_index(["scenario_code", "edit_code"])


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "…"
