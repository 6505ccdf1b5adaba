"""``write_maps``: index.html and every map page of one plan, the page modules on workers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..core.plan import PlanData
from ..render.maps.options import MapOptions
from ..render.maps.page import MapInputs
from ..render.maps.writer import page_tasks, write_pages_index
from .workers import run_tasks


def write_maps(
    plan: PlanData,
    work: Mapping[str, gpd.GeoDataFrame],
    out_dir: Path,
    *,
    metrics: Mapping[str, pd.DataFrame] | None = None,
    options: MapOptions | None = None,
    jobs: int = 1,
) -> list[Path]:
    """Write index.html and every map for ``plan`` into ``out_dir``; return the paths.

    ``work`` holds the plan's spatial layers in EPSG:4548 (``pipeline.work_layers``);
    ``metrics`` the tables of ``metrics.compute_all`` (pages that need them say so when
    they are missing). Each file is written atomically; the page modules run on ``jobs``
    worker processes (:mod:`miyun_spatial.flow.workers`).
    """
    inputs = MapInputs(plan, work, dict(metrics or {}), options or MapOptions())
    done = run_tasks(page_tasks(inputs, out_dir), jobs=jobs)
    return write_pages_index(inputs, [page for d in done for page in d.value], out_dir)
