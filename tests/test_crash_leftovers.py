"""A run killed half-way (SIGKILL, power loss) leaves nothing a GIS client lists as data and
no process running, and the next run removes what it left: scratch folders of outputs and
snapshots of the input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from proc_tree import kill_when

from miyun_spatial.io.outputs import write_text
from miyun_spatial.io.scratch import OUTPUT_PREFIX, SNAPSHOT_PREFIX, STALE_AGE_S, remove_stale
from miyun_spatial.io.staging import MANIFEST, STAGE_PREFIX

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and flock are POSIX")

HOLD = """
import sys, time
from pathlib import Path
from miyun_spatial.io.scratch import private_dir
with private_dir(Path(sys.argv[1]), sys.argv[2]) as folder:
    (folder / "results.gpkg").write_bytes(b"half")
    print(folder, flush=True)
    time.sleep(600)
"""


def hold_scratch(parent: Path, prefix: str = OUTPUT_PREFIX) -> tuple[subprocess.Popen, Path]:
    """A process that owns a scratch folder in ``parent`` until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(parent), prefix], stdout=subprocess.PIPE, text=True
    )
    folder = Path(proc.stdout.readline().strip())
    assert folder.is_dir()
    return proc, folder


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stdout:
        proc.stdout.close()


@pytest.mark.parametrize("prefix", [OUTPUT_PREFIX, SNAPSHOT_PREFIX])
def test_folders_of_killed_runs_are_removed_and_of_live_runs_kept(tmp_path, prefix):
    dead, dead_folder = hold_scratch(tmp_path, prefix)
    kill(dead)
    assert (dead_folder / "results.gpkg").exists()  # SIGKILL runs no clean-up
    live, live_folder = hold_scratch(tmp_path, prefix)  # the next run removes it first
    try:
        assert not dead_folder.exists()
        assert remove_stale(tmp_path, prefix) == []  # a running owner keeps its folder
        assert (live_folder / "results.gpkg").read_bytes() == b"half"
    finally:
        kill(live)
    assert remove_stale(tmp_path, prefix) == [live_folder]
    assert list(tmp_path.iterdir()) == []


def test_the_next_write_removes_leftovers_of_earlier_versions_once_old(tmp_path):
    old = [tmp_path / ".results-k3j_x9a2.gpkg", tmp_path / ".report.xlsx.ab12cd34.tmp"]
    fresh = tmp_path / ".results-zz99zz99.gpkg"
    mine = tmp_path / "notes.gpkg"  # the user's own file: never touched
    for path in (*old, fresh, mine):
        path.write_bytes(b"x")
    past = time.time() - STALE_AGE_S - 60
    for path in (*old, mine):
        os.utime(path, (past, past))
    write_text(tmp_path / "index.html", "<p>ok</p>")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [fresh.name, mine.name, "index.html"]
    )


def _scratch(out: Path, tmp: Path) -> list[Path]:
    """Scratch folders in the output folder, staging folders beside it (and the scratch
    folders in those), snapshots in $TMPDIR."""
    stages = [p for p in out.parent.glob(f"{STAGE_PREFIX}*") if p.is_dir()]
    found = [p for d in (out, *stages) if d.is_dir() for p in d.glob(f"{OUTPUT_PREFIX}*")]
    return stages + found + [p for p in tmp.glob(f"{SNAPSHOT_PREFIX}*") if p.is_dir()]


def _kill_build_while(gpkg: Path, out: Path, tmp: Path, seen) -> bool:
    """Start ``build`` and SIGKILL it as soon as ``seen()`` holds; True if it was caught.
    No process of it (its workers) may outlive it by more than two seconds."""
    env = {**os.environ, "TMPDIR": str(tmp)}
    command = [sys.executable, "-m", "miyun_spatial", "build", str(gpkg), "--out", str(out)]
    killed = kill_when(command, lambda _pid, _workers: seen(), env=env, grace=2.0)
    assert not killed.left, f"processes of the killed build still run: pids {list(killed.left)}"
    return killed.caught


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["snapshot", "results.gpkg"])
def test_sigkilled_build_leaves_no_listed_data_and_the_next_run_cleans_up(
    tmp_path, default_gpkg, moment
):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()

    def seen() -> bool:
        if moment == "snapshot":
            return any(p.name.startswith(SNAPSHOT_PREFIX) for p in tmp.iterdir())
        return any((p / "results.gpkg").exists() for p in _scratch(out, tmp))

    for _attempt in range(5):  # the kill may land just after the moment passed: try again
        if _kill_build_while(default_gpkg, out, tmp, seen) and _scratch(out, tmp):
            break
    else:
        pytest.fail(f"could not kill build while it held a {moment} scratch folder")
    leftovers = _scratch(out, tmp)
    # nothing half-written is visible: every leftover is inside a hidden or temporary folder
    if out.exists():
        visible = [p for p in out.iterdir() if not p.name.startswith(".")]
        assert not [p for p in visible if p.suffix == ".gpkg" and p.name != "results.gpkg"]
    result = subprocess.run(
        [sys.executable, "-m", "miyun_spatial", "build", str(default_gpkg), "--out", str(out)],
        env={**os.environ, "TMPDIR": str(tmp)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert _scratch(out, tmp) == [], leftovers
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != MANIFEST]
