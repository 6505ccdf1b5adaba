"""Plan consistency: every figure the plan states that the data or the plan itself can recompute.

Each check recomputes a stated figure (areas from the geometries, the park's land and yields
from the parcels, Annex 1 subtotals from its items, counts, unit conversions, growth targets,
sums and shares in the text) and returns a :class:`Consistency` record with both numbers and
the plan section. Nothing is corrected: a mismatch stays a mismatch and is reported, never
hidden. The comparison rules (rounding of printed figures, 约) are in :mod:`.recompute`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.consistency import CONSISTENCY_COLUMNS, GROUPS, STATUSES, Consistency, consistency_frame
from ..core.crs import to_work_crs
from ..core.plan import PlanData
from .data_figures import annex1_subtotals, area_checks, count_checks, park_checks, project_checks
from .plan_figures import benchmark_checks, indicator_checks, text_checks, unit_checks

log = logging.getLogger(__name__)

DEFAULT_AREA_TOLERANCE = 0.05
__all__ = [
    "CONSISTENCY_COLUMNS",
    "DEFAULT_AREA_TOLERANCE",
    "GROUPS",
    "STATUSES",
    "Consistency",
    "annex1_subtotals",
    "check_consistency",
    "consistency_frame",
    "mismatches",
]


def mismatches(checks: Iterable[Consistency]) -> list[Consistency]:
    return [c for c in checks if c.status == "mismatch"]


def check_consistency(
    plan: PlanData,
    *,
    areas: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    work: Mapping[str, gpd.GeoDataFrame] | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
) -> list[Consistency]:
    """Recompute every figure the plan states that ``plan`` (and the plan text) can recompute.

    Parameters
    ----------
    plan
        The GeoPackage as read (``store.load``); it is not modified.
    areas
        :func:`miyun_spatial.metrics.areas.feature_areas` of the plan layers.
    tables
        The metric tables of ``metrics.compute_all``, for the park's land and yields.
    work
        The spatial layers in EPSG:4548 (``pipeline.work_layers``); the parcel layer is
        reprojected here when not given.
    area_tolerance
        Relative tolerance between measured and stated areas.

    Returns
    -------
    list of Consistency
        In the plan's order; checks whose inputs are missing come back as ``not_checked``,
        saying what is missing.
    """
    tables = tables or {}
    parcels = _work_parcels(plan, work)
    checks: list[Consistency] = []
    for producer in (
        lambda: area_checks(plan, areas, area_tolerance),
        lambda: park_checks(plan, tables),
        lambda: benchmark_checks(plan),
        lambda: project_checks(plan, parcels, area_tolerance),
        lambda: count_checks(plan),
        lambda: unit_checks(plan),
        lambda: indicator_checks(plan),
        text_checks,
    ):
        checks.extend(producer())
    log.info(
        "consistency: %d figures checked, %d mismatches",
        len(checks),
        len(mismatches(checks)),
    )
    return checks


def _work_parcels(
    plan: PlanData, work: Mapping[str, gpd.GeoDataFrame] | None
) -> gpd.GeoDataFrame | None:
    name = CATALOGUE["land_parcels"].name
    if work is not None and name in work:
        return work[name]
    parcels = plan.layers.get(name)
    if not isinstance(parcels, gpd.GeoDataFrame) or parcels.crs is None:
        return None
    return to_work_crs(parcels, layer=name)
