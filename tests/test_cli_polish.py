"""The CLI as a user reads it: Chinese-first labels for codes, ``-q`` silent but for errors,
integer fids in the machine-readable outputs."""

from __future__ import annotations

import csv
import json

import pytest
from gpkg_edit import set_value


@pytest.mark.slow
def test_build_quiet_prints_nothing_not_even_font_warnings(cli, default_gpkg, tmp_path):
    result = cli("build", default_gpkg, "--out", tmp_path / "out", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # no step lines, no findfont warnings
    assert (tmp_path / "out" / "static" / "overview.png").is_file()


@pytest.mark.slow
def test_watch_quiet_prints_nothing(cli, default_gpkg, tmp_path):
    result = cli("watch", default_gpkg, "--out", tmp_path / "out", "--max-runs", "0", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_quiet_still_prints_errors(cli, tmp_path):
    bad = tmp_path / "plan.gpkg"
    bad.write_text("not a database", encoding="utf-8")
    result = cli("build", bad, "--out", tmp_path / "out", "-q")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "is not a GeoPackage" in result.stderr


def test_fids_are_integers_in_json_and_csv(cli, gpkg_copy, tmp_path):
    set_value(gpkg_copy, "clusters", "code", "C3", "code", "C1")  # duplicate code: 2 errors
    result = cli("validate", gpkg_copy, "--json")
    assert result.returncode == 1
    fids = [f["fid"] for f in json.loads(result.stdout)["findings"]]
    assert [f for f in fids if f is not None] == [1, 3]
    assert all(isinstance(f, int) for f in fids if f is not None)
    out = tmp_path / "out"
    assert cli("build", gpkg_copy, "--out", out, "-q").returncode == 1
    with open(out / "validation.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["fid"] for r in rows if r["fid"]] == ["1", "3"]  # not 1.0, 3.0


def test_tables_show_codes_chinese_first(cli, default_gpkg):
    areas = cli("areas", default_gpkg)
    assert areas.returncode == 0, areas.stderr
    for label in ("提质升级 upgrade", "转型调整 transform", "逐步退出 exit", "示意 schematic"):
        assert label in areas.stdout, label
    bases = cli("adjustments", default_gpkg, "--table", "bases")
    assert "M1 一类工业用地" in bases.stdout and "LB 战略留白用地" in bases.stdout
    parcels = cli("yield", default_gpkg, "--table", "parcels")
    assert "D 低效 very low" in parcels.stdout and "已建成 built" in parcels.stdout
    machine = cli("areas", default_gpkg, "--csv")  # machines keep the codes
    assert "upgrade" in machine.stdout and "提质升级" not in machine.stdout
