"""PostGIS commands: ``publish GPKG DSN`` and ``export DSN OUT.gpkg`` (thin: parse, call, print)."""

from __future__ import annotations

from pathlib import Path

import click

from ..io import sources
from .common import SOURCE, verbosity


def _dsn(_ctx, param, value: str) -> str:
    if not sources.is_database(value):
        raise click.BadParameter(
            f"'{value}' is not a PostgreSQL connection string; write "
            "postgresql://user@host:port/database?schema=NAME (password in PGPASSWORD or "
            "~/.pgpass)",
            param=param,
        )
    return value


@click.command("publish")
@click.argument("gpkg", type=SOURCE)
@click.argument("dsn", callback=_dsn)
@click.option(
    "--schema",
    default=None,
    help="Schema to write [default: the DSN's ?schema=, else miyun].",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace an existing schema atomically (load into a new one, rename in one transaction).",
)
@verbosity
def publish_command(gpkg: Path, dsn: str, schema: str | None, replace: bool) -> None:
    """Publish the catalogue layers of GPKG into a PostGIS schema, for a team to edit in QGIS.

    GPKG may also be another PostGIS schema (a DSN), to copy it.

    Same columns as the GeoPackage, primary keys, GiST indexes, allowed values as CHECK
    constraints, references as foreign keys, comments from the catalogue, and QGIS default
    styles (with value maps) in public.layer_styles.
    """
    from ..io.postgis import parse_dsn
    from ..io.postgis.publish import publish

    target = parse_dsn(dsn, schema=schema)
    result = publish(gpkg, target, replace=replace)
    total = sum(result.layers.values())
    click.echo(f"published {len(result.layers)} layers ({total} features) to {result.target}")
    if result.not_valid:
        click.echo(
            f"constraints the data breaks, kept NOT VALID: {', '.join(result.not_valid)} "
            "(run 'miyun-spatial validate')",
            err=True,
        )


@click.command("export")
@click.argument("dsn", type=SOURCE, callback=lambda c, p, v: _source(c, p, v))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@verbosity
def export_command(dsn, out: Path) -> None:
    """Write a GeoPackage snapshot of a PostGIS schema's catalogue layers (to take away)."""
    from ..io.postgis.publish import export

    path = export(dsn, out)
    click.echo(f"wrote {path} from {dsn}")


def _source(_ctx, param, value):
    if not sources.is_database(value):
        raise click.BadParameter(
            "give a PostgreSQL connection string (postgresql://user@host:port/db?schema=NAME)",
            param=param,
        )
    return value


COMMANDS = (publish_command, export_command)
