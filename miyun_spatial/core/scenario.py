"""Scenarios as data: named sets of edits on the base data (the ``scenarios`` and
``scenario_edits`` tables of the catalogue, or a TOML file read by ``io.scenario_file``).

A :class:`Scenario` holds its :class:`Edit` s; an edit sets one field of one feature (by its
code) to a value, or, with ``field == GEOMETRY``, replaces the feature's outline by a WKT
polygon in EPSG:4548. The scenarios are checked by ``validate.scenarios`` and applied by
``analysis.scenarios``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .catalogue import CATALOGUE

SCENARIOS = CATALOGUE["scenarios"]
EDITS = CATALOGUE["scenario_edits"]
GEOMETRY = "geometry"  # the pseudo-field of an edit that replaces a feature's outline
BASE = "base"  # the column of the base in the scenario matrix


@dataclass(frozen=True)
class Edit:
    scenario: str
    code: str
    layer: str
    feature: str
    field: str
    value: str | None = None
    geometry_wkt: str | None = None
    fid: int | None = None  # the row in scenario_edits (None for a TOML file)

    @property
    def changes_geometry(self) -> bool:
        return self.field == GEOMETRY


@dataclass(frozen=True)
class Scenario:
    code: str
    name: str
    description: str = ""
    provenance: str = ""
    edits: tuple[Edit, ...] = ()
    fid: int | None = None

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}" if self.name else self.code


@dataclass(frozen=True)
class ScenarioSet:
    """Every scenario of a source, in the order given, and the edits naming no scenario."""

    scenarios: tuple[Scenario, ...] = ()
    orphans: tuple[Edit, ...] = ()  # edits whose scenario_code names no scenario
    origin: str = "scenario_edits"  # where they were read: the table, or a TOML file's path

    def __getitem__(self, code: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.code == code:
                return scenario
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.scenarios)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def scenarios_from_tables(
    scenarios: pd.DataFrame | None, edits: pd.DataFrame | None, *, origin: str = EDITS.name
) -> ScenarioSet:
    """The scenarios of the two tables (rows indexed by fid), edits grouped by scenario."""
    rows = [] if scenarios is None else list(scenarios.iterrows())
    by_code: dict[str, list[Edit]] = {}
    orphans = []
    codes = {_text(r.get("scenario_code")) for _fid, r in rows}
    for fid, r in [] if edits is None else edits.iterrows():
        edit = Edit(
            scenario=_text(r.get("scenario_code")) or "",
            code=_text(r.get("edit_code")) or "",
            layer=_text(r.get("layer")) or "",
            feature=_text(r.get("feature_code")) or "",
            field=_text(r.get("field")) or "",
            value=_text(r.get("value")),
            geometry_wkt=_text(r.get("geometry_wkt")),
            fid=_fid(fid),
        )
        if edit.scenario in codes:
            by_code.setdefault(edit.scenario, []).append(edit)
        else:
            orphans.append(edit)
    out = tuple(
        Scenario(
            code=_text(r.get("scenario_code")) or "",
            name=_text(r.get("name")) or "",
            description=_text(r.get("description")) or "",
            provenance=_text(r.get("provenance")) or "",
            edits=tuple(by_code.get(_text(r.get("scenario_code")) or "", ())),
            fid=_fid(fid),
        )
        for fid, r in rows
    )
    return ScenarioSet(out, tuple(orphans), origin)


def _fid(value: object) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def scenarios_of(layers: Mapping[str, pd.DataFrame]) -> ScenarioSet:
    """The scenarios stored in a source's layers (empty when it has none)."""
    return scenarios_from_tables(layers.get(SCENARIOS.name), layers.get(EDITS.name))
