"""Metric commands: ``mix``, ``yield`` and ``adjustments`` (thin: parse, compute, print)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from ..analysis.run import load_checked, refuse_errors, work_layers
from ..core.catalogue import ZONE_LAYERS
from ..core.landuse import USES
from ..metrics import (
    Grading,
    MetricInputs,
    adjustment_tables,
    mix_tables,
    prepare,
    source_mix_table,
    yield_tables,
)
from ..metrics.adjustments import KINDS
from .common import emit_frame, format_options, gpkg_argument, label_codes, value_labels, verbosity

DEFAULT_GRADES = Grading()


def _layer_option(fn):
    return click.option(
        "--layer",
        "layers",
        multiple=True,
        type=click.Choice(ZONE_LAYERS),
        help="Zone layer(s) to measure (repeatable) [default: all].",
    )(fn)


def _inputs(gpkg: Path, layers: tuple[str, ...]) -> MetricInputs:
    """The validated data of ``gpkg`` prepared for the asked zone layers (every metric command's
    path: read, validate and refuse errors as ``build`` does, then only the tables asked for)."""
    plan, findings = load_checked(gpkg)
    refuse_errors(plan, findings, see=f"'miyun-spatial validate {plan.path}'")
    return prepare(work_layers(plan), plan, layers=layers or ZONE_LAYERS)


def _show(table: pd.DataFrame, inputs: MetricInputs | None, *, as_json: bool, as_csv: bool, **kw):
    """Print ``table``: codes as they are in JSON and CSV, Chinese-first labels in the text."""
    if not (as_json or as_csv):
        table = label_codes(table, value_labels(None if inputs is None else inputs.classes))
    emit_frame(table, as_json=as_json, as_csv=as_csv, **kw)


def _percent(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """For the text table: shares (0..1) as percentages under a new name."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = out[column] * 100
    return out.rename(columns=columns)


