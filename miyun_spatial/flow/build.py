"""``build``: read -> validate -> analyse once -> render (tables, maps, reports), with progress.

The data source is read once and every figure computed once (``analysis.analyse``); each step
below only renders the frozen :class:`~miyun_spatial.analysis.run.Results`. Outputs go to the
output folder only, each written atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..analysis.run import Results, analyse, load_checked, park_key, refuse_errors, work_layers
from ..core.errors import InputError
from ..io import geopackage as store
from ..io import sources
from ..io.outputs import write_csv
from ..io.qgis_project import add_project
from ..io.qgis_styles import styles_for
from ..io.qgis_styles.low_efficiency import add_low_efficiency_style
from ..io.staging import Stage, staged_run
from ..render.maps.options import MapOptions
from ..render.results_gpkg import RESULTS_NAME, write_results
from ..validate.layers import (
    DEFAULT_AREA_TOLERANCE,
    Finding,
    findings_frame,
    summary_counts,
    validate,
)
from .workers import Task, beside, can_fork, run_tasks

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str, int], None]  # i, n, label, percent of the run
T = TypeVar("T")

__all__ = [
    "STEPS",
    "BuildResult",
    "Results",
    "build",
    "load_checked",
    "park_key",
    "refuse_errors",
    "work_layers",
]


@dataclass(frozen=True)
class BuildContext:
    """What the steps share: the run's results, the output folder, the map options."""

    results: Results
    out_dir: Path
    map_options: MapOptions = field(default_factory=MapOptions)
    generated: datetime = field(default_factory=lambda: datetime.now().astimezone())
    scenario_matrix: pd.DataFrame | None = None  # build --scenario: a sheet of report.xlsx


@dataclass(frozen=True)
class BuildResult:
    source: Path
    out_dir: Path
    outputs: tuple[Path, ...]
    findings: tuple[Finding, ...]
    summary: Mapping[str, object]
    timings: tuple[tuple[str, float], ...] = ()  # (step or task, seconds it took)
    peaks: tuple[tuple[str, float], ...] = ()  # (task, peak RSS in MB of its process as it ended)


def _areas_tasks(ctx: BuildContext) -> list[Task]:
    return [Task("areas", lambda _: [write_csv(ctx.results.areas, ctx.out_dir / "areas.csv")])]


def _metrics_tasks(ctx: BuildContext) -> list[Task]:
    """One CSV per metric table, and results.gpkg (styled, with its QGIS project)."""
    results = ctx.results

    def tables(_inputs) -> list[Path]:
        return [
            write_csv(table, ctx.out_dir / f"{key}.csv") for key, table in results.tables.items()
        ]

    def gpkg(_inputs) -> list[Path]:
        styles = styles_for(results.plan)

        def finish(tmp: Path) -> Path:  # the styles, then the QGIS project showing them
            return add_project(add_low_efficiency_style(styles(tmp)), file_name=RESULTS_NAME)

        target = ctx.out_dir / RESULTS_NAME
        return [
            write_results(target, results.work, results.tables, source=results.plan, finish=finish)
        ]

    return [Task(f"metrics: {RESULTS_NAME}", gpkg), Task("metrics: CSV tables", tables)]


def _map_inputs(ctx: BuildContext):
    from ..render.maps.page import MapInputs

    results = ctx.results
    return MapInputs(results.plan, results.work, dict(results.tables), ctx.map_options)


def _maps_tasks(ctx: BuildContext) -> list[Task]:
    """One task per page module; index.html is written once they are done (see build)."""
    from ..render.maps.writer import page_tasks

    return page_tasks(_map_inputs(ctx), ctx.out_dir)


def _static_maps_tasks(ctx: BuildContext) -> list[Task]:
    """static/<key>.png, .svg and .pdf, one task per thematic map (the report embeds the
    PNGs), and atlas.pdf holding them all."""
    from ..render.reports.review import local_time
    from ..render.static.layout import paper_layout
    from ..render.static.maps import static_maps, write_static_maps

    results = ctx.results
    maps = static_maps(
        results.work,
        results.tables,
        results.plan.layers.get("land_use_classes"),
        generated=local_time(ctx.generated),
        layout=paper_layout(ctx.map_options.paper),
    )
    return [
        Task(
            f"static maps: {m.key}",
            lambda _, m=m: list(write_static_maps([m], ctx.out_dir).values()),
        )
        for m in maps
    ] + _atlas_task(ctx, maps)


def _atlas_task(ctx: BuildContext, maps) -> list[Task]:
    """atlas.pdf: a contents page and every static map's PDF, once they are written."""
    from ..render.static.atlas import ATLAS_NAME, write_atlas
    from ..render.static.layout import paper_layout

    if not maps:
        return []
    date = _drawn_date(ctx)
    layout = paper_layout(ctx.map_options.paper)
    return [
        Task(
            f"static maps: {ATLAS_NAME}",
            lambda _: [write_atlas(maps, ctx.out_dir, date, layout)],
            after=tuple(f"static maps: {m.key}" for m in maps),
        )
    ]


