"""``watch``: rebuild on content changes only, debounced, bounded, on real GeoPackage files.

The loop tests drive ``watch`` with a scripted ``sleep`` that plays the user between polls
(touching, re-opening, editing the file) and a clock that advances with it; their builder
reads and validates the file for real. The end-to-end test runs the CLI with the real build.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyogrio
import pytest

from miyun_spatial.core.errors import DataError, InputError
from miyun_spatial.flow.build import BuildResult
from miyun_spatial.flow.watch import watch
from miyun_spatial.io import geopackage as store
from miyun_spatial.validate.layers import has_errors, summary_counts, validate


def read(path: Path, layer: str):
    return pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)


def set_value(path: Path, layer: str, code: str, column: str, value) -> None:
    """Edit one attribute through GDAL, as QGIS saves an edit."""
    frame = read(path, layer)
    frame.loc[frame["code"] == code, column] = value
    pyogrio.write_dataframe(
        frame.reset_index(), path, layer=layer, layer_options={"OVERWRITE": "YES", "FID": "fid"}
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Script:
    """Stands in for time: each ``sleep`` advances the clock and plays the next user action."""

    def __init__(self, actions: list[Callable[[], None] | None]):
        self.actions = list(actions)
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        action = self.actions.pop(0) if self.actions else None
        if action is not None:
            action()

    def clock(self) -> float:
        return self.now


class Builds:
    """A real, quick builder: reads and validates the file; raises DataError on errors."""

    def __init__(self):
        self.categories: list[str] = []

    def __call__(self, gpkg: Path, out_dir: Path, **options) -> BuildResult:
        plan = store.load(gpkg)
        findings = tuple(validate(plan))
        if has_errors(findings):
            raise DataError(f"{gpkg}: {summary_counts(findings)['error']} validation errors")
        bases = plan["farmer_bases"].set_index("code")
        self.categories.append(str(bases.loc["B2", "category"]))
        summary = {"validation": summary_counts(findings)}
        return BuildResult(plan.path, Path(out_dir), (), findings, summary)


@pytest.fixture
def plan_copy(tmp_path: Path, default_gpkg: Path) -> Path:
    target = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, target)
    return target


def touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns + 10**10, stat.st_mtime_ns + 10**10))


def reopen_in_wal(path: Path) -> None:
    """What opening for editing and closing again does: WAL on, checkpoint, WAL off."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


def save_user_style(path: Path) -> None:
    """What QGIS's 'Save as default' does: a new row in layer_styles, no data edited."""
    with sqlite3.connect(path) as con:
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, useAsDefault) "
            "VALUES ('', '', 'farmer_bases', 'geom', 'mine', '<qgis/>', 0)"
        )
    con.close()


def test_only_content_changes_rebuild_and_a_burst_of_edits_rebuilds_once(plan_copy, tmp_path):
    start = sha(plan_copy)
    bytes_changed: list[bool] = []
    script = Script(
        [
            lambda: touch(plan_copy),
            lambda: reopen_in_wal(plan_copy),
            lambda: save_user_style(plan_copy),
            lambda: bytes_changed.append(sha(plan_copy) != start),
            lambda: set_value(plan_copy, "farmer_bases", "B2", "category", "exit"),
            lambda: set_value(plan_copy, "farmer_bases", "B2", "name_zh", "滨河基地"),
        ]
    )
    builds, events = Builds(), []
    state = watch(
        plan_copy,
        tmp_path / "out",
        interval=1.0,
        debounce=2.0,
        max_runs=1,
        max_polls=20,
        on_event=events.append,
        builder=builds,
        sleep=script.sleep,
        clock=script.clock,
    )
    assert bytes_changed == [True]  # the file's bytes changed, its content did not
    assert [e.kind for e in events] == ["built", "changed", "changed", "built"]
    assert builds.categories == ["upgrade", "exit"]
    assert state.runs == 1 and state.exit_code == 0
    rebuilt = events[-1]
    assert rebuilt.layers == ("farmer_bases",)
    changes = rebuilt.diff.changes
    assert list(changes.index) == [("farmer_bases", "B2")]
    assert set(changes.iloc[0]["fields"].split(", ")) == {"category", "name_zh"}
    # Rebuilt once the content stood still for the debounce time, not before.
    assert script.now >= 6 + 2.0


