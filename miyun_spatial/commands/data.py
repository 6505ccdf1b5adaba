"""Commands on the plan data itself: validate, areas, init-default."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import click

from ..analysis.run import load_checked, refuse_errors
from ..core.catalogue import CATALOGUE
from ..core.crs import to_work_crs
from ..io import geopackage as store
from ..io import sources
from ..io.outputs import csv_text
from ..metrics.areas import feature_areas
from ..validate.common import first_error
from ..validate.layers import findings_frame, has_errors, summary_counts, validate
from .common import (
    area_tolerance_option,
    emit_frame,
    emit_json,
    fail,
    format_options,
    frame_records,
    gpkg_argument,
    label_codes,
    say,
    value_labels,
    verbosity,
)


@click.command("validate")
@gpkg_argument
@area_tolerance_option
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the findings as CSV (validation.csv).")
@verbosity
def validate_command(gpkg: Path, area_tolerance: float, as_json: bool, as_csv: bool) -> None:
    """Check GPKG against the layer catalogue and the plan's rules.

    Exit 0: no errors (warnings and info allowed); 1: errors found; 2: the file cannot be read.
    """
    plan = sources.load(gpkg)
    findings = validate(plan, area_tolerance=area_tolerance)
    counts = summary_counts(findings)
    if as_json:
        emit_json(
            {
                "file": str(gpkg),
                "sha256": plan.sha256,
                "counts": counts,
                "findings": frame_records(findings_frame(findings)),
            }
        )
    elif as_csv:
        click.echo(csv_text(findings_frame(findings)), nl=False)
    else:
        table = findings_frame(findings)
        if len(table):
            table = table.assign(where=[f.where for f in findings])[
                ["level", "where", "check", "message", "hint"]
            ]
            emit_frame(table.set_index("level"), as_json=False, as_csv=False)
        click.echo(
            f"{gpkg}: {counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['info']} notes"
        )
    if has_errors(findings):
        fail(f"{gpkg}: {counts['error']} validation errors, the first: {first_error(findings)}")


@click.command("areas")
@gpkg_argument
@format_options
@verbosity
def areas_command(gpkg: Path, as_json: bool, as_csv: bool) -> None:
    """Area of every plan feature in ha and 亩 (EPSG:4548), with a geodesic cross-check."""
    plan, findings = load_checked(gpkg)
    refuse_errors(plan, findings, see=f"'miyun-spatial validate {plan.path}'")
    table = feature_areas(
        {s.name: to_work_crs(plan[s.name], layer=s.name) for s in _plan_specs(plan)}
    )
    if not (as_json or as_csv):
        table = table[
            [
                "name_zh",
                "category",
                "area_ha",
                "area_mu",
                "geodesic_area_ha",
                "stated_area_ha",
                "stated_diff_pct",
                "geom_source",
            ]
        ]
        table = label_codes(table, value_labels(plan.layers.get("land_use_classes")))
    emit_frame(table, as_json=as_json, as_csv=as_csv)


def _plan_specs(plan: store.PlanData):
    return [spec for spec in CATALOGUE.plan_layers if spec.name in plan]


@click.command("init-default")
@click.option(
    "--out",
    "out_path",
    default=str(store.DEFAULT_GPKG),
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="GeoPackage to write.",
)
@click.option(
    "--sources",
    "sources_dir",
    default=None,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder of source facts [default: geodata/sources].",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@verbosity
def init_default_command(out_path: Path, sources_dir: Path | None, force: bool) -> None:
    """Rebuild the default GeoPackage from geodata/sources (deterministic)."""
    from ..io.default_data.build import build_default
    from ..io.default_data.sources import DEFAULT_SOURCES

    if out_path.exists() and not force:
        raise click.UsageError(f"{out_path} exists: add --force to overwrite it (edits are lost)")
    build_default(out_path, sources_dir or DEFAULT_SOURCES)
    say(f"wrote {out_path}")


@click.command("catalogue")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@click.option(
    "--update-readme",
    "readme",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rewrite the layer dictionary section of this Markdown file in place.",
)
@verbosity
def catalogue_command(as_json: bool, readme: Path | None) -> None:
    """Print the layer dictionary (every layer, field and allowed value) as Markdown."""
    from ..io.outputs import write_text
    from ..render.catalogue_doc import layer_dictionary, update_readme

    if readme is not None:
        text = readme.read_text(encoding="utf-8") if readme.exists() else ""
        write_text(readme, update_readme(text))
        click.echo(f"updated {readme}")
    elif as_json:
        emit_json(
            json.loads(files("miyun_spatial.core").joinpath("catalogue.json").read_text("utf-8"))
        )
    else:
        click.echo(layer_dictionary())


COMMANDS = (validate_command, areas_command, catalogue_command, init_default_command)
