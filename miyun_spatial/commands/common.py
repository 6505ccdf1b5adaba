"""Options and output helpers shared by every command (thin: parse, call, print)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd

from ..map_options import BASEMAPS, DEFAULT_BASEMAP, TIANDITU_ENV, MapOptions
from ..outputs import csv_text
from ..store import DEFAULT_GPKG
from ..validate import DEFAULT_AREA_TOLERANCE

DEFAULT_OUT = Path("maps_out")
LOGGER = "miyun_spatial"


def _set_verbosity(ctx: click.Context, _param, value: int) -> int:
    ctx.meta["verbosity"] = ctx.meta.get("verbosity", 0) + (
        value if _param.name == "verbose" else -value
    )
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        max(-1, min(ctx.meta["verbosity"], 2)), logging.DEBUG
    )
    configure_logging(level)
    return value


def configure_logging(level: int) -> None:
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_miyun", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._miyun = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


def verbosity(fn: Callable) -> Callable:
    """-v/-q: more or fewer log lines on stderr (warnings by default)."""
    fn = click.option(
        "-q",
        "--quiet",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbosity,
        help="Fewer log messages (errors only).",
    )(fn)
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbosity,
        help="More log messages (-vv: debug).",
    )(fn)


def gpkg_argument(fn: Callable) -> Callable:
    """The input GeoPackage, optional; defaults to the embedded geodata/miyun.gpkg."""
    return click.argument(
        "gpkg",
        required=False,
        default=str(DEFAULT_GPKG),
        type=click.Path(dir_okay=False, path_type=Path),
    )(fn)


def out_option(fn: Callable) -> Callable:
    return click.option(
        "--out",
        "out_dir",
        default=str(DEFAULT_OUT),
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Output folder.",
    )(fn)


def area_tolerance_option(fn: Callable) -> Callable:
    """--area-tolerance: how far a measured area may differ from the stated one (a fraction)."""
    return click.option(
        "--area-tolerance",
        type=float,
        default=DEFAULT_AREA_TOLERANCE,
        show_default=True,
        help="Allowed relative difference between measured and stated areas.",
    )(fn)


def format_options(fn: Callable) -> Callable:
    """--json / --csv: machine-readable output on stdout instead of a table."""
    fn = click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")(fn)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        fn
    )


def json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN as null, index included."""
    flat = frame.reset_index() if frame.index.name or any(frame.index.names) else frame
    flat = flat.astype(object).where(flat.notna(), None)
    return flat.to_dict(orient="records")


def emit_json(payload) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=json_default))


def emit_frame(
    frame: pd.DataFrame, *, as_json: bool, as_csv: bool, floatfmt: str = "{:,.2f}"
) -> None:
    """Print a table to stdout as text, CSV or JSON."""
    if as_json:
        emit_json(frame_records(frame))
    elif as_csv:
        click.echo(csv_text(frame), nl=False)
    else:
        click.echo(text_table(frame, floatfmt=floatfmt))


def text_table(frame: pd.DataFrame, *, floatfmt: str = "{:,.2f}") -> str:
    with pd.option_context(
        "display.unicode.east_asian_width",
        True,
        "display.width",
        250,
        "display.max_columns",
        50,
        "display.max_rows",
        10_000,
        "display.max_colwidth",
        40,
    ):
        return frame.to_string(float_format=floatfmt.format, na_rep="—")


def map_options(fn: Callable) -> Callable:
    """--offline, --basemap, --tianditu-key: passed to the command as one ``maps`` MapOptions."""
    fn = click.option(
        "--tianditu-key",
        envvar=TIANDITU_ENV,
        default=None,
        metavar="KEY",
        help=f"Tianditu key, adds Tianditu vector and imagery basemaps [env: {TIANDITU_ENV}].",
    )(fn)
    fn = click.option(
        "--basemap",
        type=click.Choice(BASEMAPS),
        default=DEFAULT_BASEMAP,
        show_default=True,
        help="Basemap shown first; 'gaode' shifts the data to GCJ-02 for display on Gaode tiles.",
    )(fn)
    return click.option(
        "--offline",
        is_flag=True,
        help="Maps draw no tile basemap: the district boundary and town labels give context, "
        "and the pages request nothing from any network (for intranets).",
    )(fn)


def make_map_options(offline: bool, basemap: str, tianditu_key: str | None) -> MapOptions:
    return MapOptions(
        offline=offline, basemap=basemap, tianditu_key=(tianditu_key or "").strip() or None
    )