def _drawn_date(ctx: BuildContext) -> str:
    from ..render.reports.review import local_time

    return f"制图 drawn {local_time(ctx.generated).strftime('%Y-%m-%d')}"


def _reports_tasks(ctx: BuildContext) -> list[Task]:
    """The report's content, assembled once; its charts; report.xlsx; and report.html once
    the charts and the static maps it embeds are drawn."""
    from ..render.reports import (
        HTML_NAME,
        XLSX_NAME,
        report_charts,
        report_content,
        write_html_report,
        write_xlsx_report,
    )
    from ..render.static.maps import STATIC_DIR

    def html(inputs) -> list[Path]:
        static = ctx.out_dir / STATIC_DIR
        pngs = {path.stem: path.read_bytes() for path in static.glob("*.png")}
        path = write_html_report(
            inputs[CONTENT],
            ctx.results,
            ctx.out_dir,
            generated=ctx.generated,
            rendered=pngs,
            charts=inputs[CHARTS],
        )
        return [path]

    return [
        Task(CONTENT, lambda _: report_content(_shown(ctx), generated=ctx.generated), writes=False),
        Task(CHARTS, lambda inputs: report_charts(inputs[CONTENT]), (CONTENT,), writes=False),
        Task(
            f"reports: {XLSX_NAME}",
            lambda inputs: [write_xlsx_report(inputs[CONTENT], ctx.out_dir)],
            (CONTENT,),
        ),
        Task(f"reports: {HTML_NAME}", html, after=(CONTENT, CHARTS, "static maps")),
    ]


def _shown(ctx: BuildContext) -> Results:
    """The results the report shows: with the scenario matrix among its tables, if any."""
    if ctx.scenario_matrix is None:
        return ctx.results
    from ..render.reports.scenario_section import MATRIX

    return replace(ctx.results, tables={**ctx.results.tables, MATRIX: ctx.scenario_matrix})


def _memo_tasks(ctx: BuildContext) -> list[Task]:
    """review_issues.csv, review.html and review.pdf, once the files they link to (the report,
    the static maps, the map pages) are written; the conclusion is decided once, here, by the
    analysis, and the memo assembled once for the three."""
    from ..analysis.conclusion import conclude
    from ..render.memo import (
        HTML_NAME,
        ISSUES_CSV,
        PDF_NAME,
        memo,
        output_files,
        write_memo_html,
        write_memo_issues,
        write_memo_pdf,
    )

    def decided(_inputs):
        conclusion = conclude(ctx.results)
        files = {*output_files(ctx.out_dir), ISSUES_CSV}  # what an issue may link to
        made = memo(ctx.results, conclusion, generated=ctx.generated, files=files)
        return conclusion, files, made

    def issues(inputs) -> list[Path]:
        conclusion, files, _made = inputs[MEMO]
        return [write_memo_issues(conclusion, ctx.out_dir, files)]

    def write(writer):
        return lambda inputs: [writer(inputs[MEMO][2], ctx.out_dir)]

    return [
        Task(MEMO, decided, after=("reports", "static maps", "maps"), writes=False),
        Task(f"memo: {ISSUES_CSV}", issues, (MEMO,)),
        Task(f"memo: {HTML_NAME}", write(write_memo_html), (MEMO,)),
        Task(f"memo: {PDF_NAME}", write(write_memo_pdf), (MEMO,)),
    ]


# Tasks whose values feed other tasks (no file of their own): what the report shows, assembled
# once (a bounded summary, whatever the number of parcels), and report.html's charts (SVG text)
CONTENT = "reports: content"
CHARTS = "reports: charts"
MEMO = "memo: content"  # the conclusion, the files an issue links to, and the memo

Step = tuple[str, Callable[[BuildContext], list[Task]]]

# The output steps, each a list of tasks. With workers, the tasks that others wait for start
# first (the report's content, its charts, the static maps it embeds), then the rest in this
# order, each once what it waits for is done.
STEPS: tuple[Step, ...] = (
    ("reports", _reports_tasks),
    ("maps", _maps_tasks),
    ("metrics", _metrics_tasks),
    ("static maps", _static_maps_tasks),
    ("areas", _areas_tasks),
    ("memo", _memo_tasks),
)

# The order of the outputs in BuildResult.outputs (and in build --json)
OUTPUT_ORDER = ("areas", "metrics", "maps", "static maps", "reports")


