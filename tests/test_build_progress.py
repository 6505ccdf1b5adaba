"""``build`` tells its progress on stderr (issue 11): a line per step, none with -q, times with -v."""

from __future__ import annotations

import re

from gpkg_edit import set_value

STEP_LINE = re.compile(r"^\[(\d+)/(\d+)\]\s+(\d+)% (.+)$")


def _steps(stderr: str) -> list[tuple[int, int, int, str]]:
    found = [STEP_LINE.match(line) for line in stderr.splitlines()]
    return [(int(m[1]), int(m[2]), int(m[3]), m[4]) for m in found if m]


def test_every_step_is_announced_and_timed_with_v(cli, default_gpkg, tmp_path):
    result = cli("build", default_gpkg, "--offline", "--out", tmp_path / "out", "-v")
    assert result.returncode == 0, result.stderr
    steps = _steps(result.stderr)
    labels = [label for *_, label in steps]
    assert labels[:2] == ["reading", "validating"]
    assert {"metrics", "metrics: results.gpkg", "maps", "maps: yields", "reports"} <= set(labels)
    percents = [pct for _, _, pct, _ in steps]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] < 100
    table = result.stderr[result.stderr.index("step ") :].splitlines()
    rows = {line.rsplit(None, 1)[0].strip(): float(line.rsplit(None, 1)[1]) for line in table[1:]}
    assert set(labels) <= set(rows) and "total" in rows
    assert (
        rows["total"] == sum(v for k, v in rows.items() if k != "total")
        or abs(rows["total"] - sum(v for k, v in rows.items() if k != "total")) < 0.05
    )
    assert "[" not in result.stdout  # progress never mixes with the summary on stdout


def test_quiet_build_prints_no_progress(cli, gpkg_copy, tmp_path):
    set_value(gpkg_copy, "clusters", "code", "C3", "code", "C1")  # stops after validation
    loud = cli("build", gpkg_copy, "--out", tmp_path / "a")
    assert loud.returncode == 1
    assert [label for *_, label in _steps(loud.stderr)] == ["reading", "validating"]
    quiet = cli("build", gpkg_copy, "--out", tmp_path / "b", "-q")
    assert quiet.returncode == 1
    assert _steps(quiet.stderr) == []
    assert quiet.stderr.startswith("error:") and quiet.stderr.count("\n") == 1
