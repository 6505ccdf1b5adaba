"""``build``: read -> validate -> metrics -> (maps, reports) for one GeoPackage, with progress.

The GeoPackage is read once; every step works on the in-memory layers. Outputs go to the
output folder only, each written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
    generated: datetime = field(default_factory=lambda: datetime.now().astimezone())


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
    paths = [write_csv(table, ctx.out_dir / f"{key}.csv") for key, table in tables.items()]
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
    return write_maps(ctx.plan, ctx.work, ctx.out_dir, metrics=metrics, options=ctx.map_options)


def _static_maps_step(ctx: BuildContext) -> list[Path]:
    """static/*.png and *.svg: the thematic maps for documents (the report embeds the PNGs)."""
    from .reports.review import local_time
    from .static_maps import static_maps, write_static_maps

    maps = static_maps(
        ctx.work,
        ctx.tables,
        ctx.plan.layers.get("land_use_classes"),
        generated=local_time(ctx.generated),
    )
    written = write_static_maps(maps, ctx.out_dir)
    ctx.tables["static_maps"] = {
        key.removesuffix(".png"): path for key, path in written.items() if key.endswith(".png")
    }
    return list(written.values())


def _reports_step(ctx: BuildContext) -> list[Path]:
    """report.xlsx and report.html, from the areas, metrics and static maps already made."""
    from .reports import report_maps, write_reports

    tables = {k: v for k, v in ctx.tables.items() if k != "static_maps"}
    pngs = {k: Path(p).read_bytes() for k, p in ctx.tables.get("static_maps", {}).items()}
    return write_reports(
        ctx.plan,
        ctx.work,
        ctx.out_dir,
        tables=tables,
        findings=ctx.findings,
        areas=ctx.tables.get("areas"),
        area_tolerance=ctx.area_tolerance,
        generated=ctx.generated,
        maps=report_maps(ctx.plan, ctx.work, tables, generated=ctx.generated, rendered=pngs),
    )


STEPS: tuple[Step, ...] = (
    ("areas", _areas_step),
    ("metrics", _metrics_step),
    ("maps", _maps_step),
    ("static maps", _static_maps_step),
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
    else is computed and DataError is raised.
    """
    total = len(STEPS) + 2
    tell = progress or (lambda i, n, label: log.info("[%d/%d] %s", i, n, label))
    tell(1, total, "reading and validating")
    plan, findings = load_checked(gpkg, area_tolerance=area_tolerance)
    outputs = [write_csv(findings_frame(findings), Path(out_dir) / "validation.csv")]
    refuse_errors(plan, findings, see=f"{outputs[0]} or run 'miyun-spatial validate {plan.path}'")
    ctx = BuildContext(
        plan,
        work_layers(plan),
        Path(out_dir),
        findings,
        area_tolerance=area_tolerance,
        map_options=map_options or MapOptions(),
    )
    for i, (label, step) in enumerate(STEPS, start=2):
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
