"""``build``: read -> validate -> analyse once -> render (tables, maps, reports), with progress.

The data source is read once and every figure computed once (``analysis.analyse``); each step
below only renders the frozen :class:`~miyun_spatial.analysis.Results`. Outputs go to the
output folder only, each written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import store
from .analysis import (
    Results,
    analyse,
    load_checked,
    park_key,
    refuse_errors,
    work_layers,
)
from .map_options import MapOptions
from .outputs import write_csv
from .qgis_styles import styles_for
from .results import RESULTS_NAME, write_results
from .validate import (
    DEFAULT_AREA_TOLERANCE,
    Finding,
    findings_frame,
    summary_counts,
    validate,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

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
    detail: Callable[[str], None] = lambda _what: None  # a step's sub-step, for the progress


@dataclass(frozen=True)
class BuildResult:
    source: Path
    out_dir: Path
    outputs: tuple[Path, ...]
    findings: tuple[Finding, ...]
    summary: Mapping[str, object]


def _areas_step(ctx: BuildContext) -> list[Path]:
    return [write_csv(ctx.results.areas, ctx.out_dir / "areas.csv")]


def _metrics_step(ctx: BuildContext) -> list[Path]:
    """One CSV per metric table, and results.gpkg."""
    results = ctx.results
    ctx.detail("CSV tables")
    paths = [write_csv(table, ctx.out_dir / f"{key}.csv") for key, table in results.tables.items()]
    ctx.detail(RESULTS_NAME)
    paths.append(
        write_results(
            ctx.out_dir / RESULTS_NAME,
            results.work,
            results.tables,
            source=results.plan,
            finish=styles_for(results.plan),
        )
    )
    return paths


def _maps_step(ctx: BuildContext) -> list[Path]:
    """The interactive maps (index.html and every page)."""
    from .maps import write_maps

    results = ctx.results
    return write_maps(
        results.plan,
        results.work,
        ctx.out_dir,
        metrics=results.tables,
        options=ctx.map_options,
        progress=ctx.detail,
    )


def _static_maps_step(ctx: BuildContext) -> list[Path]:
    """static/*.png and *.svg: the thematic maps for documents (the report embeds the PNGs)."""
    from .reports.review import local_time
    from .static_maps import static_maps, write_static_maps

    results = ctx.results
    maps = static_maps(
        results.work,
        results.tables,
        results.plan.layers.get("land_use_classes"),
        generated=local_time(ctx.generated),
    )
    return list(write_static_maps(maps, ctx.out_dir).values())


def _reports_step(ctx: BuildContext) -> list[Path]:
    """report.xlsx and report.html, with the static maps the previous step drew."""
    from .reports import report_maps, write_reports
    from .static_maps import STATIC_DIR

    results = ctx.results
    pngs = {path.stem: path.read_bytes() for path in (ctx.out_dir / STATIC_DIR).glob("*.png")}
    maps = report_maps(
        results.plan, results.work, results.tables, generated=ctx.generated, rendered=pngs
    )
    return write_reports(results, ctx.out_dir, generated=ctx.generated, maps=maps)


Step = tuple[str, Callable[[BuildContext], list[Path]]]

STEPS: tuple[Step, ...] = (
    ("areas", _areas_step),
    ("metrics", _metrics_step),
    ("maps", _maps_step),
    ("static maps", _static_maps_step),
    ("reports", _reports_step),
)


def build(
    gpkg: Path | None = None,
    out_dir: Path = Path("maps_out"),
    *,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    map_options: MapOptions | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Run the whole job on ``gpkg`` (default: the embedded GeoPackage) into ``out_dir``.

    The findings are always written to ``validation.csv``; with validation errors nothing
    else is computed and DataError is raised. ``progress(i, total, label)`` is called as each
    step starts (reading, validating, every step of ``STEPS``, then "done"), and with
    ``"step: sub-step"`` labels within long steps.
    """
    total = len(STEPS) + 4
    tell = progress or (lambda i, n, label: log.info("[%d/%d] %s", i, n, label))
    tell(1, total, "reading")
    plan = store.load(gpkg)
    tell(2, total, "validating")
    findings = tuple(validate(plan, area_tolerance=area_tolerance))
    outputs = [write_csv(findings_frame(findings), Path(out_dir) / "validation.csv")]
    refuse_errors(plan, findings, see=f"{outputs[0]} or run 'miyun-spatial validate {plan.path}'")
    tell(3, total, "computing areas, metrics and plan checks")
    results = analyse(plan, findings, area_tolerance=area_tolerance)
    current = [0, ""]
    ctx = BuildContext(
        results,
        Path(out_dir),
        map_options=map_options or MapOptions(),
        detail=lambda what: tell(current[0], total, f"{current[1]}: {what}"),
    )
    for i, (label, step) in enumerate(STEPS, start=4):
        current[:] = [i, label]
        tell(i, total, label)
        outputs.extend(step(ctx))
    tell(total, total, "done")
    return BuildResult(plan.path, Path(out_dir), tuple(outputs), findings, summary(results))


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
