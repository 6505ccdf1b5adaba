"""``miyun-spatial maps`` and the maps of ``build``, run as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli, sha256

BUDGET_BYTES = 3 * 1024 * 1024
BASE_PAGES = {f"base_B{i}.html" for i in range(1, 8)}  # the plan's seven farmer bases
MAP_PAGES = {"overview.html", "bases.html", "land_use.html", "yield.html", "projects.html"}
_EXTERNAL = re.compile(r"""<(script|link|img)\b[^>]*\b(src|href)\s*=\s*["']?https?:""", re.I)


def test_build_writes_every_map_self_contained_within_budget(built_default):
    pages = {p.name for p in built_default.glob("*.html")}
    assert {"index.html", *MAP_PAGES, *BASE_PAGES} <= pages
    for name in {"index.html", *MAP_PAGES, *BASE_PAGES}:
        path = built_default / name
        assert path.stat().st_size < BUDGET_BYTES, name
        html = path.read_text(encoding="utf-8")
        assert not _EXTERNAL.search(html), f"{name} loads code from the network"
        if name != "index.html":
            assert "L.map(" in html and "Leaflet" in html, name  # Leaflet is inline
            assert "tile.openstreetmap.org" in html  # the default basemap


@pytest.mark.slow
def test_maps_command_leaves_the_input_untouched(tmp_path, gpkg_copy):
    before = sha256(gpkg_copy)
    result = run_cli("maps", gpkg_copy, "--out", tmp_path / "out", "--offline")
    assert result.returncode == 0, result.stderr
    assert sha256(gpkg_copy) == before
    written = {Path(line.strip()).name for line in result.stdout.splitlines()[1:]}
    assert written == {"index.html", *MAP_PAGES, *BASE_PAGES}
    for name in written:
        assert "tile.openstreetmap.org" not in (tmp_path / "out" / name).read_text("utf-8")


@pytest.mark.slow
def test_tianditu_key_from_the_environment(tmp_path, default_gpkg, monkeypatch):
    monkeypatch.setenv("MIYUN_TIANDITU_KEY", "test-key-123")
    result = run_cli("maps", default_gpkg, "--out", tmp_path, "--basemap", "tianditu")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "bases.html").read_text(encoding="utf-8")
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tianditu.gov.cn/cva_w/wmts" in html
    assert "tk=test-key-123" in html


def test_tianditu_without_a_key_is_a_usage_error(tmp_path, default_gpkg, monkeypatch):
    monkeypatch.delenv("MIYUN_TIANDITU_KEY", raising=False)
    result = run_cli("maps", default_gpkg, "--out", tmp_path, "--basemap", "tianditu")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--tianditu-key" in result.stderr
    assert not any(tmp_path.iterdir())


def test_bad_input_and_unwritable_output(tmp_path, default_gpkg):
    missing = run_cli("maps", tmp_path / "nope.gpkg", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "nope.gpkg" in missing.stderr
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unwritable = run_cli("maps", default_gpkg, "--out", blocker / "maps", "--offline")
    assert unwritable.returncode == 3 and "Traceback" not in unwritable.stderr
    assert len(unwritable.stderr.strip().splitlines()) == 1


def test_maps_refuse_data_with_errors_and_write_nothing(tmp_path, gpkg_copy):
    """A colour that is not #RRGGBB (here: an attempt to break out of an attribute) is an error."""
    import sqlite3

    with sqlite3.connect(gpkg_copy) as con:  # an attribute table: no R-tree triggers
        con.execute(
            "UPDATE land_use_classes SET color_hex = ? WHERE code = 'M1'",
            ('#fff" onload="window.__pwned=1',),
        )
    con.close()
    result = run_cli("maps", gpkg_copy, "--out", tmp_path / "out", "--offline")
    assert result.returncode == 1
    assert "land_use_classes" in result.stderr and "color_hex" in result.stderr
    assert not (tmp_path / "out").exists()
