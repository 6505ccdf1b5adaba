"""``miyun-spatial build``: the main job."""

from __future__ import annotations

from pathlib import Path

import click

from ..pipeline import build
from ..validate import DEFAULT_AREA_TOLERANCE
from .common import emit_json, gpkg_argument, out_option, verbosity


def _progress(i: int, total: int, label: str) -> None:
    click.echo(f"[{i}/{total}] {label}", err=True)


@click.command("build")
@gpkg_argument
@out_option
@click.option(
    "--area-tolerance",
    type=float,
    default=DEFAULT_AREA_TOLERANCE,
    show_default=True,
    help="Allowed relative difference between measured and stated areas.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@verbosity
def build_command(gpkg: Path, out_dir: Path, area_tolerance: float, as_json: bool) -> None:
    """Validate GPKG and write every table, map and report to the output folder."""
    result = build(
        gpkg, out_dir, area_tolerance=area_tolerance, progress=None if as_json else _progress
    )
    if as_json:
        emit_json(
            {
                "source": str(result.source),
                "out_dir": str(result.out_dir),
                "outputs": [str(p) for p in result.outputs],
                "summary": result.summary,
            }
        )
        return
    counts = result.summary["validation"]
    click.echo(f"source   {result.source}")
    click.echo(
        f"checks   {counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes"
    )
    for key, value in result.summary.items():
        if key != "validation":
            shown = f"{value:,.2f}" if isinstance(value, float) else value
            click.echo(f"{key:<24} {shown}")
    click.echo(f"outputs  {len(result.outputs)} files in {result.out_dir}/")
    for path in result.outputs:
        click.echo(f"  {path}")


COMMANDS = (build_command,)
