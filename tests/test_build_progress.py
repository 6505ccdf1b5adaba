"""``build`` tells its progress on stderr (issue 11): a line per step, none with -q, times with -v."""

from __future__ import annotations

import re

import pytest
from gpkg_edit import set_value

STEP_LINE = re.compile(r"^\[(\d+)/(\d+)\]\s+(\d+)% (.+)$")


def _steps(stderr: str) -> list[tuple[int, int, int, str]]:
    found = [STEP_LINE.match(line) for line in stderr.splitlines()]
    return [(int(m[1]), int(m[2]), int(m[3]), m[4]) for m in found if m]


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_step_is_announced_and_timed_with_v(cli, default_gpkg, tmp_path, jobs):
    result = cli("build", default_gpkg, "--offline", "--out", tmp_path / "out", "-v", "-j", jobs)
    assert result.returncode == 0, result.stderr
    steps = _steps(result.stderr)
    labels = [label for *_, label in steps]
    assert labels[:3] == ["reading", "validating", "computing areas, metrics and plan checks"]
    expected = {"metrics: results.gpkg", "maps: yields", "static maps: overview",
                "reports: report.xlsx", "reports: report.html"}  # fmt: skip
    assert expected <= set(labels)
    assert labels[3].startswith("writing the outputs: ")
    assert [(i, n) for i, n, *_ in steps[:4]] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    tasks = steps[4:]
    assert len({label for *_, label in tasks}) == len(tasks) == tasks[0][1]  # each once
    assert [i for i, *_ in tasks] == list(range(1, len(tasks) + 1))
    percents = [pct for _, _, pct, _ in steps]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] < 100
    # report.html embeds the static maps: it starts after every one of them
    static = [n for n, label in enumerate(labels) if label.startswith("static maps: ")]
    figures = len(list((tmp_path / "out" / "static").glob("*.png")))  # + the atlas
    assert len(static) == figures + 1 and labels.index("reports: report.html") > max(static)
    table = result.stderr[result.stderr.index("step ") :].splitlines()
    rows = {line.rsplit(None, 1)[0].strip(): float(line.rsplit(None, 1)[1]) for line in table[1:]}
    assert set(labels) - {labels[3]} <= set(rows) and "total (wall)" in rows
    busy = sum(v for k, v in rows.items() if k != "total (wall)")
    assert rows["total (wall)"] > 0 and all(v >= 0 for v in rows.values())
    if jobs == "1":  # one by one: the steps take all of the wall time but start-up
        assert busy <= rows["total (wall)"] + 0.05
    assert "[" not in result.stdout  # progress never mixes with the summary on stdout


def test_quiet_build_prints_no_progress(cli, gpkg_copy, tmp_path):
    set_value(gpkg_copy, "clusters", "code", "C3", "code", "C1")  # stops after validation
    loud = cli("build", gpkg_copy, "--out", tmp_path / "a")
    assert loud.returncode == 1
    labels = [label for *_, label in _steps(loud.stderr)]
    # with workers the figures are computed while validating, then dropped: nothing is written
    assert labels[:2] == ["reading", "validating"] and len(labels) <= 3
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        ".miyun-run.json",
        "validation.csv",
    ]
    quiet = cli("build", gpkg_copy, "--out", tmp_path / "b", "-q")
    assert quiet.returncode == 1
    assert _steps(quiet.stderr) == []
    assert quiet.stderr.startswith("error:") and quiet.stderr.count("\n") == 1
