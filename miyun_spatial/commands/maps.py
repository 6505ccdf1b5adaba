"""``miyun-spatial maps``: the interactive maps, online or fully offline."""

from __future__ import annotations

from pathlib import Path

import click

from .. import store
from ..maps import BASEMAPS, DEFAULT_BASEMAP, TIANDITU_ENV, MapOptions, write_maps
from ..maps.metrics import metrics_for_maps
from ..pipeline import work_layers
from .common import gpkg_argument, out_option, verbosity


@click.command("maps")
@gpkg_argument
@out_option
@click.option(
    "--offline",
    is_flag=True,
    help="No tile basemap at all: the district boundary and town labels give context, and "
    "the pages request nothing from any network (for intranets).",
)
@click.option(
    "--basemap",
    type=click.Choice(BASEMAPS),
    default=DEFAULT_BASEMAP,
    show_default=True,
    help="Basemap shown first; 'gaode' shifts the data to GCJ-02 for display on Gaode tiles.",
)
@click.option(
    "--tianditu-key",
    envvar=TIANDITU_ENV,
    default=None,
    metavar="KEY",
    help=f"Tianditu key, adds Tianditu vector and imagery basemaps [env: {TIANDITU_ENV}].",
)
@verbosity
def maps_command(
    gpkg: Path, out_dir: Path, offline: bool, basemap: str, tianditu_key: str | None
) -> None:
    """Write index.html and every map of GPKG into the output folder.

    Every page carries its own Leaflet, so it opens without internet access; with --offline
    it also draws no tiles and requests nothing.
    """
    options = MapOptions(
        offline=offline, basemap=basemap, tianditu_key=(tianditu_key or "").strip() or None
    )
    plan = store.load(gpkg)
    work = work_layers(plan)
    paths = write_maps(plan, work, out_dir, metrics=metrics_for_maps(work, plan), options=options)
    click.echo(f"wrote {len(paths)} maps to {out_dir}/ (open {out_dir / 'index.html'})")
    for path in paths:
        click.echo(f"  {path}")


COMMANDS = (maps_command,)
