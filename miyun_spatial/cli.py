"""The ``miyun-spatial`` command: a thin layer that parses, calls the library, prints, exits.

Exit codes: 0 success; 1 the data has errors; 2 the input cannot be read, or bad usage;
3 an output cannot be written; 4 internal error (run again with -v for the traceback).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import traceback
from importlib import import_module

import click

from . import __version__
from .commands.common import LOGGER
from .core.errors import EXIT_INPUT, EXIT_INTERNAL, MiyunError
from .io.outputs import terminal_text

# command name -> the module of miyun_spatial.commands defining it (in its COMMANDS); a
# command's module is imported only when that command runs (or --help lists them all), so
# `validate` never loads folium or matplotlib
COMMAND_MODULES = {
    "validate": "data",
    "areas": "data",
    "catalogue": "data",
    "init-default": "data",
    "build": "pipeline",
    "maps": "maps",
    "mix": "metrics",
    "yield": "metrics",
    "adjustments": "metrics",
    "report": "report",
    "diff": "roundtrip",
    "watch": "roundtrip",
    "import": "importing",
    "publish": "postgis",
    "export": "postgis",
    "qgis-plugin": "qgis",
    "qgis-project": "qgis",
    "evaluate": "evaluation",
    "scenarios": "scenarios",
}


class LazyCommands(click.Group):
    """A group whose commands are imported from their module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMAND_MODULES:
            return None
        module = import_module(f".commands.{COMMAND_MODULES[name]}", __package__)
        return next(c for c in module.COMMANDS if c.name == name)


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="miyun-spatial")
def cli() -> None:
    """Spatial data, metrics, maps and reports for Miyun District's high-tech industry plan.

    Every command reads a GeoPackage (default: the embedded geodata/miyun.gpkg) and never
    modifies it.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line per failure on stderr, a documented exit code, no traceback."""
    try:
        status = cli.main(args=argv, prog_name="miyun-spatial", standalone_mode=False)
    except MiyunError as exc:
        click.echo(terminal_text(f"error: {exc}"), err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_INPUT
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so in one line, details with -v
        if logging.getLogger(LOGGER).isEnabledFor(logging.DEBUG):
            traceback.print_exc()
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (run with -vv for the traceback, "
            "and report it)",
            err=True,
        )
        return EXIT_INTERNAL
    return status if isinstance(status, int) else 0  # click returns Exit codes here


def run() -> None:
    """The console script: :func:`main`, then a quick exit.

    Everything is written and closed by then; what is left is the interpreter freeing every
    object one by one (0.3 s after the default build, seconds after a large one), which
    nobody waits for: the exit handlers run (log flushing, temporary files), then the
    process ends.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    run()
