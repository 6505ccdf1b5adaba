"""``init-default`` is byte-for-byte reproducible: no clock time in the GeoPackage, and no count
of write transactions in its header (proved with extra commits, not by waiting)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pyogrio
import pytest
from conftest import run_cli, sha256

from miyun_spatial.io.sqlite_header import FIXED_COUNT, fix_transaction_counts, transaction_counts

# init-default with more write transactions than GDAL makes on its own: as if it had
# committed more often (another timing, another GDAL), the content unchanged
CHURN = """
import sqlite3, sys
from contextlib import closing
from miyun_spatial.io.default_data import build
stamp = build.stamp_times
def stamp_and_commit_more(path, when):
    stamp(path, when)
    for _ in range(7):  # each a write transaction that leaves the content as it was
        with closing(sqlite3.connect(path)) as con:
            (version,) = con.execute("PRAGMA user_version").fetchone()
            con.execute(f"PRAGMA user_version = {version}")
build.stamp_times = stamp_and_commit_more
from miyun_spatial.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _commit_more(path: Path, times: int) -> None:
    """``times`` write transactions that leave the content as it was (as in CHURN)."""
    for _ in range(times):
        with closing(sqlite3.connect(path)) as con:
            (version,) = con.execute("PRAGMA user_version").fetchone()
            con.execute(f"PRAGMA user_version = {version}")


@pytest.mark.slow
def test_two_runs_write_the_same_bytes_whatever_the_number_of_commits(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, second = tmp_path / "first.gpkg", tmp_path / "second.gpkg"
    assert run_cli("init-default", "--out", first, "-q").returncode == 0
    result = subprocess.run(
        [sys.executable, "-c", CHURN, "init-default", "--out", str(second), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert sha256(first) == sha256(second)
    assert transaction_counts(first) == (FIXED_COUNT, FIXED_COUNT)
    # the extra commits do move the counters (so the comparison above can fail) ...
    churned = tmp_path / "churned.gpkg"
    shutil.copyfile(first, churned)
    _commit_more(churned, 7)
    assert transaction_counts(churned) == (FIXED_COUNT + 7, FIXED_COUNT + 7)
    assert sha256(churned) != sha256(first)
    # ... and nothing else: fixed again, the file is the first one, and still reads
    fix_transaction_counts(churned)
    assert sha256(churned) == sha256(first)
    with sqlite3.connect(f"file:{churned}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
        stamps |= {r[0] for r in con.execute("SELECT timestamp FROM gpkg_metadata_reference")}
        stamps |= {r[0] for r in con.execute("SELECT update_time FROM layer_styles")}
    assert stamps == {"2026-11-28T00:00:00.000Z"}  # the sources' date (PROVENANCE.md)
    assert len(pyogrio.read_dataframe(churned, layer="land_parcels")) > 0


def test_fixing_the_counters_refuses_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.gpkg"
    path.write_bytes(b"not a database" * 10)
    with pytest.raises(ValueError, match="not an SQLite file"):
        fix_transaction_counts(path)
    assert path.read_bytes() == b"not a database" * 10


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
