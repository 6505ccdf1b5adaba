"""Parallel work: threads for vectorised GEOS calls (shapely releases the GIL, so long arrays
are split), and the ``Task`` that :mod:`miyun_spatial.flow.workers` runs on forked workers
(defined here so that renderers can describe their tasks without importing the runner)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Task:
    """One output task: its progress label, what it runs, and the labels it must wait for.

    ``run`` is called with the values of the tasks it waits for, by label (an empty mapping
    when it waits for none); those values travel to its worker pickled.
    """

    label: str
    run: Callable[[Mapping[str, Any]], Any]
    after: tuple[str, ...] = ()
    writes: bool = True  # its value is the list of files it wrote (else data for others)
    step: str = ""  # the identifier of the build step it belongs to (set by flow.build)
