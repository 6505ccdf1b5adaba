"""The QGIS round trip: ``diff OLD NEW`` and ``watch [GPKG]``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..analysis.diff import PlanDiff, changed_layers, describe_change, diff_plans
from ..analysis.indicator_diff import indicator_changes
from ..flow.watch import DEFAULT_DEBOUNCE_S, DEFAULT_INTERVAL_S, WatchEvent, watch
from ..io import sources
from ..io.outputs import terminal_text
from .common import (
    SOURCE,
    area_tolerance_option,
    emit_frame,
    emit_json,
    frame_records,
    gpkg_argument,
    jobs_option,
    label_codes,
    make_map_options,
    map_options,
    out_option,
    say,
    value_labels,
    verbosity,
)

_FILE = SOURCE  # OLD and NEW: GeoPackages or PostGIS DSNs


@click.command("diff")
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.option(
    "--indicators/--no-indicators",
    default=True,
    show_default=True,
    help="Also analyse both versions and show the change of every plan indicator.",
)
@verbosity
def diff_command(old: Path, new: Path, as_json: bool, indicators: bool) -> None:
    """What changed from OLD to NEW: features added, removed and changed, matched by code.

    For each changed feature: which attributes changed, whether its geometry changed and its
    area change in ha (EPSG:4548); then a summary by category. Neither file is modified.
    """
    new_plan = sources.load(new)
    old_plan = sources.load(old)
    result = diff_plans(old_plan, new_plan)
    if as_json:
        payload = diff_payload(result)
        if indicators and changed_layers(result):
            changes, notes = indicator_changes(old_plan, new_plan)
            payload["indicators"] = frame_records(changes)
            payload["indicator_notes"] = list(notes)
        emit_json(payload)
        return
    click.echo(terminal_text(f"old  {result.old}"))
    click.echo(terminal_text(f"new  {result.new}"))
    touched = changed_layers(result)
    if not touched:
        click.echo(f"no differences in {len(result.layers)} layers")
        return
    layers = result.layers.loc[touched]
    emit_frame(layers, as_json=False, as_csv=False)
    labels = value_labels(new_plan.layers.get("land_use_classes"))
    if len(result.changes):
        click.echo("\nchanges")
        for (layer, code), row in result.changes.iterrows():
            name = f" {row['name']}" if isinstance(row["name"], str) else ""
            change = describe_change(labelled_change(row, labels))
            click.echo(terminal_text(f"  {layer} {code}{name}: {change}"))
    summary = result.summary.loc[[name for name in touched if name in result.summary.index]]
    click.echo("\nsummary by category (areas in ha)")
    emit_frame(label_codes(summary, labels), as_json=False, as_csv=False, floatfmt="{:,.4f}")
    if indicators:
        changes, notes = indicator_changes(old_plan, new_plan)
        click.echo("\nplan indicators (规划指标监测)")
        emit_frame(changes, as_json=False, as_csv=False, floatfmt="{:,.4g}")
        for note in notes:
            click.echo(terminal_text(f"  not computed: {note}"))


def labelled_change(row, labels: dict[str, dict[str, str]]) -> dict:
    """A change row with coded values shown by their labels ('提质升级 upgrade → 逐步退出 exit')."""
    values = row.get("values") or {}
    shown = {
        field: tuple(labels.get(field, {}).get(v, v) if isinstance(v, str) else v for v in pair)
        for field, pair in values.items()
    }
    return {**dict(row), "values": shown}


def diff_payload(result: PlanDiff) -> dict:
    """The diff as plain JSON-ready data."""
    return {
        "old": result.old,
        "new": result.new,
        "changed_layers": changed_layers(result),
        "layers": frame_records(result.layers),
        "changes": frame_records(result.changes),
        "summary": frame_records(result.summary),
    }


@click.command("watch")
@gpkg_argument
@out_option
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=DEFAULT_INTERVAL_S,
    show_default=True,
    help="Seconds between two looks at the file.",
)
@click.option(
    "--debounce",
    type=click.FloatRange(min=0),
    default=DEFAULT_DEBOUNCE_S,
    show_default=True,
    help="Seconds the content must stay unchanged before a rebuild.",
)
@click.option("--once", is_flag=True, help="Stop after the first rebuild (= --max-runs 1).")
@click.option(
    "--max-runs",
    type=click.IntRange(min=0),
    default=None,
    help="Stop after this many rebuilds (0: build once and stop) [default: never].",
)
@area_tolerance_option
@map_options
@jobs_option
@verbosity
def watch_command(
    gpkg: Path,
    out_dir: Path,
    interval: float,
    debounce: float,
    once: bool,
    max_runs: int | None,
    area_tolerance: float,
    offline: bool,
    basemap: str,
    tianditu_key: str | None,
    jobs: int,
) -> None:
    """Build GPKG, then rebuild whenever its content changes (e.g. saved edits in QGIS).

    Compares the layers' content, not the file's time stamp, so opening or re-saving the file
    unchanged does not rebuild. Stop with Ctrl+C. Exit code: the last build's.
    """
    if once:
        max_runs = 1 if max_runs is None else min(max_runs, 1)
    say(f"watching {gpkg} (every {interval:g} s); outputs in {out_dir}/; Ctrl+C stops")
    last = {"code": 0}

    def show(event: WatchEvent) -> None:
        last["code"] = event.exit_code if event.kind in ("built", "failed") else last["code"]
        print_event(event)

    try:
        state = watch(
            gpkg,
            out_dir,
            interval=interval,
            debounce=debounce,
            max_runs=max_runs,
            on_event=show,
            build_options={
                "area_tolerance": area_tolerance,
                "map_options": make_map_options(offline, basemap, tianditu_key),
                "jobs": jobs,
            },
        )
        code = state.exit_code
    except KeyboardInterrupt:
        click.echo("stopped watching", err=True)
        code = last["code"]
    if code:
        raise click.exceptions.Exit(code)


def print_event(event: WatchEvent) -> None:
    """One line per event (to stdout; failures to stderr), then the feature changes."""
    stamp = datetime.now().strftime("%H:%M:%S")
    label = "build" if event.run == 0 else f"rebuild {event.run}"
    if event.kind == "changed":
        say(f"[{stamp}] change in {', '.join(event.layers)}; waiting for edits to settle")
    elif event.kind == "unreadable":
        click.echo(terminal_text(f"[{stamp}] cannot read the file yet: {event.message}"), err=True)
    elif event.kind == "failed":
        click.echo(terminal_text(f"[{stamp}] {label} failed: {event.message}"), err=True)
    else:
        seconds = f" in {event.seconds:.1f} s" if event.seconds else ""
        say(f"[{stamp}] {label} done{seconds}: {event.message}")
        if event.result is not None:
            counts = event.result.summary.get("validation", {})
            if counts:
                say(
                    f"           checks: {counts.get('error', 0)} errors, "
                    f"{counts.get('warning', 0)} warnings"
                )
    if event.diff is not None:
        for (layer, code), row in event.diff.changes.iterrows():
            say(
                f"           {layer} {code}: {describe_change(labelled_change(row, value_labels()))}"
            )
        for name in changed_layers(event.diff):
            row = event.diff.layers.loc[name]
            if row["layer_change"]:
                say(f"           {name}: layer {row['layer_change']}")
            for what in ("fields_added", "fields_removed"):
                if row[what]:
                    say(f"           {name}: {what.replace('_', ' ')}: {row[what]}")


COMMANDS = (diff_command, watch_command)