def test_a_failed_rebuild_is_reported_and_the_watch_goes_on(plan_copy, tmp_path):
    script = Script(
        [
            lambda: set_value(plan_copy, "farmer_bases", "B2", "category", "upgarde"),
            lambda: set_value(plan_copy, "farmer_bases", "B2", "category", "transform"),
        ]
    )
    builds, events = Builds(), []
    state = watch(
        plan_copy,
        tmp_path / "out",
        interval=0.5,
        debounce=0,
        max_runs=2,
        max_polls=10,
        on_event=events.append,
        builder=builds,
        sleep=script.sleep,
        clock=script.clock,
    )
    assert [(e.kind, e.exit_code) for e in events] == [("built", 0), ("failed", 1), ("built", 0)]
    assert "validation errors" in events[1].message
    assert events[2].diff.changes.iloc[0]["values"] == {"category": ["upgarde", "transform"]}
    assert state.exit_code == 0 and builds.categories == ["upgrade", "transform"]


def test_a_locked_file_is_reported_then_read_when_released(plan_copy, tmp_path):
    holder = sqlite3.connect(plan_copy, isolation_level=None, check_same_thread=False)

    def lock() -> None:
        holder.execute("BEGIN EXCLUSIVE")
        touch(plan_copy)

    def edit_and_release() -> None:
        holder.execute("ROLLBACK")
        set_value(plan_copy, "farmer_bases", "B2", "category", "transform")

    builds, events = Builds(), []
    try:
        watch(
            plan_copy,
            tmp_path / "out",
            interval=0.1,
            debounce=0,
            max_runs=1,
            max_polls=5,
            on_event=events.append,
            builder=builds,
            sleep=Script([lock, edit_and_release]).sleep,
        )
    finally:
        holder.close()
    assert [e.kind for e in events] == ["built", "unreadable", "built"]
    assert "locked" in events[1].message and events[1].exit_code == 2
    assert builds.categories == ["upgrade", "transform"]


def test_bounded_by_polls_without_changes(plan_copy, tmp_path):
    builds = Builds()
    script = Script([])
    state = watch(
        plan_copy,
        tmp_path / "out",
        max_polls=3,
        builder=builds,
        sleep=script.sleep,
        clock=script.clock,
    )
    assert state.polls == 3 and state.runs == 0 and len(builds.categories) == 1


def test_an_unreadable_input_at_the_start_raises(tmp_path):
    bogus = tmp_path / "plan.gpkg"
    bogus.write_text("not a database")
    with pytest.raises(InputError, match="not a GeoPackage"):
        watch(bogus, tmp_path / "out", max_polls=1, sleep=lambda s: None)


@pytest.mark.slow
def test_cli_watch_rebuilds_after_an_edit_and_says_what_changed(plan_copy, tmp_path, default_gpkg):
    """The real build, twice: the outputs follow the edit and the input is left alone."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "miyun_spatial", "watch", str(plan_copy), "--out", str(out)]
    command += ["--interval", "0.2", "--debounce", "0.3", "--once"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "build done" in line or not line:
                break
        assert any("build done" in line for line in lines), lines
        set_value(plan_copy, "farmer_bases", "B2", "category", "exit")
        edited = sha(plan_copy)
        stdout, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    text = "".join(lines) + stdout
    assert "rebuild 1 done" in text
    assert "farmer_bases B2: changed; category 提质升级 upgrade → 逐步退出 exit" in text
    with open(out / "areas.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {(r["layer"], r["code"]): r for r in csv.DictReader(fh)}
    assert rows[("farmer_bases", "B2")]["category"] == "exit"
    assert (out / "results.gpkg").is_file() and (out / "report.html").is_file()
    assert sha(plan_copy) == edited  # watch never writes into its input
    assert not Path(f"{plan_copy}-wal").exists()


def test_cli_watch_on_a_missing_file_exits_2(cli, tmp_path):
    result = cli("watch", tmp_path / "nope.gpkg", "--once", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no such file" in result.stderr
