"""Scenarios: the base and each alternative through the same read -> validate -> compute path.

:func:`apply_scenario` turns the base ``PlanData`` into the scenario's (a copy, the base is
unchanged); :func:`run_scenarios` validates each one like any data and analyses it with
``analyse``, sharing the base overlay (``metrics.prepare(..., base=...)``: only zones and
parcels whose outline changed are overlaid again), and compares them on
``indicators.indicator_rows`` in one matrix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.catalogue import CATALOGUE
from ..core.crs import WORK_CRS
from ..core.errors import DataError
from ..core.plan import PlanData
from ..core.scenario import BASE, GEOMETRY, Scenario, ScenarioSet
from ..metrics import MetricInputs, prepare
from ..validate.layers import DEFAULT_AREA_TOLERANCE, Finding, first_error, validate
from ..validate.scenarios import parse_number, scenario_findings
from .indicators import COLUMNS, SUMS, indicator_rows
from .run import Results, analyse, work_layers

log = logging.getLogger(__name__)

DELTA = "Δ"  # suffix of a scenario's change-against-the-base column


@dataclass(frozen=True)
class ScenarioRun:
    """The base's results, each scenario's, and the indicator x scenario matrix."""

    base: Results
    scenarios: tuple[tuple[Scenario, Results], ...]
    matrix: pd.DataFrame


def refuse_scenario_errors(plan: PlanData, scenarios: ScenarioSet) -> None:
    """DataError naming the first bad edit (scenario, edit and fix), if there is one."""
    found = scenario_findings(plan, scenarios)
    if found:
        raise DataError(
            f"{scenarios.origin}: {len(found)} bad scenario edits, the first: "
            f"{first_error(found)}; nothing was computed"
        )


def pick(scenarios: ScenarioSet, codes: Sequence[str] | None) -> tuple[Scenario, ...]:
    """The scenarios named by ``codes`` (code or name), all of them if None."""
    if codes is None:
        return scenarios.scenarios
    chosen = []
    for code in codes:
        match = [s for s in scenarios.scenarios if code in (s.code, s.name)]
        if not match:
            known = ", ".join(scenarios.codes) or "none"
            raise DataError(
                f"{scenarios.origin}: no scenario '{code}' (known: {known}); "
                "give a scenario_code of the scenarios table or of --scenarios FILE"
            )
        chosen.append(match[0])
    return tuple(chosen)


def apply_scenario(plan: PlanData, scenario: Scenario) -> PlanData:
    """``plan`` with the scenario's edits applied (checked edits: see ``validate.scenarios``)."""
    edited: dict[str, pd.DataFrame] = {}
    for edit in scenario.edits:
        spec = CATALOGUE[edit.layer]
        frame = edited.get(edit.layer)
        if frame is None:
            frame = edited[edit.layer] = plan.layers[edit.layer].copy()
        rows = frame.index[frame[spec.id_field].astype(str).to_numpy() == edit.feature]
        if edit.field == GEOMETRY:
            geom = shapely.from_wkt(edit.geometry_wkt)
            crs = frame.crs
            if crs is not None and not crs.equals(WORK_CRS):
                geom = gpd.GeoSeries([geom], crs=WORK_CRS).to_crs(crs).iloc[0]
            geometry = frame.geometry.copy()
            for fid in rows:
                geometry.loc[fid] = geom
            frame[frame.geometry.name] = geometry
            continue
        f = spec.field(edit.field)
        value = _typed(edit.value, f.type)
        if f.type in ("real", "integer"):
            frame[edit.field] = frame[edit.field].astype(float)
            frame.loc[rows, edit.field] = np.nan if value is None else float(value)
        else:
            if frame[edit.field].dtype != object:
                frame[edit.field] = frame[edit.field].astype(object)
            for fid in rows:
                frame.at[fid, edit.field] = value
    return plan.replace(**edited)


def _typed(value: str | None, kind: str):
    if value is None or value == "":
        return None
    if kind in ("real", "integer"):
        return parse_number(value, kind)
    if kind == "boolean":
        return value.lower() in ("true", "1")
    return value


def base_inputs(plan: PlanData) -> MetricInputs:
    """The metrics' inputs of the base, with its overlay, for the scenarios to share."""
    return prepare(work_layers(plan), plan)


def analyse_scenario(
    plan: PlanData,
    scenario: Scenario,
    base: MetricInputs,
    *,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    checks: bool = False,
    known: dict | None = None,
) -> Results:
    """The scenario's data validated and analysed like any data (errors refused, naming the
    scenario), sharing the base overlay for unchanged outlines (and, with ``known``, the
    value checks of layers no scenario edits: ``validate(known=...)``)."""
    edited = apply_scenario(plan, scenario)
    findings = tuple(validate(edited, area_tolerance=area_tolerance, known=known))
    refuse_scenario_findings(scenario, findings)
    inputs = prepare(work_layers(edited), edited, base=base)
    return analyse(edited, findings, area_tolerance=area_tolerance, checks=checks, inputs=inputs)


def refuse_scenario_findings(scenario: Scenario, findings: Sequence[Finding]) -> None:
    error = first_error(findings)
    if error:
        raise DataError(
            f"scenario '{scenario.code}': its edits make the data invalid, the first error: "
            f"{error}; change the scenario's edits"
        )


def run_scenarios(
    plan: PlanData,
    findings: Sequence[Finding],
    scenarios: ScenarioSet,
    *,
    codes: Sequence[str] | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
) -> ScenarioRun:
    """The base and every chosen scenario analysed, and their indicator matrix."""
    refuse_scenario_errors(plan, scenarios)
    chosen = pick(scenarios, codes)
    inputs = base_inputs(plan)
    base = analyse(plan, tuple(findings), area_tolerance=area_tolerance, inputs=inputs)
    runs, known = [], {}
    for scenario in chosen:
        log.info("scenario %s: %d edits", scenario.code, len(scenario.edits))
        result = analyse_scenario(
            plan, scenario, inputs, area_tolerance=area_tolerance, known=known
        )
        runs.append((scenario, result))
    return ScenarioRun(base, tuple(runs), scenario_matrix(base, runs))


def scenario_matrix(base: Results, runs: Sequence[tuple[Scenario, Results]]) -> pd.DataFrame:
    """Indicators x (base, each scenario and its change against the base).

    Rows: the union of the runs' indicators, in the base's order then new ones; a sum a run
    lacks is 0 (e.g. the area of a class no parcel has), any other value NaN (its change
    then counted from 0).
    """
    rows = indicator_rows(base)
    frames = [(s.code, indicator_rows(r)) for s, r in runs]
    labels = rows[COLUMNS[:3]]
    for _code, frame in frames:
        extra = frame.index.difference(labels.index, sort=False)
        labels = pd.concat([labels, frame.loc[extra, COLUMNS[:3]]])
    matrix = labels.copy()
    summed = labels.index.str.startswith(SUMS)
    matrix[BASE] = _filled(rows["value"].reindex(labels.index), summed)
    for code, frame in frames:
        values = _filled(frame["value"].reindex(labels.index), summed)
        matrix[code] = values
        matrix[f"{code} {DELTA}"] = values.fillna(0.0) - matrix[BASE].fillna(0.0)
        both_missing = values.isna() & matrix[BASE].isna()
        matrix.loc[both_missing, f"{code} {DELTA}"] = np.nan
    matrix.index.name = "key"
    return matrix


def _filled(values: pd.Series, summed: np.ndarray) -> pd.Series:
    out = values.copy()
    out[summed & out.isna().to_numpy()] = 0.0
    return out
