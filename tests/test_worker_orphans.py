"""A build SIGKILLed (the OOM killer, a CI time-out, ``kill -9``) leaves no process behind:
its workers end with it, whether they are validating, writing or about to end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from proc_tree import Proc, kill_when

from miyun_spatial.scratch import SNAPSHOT_PREFIX
from miyun_spatial.workers import can_fork

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
        static = out / "static"
        return len(workers) >= 2 and static.is_dir() and any(static.glob("*.png"))

    return {"reading": reading, "validating": validating, "writing": writing, "late": late}[name]


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
