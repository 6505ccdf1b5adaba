"""``miyun-spatial report``: report.xlsx and report.html for land-use adjustment reviews."""

from __future__ import annotations

from pathlib import Path

import click

from ..analysis.run import load_and_analyse
from ..io.staging import staged_run
from .common import area_tolerance_option, emit_json, gpkg_argument, out_option, say, verbosity


@click.command("report")
@gpkg_argument
@out_option
@area_tolerance_option
@click.option("--json", "as_json", is_flag=True, help="Print the outputs and checks as JSON.")
@verbosity
def report_command(gpkg: Path, out_dir: Path, area_tolerance: float, as_json: bool) -> None:
    """Write report.xlsx and the printable report.html of GPKG into the output folder.

    Both hold the same sections: summary, areas, land-use mix, adjustments, yield,
    indicators, projects, and the checks, where every figure the plan states that the data
    or the plan itself can recompute is compared (mismatches are listed, never corrected).
    Exit 0 when written (plan mismatches included); 1 when the data has validation errors.
    """
    from ..render.reports import write_reports

    results = load_and_analyse(gpkg, area_tolerance=area_tolerance)
    plan = results.plan
    with staged_run(out_dir, command="report", replace_all=False) as stage:  # all or nothing
        paths = [stage.final(path) for path in write_reports(results, stage.path)]
    mismatches = [c for c in results.checks if c.status == "mismatch"]
    if as_json:
        emit_json(
            {
                "source": str(plan.path),
                "outputs": [str(p) for p in paths],
                "checked": len(results.checks),
                "mismatches": [c.to_dict() | {"message": c.message} for c in mismatches],
            }
        )
        return
    for path in paths:
        say(f"wrote {path}")
    say(
        f"plan consistency: {len(mismatches)} mismatches among {len(results.checks)} figures "
        "checked (sheet 校验 Checks):"
    )
    for check in mismatches:
        say(f"  {check.message}")


COMMANDS = (report_command,)
