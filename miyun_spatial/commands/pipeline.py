"""``miyun-spatial build``: the main job."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import click

from ..pipeline import build
from ..vocabulary import VOCABULARY, Label
from .common import (
    area_tolerance_option,
    emit_json,
    gpkg_argument,
    make_map_options,
    map_options,
    out_option,
    say,
    verbosity,
)


class StepPrinter:
    """Progress on stderr: one ``[i/n] pct% step`` line as each step starts, and its time."""

    def __init__(self, *, echo: bool = True) -> None:
        self.echo = echo
        self.times: list[tuple[str, float]] = []  # label -> seconds, in order
        self._label: str | None = None
        self._start = time.perf_counter()

    def __call__(self, i: int, total: int, label: str) -> None:
        self._close()
        if label != "done":
            self._label = label
        if self.echo and label != "done":
            click.echo(f"[{i}/{total}] {100 * (i - 1) // total:3d}% {label}", err=True)

    def _close(self) -> None:
        now = time.perf_counter()
        if self._label is not None:
            self.times.append((self._label, now - self._start))
        self._label, self._start = None, now

    def table(self) -> str:
        """Seconds per step, with the total (the per-step timing table of ``-v``)."""
        self._close()
        width = max((len(label) for label, _ in self.times), default=4) + 2
        lines = [f"{'step':<{width}}{'seconds':>9}"]
        lines += [f"{label:<{width}}{seconds:>9.2f}" for label, seconds in self.times]
        lines.append(f"{'total':<{width}}{sum(s for _, s in self.times):>9.2f}")
        return "\n".join(lines)


@click.command("build")
@gpkg_argument
@out_option
@area_tolerance_option
@map_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@verbosity
def build_command(
    gpkg: Path,
    out_dir: Path,
    area_tolerance: float,
    offline: bool,
    basemap: str,
    tianditu_key: str | None,
    as_json: bool,
) -> None:
    """Validate GPKG and write every table, map and report to the output folder.

    Prints a line on stderr as each step starts (none with -q or --json) and, with -v, the
    seconds each step took.
    """
    verbosity = click.get_current_context().meta.get("verbosity", 0)
    printer = StepPrinter(echo=verbosity >= 0 and not as_json)
    result = build(
        gpkg,
        out_dir,
        area_tolerance=area_tolerance,
        map_options=make_map_options(offline, basemap, tianditu_key),
        progress=printer,
    )
    if verbosity > 0:
        click.echo(printer.table(), err=True)
    if as_json:
        emit_json(
            {
                "source": str(result.source),
                "out_dir": str(result.out_dir),
                "outputs": [str(p) for p in result.outputs],
                "summary": result.summary,
            }
        )
        return
    say(summary_text(result))


def _pad(label: str, width: int = 42) -> str:
    """``label`` padded to ``width`` terminal columns (CJK characters take two)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)
    return label + " " * max(1, width - shown)


def summary_text(result) -> str:
    """The one-screen summary at the end of a build."""
    counts = result.summary["validation"]
    lines = [
        f"{_pad('数据 source')}{result.source}",
        f"{_pad('校验 checks')}{counts['error']} errors, {counts['warning']} warnings, "
        f"{counts['info']} notes",
    ]
    for key, value in result.summary.items():
        if key == "validation" or value is None:
            continue
        label = VOCABULARY.summary.get(key) or Label(key, key, "")
        text = f"  {label.text}" if label.sub else label.text
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        lines.append(f"{_pad(text)}{shown} {label.unit}".rstrip())
    lines.append(f"{_pad('输出 outputs')}{len(result.outputs)} files in {result.out_dir}/")
    index = result.out_dir / "index.html"
    if index in result.outputs:
        lines.append(f"{_pad('地图 maps')}open {index}")
    return "\n".join(lines)


COMMANDS = (build_command,)
