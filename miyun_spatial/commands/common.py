"""Options and output helpers shared by every command (thin: parse, call, print)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pandas as pd

from ..core.errors import EXIT_DATA, MiyunError
from ..core.paths import DEFAULT_GPKG
from ..flow.workers import default_jobs
from ..io import sources
from ..io.outputs import csv_text, terminal_text
from ..render.maps.options import BASEMAPS, DEFAULT_BASEMAP, TIANDITU_ENV, MapOptions
from ..render.static.paper import DEFAULT_PAPER, PAPER_NAMES
from ..validate.layers import DEFAULT_AREA_TOLERANCE

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


class _StderrHandler(logging.StreamHandler):
    """Log to whatever ``sys.stderr`` is when a record is emitted (not when the handler was
    made), so that a caller that redirects stderr (an embedding program, a test) gets the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _TerminalFormatter(logging.Formatter):
    """Log lines with the data's control characters shown, not acted on by the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_text(super().format(record))


def configure_logging(level: int) -> None:
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_miyun", False) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_TerminalFormatter("%(levelname)s: %(message)s"))
        handler._miyun = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False


def quiet() -> bool:
    """True under ``-q``: commands print nothing but errors (and the data asked for with --json)."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.meta.get("verbosity", 0) < 0


def say(message: str, *, err: bool = False) -> None:
    """Print a status line, unless ``-q`` asked for silence."""
    if not quiet():
        click.echo(terminal_text(message), err=err)


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


class SourceType(click.ParamType):
    """A GeoPackage path (a ``Path``) or a PostgreSQL DSN (a ``sources.Source``, printable)."""

    name = "GPKG|DSN"
    _file = click.Path(dir_okay=False, path_type=Path)

    def convert(self, value, param, ctx):
        if isinstance(value, Path) or (sources.is_database(value) and not isinstance(value, str)):
            return value
        if sources.is_database(value):
            try:
                return sources.open_source(value)
            except MiyunError as exc:
                self.fail(str(exc), param, ctx)
        return self._file.convert(value, param, ctx)


SOURCE = SourceType()


def gpkg_argument(fn: Callable) -> Callable:
    """The input: a GeoPackage (default: the embedded geodata/miyun.gpkg) or a PostGIS DSN."""
    return click.argument("gpkg", required=False, default=str(DEFAULT_GPKG), type=SOURCE)(fn)


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


LAND_USE_COLUMNS = (
    "class",
    "current_use",
    "planned_use",
    "proposed_use",
    "adjusted_use",
    "from_use",
    "to_use",
)


def value_labels(classes: pd.DataFrame | None = None) -> dict[str, dict[str, str]]:
    """Column name -> {code: Chinese-first label}, for the text tables the commands print.

    Every catalogue field with allowed values (a layer's category field also under
    ``category``), the land-use class columns (from the GeoPackage's own class table), grades,
    transition kinds and land-use views. JSON and CSV keep the codes.
    """
    from ..core.catalogue import CATALOGUE
    from ..core.landuse import KIND_LABELS, UNCOVERED, UNCOVERED_LABEL, USE_LABELS
    from ..core.palette import grade_labels

    out: dict[str, dict[str, str]] = {}
    for spec in CATALOGUE.layers:
        for f in spec.fields:
            if f.values:
                out.setdefault(f.name, {}).update({v.value: v.label for v in f.values})
                if f.name == spec.category_field:
                    out.setdefault("category", {}).update({v.value: v.label for v in f.values})
    if classes is not None:
        names = {
            str(code): f"{code} {zh}"
            for code, zh in zip(classes["code"], classes["name_zh"], strict=True)
        }
        names[UNCOVERED] = UNCOVERED_LABEL
        for column in LAND_USE_COLUMNS:
            out[column] = names
    out["grade"] = grade_labels()
    out["kind"] = dict(KIND_LABELS)
    out["use"] = dict(USE_LABELS)
    return out


def label_codes(frame: pd.DataFrame, labels: dict[str, dict[str, str]]) -> pd.DataFrame:
    """``frame`` with coded values (columns and index levels) shown by their labels."""
    names = [n for n in frame.index.names if n is not None]
    flat = frame.reset_index() if names else frame.copy()
    for column in flat.columns:
        mapping = labels.get(str(column))
        if mapping:
            values = [mapping.get(v, v) if isinstance(v, str) else v for v in flat[column]]
            flat[column] = pd.Series(values, index=flat.index, dtype=object)
    return flat.set_index(names) if names else flat


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


def fail(message: str, code: int = EXIT_DATA) -> None:
    """End the command with ``code`` and one ``error: ...`` line on stderr (also under -q and
    --json: the data goes to stdout, the verdict to stderr)."""
    click.echo(terminal_text(f"error: {message}"), err=True)
    raise click.exceptions.Exit(code)


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
        click.echo(terminal_text(text_table(frame, floatfmt=floatfmt)))


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


_TILES_META = "miyun_basemap_tiles"


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    ctx.meta.setdefault(_TILES_META, {})[param.name] = value
    return value


def map_options(fn: Callable) -> Callable:
    """--offline, --basemap, --tianditu-key, --basemap-tiles, --basemap-attribution: passed to
    the command as one ``maps`` MapOptions (see :func:`make_map_options`)."""
    fn = click.option(
        "--basemap-attribution",
        default=None,
        metavar="TEXT",
        expose_value=False,
        callback=_remember,
        help="Attribution of --basemap-tiles (source and licence), shown on every map.",
    )(fn)
    fn = click.option(
        "--basemap-tiles",
        default=None,
        metavar="URL_OR_DIR",
        expose_value=False,
        callback=_remember,
        help="A local or intranet XYZ tile source (a 天地图 cache, the bureau's tile server): "
        "a URL template with {z}/{x}/{y}, or a folder of z/x/y.png tiles (linked relative to "
        "the maps). Shown first, also with --offline. Needs --basemap-attribution.",
    )(fn)
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


def make_map_options(
    offline: bool, basemap: str, tianditu_key: str | None, paper: str = DEFAULT_PAPER
) -> MapOptions:
    """The maps' options; --basemap-tiles/--basemap-attribution come from the click context
    (a folder of tiles is linked relative to the command's --out folder)."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(_TILES_META, {}) if ctx is not None else {}
    tiles, attribution = given.get("basemap_tiles"), given.get("basemap_attribution")
    url = None
    if tiles:
        from ..render.maps.options import tile_source

        out_dir = Path(ctx.params.get("out_dir") or "maps_out")
        url = tile_source(str(tiles), out_dir)
    return MapOptions(
        offline=offline,
        basemap=basemap,
        tianditu_key=(tianditu_key or "").strip() or None,
        tiles_url=url,
        tiles_attribution=(attribution or "").strip() or None,
        paper=paper,
    )


def paper_option(fn: Callable) -> Callable:
    """--paper: the sheet every static map and atlas.pdf is laid out on (MapOptions.paper)."""
    return click.option(
        "--paper",
        type=click.Choice(PAPER_NAMES),
        default=DEFAULT_PAPER,
        show_default=True,
        help="Paper of the static maps and atlas.pdf, each map at a fixed scale of the "
        "standard series (1:10 000 ... 1:1 000 000) that fits it.",
    )(fn)


jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=default_jobs,
    show_default="the CPUs available, at most 4",
    envvar="MIYUN_JOBS",
    help="Worker processes writing the outputs side by side (1: one by one, in this process).",
)
