"""``init-default`` is byte-for-byte reproducible: no clock time in the GeoPackage."""

from __future__ import annotations

import sqlite3
import time

import pytest
from conftest import run_cli, sha256


@pytest.mark.slow
def test_two_runs_write_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, second = tmp_path / "first.gpkg", tmp_path / "second.gpkg"
    assert run_cli("init-default", "--out", first, "-q").returncode == 0
    time.sleep(1.1)  # a clock time stamp would now differ by a second
    result = run_cli("init-default", "--out", second, "-q")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert sha256(first) == sha256(second)
    with sqlite3.connect(f"file:{first}?mode=ro", uri=True) as con:
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
        stamps |= {r[0] for r in con.execute("SELECT timestamp FROM gpkg_metadata_reference")}
        stamps |= {r[0] for r in con.execute("SELECT update_time FROM layer_styles")}
    assert stamps == {"2026-11-28T00:00:00.000Z"}  # the sources' date (PROVENANCE.md)


@pytest.mark.slow
def test_source_date_epoch_sets_the_time_stamps(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1634000000")  # 2021-10-12T00:53:20Z
    out = tmp_path / "plan.gpkg"
    assert run_cli("init-default", "--out", out).returncode == 0
    with sqlite3.connect(f"file:{out}?mode=ro", uri=True) as con:
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
        metadata = " ".join(r[0] for r in con.execute("SELECT metadata FROM gpkg_metadata"))
    assert stamps == {"2021-10-12T00:53:20.000Z"}
    assert '<MDI key="build_date">2021-10-12</MDI>' in metadata
