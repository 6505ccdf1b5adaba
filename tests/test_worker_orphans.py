"""A build SIGKILLed (the OOM killer, a CI time-out, ``kill -9``) leaves no process behind:
its workers end with it, whether they are validating, writing or about to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from proc_tree import Proc, ended_within, kill_when, living, stat

from miyun_spatial.flow.workers import can_fork
from miyun_spatial.io.scratch import SNAPSHOT_PREFIX

pytestmark = pytest.mark.skipif(not can_fork(), reason="workers are forked on Linux only")

GRACE_S = 2.0


def _moment(name: str, out: Path, tmp: Path):
    """When to kill the build: while it reads (no worker yet), as its first worker starts
    (validating beside the figures), as two workers write at once, and once they have written
    static maps (late in the writing)."""
    first: set[Proc] = set()

    def reading(_pid: int, workers: set[Proc]) -> bool:
        return not workers and any(p.name.startswith(SNAPSHOT_PREFIX) for p in tmp.iterdir())

    def validating(_pid: int, workers: set[Proc]) -> bool:
        first.update(workers)
        return len(first) == 1 and len(workers) == 1

    def writing(_pid: int, workers: set[Proc]) -> bool:
        return len(workers) >= 2

    def late(_pid: int, workers: set[Proc]) -> bool:
        # the run writes into its staging folder beside ``out`` (io.staging)
        pngs = [*out.glob("static/*.png"), *out.parent.glob(".miyun-stage-*/static/*.png")]
        return len(workers) >= 2 and bool(pngs)

    return {"reading": reading, "validating": validating, "writing": writing, "late": late}[name]


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["reading", "validating", "writing", "late"])
def test_no_process_of_a_sigkilled_build_is_left(tmp_path, default_gpkg, moment):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    for attempt in range(5):  # the build may pass the moment between two looks: again
        out = tmp_path / f"out{attempt}"
        command = [sys.executable, "-m", "miyun_spatial", "build", str(default_gpkg)]
        command += ["--out", str(out), "--offline", "-q", "-j", "2"]
        killed = kill_when(command, _moment(moment, out, tmp), env=env, grace=GRACE_S)
        assert not killed.left, (
            f"{len(killed.left)} process(es) of a build SIGKILLed while {moment} still ran "
            f"{GRACE_S} s later: pids {list(killed.left)}"
        )
        if killed.caught:
            break
        assert "Traceback" not in killed.stderr, killed.stderr
    else:
        pytest.fail(f"the build ended each time before the moment '{moment}'")
    workers = len(killed.processes)
    assert workers >= {"reading": 0, "validating": 1, "writing": 2, "late": 2}[moment], workers


IDLE_THEN_KILLED = """
import os, time
from miyun_spatial.flow import workers
from miyun_spatial.flow.workers import Task, run_tasks

workers.PR_SET_PDEATHSIG = 0  # refused by the kernel, as where it cannot signal: only EOF is left


def tell(label, seconds):
    print(label, os.getpid(), flush=True)
    time.sleep(seconds)


tasks = [Task("quick", lambda _: tell("quick", 0)), Task("slow", lambda _: tell("slow", 3))]
run_tasks([*tasks, Task("last", lambda _: tell("last", 0), after=("quick", "slow"))], jobs=2)
"""


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def test_an_idle_worker_reads_the_end_of_file_when_the_build_dies():
    """The first worker, idle once its task is done, waits for its next task on its socket:
    it (and the second, forked after it) must hold no other end of it, so that it reads an
    end of file as soon as the build is killed, without the kernel's signal."""
    command = [sys.executable, "-c", IDLE_THEN_KILLED]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    workers: dict[str, Proc] = {}
    try:
        for label, pid in (proc.stdout.readline().split() for _ in range(2)):
            workers[label] = (int(pid), stat(int(pid)).start)
        idle = workers["quick"][0]
        while (wchan := _wchan(idle)) != "unix_stream_read_generic" and proc.poll() is None:
            if wchan in ("", "0"):
                pytest.skip("this kernel does not show where a process waits (/proc/PID/wchan)")
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left, _seconds = ended_within([workers["quick"]], GRACE_S)
        assert not left, f"the idle worker {idle} still waits for a task from a dead build"
        left, _seconds = ended_within(workers.values(), 3 + GRACE_S)  # the other, after its task
        assert not left, f"the busy worker {workers['slow'][0]} went on after its task"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        for pid in living(workers.values()):
            os.kill(pid, signal.SIGKILL)
