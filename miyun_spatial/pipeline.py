"""``build``: read -> validate -> metrics -> (maps, reports) for one GeoPackage, with progress.

The GeoPackage is read once; every step works on the in-memory layers. Outputs go to the
output folder only, each written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from . import store
from .catalogue import CATALOGUE
from .crs import to_work_crs
from .errors import DataError
from .map_options import MapOptions
from .metrics import compute_all
from .metrics.areas import feature_areas
from .outputs import write_csv
from .qgis_styles import styles_for
from .results import RESULTS_NAME, write_results
from .validate import (
    DEFAULT_AREA_TOLERANCE,
    Finding,
    findings_frame,
    first_error,
    has_errors,
    summary_counts,
    validate,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildContext:
    """What the steps share: the source data, its work-CRS layers, the output folder."""

    plan: store.PlanData
    work: Mapping[str, gpd.GeoDataFrame]
    out_dir: Path
    findings: tuple[Finding, ...]
    area_tolerance: float = DEFAULT_AREA_TOLERANCE
    map_options: MapOptions = field(default_factory=MapOptions)
    tables: dict = field(default_factory=dict)  # step name -> result, filled as steps run
    detail: Callable[[str], None] = lambda _what: None  # a step's sub-step, for the progress


@dataclass(frozen=True)
class BuildResult:
    source: Path
    out_dir: Path
    outputs: tuple[Path, ...]
    findings: tuple[Finding, ...]
    summary: Mapping[str, object]


def work_layers(plan: store.PlanData) -> dict[str, gpd.GeoDataFrame]:
    """Every spatial catalogue layer of ``plan`` in EPSG:4548 (reprojected explicitly if needed)."""
    return {
        spec.name: to_work_crs(plan[spec.name], layer=spec.name)
        for spec in CATALOGUE.layers
        if spec.is_spatial and spec.name in plan
    }


def _areas_step(ctx: BuildContext) -> list[Path]:
    table = feature_areas(
        {s.name: ctx.work[s.name] for s in CATALOGUE.plan_layers if s.name in ctx.work}
    )
    ctx.tables["areas"] = table
    return [write_csv(table, ctx.out_dir / "areas.csv")]


def _metrics_step(ctx: BuildContext) -> list[Path]:
    """Land-use mix, yields and adjustments: one CSV per table, and results.gpkg."""
    tables = compute_all(ctx.work, ctx.plan)
    ctx.tables.update(tables)
    ctx.detail("CSV tables")
    paths = [write_csv(table, ctx.out_dir / f"{key}.csv") for key, table in tables.items()]
    ctx.detail(RESULTS_NAME)
    results = ctx.out_dir / RESULTS_NAME
    paths.append(
        write_results(results, ctx.work, tables, source=ctx.plan, finish=styles_for(ctx.plan))
    )
    return paths


Step = tuple[str, Callable[[BuildContext], list[Path]]]


def _maps_step(ctx: BuildContext) -> list[Path]:
    """The interactive maps (index.html and every page), from the metrics already computed."""
    from .maps import write_maps
    from .maps.metrics import metrics_for_maps

    metrics = metrics_for_maps(ctx.work, ctx.plan, ctx.tables)
    return write_maps(
        ctx.plan,
        ctx.work,
        ctx.out_dir,
        metrics=metrics,
        options=ctx.map_options,
        progress=ctx.detail,
    )


def _reports_step(ctx: BuildContext) -> list[Path]:
    """report.xlsx and report.html, from the areas and metrics already computed."""
    from .reports import write_reports

    return write_reports(
        ctx.plan,
        ctx.work,
        ctx.out_dir,
        tables=ctx.tables,
        findings=ctx.findings,
        areas=ctx.tables.get("areas"),
        area_tolerance=ctx.area_tolerance,
    )


STEPS: tuple[Step, ...] = (
    ("areas", _areas_step),
    ("metrics", _metrics_step),
    ("maps", _maps_step),
    ("reports", _reports_step),
)


def load_checked(
    gpkg: Path | None, *, area_tolerance: float = DEFAULT_AREA_TOLERANCE
) -> tuple[store.PlanData, tuple[Finding, ...]]:
    """Read ``gpkg`` once and validate it; returns the data and every finding."""
    plan = store.load(gpkg)
    return plan, tuple(validate(plan, area_tolerance=area_tolerance))


def refuse_errors(plan: store.PlanData, findings: tuple[Finding, ...], *, see: str) -> None:
    """Raise DataError (naming the first error's layer, feature and fix) if there are errors."""
    if has_errors(findings):
        counts = summary_counts(findings)
        raise DataError(
            f"{plan.path}: {counts['error']} validation errors, the first: "
            f"{first_error(findings)}; nothing was computed. See {see}"
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
    total = len(STEPS) + 3
    tell = progress or (lambda i, n, label: log.info("[%d/%d] %s", i, n, label))
    tell(1, total, "reading")
    plan = store.load(gpkg)
    tell(2, total, "validating")
    findings = tuple(validate(plan, area_tolerance=area_tolerance))
    outputs = [write_csv(findings_frame(findings), Path(out_dir) / "validation.csv")]
    refuse_errors(plan, findings, see=f"{outputs[0]} or run 'miyun-spatial validate {plan.path}'")
    current = [0, ""]
    ctx = BuildContext(
        plan,
        work_layers(plan),
        Path(out_dir),
        findings,
        area_tolerance=area_tolerance,
        map_options=map_options or MapOptions(),
        detail=lambda what: tell(current[0], total, f"{current[1]}: {what}"),
    )
    for i, (label, step) in enumerate(STEPS, start=3):
        current[:] = [i, label]
        tell(i, total, label)
        outputs.extend(step(ctx))
    tell(total, total, "done")
    return BuildResult(plan.path, Path(out_dir), tuple(outputs), findings, _summary(ctx))


def _summary(ctx: BuildContext) -> dict[str, object]:
    summary: dict[str, object] = {"validation": summary_counts(ctx.findings)}
    areas = ctx.tables.get("areas")
    if areas is not None:
        summary["plan_features"] = len(areas)
        summary["park_area_ha"] = (
            float(areas.loc[("zgc_park", "Z1"), "area_ha"])
            if (("zgc_park", "Z1") in areas.index)
            else None
        )
    summary.update(_metrics_summary(ctx))
    return summary


def _metrics_summary(ctx: BuildContext) -> dict[str, object]:
    """The park's revenue / output per built ha against the 2025 targets, and a few counts."""
    out: dict[str, object] = {}
    yields, park = ctx.tables.get("zone_yields"), ctx.work.get("zgc_park")
    if yields is not None and park is not None:
        spec = CATALOGUE["zgc_park"]  # the park: its feature with status "current" (Z1)
        current = park.loc[park[spec.category_field] == "current", spec.id_field].astype(str)
        key = ("zgc_park", current.iloc[0]) if len(current) else None
        if key in yields.index:
            row = yields.loc[key]
            for name, column in (
                ("park_revenue_per_ha", "revenue_per_ha"),
                ("park_revenue_target_per_ha", "target_revenue_per_ha"),
                ("park_revenue_pct_of_target", "pct_of_target"),
                ("park_output_per_ha", "output_per_ha"),
                ("park_output_target_yuan_per_m2", "target_output_yuan_per_m2"),
                ("park_output_pct_of_target", "output_pct_of_target"),
            ):
                out[name] = None if row[column] != row[column] else round(float(row[column]), 1)
    parcels = ctx.tables.get("parcel_yields")
    if parcels is not None:
        out["low_efficiency_parcels"] = int(parcels["low_efficiency"].sum())
    totals = ctx.tables.get("adjustment_totals")
    if totals is not None:
        out["redesignated_ha"] = round(float(totals["changed_ha"].sum()), 2)
    return out
