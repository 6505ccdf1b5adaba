"""``scenarios``: the base and each scenario read -> validate -> compute, then the matrix,
its tables, page and side-by-side maps written into the output folder (all or nothing)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis.run import load_checked, refuse_errors
from ..analysis.scenarios import ScenarioRun, run_scenarios
from ..core.errors import DataError
from ..core.scenario import ScenarioSet, scenarios_of
from ..io.scenario_file import read_scenario_file
from ..io.staging import staged_run
from ..validate.layers import DEFAULT_AREA_TOLERANCE


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
