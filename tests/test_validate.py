"""The validator on the default data and on deliberately broken copies (issue 2 acceptance)."""

from __future__ import annotations

import json

import pytest
from gpkg_edit import drop_layer, read, remove_crs, set_geometry, set_value
from shapely import affinity
from shapely.geometry import Polygon

from miyun_spatial.io import geopackage as store
from miyun_spatial.validate.layers import validate


def checks(path) -> set[tuple[str, str, str | None]]:
    """(level, check, code) of every finding."""
    return {(f.level, f.check, f.code) for f in validate(store.load(path))}


def test_default_has_no_errors_or_warnings(default_plan):
    findings = validate(default_plan)
    assert [f for f in findings if f.level != "info"] == []
    schematic = {f.layer for f in findings if f.check == "schematic"}
    assert {"clusters", "farmer_bases", "projects"} <= schematic


def test_validate_cli_on_default_exits_zero_with_json(cli, default_gpkg):
    result = cli("validate", default_gpkg, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["error"] == 0
    assert report["sha256"] and len(report["findings"]) == report["counts"]["info"]


def bowtie_around(geom) -> Polygon:
    minx, miny, maxx, maxy = geom.bounds
    return Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])


def break_self_intersection(path):
    bases = read(path, "farmer_bases")
    set_geometry(
        path, "farmer_bases", "B3", bowtie_around(bases.geometry[bases.code == "B3"].item())
    )


def break_category(path):
    set_value(path, "farmer_bases", "code", "B5", "category", "upgarde")


def break_duplicate(path):
    set_value(path, "clusters", "code", "C3", "code", "C1")


def break_park_outside(path):
    parks = read(path, "park_in_park")
    p1 = parks.geometry[parks.code == "P1"].item()
    set_geometry(path, "park_in_park", "P1", affinity.translate(p1, xoff=5000))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (break_self_intersection, ("error", "geometry_invalid", "B3")),
        (break_category, ("error", "unknown_value", "B5")),
        (break_duplicate, ("error", "duplicate_code", "C1")),
        (break_park_outside, ("error", "outside_parent", "P1")),
        (lambda p: drop_layer(p, "projects"), ("error", "missing_layer", None)),
    ],
)
def test_broken_copies_are_reported(gpkg_copy, cli, damage, expected):
    damage(gpkg_copy)
    assert expected in checks(gpkg_copy)
    before = gpkg_copy.read_bytes()
    result = cli("validate", gpkg_copy)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert gpkg_copy.read_bytes() == before


def test_missing_crs_is_an_error(gpkg_copy, cli):
    remove_crs(gpkg_copy, "clusters")
    assert ("error", "crs_missing", None) in checks(gpkg_copy)
    assert cli("validate", gpkg_copy).returncode == 1


def test_not_a_geopackage_exits_two_with_one_line(tmp_path, cli):
    bogus = tmp_path / "plan.gpkg"
    bogus.write_text("id,name\n1,x\n")
    result = cli("validate", bogus)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not a GeoPackage" in result.stderr


def test_stated_area_tolerance_is_configurable(gpkg_copy, cli):
    set_value(gpkg_copy, "support_nodes", "code", "N1", "stated_area_ha", 160.0)
    assert ("warning", "area_vs_stated", "N1") in checks(gpkg_copy)
    loose = cli("validate", gpkg_copy, "--area-tolerance", "0.1", "--json")
    assert not any(f["code"] == "N1" for f in json.loads(loose.stdout)["findings"])


def test_overlapping_bases_and_broken_reference(gpkg_copy):
    bases = read(gpkg_copy, "farmer_bases")
    b5 = bases.geometry[bases.code == "B5"].item()
    set_geometry(gpkg_copy, "farmer_bases", "B6", affinity.translate(b5, xoff=100))
    set_value(gpkg_copy, "land_parcels", "parcel_code", "C3-001", "planned_use", "M9")
    found = checks(gpkg_copy)
    assert ("error", "overlap", "B5") in found
    assert ("error", "broken_reference", "C3-001") in found
