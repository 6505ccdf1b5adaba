"""``import``: bring a planning office's delivery into a new GeoPackage (thin: parse, run, print)."""

from __future__ import annotations

from pathlib import Path

import click

from ..flow.importing import LAYERS, ImportOptions, run_import
from ..io import geopackage as store
from ..io.importing import render_text
from ..io.importing.fields import parse_pairs
from ..io.outputs import terminal_text
from .common import emit_json, fail, verbosity


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--layer", required=True, type=click.Choice(LAYERS), help="Catalogue layer to fill.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="New GeoPackage to write (a copy of --from with the layer replaced).",
)
@click.option(
    "--from",
    "base",
    default=str(store.DEFAULT_GPKG),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="GeoPackage to copy the other layers from (never modified).",
)
@click.option(
    "--classification",
    "classification",
    multiple=True,
    metavar="[FIELD=]NAME",
    help="Classification of the land-use codes, for every class field or one FIELD "
    "(repeatable): gbt21010 (GB/T 21010-2017, 三调 DLBM), ydyh (用地用海分类 2023) or plan "
    "(the plan's classes), e.g. --classification current_use=gbt21010 --classification "
    "planned_use=plan [default: detected per field from the codes and names].",
)
@click.option(
    "--field",
    "field_pairs",
    multiple=True,
    metavar="TARGET=SOURCE",
    help="Fill catalogue field TARGET from source field SOURCE (repeatable).",
)
@click.option(
    "--set",
    "set_pairs",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Give catalogue field FIELD one value for every feature (repeatable).",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    help='TOML file overriding the crosswalk per code ([codes] then "0601" = "M2") and choosing '
    'classifications per field ([classification] then planned_use = "plan").',
)
@click.option(
    "--source-crs",
    metavar="CRS",
    help="CRS of the coordinates when the source has none or a wrong one (e.g. EPSG:4527); "
    "gcj02 for coordinates digitized on Gaode/Tencent maps.",
)
@click.option("--encoding", metavar="ENC", help="Text encoding of the source (e.g. GBK, UTF-8).")
@click.option("--source-layer", metavar="NAME", help="Layer inside the source (FileGDB, GPKG).")
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid.")
@click.option("--keep-extra", is_flag=True, help="Keep source fields the catalogue does not know.")
@click.option("--dry-run", is_flag=True, help="Write nothing; print the report.")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@verbosity
def import_command(
    source: Path,
    layer: str,
    out_path: Path | None,
    base: Path,
    classification: tuple[str, ...],
    field_pairs: tuple[str, ...],
    set_pairs: tuple[str, ...],
    mapping: Path | None,
    source_crs: str | None,
    encoding: str | None,
    source_layer: str | None,
    repair: bool,
    keep_extra: bool,
    dry_run: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Import SOURCE (Shapefile, FileGDB, GeoPackage, GeoJSON, KML, DXF, CSV with WKT) into LAYER.

    Writes a NEW GeoPackage: --from with LAYER replaced, validated. Exit 0: written and
    valid; 1: the data cannot be imported, or the result does not validate (the report says
    why); 2: bad input or usage; 3: the output cannot be written.
    """
    report = run_import(
        ImportOptions(
            source=source,
            layer=layer,
            out=out_path,
            base=base,
            classification=classification,
            fields=parse_pairs(field_pairs, "--field"),
            constants=parse_pairs(set_pairs, "--set"),
            mapping=mapping,
            source_crs=source_crs,
            encoding=encoding,
            source_layer=source_layer,
            repair=repair,
            keep_extra=keep_extra,
            dry_run=dry_run,
            force=force,
        )
    )
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(terminal_text(render_text(report)))
    if not report.valid:
        fail(invalid_line(report))


def invalid_line(report) -> str:
    """The verdict on a result that does not validate, naming its first error."""
    errors = [f for f in report.validation.get("findings", ()) if f.get("level") == "error"]
    first = errors[0] if errors else {}
    where = " / ".join(
        str(first[key]) for key in ("layer", "fid", "code") if first.get(key) not in (None, "")
    )
    hint = f" (fix: {first['hint']})" if first.get("hint") else ""
    detail = f", the first: {where}: {first.get('message', '')}{hint}" if first else ""
    return (
        f"{report.out or report.source}: the import does not validate: "
        f"{report.validation.get('error', 0)} errors{detail}"
    )


COMMANDS = (import_command,)
