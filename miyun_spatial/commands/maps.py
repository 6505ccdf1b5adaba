"""``miyun-spatial maps``: the interactive maps, online or fully offline."""

from __future__ import annotations

from pathlib import Path

import click

from ..pipeline import load_checked, refuse_errors, work_layers
from .common import gpkg_argument, make_map_options, map_options, out_option, say, verbosity


@click.command("maps")
@gpkg_argument
@out_option
@map_options
@verbosity
def maps_command(
    gpkg: Path, out_dir: Path, offline: bool, basemap: str, tianditu_key: str | None
) -> None:
    """Write index.html and every map of GPKG into the output folder.

    Every page carries its own Leaflet, so it opens without internet access; with --offline
    it also draws no tiles and requests nothing.
    """
    from ..maps import write_maps
    from ..maps.metrics import metrics_for_maps

    options = make_map_options(offline, basemap, tianditu_key)
    plan, findings = load_checked(gpkg)
    refuse_errors(plan, findings, see=f"'miyun-spatial validate {plan.path}'")
    work = work_layers(plan)
    paths = write_maps(plan, work, out_dir, metrics=metrics_for_maps(work, plan), options=options)
    say(f"wrote {len(paths)} maps to {out_dir}/ (open {out_dir / 'index.html'})")
    for path in paths:
        say(f"  {path}")


COMMANDS = (maps_command,)
