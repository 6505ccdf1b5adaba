"""One run, computed once: read -> validate -> work layers -> areas -> metrics -> plan checks.

:func:`analyse` returns a frozen :class:`Results`; maps, reports, results.gpkg, CSV tables and
the CLI only render it. Every command goes through :func:`load_checked` and :func:`analyse`, so
the way from the data source to a figure passes each module once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from ..checks.consistency import annex1_subtotals, check_consistency
from ..core.catalogue import CATALOGUE
from ..core.consistency import Consistency
from ..core.crs import to_work_crs
from ..core.errors import DataError
from ..core.vocabulary import park_key
from ..io import geopackage as store
from ..io import sources
from ..metrics import MetricInputs, compute_metrics
from ..metrics.areas import feature_areas
from ..validate.layers import (
    DEFAULT_AREA_TOLERANCE,
    Finding,
    first_error,
    has_errors,
    summary_counts,
    validate,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Results:
    """Everything one run knows, made once and never changed.

    ``work``: every spatial catalogue layer in EPSG:4548; ``areas``: ``feature_areas`` of the
    plan layers; ``tables``: ``metrics.compute_all``; ``checks``: the plan-consistency checks
    (empty when the run does not render them); ``park``: (layer, code) of the park's current
    extent, the vocabulary's ``park`` role; ``annex1``: Annex 1's subtotals per stage.
    """

    plan: store.PlanData
    findings: tuple[Finding, ...]
    work: Mapping[str, gpd.GeoDataFrame]
    areas: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    checks: tuple[Consistency, ...]
    park: tuple[str, str] | None
    area_tolerance: float = DEFAULT_AREA_TOLERANCE
    annex1: pd.DataFrame | None = None  # Annex 1 subtotals per stage (``annex1_subtotals``)

    @property
    def source(self) -> Path:
        return self.plan.path


def work_layers(plan: store.PlanData) -> dict[str, gpd.GeoDataFrame]:
    """Every spatial catalogue layer of ``plan`` in EPSG:4548 (reprojected explicitly if needed)."""
    return {
        spec.name: to_work_crs(plan[spec.name], layer=spec.name)
        for spec in CATALOGUE.layers
        if spec.is_spatial and spec.name in plan
    }


def load_checked(
    source: Path | str | None, *, area_tolerance: float = DEFAULT_AREA_TOLERANCE
) -> tuple[store.PlanData, tuple[Finding, ...]]:
    """Read ``source`` once and validate it; returns the data and every finding."""
    plan = sources.load(source)
    return plan, tuple(validate(plan, area_tolerance=area_tolerance))


def refuse_errors(plan: store.PlanData, findings: tuple[Finding, ...], *, see: str) -> None:
    """Raise DataError (naming the first error's layer, feature and fix) if there are errors."""
    if has_errors(findings):
        counts = summary_counts(findings)
        raise DataError(
            f"{plan.path}: {counts['error']} validation errors, the first: "
            f"{first_error(findings)}; nothing was computed. See {see}"
        )


def analyse(
    plan: store.PlanData,
    findings: tuple[Finding, ...],
    *,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    checks: bool = True,
    evaluation=None,
    inputs: MetricInputs | None = None,
) -> Results:
    """Compute every figure of a validated ``plan`` once; ``checks=False`` skips the plan
    checks (for runs that do not render them, e.g. ``maps``); ``evaluation``: the
    ``metrics.evaluation.Config`` of the 亩均效益评价 (default: preset ``plan``);
    ``inputs``: the metrics' ``prepare`` of ``plan``, made already (a scenario's, sharing
    the base overlay)."""
    work = work_layers(plan)
    areas = feature_areas({s.name: work[s.name] for s in CATALOGUE.plan_layers if s.name in work})
    metrics = compute_metrics(work, plan, evaluation=evaluation, inputs=inputs)
    tables = metrics.tables
    consistency = (
        tuple(
            check_consistency(
                plan, areas=areas, tables=tables, work=work, area_tolerance=area_tolerance
            )
        )
        if checks
        else ()
    )
    return Results(
        plan=plan,
        findings=tuple(findings),
        work=MappingProxyType({**work, **metrics.layers}),
        areas=areas,
        tables=MappingProxyType(dict(tables)),
        checks=consistency,
        park=park_key(work),
        area_tolerance=area_tolerance,
        annex1=annex1_subtotals(plan),
    )


def load_and_analyse(
    source: Path | str | None,
    *,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    checks: bool = True,
    evaluation=None,
) -> Results:
    """Read, validate (refusing data with errors) and analyse ``source``: every command's path."""
    plan, findings = load_checked(source, area_tolerance=area_tolerance)
    refuse_errors(plan, findings, see=f"'miyun-spatial validate {plan.path}'")
    return analyse(
        plan, findings, area_tolerance=area_tolerance, checks=checks, evaluation=evaluation
    )
