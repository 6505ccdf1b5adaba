"""All-or-nothing outputs (issue 19): the output folder always holds one complete run.

A run writes into a staging folder beside the output folder and swaps it in at the end; a
run that fails (bad data, a file that cannot be written) or is killed leaves the previous
outputs byte-identical; the user's own files in the output folder survive every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_bad_input_classes import sql

from miyun_spatial.io.staging import MANIFEST, STAGE_PREFIX

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL, RLIMIT_FSIZE: POSIX")

TIMEOUT_S = 600  # a hang fails the test, it is not a timing assertion


def _cli(*args, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    """The CLI as a user runs it; ``limit_bytes``: no file it writes may grow past that
    (RLIMIT_FSIZE, as a full disk or a quota: the write fails with EFBIG)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "miyun_spatial", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=limit if limit_bytes else None,
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _stages(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f"{STAGE_PREFIX}*"))


@pytest.fixture
def previous(tmp_path, built_default) -> Path:
    """An output folder holding a complete run, and the user's notes beside its files."""
    out = tmp_path / "out"
    shutil.copytree(built_default, out)
    (out / "notes.txt").write_text("my notes on the maps\n", encoding="utf-8")
    (out / "mine").mkdir()
    (out / "mine" / "sketch.svg").write_text("<svg/>", encoding="utf-8")
    return out


@pytest.fixture
def invalid_gpkg(tmp_path, default_gpkg) -> Path:
    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    sql("UPDATE farmer_bases SET category = 'upgarde' WHERE code = 'B2'")(gpkg)
    return gpkg


def test_the_manifest_lists_every_file_the_run_wrote(built_default):
    manifest = json.loads((built_default / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["command"] == "build" and manifest["complete"] is True
    on_disk = sorted(p for p in _digests(built_default) if p != MANIFEST)
    assert manifest["files"] == on_disk
    assert {"index.html", "results.gpkg", "report.html", "validation.csv"} <= set(on_disk)


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["validation errors", "a file too large to write"])
def test_a_failed_build_leaves_the_previous_outputs_byte_identical(
    previous, invalid_gpkg, default_gpkg, failure
):
    before = _digests(previous)
    if failure == "validation errors":
        result, code = _cli("build", invalid_gpkg, "--out", previous, "--offline"), 1
    else:  # report.html (2.5 MB) cannot be written; the input's snapshot (0.9 MB) can
        result = _cli("build", default_gpkg, "--out", previous, "--offline", limit_bytes=1_500_000)
        code = 3
    assert result.returncode == code, result.stderr[-800:]
    assert "Traceback" not in result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert line.endswith(f"the previous complete outputs in {previous}/ are unchanged"), line
    assert STAGE_PREFIX not in line  # files are named where the user looks for them
    assert _digests(previous) == before
    assert _stages(previous) == []


@pytest.mark.slow
def test_a_build_keeps_the_users_files_and_drops_outputs_it_no_longer_writes(previous):
    # a page an earlier run wrote (listed in its manifest) that this run does not write
    manifest = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
    (previous / "base_B9.html").write_text("<p>B9, since removed from the plan</p>")
    manifest["files"].append("base_B9.html")
    (previous / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    notes = (previous / "notes.txt").stat().st_ino
    result = _cli("build", "--out", previous, "--offline", "-q")
    assert result.returncode == 0, result.stderr[-800:]
    assert (previous / "notes.txt").read_text(encoding="utf-8") == "my notes on the maps\n"
    assert (previous / "notes.txt").stat().st_ino == notes  # the same file, not a copy
    assert (previous / "mine" / "sketch.svg").read_text(encoding="utf-8") == "<svg/>"
    assert not (previous / "base_B9.html").exists()
    listed = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert "notes.txt" not in listed and "mine/sketch.svg" not in listed
    assert sorted([*listed, MANIFEST, "notes.txt", "mine/sketch.svg"]) == sorted(_digests(previous))
    assert _stages(previous) == []


@pytest.mark.slow
def test_report_replaces_its_own_files_and_keeps_the_rest_of_the_run(previous, default_gpkg):
    before = _digests(previous)
    result = _cli("report", default_gpkg, "--out", previous, "-q")
    assert result.returncode == 0, result.stderr[-800:]
    after = _digests(previous)
    assert set(after) == set(before)
    same = {name for name in before if before[name] == after[name]}
    assert {"index.html", "results.gpkg", "notes.txt", "mine/sketch.svg"} <= same
    listed = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert "index.html" in listed and "report.html" in listed and "notes.txt" not in listed


def _kill_once_staging(out: Path, *args) -> bool:
    """Start ``build`` and SIGKILL it once its staging folder holds results.gpkg's scratch
    folder (the run is writing); True if it was caught there."""
    command = [sys.executable, "-m", "miyun_spatial", "build", *map(str, args), "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            if any(_stage_is_writing(stage) for stage in _stages(out)):
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode == -signal.SIGKILL


def _stage_is_writing(stage: Path) -> bool:
    try:
        return (stage / "validation.csv").exists() and any(stage.glob(".miyun-tmp-*/*"))
    except OSError:
        return False


@pytest.mark.slow
def test_a_killed_build_leaves_the_previous_outputs_and_the_next_run_cleans_up(
    previous, invalid_gpkg
):
    before = _digests(previous)
    for _attempt in range(5):  # the kill may land after the moment: try again
        if _kill_once_staging(previous, "--offline") and _stages(previous):
            break
    else:
        pytest.fail("could not kill build while it was writing its staging folder")
    assert _digests(previous) == before
    [stale] = _stages(previous)
    # the next run, even one that is refused, removes what the killed one left
    result = _cli("build", invalid_gpkg, "--out", previous, "--offline")
    assert result.returncode == 1, result.stderr[-800:]
    assert not stale.exists() and _stages(previous) == []
    assert _digests(previous) == before


def test_a_refused_first_build_leaves_its_findings_in_a_new_folder(tmp_path, invalid_gpkg):
    out = tmp_path / "fresh"
    result = _cli("build", invalid_gpkg, "--out", out, "--offline")
    assert result.returncode == 1
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert f"{out / 'validation.csv'}" in line
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["complete"] is False and manifest["files"] == ["validation.csv"]
    assert "upgarde" in (out / "validation.csv").read_text(encoding="utf-8-sig")
    assert os.stat(out).st_mode & 0o777 == 0o777 & ~_umask()  # not the staging folder's 0700


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