def build(
    gpkg: Path | None = None,
    out_dir: Path = Path("maps_out"),
    *,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    map_options: MapOptions | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    evaluation=None,
    scenario: str | None = None,
    scenario_file: Path | None = None,
    skip: Collection[str] = (),
) -> BuildResult:
    """Run the whole job on ``gpkg`` (default: the embedded GeoPackage) into ``out_dir``.

    The findings are always written to ``validation.csv``; with validation errors nothing
    else is computed and DataError is raised. The outputs are then written by the tasks of
    ``STEPS``, on ``jobs`` worker processes (:mod:`miyun_spatial.flow.workers`).
    ``progress(i, n, label, percent)`` is called as each of the four phases starts (reading,
    validating, analysing, writing), as each of the n tasks of the last starts, then with
    "done"; ``BuildResult.timings`` holds the seconds of each. ``evaluation``: the
    ``metrics.evaluation.Config`` of the 亩均效益评价 (default: preset ``plan``).

    All or nothing (:mod:`miyun_spatial.staging`): the run writes into a staging folder that
    replaces ``out_dir`` once everything is written; a failed run leaves ``out_dir`` as it
    was (a refused run's validation.csv lands only in a folder without a previous run).

    ``scenario`` (a code or name of the data's scenarios, or of ``scenario_file``): build
    the data with that scenario's edits applied, and add its comparison with the base
    (``flow.scenarios.scenario_outputs``).

    ``skip``: names of ``STEPS`` whose outputs are not written (e.g. ``("memo",)``: no
    review.html/pdf); the data is validated and analysed all the same.
    """
    skip = skipped_steps(skip)  # a bad name fails before anything is read
    with staged_run(out_dir, command="build", replace_all=True) as stage:
        result = _build_into(
            stage,
            gpkg,
            area_tolerance,
            map_options,
            progress,
            jobs,
            scenario=scenario,
            scenario_file=scenario_file,
            evaluation=evaluation,
            skip=skip,
        )
    outputs = tuple(stage.final(path) for path in result.outputs)
    return replace(result, out_dir=Path(out_dir), outputs=outputs)


