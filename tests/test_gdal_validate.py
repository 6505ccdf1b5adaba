"""GDAL's GeoPackage validator (validate_gpkg) on the default file, results.gpkg and restyled files.

The validator is ``osgeo_utils.samples.validate_gpkg``: from the gdal-utils PyPI package in
this Python (``pip install --no-deps gdal-utils``), or Debian's python3-gdal for the system
``/usr/bin/python3``.
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import need

from miyun_spatial.io.qgis_styles import add_styles

MODULE = "osgeo_utils.samples.validate_gpkg"
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.gdal


@functools.cache
def validator_command() -> tuple[str, ...] | None:
    """How to run the validator here, or None when neither Python has it."""
    if importlib.util.find_spec(MODULE.rsplit(".", 1)[0]) and importlib.util.find_spec(MODULE):
        return (sys.executable, "-m", MODULE)
    if Path(SYSTEM_PYTHON).exists():
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", f"import {MODULE}"], capture_output=True, timeout=60
        )
        if probe.returncode == 0:
            return (SYSTEM_PYTHON, "-m", MODULE)
    return None


def gdal_problems(path: Path) -> list[str]:
    """Every requirement GDAL's validator finds violated (-k: keep going; --extra checks)."""
    command = validator_command()
    need(
        command is not None,
        "GDAL's validate_gpkg is missing: pip install --no-deps gdal-utils (or apt python3-gdal)",
    )
    result = subprocess.run(
        [*command, "-k", "--extra", str(path)], capture_output=True, text=True, timeout=300
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 and not lines:
        lines = [f"validator exited {result.returncode}"]
    return lines


def test_default_geopackage_passes(default_gpkg):
    assert gdal_problems(default_gpkg) == []


def test_results_geopackage_passes(built_default):
    assert gdal_problems(built_default / "results.gpkg") == []


def test_restyled_file_passes(tmp_path, default_gpkg):
    path = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    add_styles(path)
    add_styles(path)
    assert gdal_problems(path) == []


def test_the_validator_catches_a_broken_file(tmp_path, default_gpkg):
    """The check can fail: a data column pointing at a missing column breaks requirement 105."""
    path = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, path)
    with sqlite3.connect(path) as con:
        con.execute(
            "UPDATE gpkg_data_columns SET column_name = 'categ' "
            "WHERE table_name = 'farmer_bases' AND column_name = 'category'"
        )
    con.close()
    problems = gdal_problems(path)
    assert any("105" in line and "categ" in line for line in problems), problems
