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
from .metrics.areas import feature_areas
from .outputs import write_csv
from .validate import Finding, findings_frame, has_errors, summary_counts, validate

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BuildContext:
    """What the steps share: the source data, its work-CRS layers, the output folder."""

    plan: store.PlanData
    work: Mapping[str, gpd.GeoDataFrame]
    out_dir: Path
    findings: tuple[Finding, ...]
    tables: dict = field(default_factory=dict)  # step name -> result, filled as steps run


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


Step = tuple[str, Callable[[BuildContext], list[Path]]]
STEPS: tuple[Step, ...] = (("areas", _areas_step),)


def build(
    gpkg: Path | None = None,
    out_dir: Path = Path("maps_out"),
    *,
    area_tolerance: float = 0.05,
    progress: Progress | None = None,
) -> BuildResult:
    """Run the whole job on ``gpkg`` (default: the embedded GeoPackage) into ``out_dir``."""
    total = len(STEPS) + 2
    tell = progress or (lambda i, n, label: log.info("[%d/%d] %s", i, n, label))
    tell(1, total, "reading and validating")
    plan = store.load(gpkg)
    findings = tuple(validate(plan, area_tolerance=area_tolerance))
    outputs = [write_csv(findings_frame(findings), Path(out_dir) / "validation.csv")]
    if has_errors(findings):
        counts = summary_counts(findings)
        raise DataError(
            f"{plan.path}: {counts['error']} validation errors; nothing was computed. "
            f"See {outputs[0]} or run 'miyun-spatial validate {plan.path}'"
        )
    ctx = BuildContext(plan, work_layers(plan), Path(out_dir), findings)
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
    return summary
