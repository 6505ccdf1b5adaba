"""``build --skip STEP``: an unknown step is refused in one line before anything is read."""

from __future__ import annotations

import pytest
from conftest import run_cli


def test_unknown_step_is_refused_before_reading(tmp_path):
    missing = tmp_path / "nothing.gpkg"  # never opened: the option fails first
    result = run_cli("build", missing, "--out", tmp_path / "out", "--skip", "atlas")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'atlas'" in result.stderr and "memo" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_python_api_names_the_steps(tmp_path):
    from miyun_spatial.core.errors import InputError
    from miyun_spatial.flow.build import build

    with pytest.raises(InputError, match=r"unknown build step 'maps '.*static maps"):
        build(tmp_path / "nothing.gpkg", tmp_path / "out", skip=("maps ",))
    assert not (tmp_path / "out").exists()
