"""``miyun-spatial maps``: the interactive maps, online or fully offline."""

from __future__ import annotations

from pathlib import Path

import click

from ..analysis.run import load_and_analyse
from ..io.staging import staged_run
from .common import (
    gpkg_argument,
    jobs_option,
    make_map_options,
    map_options,
    out_option,
    say,
    verbosity,
)


@click.command("maps")
@gpkg_argument
@out_option
@map_options
@jobs_option
@verbosity
def maps_command(
    gpkg: Path, out_dir: Path, offline: bool, basemap: str, tianditu_key: str | None, jobs: int
) -> None:
    """Write index.html and every map of GPKG into the output folder.

    Every page carries its own Leaflet, so it opens without internet access; with --offline
    it also draws no tiles and requests nothing.
    """
    from ..flow.maps import write_maps
    from ..io import geopackage as store

    options = make_map_options(offline, basemap, tianditu_key)
    results = load_and_analyse(gpkg, checks=False)
    store.settle_geometries(results.work)  # before the page workers fork
    # all or nothing: the pages replace those of the last run at once (staging)
    with staged_run(out_dir, command="maps", replace_all=False) as stage:
        written = write_maps(
            results.plan,
            results.work,
            stage.path,
            metrics=results.tables,
            options=options,
            jobs=jobs,
        )
    paths = [stage.final(path) for path in written]
    say(f"wrote {len(paths)} maps to {out_dir}/ (open {out_dir / 'index.html'})")
    for path in paths:
        say(f"  {path}")


COMMANDS = (maps_command,)
