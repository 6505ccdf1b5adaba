"""Geometries settled before forking: a worker that writes their WKB copies none of their pages."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from miyun_spatial.io.geopackage import settle_geometries

ROLLUP = Path("/proc/self/smaps_rollup")


def _private_kb() -> int:
    fields = dict(line.split(":", 1) for line in ROLLUP.read_text().splitlines()[1:])
    return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty"))


def _copied_by_wkb_in_a_fork(geoms: np.ndarray) -> int:
    """KB of private memory a forked child gains by writing the WKB of ``geoms``."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        before = _private_kb()
        wkb = shapely.to_wkb(geoms)
        del wkb
        os.write(write, str(_private_kb() - before).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        return int(pipe.read())


def _layer(n: int) -> gpd.GeoDataFrame:
    x = np.arange(n, dtype=float) * 10
    boxes = shapely.multipolygons(shapely.box(x, 0, x + 9, 9)[:, None])
    squares = shapely.from_wkb(shapely.to_wkb(boxes))  # as read from a GeoPackage
    return gpd.GeoDataFrame({"code": np.arange(n)}, geometry=squares, crs=4548)


@pytest.mark.skipif(not ROLLUP.exists() or not hasattr(os, "fork"), reason="Linux only")
def test_settled_geometries_are_not_copied_by_a_worker_writing_them():
    gc.collect()
    gc.freeze()
    try:
        raw = _layer(100_000)
        unsettled = _copied_by_wkb_in_a_fork(np.asarray(raw.geometry.values))
        settled_layer = _layer(100_000)
        settle_geometries({"parcels": settled_layer, "table": raw.drop(columns="geometry")})
        settled = _copied_by_wkb_in_a_fork(np.asarray(settled_layer.geometry.values))
    finally:
        gc.unfreeze()
    assert unsettled > 8_000, (
        unsettled
    )  # the measure sees the copied pages (multi-part geometries cache their dimension)
    assert settled < unsettled / 4, (settled, unsettled)
