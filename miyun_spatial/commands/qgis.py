"""QGIS commands: ``qgis-plugin`` (the Processing plugin zip) and ``qgis-project`` (a .qgz)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from .. import __version__
from ..core.catalogue import ZONE_LAYERS
from ..core.errors import InputError
from ..core.landuse import USES
from ..flow.importing import LAYERS as IMPORT_LAYERS
from ..io import qgis_plugin
from ..io.outputs import write_atomic
from ..io.qgis_project import PROJECT_NAME, PROJECT_TABLE, project_document, qgz_bytes
from .common import emit_json, say, verbosity


def running_command() -> list[str]:
    """The command line that runs this miyun-spatial: this Python with ``-m miyun_spatial``."""
    return [sys.executable, "-m", "miyun_spatial"]


@click.command("qgis-plugin")
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the plugin zip into.",
)
@click.option(
    "--command",
    "command",
    metavar="PATH",
    help="The miyun-spatial executable the plugin runs [default: this Python, -m "
    "miyun_spatial]. In QGIS, MIYUN_SPATIAL_CLI or the setting miyun_spatial/cli override it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the zip's path as JSON.")
@verbosity
def qgis_plugin_command(out_dir: Path, command: str | None, as_json: bool) -> None:
    """Write the QGIS Processing plugin (validate, build, mix, import) as an installable zip.

    Install it with Plugins > Manage and Install Plugins > Install from ZIP; the algorithms
    are then in the Processing toolbox and in ``qgis_process`` (provider miyunspatial).
    """
    choices = {"zone_layers": ZONE_LAYERS, "uses": USES, "import_layers": IMPORT_LAYERS}
    path = qgis_plugin.write_plugin(
        out_dir,
        command=[command] if command else running_command(),
        choices=choices,
        version=__version__,
    )
    if as_json:
        emit_json({"plugin": str(path), "provider": qgis_plugin.PROVIDER_ID})
    else:
        say(f"QGIS plugin written: {path}")


@click.command("qgis-project")
@click.argument("results_gpkg", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .qgz to write (its layers point at RESULTS_GPKG, relative to the .qgz).",
)
@verbosity
def qgis_project_command(results_gpkg: Path, out_path: Path) -> None:
    """Write the QGIS project of RESULTS_GPKG as a .qgz file beside the one stored inside it.

    results.gpkg already carries the project (table qgis_projects, name miyun-spatial);
    this is for users who prefer a project file.
    """
    if out_path.suffix.lower() != ".qgz":
        raise click.BadParameter(f"'{out_path}': give a .qgz file name", param_hint="--out")
    try:
        relative = Path(results_gpkg).resolve().relative_to(out_path.resolve().parent)
    except ValueError:
        raise InputError(
            f"{results_gpkg}: put the .qgz in the GeoPackage's folder or one above it, so the "
            "layers' relative sources find it"
        ) from None
    try:
        qgs = project_document(results_gpkg, file_name=relative.as_posix())
    except sqlite3.DatabaseError as exc:  # not a GeoPackage
        raise InputError(f"{results_gpkg}: not a GeoPackage QGIS can show ({exc})") from None
    write_atomic(out_path, lambda tmp: Path(tmp).write_bytes(qgz_bytes(qgs, PROJECT_NAME)))
    say(f"QGIS project written: {out_path} (also stored in {results_gpkg}, {PROJECT_TABLE})")


COMMANDS = (qgis_plugin_command, qgis_project_command)
