"""``miyun-spatial build``: the main job."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import click

from ..core.vocabulary import VOCABULARY, Label
from ..flow.build import STEPS, build
from ..metrics.evaluation.config import load_preset
from .common import (
    area_tolerance_option,
    emit_json,
    gpkg_argument,
    jobs_option,
    make_map_options,
    map_options,
    out_option,
    paper_option,
    say,
    verbosity,
)


class StepPrinter:
    """Progress on stderr: one ``[i/n] pct% step`` line as each phase starts (reading,
    validating, analysing, writing: n = 4), then one as each task of the writing starts."""

    def __init__(self, *, echo: bool = True) -> None:
        self.echo = echo
        self.start = time.perf_counter()

    def __call__(self, i: int, total: int, label: str, percent: int) -> None:
        if self.echo and label != "done":
            click.echo(f"[{i}/{total}] {percent:3d}% {label}", err=True)

    def table(self, timings) -> str:
        """Seconds per step and task (``BuildResult.timings``; in parallel runs tasks overlap,
        so they add up to more than the wall time), and the wall time."""
        wall = time.perf_counter() - self.start
        width = max((len(label) for label, _ in timings), default=4) + 2
        lines = [f"{'step':<{width}}{'seconds':>9}"]
        lines += [f"{label:<{width}}{seconds:>9.2f}" for label, seconds in timings]
        lines.append(f"{'total (wall)':<{width}}{wall:>9.2f}")
        return "\n".join(lines)


@click.command("build")
@gpkg_argument
@out_option
@area_tolerance_option
@map_options
@paper_option
@jobs_option
@click.option(
    "--evaluation-preset",
    default="plan",
    show_default=True,
    help="亩均效益评价 preset (miyun_spatial/core/presets/NAME.toml): plan, zhejiang.",
)
@click.option(
    "--scenario",
    help="Build the data with this scenario's edits applied (a scenario_code or name), and "
    "compare it with the base (scenarios.csv, scenarios.html, scenario_<code>.html).",
)
@click.option(
    "--scenarios",
    "scenario_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Take --scenario from this TOML file instead of the GeoPackage's tables.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice([name for name, _make in STEPS]),
    help="Do not write this step's outputs (repeatable), e.g. --skip memo: no review.html/pdf, "
    "the slowest output; the data is validated and analysed all the same.",
)
@verbosity
def build_command(
    gpkg: Path,
    out_dir: Path,
    area_tolerance: float,
    offline: bool,
    basemap: str,
    tianditu_key: str | None,
    paper: str,
    jobs: int,
    evaluation_preset: str,
    scenario: str | None,
    scenario_file: Path | None,
    as_json: bool,
    skip: tuple[str, ...],
) -> None:
    """Validate GPKG and write every table, map and report to the output folder.

    Prints a line on stderr as each step starts (none with -q or --json) and, with -v, the
    seconds each step took. Tables, maps and reports are written by --jobs worker processes
    side by side (on Linux; elsewhere one by one).
    """
    verbosity = click.get_current_context().meta.get("verbosity", 0)
    printer = StepPrinter(echo=verbosity >= 0 and not as_json)
    evaluation = load_preset(evaluation_preset)  # a bad name fails before anything is read
    result = build(
        gpkg,
        out_dir,
        area_tolerance=area_tolerance,
        map_options=make_map_options(offline, basemap, tianditu_key, paper),
        progress=printer,
        jobs=jobs,
        evaluation=evaluation,
        scenario=scenario,
        scenario_file=scenario_file,
        skip=skip,
    )
    if verbosity > 0:
        click.echo(printer.table(result.timings), err=True)
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
    if scenario is not None:
        say(
            f"{_pad('情景 scenario')}{scenario} applied to every output; compared with the base "
            f"in {result.out_dir / 'scenarios.html'}"
        )


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
