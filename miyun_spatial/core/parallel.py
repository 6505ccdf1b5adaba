"""Threads for vectorised GEOS work: shapely releases the GIL, so long arrays are split."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MAX_THREADS = 4


def threads() -> int:
    available = getattr(os, "process_cpu_count", os.cpu_count)() or 1
    return max(1, min(MAX_THREADS, available))


def chunked(fn: Callable[..., np.ndarray], *arrays: np.ndarray, min_items: int) -> np.ndarray:
    """``fn(*arrays)``, split over threads when the arrays are long (shapely releases the GIL)."""
    n = len(arrays[0])
    workers = threads()
    if workers == 1 or n < min_items:
        return fn(*arrays)
    bounds = np.linspace(0, n, workers + 1).astype(int)
    parts = [tuple(a[lo:hi] for a in arrays) for lo, hi in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(lambda args: fn(*args), parts)))
