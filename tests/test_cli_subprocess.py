"""Smoke tests of the real console script in a subprocess (the rest of the suite runs the CLI
in process through the same entry point, ``cli.main``, which is much faster)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli_subprocess, sha256


@pytest.mark.slow
def test_console_script_builds_and_exits_zero(tmp_path, gpkg_copy):
    before = sha256(gpkg_copy)
    out = tmp_path / "out"
    result = run_cli_subprocess("build", gpkg_copy, "--out", out, "--offline")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert sha256(gpkg_copy) == before
    areas = list(csv.DictReader(io.StringIO((out / "areas.csv").read_text("utf-8-sig"))))
    assert {r["code"] for r in areas} >= {"C1", "C2", "C3", "Z1", "A1"}
    assert (out / "index.html").stat().st_size > 0 and (out / "report.xlsx").stat().st_size > 0


def test_console_script_output_is_whole_when_piped():
    """The script ends the process without freeing every object: what it printed to a pipe
    must still arrive, all of it, as the in-process command prints it."""
    from conftest import run_cli

    result = run_cli_subprocess("catalogue", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(run_cli("catalogue", "--json").stdout)


def test_console_script_error_is_one_line_with_exit_two(tmp_path):
    result = run_cli_subprocess("validate", tmp_path / "missing.gpkg")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")


def test_installed_entry_point_prints_its_version():
    script = shutil.which("miyun-spatial", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the miyun-spatial console script is not installed next to this Python")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "miyun-spatial" in result.stdout
