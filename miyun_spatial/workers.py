"""Run a build's independent output tasks side by side, in forked worker processes.

Once the results are computed, every table, page, static map and report is written from the
same frozen :class:`~miyun_spatial.analysis.Results` and none depends on another (except the
report, which embeds the static maps' PNGs). :func:`run_tasks` runs such tasks at most
``jobs`` at a time on worker processes forked from this one, so they inherit the results
without copying or pickling them (copy-on-write pages); only a task's inputs (the values of
the tasks it waits for) and its return value (paths, page summaries) travel, pickled. A
worker takes task after task until its own memory passes ``WORKER_PRIVATE_MAX``; it then ends,
giving all of it back, and a fresh fork takes the next task. With ``jobs=1``, or where
``fork`` is not the way processes start (Windows, macOS), the tasks run one after the other
in this process, in the same order.

A task never writes outside its own files, and every file is written atomically, so a worker
that dies leaves no half-written output; its death is reported as an :class:`OutputError`.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import OutputError

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]


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


@dataclass(frozen=True)
class Done:
    """A finished task: its value, the seconds it took, and the peak resident memory (MB) of
    the process that ran it, as it ended (a worker's peak, over the tasks it ran)."""

    label: str
    value: Any
    seconds: float
    peak_mb: float = 0.0


log = logging.getLogger(__name__)

Started = Callable[[str], None]

# What the worker of beside() runs: set before it forks, so it inherits it.
_BESIDE: Callable[[], Any] | None = None


def default_jobs() -> int:
    """Worker processes by default: the CPUs this process may use (at most 4)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


# A worker's own memory, as a share of this process's when it forks (measured at 10^6 parcels:
# the validation worker takes about 0.9 GB beside a 1.6 GB build, an output task at most
# about 0.5 GB), and the share of the available memory the workers may take.
WORKER_SHARE = 0.6
AVAILABLE_SHARE = 0.5


def affordable_jobs(jobs: int, rss_bytes: int, available_bytes: int) -> int:
    """How many of ``jobs`` workers fit: each may grow to WORKER_SHARE of this process's
    resident memory, and together they take at most AVAILABLE_SHARE of the available memory
    (at least one worker)."""
    each = max(1.0, WORKER_SHARE * rss_bytes)
    return max(1, min(jobs, int(AVAILABLE_SHARE * available_bytes // each)))


def _memory() -> tuple[int, int] | None:
    """(this process's resident bytes, the system's available bytes), or None off Linux."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        meminfo = Path("/proc/meminfo").read_text()
    except (OSError, ValueError, IndexError):
        return None
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            return pages * os.sysconf("SC_PAGE_SIZE"), int(line.split()[1]) * 1024
    return None


def can_fork() -> bool:
    """True where workers can be forked safely: Linux (macOS forks unsafely, Windows cannot)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def run_tasks(
    tasks: Sequence[Task], *, jobs: int = 1, started: Started | None = None
) -> list[Done]:
    """Run ``tasks`` on ``jobs`` workers, each once the tasks it waits for are done; with
    workers, the tasks that others wait for start first (so that those wait less), the rest
    in list order.

    ``started(label)`` is called as each task starts. Returns one :class:`Done` per task, in
    the order of ``tasks``. A task's exception is raised here, once the tasks already running
    have finished; no task is started after it.
    """
    labels = [task.label for task in tasks]
    if len(set(labels)) != len(labels):
        raise ValueError(f"task labels must be unique: {labels}")
    started = started or (lambda _label: None)
    memory = _memory() if jobs > 1 else None
    if memory is not None and (fit := affordable_jobs(jobs, *memory)) < jobs:
        log.info(
            "%d worker(s) instead of %d: %.1f GB available, each may take %.1f GB",
            fit,
            jobs,
            memory[1] / 1e9,
            WORKER_SHARE * memory[0] / 1e9,
        )
        jobs = fit
    if jobs <= 1 or len(tasks) <= 1 or not can_fork():
        done: dict[str, Done] = {}
        waiting = list(tasks)
        while waiting:  # the first task whose predecessors are done, as the workers do
            task = next((t for t in waiting if all(a in done for a in t.after)), None)
            if task is None:
                raise ValueError(f"tasks wait for tasks that never run: {waiting[0].label}")
            waiting.remove(task)
            done[task.label] = _run_here(task, done, started)
        return [done[task.label] for task in tasks]
    return _run_forked(tasks, min(jobs, len(tasks)), started)


@contextlib.contextmanager
def beside(run: Callable[[], Any], *, enabled: bool = True) -> Iterator[Callable[[], Any]]:
    """Start ``run()`` in a forked worker while the ``with`` block runs here; the block gets
    a function returning its value (raising its exception). Without ``enabled`` or ``fork``,
    ``run()`` is called here, when the value is first asked for."""
    if not (enabled and can_fork()):
        yield run
        return
    global _BESIDE
    _BESIDE = run  # inherited by the worker, forked when the pool starts
    _give_back_free_memory()
    try:
        with ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            future = pool.submit(_run_beside)

            def result() -> Any:
                try:
                    return future.result()
                except BrokenProcessPool as error:
                    raise _died("validating") from error

            yield result
    finally:
        _BESIDE = None


def _died(doing: str) -> OutputError:
    return OutputError(
        f"a worker process died while {doing} (out of memory? killed?): run again with "
        "--jobs 1 to do everything one by one in this process"
    )


def _run_beside() -> Any:
    return _BESIDE()


def _run_here(task: Task, done: Mapping[str, Done], started: Started) -> Done:
    started(task.label)
    start = time.perf_counter()
    value = task.run(_inputs(task, done))
    return Done(task.label, value, time.perf_counter() - start, _peak_mb())


def _inputs(task: Task, done: Mapping[str, Done]) -> dict[str, Any]:
    return {label: done[label].value for label in task.after}


def _peak_mb() -> float:
    if resource is None:
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# A worker runs tasks one after another (keeping what it has loaded: fonts, layouts, copied
# pages) until its own memory passes this after a task; it then ends and gives it all back,
# and the next task gets a fresh fork. Small data: two workers do everything; 10^6 parcels:
# nearly every task gets a fresh fork.
WORKER_PRIVATE_MAX = 256 * 2**20


def _run_forked(tasks: Sequence[Task], jobs: int, started: Started) -> list[Done]:
    """The tasks on at most ``jobs`` worker processes forked from this one as needed; a
    worker whose own (private) memory exceeds WORKER_PRIVATE_MAX after a task is replaced."""
    context = multiprocessing.get_context("fork")
    done: dict[str, Done] = {}
    idle: list[_Worker] = []
    busy: dict[Any, tuple[_Worker, int]] = {}  # a worker's connection -> it, its task
    # tasks that others wait for first (the report waits for the static maps), then in order
    awaited = {label for task in tasks for label in task.after}
    waiting = sorted(range(len(tasks)), key=lambda i: (tasks[i].label not in awaited, i))
    failure: BaseException | None = None
    gc.freeze()  # the collector in a worker leaves inherited objects alone: no copied pages
    _give_back_free_memory()
    try:
        while waiting or busy:
            for index in list(waiting):  # start what may start, on free workers only
                if failure is not None or len(busy) >= jobs:
                    break
                if all(label in done for label in tasks[index].after):
                    waiting.remove(index)
                    started(tasks[index].label)
                    worker = idle.pop() if idle else _Worker(context, tasks)
                    worker.connection.send((index, _inputs(tasks[index], done)))
                    busy[worker.connection] = (worker, index)
            if not busy:
                break
            for connection in multiprocessing.connection.wait(list(busy)):
                worker, index = busy.pop(connection)
                label = tasks[index].label
                try:
                    outcome = connection.recv()
                except EOFError:  # it ended without a word: killed, or crashed
                    worker.stop()
                    failure = failure or _died(f"writing '{label}'")
                    continue
                kind, *rest, retiring = outcome
                if retiring:
                    worker.stop()
                else:
                    idle.append(worker)
                if kind == "error":  # re-raised below, once running tasks end
                    failure = failure or rest[0]
                else:
                    done[label] = Done(label, *rest)
    finally:
        for worker in idle:
            worker.stop()
        for worker, _index in busy.values():
            worker.stop(kill=True)
        gc.unfreeze()
    if failure is not None:
        raise failure
    return [done[label] for label in (task.label for task in tasks)]


class _Worker:
    """A forked worker process and the connection it takes tasks on and answers through."""

    def __init__(self, context, tasks: Sequence[Task]) -> None:
        self.connection, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(tasks, theirs, os.getpid()), daemon=True
        )
        self.process.start()
        theirs.close()

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            with contextlib.suppress(OSError):
                self.connection.send(None)  # no more tasks (ignored if it has ended)
        self.connection.close()
        self.process.join()


def _die_with_parent(parent: int) -> None:
    """In a worker (Linux): be killed when the build that forked it dies. A SIGKILLed build
    otherwise leaves its workers waiting for tasks for ever (each holds the pipes of the
    others, so none sees the end of its own), holding the run's staging folder."""
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _serve(tasks: Sequence[Task], connection: Any, parent: int) -> None:
    """In a worker: run the tasks sent, answering ("done", value, seconds, peak MB,
    retiring) or ("error", the exception, retiring), until told to stop or retiring."""
    _die_with_parent(parent)
    while (job := connection.recv()) is not None:
        index, inputs = job
        task = tasks[index]
        start = time.perf_counter()
        try:
            value = task.run(inputs)
        except BaseException as error:
            answer = ("error", _picklable(error))
        else:
            answer = ("done", value, time.perf_counter() - start, _peak_mb())
        retiring = _private_bytes() > WORKER_PRIVATE_MAX
        try:
            connection.send((*answer, retiring))
        except Exception as error:  # a value that cannot travel back
            connection.send(("error", RuntimeError(f"{task.label}: {error}"), retiring))
        if retiring:
            break
    connection.close()


def _private_bytes() -> int:
    """This process's own memory: the pages no other process shares (Linux), else 0."""
    try:
        rollup = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return 0
    fields = dict(line.split(":", 1) for line in rollup.splitlines()[1:] if ":" in line)
    return 1024 * sum(
        int(fields.get(key, "0 kB").split()[0]) for key in ("Private_Clean", "Private_Dirty")
    )


def _picklable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _give_back_free_memory() -> None:
    """Return the heap's free pages to the system before forking (glibc ``malloc_trim``):
    what the analysis freed is then neither counted against this process nor copied."""
    with contextlib.suppress(AttributeError, OSError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


__all__ = ["Done", "Task", "affordable_jobs", "beside", "can_fork", "default_jobs", "run_tasks"]
