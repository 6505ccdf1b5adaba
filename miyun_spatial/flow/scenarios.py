"""``scenarios``: the base and each scenario read -> validate -> compute, then the matrix,
its tables, page and side-by-side maps written into the output folder (all or nothing)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis.run import analyse, load_checked, refuse_errors
from ..analysis.scenarios import (
    ScenarioRun,
    apply_scenario,
    pick,
    refuse_scenario_errors,
    run_scenarios,
    scenario_matrix,
)
from ..core.errors import DataError
from ..core.plan import PlanData
from ..core.scenario import Scenario, ScenarioSet, scenarios_of
from ..io.scenario_file import read_scenario_file
from ..io.staging import staged_run
from ..validate.layers import DEFAULT_AREA_TOLERANCE, validate


@dataclass(frozen=True)
class ScenariosResult:
    run: ScenarioRun
    outputs: tuple[Path, ...]
    timings: tuple[
        tuple[str, float], ...
    ]  # (reading and validating | base | scenarios | writing, s)


def scenario_set(plan_layers, scenario_file: Path | None) -> ScenarioSet:
    """The scenarios of ``scenario_file`` if given, else those stored in the data."""
    found = read_scenario_file(scenario_file) if scenario_file else scenarios_of(plan_layers)
    if not found.scenarios and not found.orphans:
        raise DataError(
            f"{found.origin}: no scenarios; add rows to the 'scenarios' and 'scenario_edits' "
            "tables (in QGIS) or give --scenarios FILE"
        )
    return found


def scenarios(
    gpkg: Path | None,
    out_dir: Path,
    *,
    scenario_file: Path | None = None,
    codes: Sequence[str] | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    maps: bool = True,
    offline: bool = False,
) -> ScenariosResult:
    """Run the scenarios of ``gpkg`` (or of ``scenario_file``) and write their outputs."""
    from ..render.scenarios import write_scenario_outputs

    start = time.perf_counter()
    plan, findings = load_checked(gpkg, area_tolerance=area_tolerance)
    refuse_errors(plan, findings, see=f"'miyun-spatial validate {plan.path}'")
    chosen = scenario_set(plan.layers, scenario_file)
    read = time.perf_counter()
    run = run_scenarios(plan, findings, chosen, codes=codes, area_tolerance=area_tolerance)
    computed = time.perf_counter()
    with staged_run(out_dir, command="scenarios", replace_all=False) as stage:
        written = write_scenario_outputs(run, stage.path, maps=maps, offline=offline)
        outputs = tuple(stage.final(p) for p in written)
    timings = (
        ("reading and validating", read - start),
        ("base and scenarios", computed - read),
        ("writing", time.perf_counter() - computed),
    )
    return ScenariosResult(run, outputs, timings)


def scenario_plan(
    plan: PlanData, code: str, scenario_file: Path | None = None
) -> tuple[PlanData, Scenario]:
    """``plan`` with scenario ``code`` applied (``build --scenario``), and the scenario;
    DataError naming the bad edit or the unknown scenario."""
    found = scenario_set(plan.layers, scenario_file)
    refuse_scenario_errors(plan, found)
    (chosen,) = pick(found, [code])
    return apply_scenario(plan, chosen), chosen


def scenario_outputs(
    base_plan: PlanData,
    scenario: Scenario,
    results,
    out_dir: Path,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    run: ScenarioRun | None = None,
) -> list[Path]:
    """The comparison of a scenario build's ``results`` with the base (its tables, page,
    workbook and side-by-side map) into ``out_dir``; the base is validated and analysed here
    unless ``run`` (:func:`scenario_run`) is given."""
    from ..render.scenarios import write_scenario_outputs

    if run is None:
        run = scenario_run(base_plan, scenario, results, area_tolerance)
    return write_scenario_outputs(run, out_dir)


def scenario_run(
    base_plan: PlanData,
    scenario: Scenario,
    results,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
) -> ScenarioRun:
    """The base validated and analysed, and its matrix with a scenario build's ``results``."""
    findings = tuple(validate(base_plan, area_tolerance=area_tolerance))
    refuse_errors(base_plan, findings, see=f"'miyun-spatial validate {base_plan.path}'")
    base = analyse(base_plan, findings, area_tolerance=area_tolerance, checks=False)
    return ScenarioRun(base, ((scenario, results),), scenario_matrix(base, [(scenario, results)]))
