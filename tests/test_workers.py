"""The build's outputs written by forked worker processes (``--jobs``): the same files as one
by one, tasks that wait for others, and failures that reach the user as one line."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from miyun_spatial.core.errors import OutputError
from miyun_spatial.flow import workers
from miyun_spatial.flow.workers import Task, can_fork, run_tasks

needs_fork = pytest.mark.skipif(not can_fork(), reason="workers are forked on Linux only")


def _write_after_a_while(path: Path) -> str:
    time.sleep(0.4)
    path.write_text("a")
    return "a"


@needs_fork
def test_a_task_starts_after_those_it_waits_for(tmp_path):
    first = tmp_path / "first"
    tasks = [
        Task("a", lambda _: _write_after_a_while(first)),
        Task("b", lambda got: (first.exists(), got), after=("a",)),
        Task("c", lambda _: os.getpid()),
    ]
    started = []
    done = run_tasks(tasks, jobs=2, started=started.append)
    assert [d.label for d in done] == ["a", "b", "c"]
    assert done[1].value == (True, {"a": "a"})  # b saw a's file: it started once a had finished
    assert started.index("b") > started.index("a")
    assert done[2].value != os.getpid()  # ran in a worker process
    assert all(d.seconds >= 0 for d in done)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_task_listed_before_what_it_waits_for_runs_after_it(tmp_path, jobs):
    first = tmp_path / "first"
    tasks = [
        Task("b", lambda got: (first.exists(), got), after=("a",)),
        Task("a", lambda _: _write_after_a_while(first)),
    ]
    started = []
    done = run_tasks(tasks, jobs=jobs, started=started.append)
    assert started == ["a", "b"]
    assert [d.label for d in done] == ["b", "a"]  # the values in the order of the list
    assert done[0].value == (True, {"a": "a"})


@needs_fork
def test_a_task_error_reaches_the_caller_as_raised(tmp_path):
    def fail(_inputs):
        raise OutputError(f"cannot write {tmp_path / 'x.csv'}: disk full")

    with pytest.raises(OutputError, match=r"x\.csv: disk full"):
        run_tasks([Task("ok", lambda _: 1), Task("bad", fail)], jobs=2)


@needs_fork
def test_a_worker_killed_is_an_output_error():
    def die(_inputs):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(OutputError, match=r"worker process died while writing 'killed'.*--jobs 1"):
        run_tasks([Task("killed", die), Task("other", lambda _: 2)], jobs=2)


@needs_fork
def test_tasks_that_others_wait_for_start_first():
    tasks = [
        Task("independent", lambda _: 1),
        Task("waits", lambda _: 2, after=("awaited",)),
        Task("awaited", lambda _: 3),
    ]
    started = []
    run_tasks(tasks, jobs=2, started=started.append)
    assert started == ["awaited", "independent", "waits"]


@needs_fork
def test_workers_take_task_after_task():
    pids = [
        d.value for d in run_tasks([Task(f"t{i}", lambda _: os.getpid()) for i in range(6)], jobs=2)
    ]
    assert len(set(pids)) <= 2 and os.getpid() not in pids


_HOARD: list[bytes] = []


def _hoard_mb(mb: int) -> int:
    _HOARD.append(b"x" * (mb * 2**20))  # written: the worker's own pages
    return os.getpid()


@needs_fork
@pytest.mark.parametrize("limit_mb, replaced", [(64, True), (1024, False)])
def test_a_worker_whose_memory_grew_past_the_limit_is_replaced(monkeypatch, limit_mb, replaced):
    """Its memory goes back to the system: the next task gets a fresh fork."""
    monkeypatch.setattr(workers, "WORKER_PRIVATE_MAX", limit_mb * 2**20)
    tasks = [Task("big", lambda _: _hoard_mb(128)), Task("next", lambda _: os.getpid(), ("big",))]
    big, after = (d.value for d in run_tasks(tasks, jobs=2))
    assert (after != big) is replaced
    if replaced:  # the retired worker has ended and been reaped
        with pytest.raises(ProcessLookupError):
            os.kill(big, 0)


@needs_fork
def test_a_value_that_cannot_travel_back_is_an_error_not_a_dead_worker():
    with pytest.raises(RuntimeError, match=r"lock: .*pickle"):
        run_tasks([Task("lock", lambda _: threading.Lock()), Task("ok", lambda _: 1)], jobs=2)


def _outputs(stdout: str) -> list[str]:
    import json

    return [Path(p).name for p in json.loads(stdout)["outputs"]]


@needs_fork
def test_two_workers_write_what_one_writes(cli, default_gpkg, tmp_path, built_offline_run):
    """Same files, same order in --json, byte-identical tables (pages and reports carry the
    time of the run). The two-worker build is the session's ``build --offline -j 2 --json``."""
    one_dir, (two_dir, two) = tmp_path / "one", built_offline_run
    one = cli("build", default_gpkg, "--offline", "--out", one_dir, "-j", "1", "--json")
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert _outputs(one.stdout) == _outputs(two.stdout)
    files = sorted(p.relative_to(one_dir) for p in one_dir.rglob("*"))
    assert files == sorted(p.relative_to(two_dir) for p in two_dir.rglob("*"))
    for name in files:
        if name.suffix in (".csv", ".png", ".svg"):
            assert (one_dir / name).read_bytes() == (two_dir / name).read_bytes()
    leftovers = [p for p in two_dir.iterdir() if p.name.startswith(".miyun-tmp-")]
    assert not leftovers


@pytest.mark.slow
@needs_fork
def test_an_output_a_worker_cannot_write_fails_the_build_in_one_line(cli, default_gpkg, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "static").write_text("a file where the static maps' folder goes")
    result = cli("build", default_gpkg, "--offline", "--out", out, "-j", "2")
    assert result.returncode == 3, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "static" in last, result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "report.html").exists()  # it waits for the static maps, which failed


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_validation_errors_win_over_the_figures_computed_beside(cli, gpkg_copy, tmp_path, jobs):
    """A parcel without a current use is a validation error, and makes the figures fail too:
    whether they are computed after validation or beside it, the user reads the validation
    error and only validation.csv is written."""
    from gpkg_edit import read, set_value

    first = read(gpkg_copy, "land_parcels")["parcel_code"].iloc[0]
    set_value(gpkg_copy, "land_parcels", "parcel_code", first, "current_use", None)
    out = tmp_path / "out"
    result = cli("build", gpkg_copy, "--offline", "--out", out, "-j", jobs)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "validation" in last and "land_parcels" in last, last
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".miyun-run.json", "validation.csv"]


def test_workers_are_fewer_when_memory_is_short():
    from miyun_spatial.flow.workers import affordable_jobs

    gb = 1_000_000_000
    assert affordable_jobs(2, 2 * gb, 20 * gb) == 2  # this machine at 10^6 parcels
    assert affordable_jobs(2, 2 * gb, 3 * gb) == 1  # a laptop with 3 GB free
    assert affordable_jobs(4, 2 * gb, 7 * gb) == 2
    assert affordable_jobs(4, 300_000_000, 0) == 1  # never fewer than one
