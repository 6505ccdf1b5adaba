"""Rebuild the outputs whenever the GeoPackage's content changes (``miyun-spatial watch``).

Change detection compares the layers' content (``store.layer_digests``: schema, CRS and rows of
each catalogue layer), never the file's mtime: QGIS touches, re-opens, switches to WAL and
checkpoints files without editing them, and none of that triggers a rebuild. The file's
``stat`` only decides when the content is worth hashing again. A change is rebuilt once it has
stayed the same for ``debounce`` seconds, so a burst of saves gives one rebuild.

The loop is bounded by ``max_runs`` (rebuilds after the first build) and ``max_polls``, and
takes its ``sleep`` and ``clock`` as parameters, so tests drive it deterministically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..analysis.diff import PlanDiff, changed_layers, diff_plans
from ..core.errors import EXIT_OK, InputError, MiyunError
from ..io import geopackage as store
from ..io import sources
from . import build as pipeline

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 1.0
DEFAULT_DEBOUNCE_S = 2.0

Builder = Callable[..., pipeline.BuildResult]


@dataclass(frozen=True)
class WatchEvent:
    """Something the watcher noticed or did; ``kind`` is one of KINDS."""

    kind: str
    run: int
    message: str
    layers: tuple[str, ...] = ()
    diff: PlanDiff | None = None
    result: pipeline.BuildResult | None = None
    exit_code: int = EXIT_OK
    seconds: float = 0.0


KINDS = ("built", "failed", "changed", "unreadable")


@dataclass
class WatchState:
    """What the loop remembers between polls (internal)."""

    digests: dict[str, str]
    plan: store.PlanData | None
    signature: tuple
    pending: dict[str, str] | None = None
    pending_since: float = 0.0
    runs: int = 0
    polls: int = 0
    exit_code: int = EXIT_OK
    last: WatchEvent | None = None


def file_signature(path) -> tuple:
    """A cheap marker that only says 'look again' (``Source.signature``): for a GeoPackage the
    (inode, size, mtime) of the file and of its -wal.
    """
    return sources.open_source(path).signature()


def watch(
    gpkg: Path,
    out_dir: Path,
    *,
    interval: float = DEFAULT_INTERVAL_S,
    debounce: float = DEFAULT_DEBOUNCE_S,
    max_runs: int | None = None,
    max_polls: int | None = None,
    on_event: Callable[[WatchEvent], None] | None = None,
    builder: Builder = pipeline.build,
    build_options: dict | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> WatchState:
    """Build ``gpkg`` into ``out_dir``, then rebuild after each change of its content.

    Stops after ``max_runs`` rebuilds or ``max_polls`` polls (None: never). Build failures
    (bad data) are reported as events and the watch goes on, so that the user can fix the data
    in QGIS; ``exit_code`` of the returned state is the last build's. An unreadable input at
    the start raises InputError.
    """
    gpkg = sources.open_source(gpkg) if sources.is_database(gpkg) else Path(gpkg)
    options = dict(build_options or {})
    tell = on_event or (lambda event: log.info("%s", event.message))
    state = WatchState(sources.layer_digests(gpkg), None, file_signature(gpkg))
    state.plan = _load_quietly(gpkg)
    _run(state, gpkg, out_dir, builder, options, tell, clock, (), None)
    while (max_runs is None or state.runs < max_runs) and (
        max_polls is None or state.polls < max_polls
    ):
        sleep(interval)
        state.polls += 1
        _poll(state, gpkg, out_dir, builder, options, tell, clock, debounce)
    return state


def _poll(state: WatchState, gpkg, out_dir, builder, options, tell, clock, debounce) -> None:
    signature = file_signature(gpkg)
    if signature == state.signature and state.pending is None:
        return
    state.signature = signature
    try:
        current = sources.layer_digests(gpkg)
    except InputError as exc:  # locked, being replaced, deleted: look again next time
        state.signature = ()
        if state.last is None or state.last.message != str(exc):
            event = WatchEvent("unreadable", state.runs, str(exc), exit_code=exc.exit_code)
            _emit(state, tell, event)
        return
    if current == state.digests:
        state.pending = None  # touched, re-opened or checkpointed, but not edited
        return
    if current != state.pending:
        state.pending, state.pending_since = current, clock()
        layers = _changed(state.digests, current)
        message = f"{gpkg}: {', '.join(layers)} changed"
        if debounce > 0:
            _emit(state, tell, WatchEvent("changed", state.runs, message, layers))
            return
    if clock() - state.pending_since < debounce:
        return
    layers = _changed(state.digests, current)
    state.digests, state.pending = current, None
    state.runs += 1
    new_plan = _load_quietly(gpkg)
    difference = _diff_quietly(state.plan, new_plan)
    if new_plan is not None:
        state.plan = new_plan
    _run(state, gpkg, out_dir, builder, options, tell, clock, layers, difference)


def _changed(before: dict[str, str], after: dict[str, str]) -> tuple[str, ...]:
    names = list(before) + [name for name in after if name not in before]
    return tuple(name for name in names if before.get(name) != after.get(name))


def _load_quietly(gpkg: Path) -> store.PlanData | None:
    """The plan for diffing; None when it cannot be read (the build then says why)."""
    try:
        return sources.load(gpkg)
    except MiyunError as exc:
        log.debug("cannot load %s for the diff: %s", gpkg, exc)
        return None


def _diff_quietly(old: store.PlanData | None, new: store.PlanData | None) -> PlanDiff | None:
    """What changed since the last build; None when it cannot be told (e.g. duplicate codes)."""
    if old is None or new is None:
        return None
    try:
        return diff_plans(old, new)
    except MiyunError as exc:
        log.debug("no diff: %s", exc)
        return None


def _run(state, gpkg, out_dir, builder, options, tell, clock, layers, difference) -> None:
    started = clock()
    try:
        result = builder(gpkg, out_dir, **options)
    except MiyunError as exc:
        state.exit_code = exc.exit_code
        _emit(
            state,
            tell,
            WatchEvent(
                "failed",
                state.runs,
                str(exc),
                layers,
                _safe_diff(difference),
                exit_code=exc.exit_code,
                seconds=clock() - started,
            ),
        )
        return
    state.exit_code = EXIT_OK
    message = f"built {len(result.outputs)} files in {result.out_dir}"
    _emit(
        state,
        tell,
        WatchEvent(
            "built",
            state.runs,
            message,
            layers,
            _safe_diff(difference),
            result,
            seconds=clock() - started,
        ),
    )


def _safe_diff(difference: PlanDiff | None) -> PlanDiff | None:
    return difference if difference is not None and changed_layers(difference) else None


def _emit(state: WatchState, tell, event: WatchEvent) -> None:
    state.last = event
    tell(event)


__all__ = ["KINDS", "WatchEvent", "WatchState", "file_signature", "watch"]
