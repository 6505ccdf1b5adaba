"""Scenario outputs: the indicator x scenario matrix as CSV, XLSX and HTML, and a
side-by-side map page per scenario (base | scenario), from an ``analysis.scenarios.ScenarioRun``.

Renderers only: every figure is a field of the run (its matrix and each run's Results).
"""

from __future__ import annotations

from pathlib import Path

from ...analysis.scenarios import ScenarioRun
from ...io.outputs import write_csv
from .tables import edits_frame, scenarios_frame

CSV_NAME = "scenarios.csv"
LIST_NAME = "scenario_list.csv"
EDITS_NAME = "scenario_edits.csv"
XLSX_NAME = "scenarios.xlsx"
HTML_NAME = "scenarios.html"


def write_scenario_tables(run: ScenarioRun, out_dir: Path) -> list[Path]:
    """scenarios.csv (the matrix), scenario_list.csv and scenario_edits.csv."""
    out_dir = Path(out_dir)
    scenarios = [s for s, _ in run.scenarios]
    return [
        write_csv(run.matrix, out_dir / CSV_NAME),
        write_csv(scenarios_frame(scenarios), out_dir / LIST_NAME),
        write_csv(edits_frame(scenarios), out_dir / EDITS_NAME),
    ]


def write_scenario_outputs(
    run: ScenarioRun, out_dir: Path, *, maps: bool = True, offline: bool = False
) -> list[Path]:
    """Every scenario output into ``out_dir``: the CSVs, scenarios.xlsx, scenarios.html and
    (``maps``) one side-by-side map page per scenario."""
    from .html import write_scenarios_html
    from .xlsx import write_scenarios_xlsx

    out_dir = Path(out_dir)
    paths = write_scenario_tables(run, out_dir)
    paths.append(write_scenarios_xlsx(run, out_dir / XLSX_NAME))
    pages = []
    if maps:
        from .dual_map import write_scenario_maps

        pages = write_scenario_maps(run, out_dir, offline=offline)
    paths.append(write_scenarios_html(run, out_dir / HTML_NAME, pages=[p.name for p in pages]))
    return paths + pages
