"""``miyun-spatial scenarios``: the base and its what-if alternatives, side by side."""

from __future__ import annotations

from pathlib import Path

import click

from .common import area_tolerance_option, emit_json, gpkg_argument, out_option, say, verbosity


@click.command("scenarios")
@gpkg_argument
@click.option(
    "--scenarios",
    "scenario_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file of scenarios, used instead of those stored in the GeoPackage.",
)
@click.option(
    "--scenario",
    "codes",
    multiple=True,
    help="Run only this scenario (code or name); repeat for more. Default: all.",
)
@out_option
@area_tolerance_option
@click.option("--no-maps", is_flag=True, help="Leave out the side-by-side map pages.")
@click.option("--offline", is_flag=True, help="Map pages without a tile basemap.")
@click.option("--json", "as_json", is_flag=True, help="Print the outputs and the matrix as JSON.")
@verbosity
def scenarios_command(
    gpkg: Path,
    scenario_file: Path | None,
    codes: tuple[str, ...],
    out_dir: Path,
    area_tolerance: float,
    no_maps: bool,
    offline: bool,
    as_json: bool,
) -> None:
    """Compare the base data of GPKG with each of its scenarios on the same indicators.

    A scenario is a named set of edits (a base's category, parcels' planned use, an
    outline, a target) in the GeoPackage's 'scenarios' and 'scenario_edits' tables, or in
    a TOML file (--scenarios FILE). Writes scenarios.csv (indicator x scenario with the
    change against the base), scenario_list.csv, scenario_edits.csv, scenarios.xlsx,
    scenarios.html and one side-by-side map per scenario (scenario_<code>.html).
    Exit 1 when an edit is bad (the message names the scenario, the edit and the fix).
    """
    from ..flow.scenarios import scenarios

    result = scenarios(
        gpkg,
        out_dir,
        scenario_file=scenario_file,
        codes=codes or None,
        area_tolerance=area_tolerance,
        maps=not no_maps,
        offline=offline,
    )
    if as_json:
        emit_json(
            {
                "source": str(result.run.base.plan.path),
                "scenarios": [s.code for s, _ in result.run.scenarios],
                "outputs": [str(p) for p in result.outputs],
                "timings": dict(result.timings),
            }
        )
        return
    matrix = result.run.matrix
    for scenario, _ in result.run.scenarios:
        delta = matrix[f"{scenario.code} Δ"]
        changed = int((delta.abs() > 1e-9).sum())
        say(f"{scenario.label}: {len(scenario.edits)} edits, {changed} indicators change")
    for path in result.outputs:
        say(f"wrote {path}")


COMMANDS = (scenarios_command,)