def _build_into(
    stage: Stage,
    gpkg: Path | None,
    area_tolerance: float,
    map_options: MapOptions | None,
    progress: Progress | None,
    jobs: int,
    *,
    evaluation=None,
    scenario: str | None = None,
    scenario_file: Path | None = None,
    skip: Collection[str] = (),
) -> BuildResult:
    """:func:`build`, writing into ``stage.path``."""
    out_dir = stage.path
    timings: list[tuple[str, float]] = []
    tell = progress or (lambda i, n, label, _pct: log.info("[%d/%d] %s", i, n, label))
    tell(1, 4, "reading", 0)
    plan = _timed(timings, "reading", lambda: sources.load(gpkg))
    base_plan, chosen = plan, None
    if scenario is not None:
        from .scenarios import scenario_plan

        plan, chosen = scenario_plan(plan, scenario, scenario_file)
    store.settle_geometries(plan.layers)  # before any fork
    analysing = "computing areas, metrics and plan checks"
    side_by_side = jobs > 1 and can_fork()

    def validating() -> tuple[tuple[Finding, ...], float]:
        start = time.perf_counter()
        found = tuple(validate(plan, area_tolerance=area_tolerance))
        return found, time.perf_counter() - start

    # With workers, the figures are computed while a worker validates; they are kept only
    # when the data has no errors (and their own errors only count then).
    tell(2, 4, "validating", 25)
    with beside(validating, enabled=side_by_side) as validation:
        if side_by_side:
            tell(3, 4, analysing, 50)
            results, failure = _attempt(timings, analysing, plan, area_tolerance, evaluation)
        findings, seconds = validation()
    timings.insert(1, ("validating", seconds))
    outputs = [write_csv(findings_frame(findings), out_dir / "validation.csv")]
    stage.publish_on_failure = True  # the findings of a refused run, where nothing is lost
    command = f"'miyun-spatial validate {plan.path}'"
    shown = stage.final(outputs[0])
    refuse_errors(
        plan, findings, see=command if stage.has_previous else f"{shown} or run {command}"
    )
    stage.publish_on_failure = False
    if not side_by_side:
        tell(3, 4, analysing, 50)
        results, failure = _attempt(timings, analysing, plan, area_tolerance, evaluation)
    if failure is not None:
        raise failure
    results = replace(results, findings=findings)
    store.settle_geometries(results.work)  # those reprojected to EPSG:4548
    run = None
    if chosen is not None:  # the matrix first: report.xlsx has it as a sheet
        from .scenarios import scenario_run

        run = scenario_run(base_plan, chosen, results, area_tolerance)
    ctx = BuildContext(results, Path(out_dir), map_options=map_options or MapOptions())
    if run is not None:
        ctx = replace(ctx, scenario_matrix=run.matrix)
    tasks = _tasks(ctx, skip)
    tell(4, 4, f"writing the outputs: {len(tasks)} tasks", 75)
    position = iter(range(len(tasks)))

    def started(label: str) -> None:
        k = next(position)
        tell(k + 1, len(tasks), label, 75 + 25 * k // len(tasks))

    done = run_tasks(tasks, jobs=jobs, started=started)
    writes = {t.label: t.writes for t in tasks}
    step_of = {t.label: t.step for t in tasks}
    timings += [(d.label, d.seconds) for d in done]
    steps = [*OUTPUT_ORDER, *(name for name, _make in STEPS if name not in OUTPUT_ORDER)]
    by_step = {name: [d for d in done if step_of[d.label] == name] for name in steps}
    for name in steps:
        if name == "maps" and by_step["maps"]:
            from ..render.maps.writer import write_pages_index

            pages = [page for d in by_step["maps"] for page in d.value]
            # the index lists every file of the run (all tasks are done by now)
            files = [*outputs, *(p for d in done if writes[d.label] for p in d.value)]
            outputs += write_pages_index(_map_inputs(ctx), pages, ctx.out_dir, files)
        else:
            outputs += [path for d in by_step[name] if writes[d.label] for path in d.value]
    if chosen is not None:
        from .scenarios import scenario_outputs

        outputs += scenario_outputs(base_plan, chosen, results, out_dir, area_tolerance, run)
    tell(len(tasks), len(tasks), "done", 100)
    peaks = tuple((d.label, round(d.peak_mb)) for d in done)
    return BuildResult(
        plan.path, Path(out_dir), tuple(outputs), findings, summary(results), tuple(timings), peaks
    )


def skipped_steps(skip: Collection[str]) -> frozenset[str]:
    """``skip`` as a set of step names of ``STEPS``; InputError naming an unknown one."""
    names = [name for name, _make in STEPS]
    unknown = sorted(set(skip) - set(names))
    if unknown:
        raise InputError(
            f"unknown build step '{unknown[0]}' to skip: choose among {', '.join(names)}"
        )
    return frozenset(skip)


def _tasks(ctx: BuildContext, skip: Collection[str] = ()) -> list[Task]:
    """The tasks of every step of STEPS but those in ``skip``. A task's ``after`` names tasks
    or steps: a step stands for all of its tasks; one that is not run is not waited for."""
    steps = [(name, make) for name, make in STEPS if name not in skip]
    tasks = [replace(task, step=name) for name, make in steps for task in make(ctx)]
    by_label = {t.label: [t.label] for t in tasks}
    by_step = {name: [t.label for t in tasks if t.step == name] for name, _ in steps}
    expand = {**by_step, **by_label}
    return [
        replace(t, after=tuple(label for name in t.after for label in expand.get(name, ())))
        for t in tasks
    ]


def _attempt(timings, label: str, plan, area_tolerance: float, evaluation=None):
    """``analyse(plan)`` timed: (results, None), or (None, the exception it raised)."""
    try:
        return _timed(
            timings,
            label,
            lambda: analyse(plan, (), area_tolerance=area_tolerance, evaluation=evaluation),
        ), None
    except Exception as error:
        return None, error


def _timed(timings: list[tuple[str, float]], label: str, run: Callable[[], T]) -> T:
    """``run()``, its seconds appended to ``timings`` under ``label``."""
    start = time.perf_counter()
    value = run()
    timings.append((label, time.perf_counter() - start))
    return value


def summary(results: Results) -> dict[str, object]:
    """The figures of the one-screen build summary (labels in vocabulary.json ``summary``)."""
    out: dict[str, object] = {"validation": summary_counts(results.findings)}
    areas, park = results.areas, results.park
    out["plan_features"] = len(areas)
    out["park_area_ha"] = float(areas.loc[park, "area_ha"]) if park in areas.index else None
    yields = results.tables.get("zone_yields")
    if yields is not None and park in yields.index:
        row = yields.loc[park]
        for name, column in (
            ("park_revenue_per_ha", "revenue_per_ha"),
            ("park_revenue_target_per_ha", "target_revenue_per_ha"),
            ("park_revenue_pct_of_target", "pct_of_target"),
            ("park_output_per_ha", "output_per_ha"),
            ("park_output_target_yuan_per_m2", "target_output_yuan_per_m2"),
            ("park_output_pct_of_target", "output_pct_of_target"),
        ):
            out[name] = None if row[column] != row[column] else round(float(row[column]), 1)
    parcels = results.tables.get("parcel_yields")
    if parcels is not None:
        out["low_efficiency_parcels"] = int(parcels["low_efficiency"].sum())
    totals = results.tables.get("adjustment_totals")
    if totals is not None:
        out["redesignated_ha"] = round(float(totals["changed_ha"].sum()), 2)
    return out
