"""The metric tables the maps show, taken from ``metrics.compute_all`` (never computed here)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from ..metrics import compute_all
from ..store import PlanData

log = logging.getLogger(__name__)

TABLES = ("mix_indices", "zone_yields", "parcel_yields")


def metrics_for_maps(
    work: Mapping[str, gpd.GeoDataFrame],
    plan: PlanData,
    tables: Mapping[str, object] | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables the maps need: from ``tables`` (a build's results) when they hold them,
    else from ``metrics.compute_all(work, plan)``."""
    if tables is not None:
        found = {k: v for k, v in tables.items() if k in TABLES and isinstance(v, pd.DataFrame)}
        nested = tables.get("metrics")
        if isinstance(nested, Mapping):
            found = {**{k: nested[k] for k in TABLES if k in nested}, **found}
        if found:
            return found
    log.info("computing the metrics for the maps")
    return {k: v for k, v in compute_all(work, plan).items() if k in TABLES}