@click.command("mix")
@gpkg_argument
@_layer_option
@click.option(
    "--use",
    "uses",
    multiple=True,
    type=click.Choice(USES),
    help="Land use to show (repeatable): current, planned, or adjusted (after the "
    "re-designations) [default: all].",
)
@click.option(
    "--indices",
    is_flag=True,
    help="Show the mix indices (Shannon entropy / ln K, HHI) instead of the class areas.",
)
@click.option(
    "--engine",
    type=click.Choice(("auto", "memory", "database")),
    default="auto",
    show_default=True,
    help="Where the overlay runs: in memory, or as SQL in PostGIS (a postgresql:// source); "
    "auto uses the database from 200,000 parcels.",
)
@click.option(
    "--classification",
    type=click.Choice(("plan", "gbt21010", "ydyh")),
    default="plan",
    show_default=True,
    help="Classes to show: the plan's, or the parcels' source codes (source_code) as imported "
    "with 'miyun-spatial import' (gbt21010: 三调 DLBM; ydyh: 用地用海分类).",
)
@format_options
@verbosity
def mix_command(
    gpkg: Path,
    layers: tuple[str, ...],
    uses: tuple[str, ...],
    indices: bool,
    engine: str,
    classification: str,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Land-use mix (用地结构) of every zone: class areas in ha and 亩, shares, uncovered area.

    Areas are planar in EPSG:4548; the area of a zone that no parcel covers is the class
    'uncovered'.
    """
    if classification != "plan":
        if uses or indices:
            raise click.UsageError("--use and --indices apply to --classification plan only")
        table = source_mix_table(_inputs(gpkg, layers), classification)
        if not (as_json or as_csv):
            table = _percent(table, {"share": "share_%"})
        emit_frame(table, as_json=as_json, as_csv=as_csv)
        return
    database = _database_mix(gpkg, layers, engine)
    inputs = None if database else _inputs(gpkg, layers)
    tables = database or mix_tables(inputs)
    table = tables["mix_indices" if indices else "mix"]
    if uses:
        table = table[table.index.get_level_values("use").isin(uses)]
    if not (as_json or as_csv or indices):
        table = _percent(table, {"share": "share_%"})
    _show(
        table,
        inputs,
        as_json=as_json,
        as_csv=as_csv,
        floatfmt="{:,.3f}" if indices else "{:,.2f}",
    )


def _database_mix(source, layers: tuple[str, ...], engine: str) -> dict | None:
    """The mix tables computed in PostGIS when ``engine`` (and the source's size) says so."""
    from ..io.sources import is_database

    if engine == "memory" or not (is_database(source) or engine == "database"):
        return None
    from ..metrics.mix_sql import database_mix_tables, use_database

    if not use_database(source, engine):
        return None
    return database_mix_tables(source, layers=layers or ZONE_LAYERS)


def _grading(_ctx, _param, value: str) -> Grading:
    try:
        a, b, c = (float(v) for v in value.split(","))
        return Grading(a=a, b=b, c=c, low_efficiency_below=c)
    except ValueError as exc:
        raise click.BadParameter(
            f"'{value}': give three decreasing fractions of the target, e.g. 1.0,0.7,0.4 ({exc})"
        ) from None


@click.command("yield")
@gpkg_argument
@_layer_option
@click.option(
    "--table",
    "which",
    type=click.Choice(("zones", "parcels", "benchmark")),
    default="zones",
    show_default=True,
    help="zones: per zone; parcels: per parcel with its grade; benchmark: Table 1-1.",
)
@click.option(
    "--grades",
    "grading",
    default=f"{DEFAULT_GRADES.a},{DEFAULT_GRADES.b},{DEFAULT_GRADES.c}",
    show_default=True,
    callback=_grading,
    help="Lower bounds of grades A,B,C as fractions of the revenue target (land_facts F12, "
    "12000 万元/公顷 in the plan); below C is D, a low-efficiency land (低效用地) candidate.",
)
@click.option(
    "--low-efficiency", is_flag=True, help="With --table parcels: only 低效用地 candidates."
)
@format_options
@verbosity
def yield_command(
    gpkg: Path,
    layers: tuple[str, ...],
    which: str,
    grading: Grading,
    low_efficiency: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Yield per hectare (地均产出) against the plan's 2025 targets, in 万元/公顷 and 元/平方米.

    Revenue per built urban-construction ha and output per built industrial ha; parcels
    cut by a zone boundary count by area share.
    """
    inputs = _inputs(gpkg, layers)
    tables = yield_tables(inputs, grading=grading)
    table = {"zones": "zone_yields", "parcels": "parcel_yields", "benchmark": "benchmark"}[which]
    table = tables[table]
    if which == "parcels" and low_efficiency:
        table = table[table["low_efficiency"]]
    if not (as_json or as_csv):
        table = table[[c for c in _TEXT_COLUMNS[which] if c in table.columns]]
    _show(table, inputs, as_json=as_json, as_csv=as_csv)


_CHANGE_COLUMNS = ("current_use", "planned_use", "adjusted_use", "area_ha", "area_mu")
_TEXT_COLUMNS = {
    "zones": [
        "built_construction_ha",
        "built_industrial_ha",
        "revenue_per_ha",
        "output_per_ha",
        "target_revenue_per_ha",
        "pct_of_target",
        "gap_per_ha",
        "revenue_needed_10k_cny",
    ],
    "parcels": [
        "zgc_park",
        "current_use",
        "status",
        "area_ha",
        "revenue_per_ha",
        "output_per_ha",
        "pct_of_target",
        "grade",
        "low_efficiency",
    ],
    "benchmark": [
        "revenue_per_ha_10k_cny",
        "output_per_ha_10k_cny",
        "implied_built_ha",
        "implied_industrial_ha",
        "revenue_rank",
        "output_rank",
        "gap_to_target_per_ha",
    ],
}


@click.command("adjustments")
@gpkg_argument
@_layer_option
@click.option(
    "--table",
    "which",
    type=click.Choice(("totals", "transitions", "parcels", "bases")),
    default="totals",
    show_default=True,
    help="totals: per re-designation (A1...); transitions: per zone, from -> to use; "
    "parcels: parcels whose use changes; bases: the farmer bases' land change.",
)
@click.option(
    "--kind",
    type=click.Choice(tuple(KINDS)),
    default=None,
    help="With --table transitions: only this transition [default: both].",
)
@click.option(
    "--changes-only", is_flag=True, help="With --table transitions: leave out from == to."
)
@format_options
@verbosity
def adjustments_command(
    gpkg: Path,
    layers: tuple[str, ...],
    which: str,
    kind: str | None,
    changes_only: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Land-use adjustments (用地调整): re-designations, transition matrices, changing parcels.

    Areas in ha and 亩, planar in EPSG:4548.
    """
    inputs = _inputs(gpkg, layers)
    tables = adjustment_tables(inputs)
    name = {
        "totals": "adjustment_totals",
        "transitions": "transitions",
        "parcels": "changing_parcels",
        "bases": "base_land_changes",
    }[which]
    if name not in tables:
        raise click.UsageError(f"--table {which} needs its zone layer; drop --layer or add it")
    table = tables[name]
    if which == "transitions":
        if kind:
            table = table[table.index.get_level_values("kind") == kind]
        if changes_only:
            index = table.index
            table = table[index.get_level_values("from_use") != index.get_level_values("to_use")]
    if which == "parcels" and not (as_json or as_csv):
        shown = ("clusters", "zgc_park", "land_adjustments", *_CHANGE_COLUMNS)
        table = table[[c for c in shown if c in table.columns]]
    _show(table, inputs, as_json=as_json, as_csv=as_csv)


COMMANDS = (mix_command, yield_command, adjustments_command)
