"""The bad-input corpus of issue 9: several variants of each class of broken input, run through
``build`` (and ``validate``) as a user runs them.

Every variant: the documented exit code (1 data error, 2 unreadable input; never 4), one
error line on stderr naming the file, no traceback, no hang; data errors name the layer, the
feature (fid, code) and the field in validation.csv, with the fix.

| class                                   | exit | where                         |
|-----------------------------------------|------|-------------------------------|
| duplicate fids                          | 2    | stderr (layer, fid)           |
| a catalogue layer that is a view        | 2    | stderr (layer)                |
| corrupt geometry blob                   | 1    | geometry_corrupt              |
| every feature of a layer deleted        | 1    | empty_layer                   |
| text that is not UTF-8                  | 1    | text_encoding (layer/fid/field)|
| point or line in a polygon layer (etc.) | 1    | geometry_kind                 |
| swapped axes / far outside the CRS area | 1    | outside_crs_area (+ hint)     |
| planar vs geodesic area disagree        | 1    | planar_vs_geodesic            |
| unknown extra layer, endless view       | 0    | never queried: no hang        |
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import made_once
from gpkg_edit import overwrite, read
from shapely.geometry import LineString, Point, Polygon

RUN_TIMEOUT_S = 300  # a hang fails the test (TimeoutExpired), it is not a timing assertion


# -- damage, as a careless script would do it --------------------------------------------------


def _geometry(blob: bytes):
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111, 0)
    return shapely.from_wkb(bytes(blob[8 + envelope :]), on_invalid="ignore")


def connect(path: Path) -> sqlite3.Connection:
    """Plain SQLite with the ST_* functions GDAL's R-tree triggers call (broken blobs: empty)."""
    con = sqlite3.connect(path)

    def is_empty(blob):
        return int(blob is None or _geometry(blob) is None or bool(blob[3] & 0x10))

    con.create_function("ST_IsEmpty", 1, is_empty)
    for name, i in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, lambda b, i=i: _geometry(b).bounds[i])
    return con


def sql(*statements: str, params=()) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        con = connect(path)
        with con:
            for statement in statements:
                con.execute(statement, params if "?" in statement else ())
        con.close()

    return damage


def gpkg_blob(geom, srs_id: int = 4548) -> bytes:
    """A GeoPackage geometry blob (no envelope, little endian) as GDAL writes it."""
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + shapely.to_wkb(geom, byte_order=1)


def set_blob(layer: str, code: str, make: Callable[[object], bytes]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        con = connect(path)
        with con:
            (blob,) = con.execute(f"SELECT geom FROM {layer} WHERE code = ?", (code,)).fetchone()
            con.execute(f"UPDATE {layer} SET geom = ? WHERE code = ?", (make(blob), code))
        con.close()

    return damage


def shape_blob(layer: str, code: str, make) -> Callable[[Path], None]:
    """Replace a feature's geometry by ``make(geometry)``, keeping the layer's declared type."""
    return set_blob(layer, code, lambda blob: gpkg_blob(make(_geometry(blob))))


def duplicate_fid(table: str, copies: int = 1) -> Callable[[Path], None]:
    """Rebuild ``table`` without its primary key and repeat its first row."""
    repeat = " UNION ALL ".join(
        ["SELECT * FROM old WHERE rowid = (SELECT min(rowid) FROM old)"] * copies
    )
    return sql(
        f"ALTER TABLE {table} RENAME TO old",
        f"CREATE TABLE {table} AS SELECT * FROM old",
        f"INSERT INTO {table} {repeat}",
        "DROP TABLE old",
    )


def not_utf8(table: str, column: str, key: str, value: str, raw: bytes):
    return sql(
        f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE {key} = ?", params=(raw, value)
    )


def swap_axes(*layers: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        names = layers or tuple(
            n for n, kind in pyogrio.list_layers(path) if kind is not None and n != "endless"
        )
        for name in names:
            frame = read(path, name)
            frame = frame.set_geometry(
                shapely.transform(frame.geometry.values, lambda c: c[:, ::-1])
            )
            overwrite(path, name, frame)

    return damage


def translate(layer: str, code: str, dx: float, dy: float = 0.0) -> Callable[[Path], None]:
    return shape_blob(layer, code, lambda g: shapely.affinity.translate(g, dx, dy))


def endless_view(name: str, spatial: bool = False) -> Callable[[Path], None]:
    statements = [
        f"CREATE VIEW {name} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT x AS fid, x AS n, NULL AS geom FROM c",
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        f"VALUES ('{name}', '{'features' if spatial else 'attributes'}', '{name}', 4548)",
    ]
    if spatial:
        statements.append(
            f"INSERT INTO gpkg_geometry_columns VALUES ('{name}', 'geom', 'POLYGON', 4548, 0, 0)"
        )
    return sql(*statements)


def full_width(text: str) -> str:
    """``text`` as a Chinese IME types it in full-width mode ('B1' -> 'Ｂ１')."""
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def retype(table: str, column: str, codes: dict[str, str], key: str = "code"):
    """Set ``column`` of the rows whose ``key`` is each of ``codes`` to its value."""
    return sql(
        *(
            f"UPDATE {table} SET {column} = '{new}' WHERE {key} = '{old}'"
            for old, new in codes.items()
        )
    )


def as_parts(layer: str, code: str, parts: int):
    """A feature's geometry as a Multi- of ``parts`` parts (the first its own, the others
    moved 100 m east each), or as its single type with ``parts=0``."""

    def make(g):
        if parts == 0:
            return g.geoms[0]
        single = g if g.geom_type in ("Point", "Polygon") else g.geoms[0]
        moved = [shapely.affinity.translate(single, 100.0 * i) for i in range(parts)]
        return (
            shapely.MultiPoint(moved)
            if single.geom_type == "Point"
            else shapely.MultiPolygon(moved)
        )

    return shape_blob(layer, code, make)


def catalogue_layer_as_view(path: Path) -> None:
    sql(
        "ALTER TABLE land_use_classes RENAME TO luc_table",
        "CREATE VIEW land_use_classes AS SELECT * FROM luc_table",
    )(path)


# -- the corpus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    damage: Callable[[Path], None]
    exit: int
    check: str | None = None  # the finding (validation.csv) for exit 1
    layer: str | None = None
    code: str | None = None
    words: tuple[str, ...] = ()  # in the error line (exit 2) or the finding's message + hint
    # build --skip for exit 0: never the memo (review.pdf, half of a default build's time: it
    # reads the same results as every other output); the documents too where the case is about
    # reading the file, not about what is drawn from it
    skip: tuple[str, ...] = ("memo",)


DOCUMENTS = ("memo", "static maps", "reports")


CASES = [
    # duplicate fids
    Case("dup fid attribute table", duplicate_fid("land_use_classes"), 2, layer="land_use_classes",
         words=("fid", "unique", "Save Features As")),
    Case("dup fid three times", duplicate_fid("indicators", copies=2), 2, layer="indicators",
         words=("fid", "unique")),
    Case("dup fid spatial layer", duplicate_fid("projects"), 2, layer="projects",
         words=("fid", "unique")),
    # a catalogue layer that is a view (could be endless): refused, never counted
    Case("catalogue layer is a view", catalogue_layer_as_view, 2, layer="land_use_classes",
         words=("view", "table")),
    # corrupt geometry blobs
    Case("garbage WKB", set_blob("farmer_bases", "B3", lambda b: b[:8] + b"\xde\xad\xbe\xef"), 1,
         "geometry_corrupt", "farmer_bases", "B3", ("geom", "draw")),
    Case("truncated WKB", set_blob("clusters", "C1", lambda b: b[: len(b) // 2]), 1,
         "geometry_corrupt", "clusters", "C1", ("cannot be decoded",)),
    Case("not a GeoPackage blob", set_blob("projects", "J01", lambda b: b"XX" + b[2:]), 1,
         "geometry_corrupt", "projects", "J01", ("restore",)),
    Case("random bytes", set_blob("support_nodes", "N1", lambda b: bytes(range(40))), 1,
         "geometry_corrupt", "support_nodes", "N1", ("geom",)),
    # every feature deleted
    Case("no parcels", sql("DELETE FROM land_parcels"), 1, "empty_layer", "land_parcels",
         words=("no features", "restore")),
    Case("no adjustments", sql("DELETE FROM land_adjustments"), 1, "empty_layer",
         "land_adjustments", words=("no features",)),
    Case("no projects", sql("DELETE FROM projects"), 1, "empty_layer", "projects",
         words=("no features",)),
    Case("no land-use classes", sql("DELETE FROM land_use_classes"), 1, "empty_layer",
         "land_use_classes", words=("no features",)),
    # text that is not UTF-8
    Case("GBK bytes", not_utf8("farmer_bases", "name_zh", "code", "B2", "密云".encode("gbk")), 1,
         "text_encoding", "farmer_bases", "B2", ("name_zh", "UTF-8", "密云")),
    Case("lone surrogate", not_utf8("projects", "notes", "code", "J01", b"a\xed\xa0\x80b"), 1,
         "text_encoding", "projects", "J01", ("notes", "UTF-8")),
    Case("truncated sequence", not_utf8("clusters", "name_en", "code", "C1", b"Miyun \xe5\xaf"),
         1, "text_encoding", "clusters", "C1", ("name_en",)),
    Case("latin-1 byte", not_utf8("land_use_classes", "name_en", "code", "M1", b"caf\xe9"), 1,
         "text_encoding", "land_use_classes", "M1", ("name_en",)),
    # geometries of the wrong kind
    Case("point in polygon layer", shape_blob("clusters", "C2", lambda g: g.representative_point()),
         1, "geometry_kind", "clusters", "C2", ("Point", "0 ha")),
    Case("closed line in polygon layer",
         shape_blob("farmer_bases", "B4", lambda g: LineString(g.geoms[0].exterior.coords)), 1,
         "geometry_kind", "farmer_bases", "B4", ("closed LineString", "Lines to Polygons")),
    Case("open line in polygon layer",
         shape_blob("zgc_park", "Z1", lambda g: LineString(g.geoms[0].exterior.coords[:3])), 1,
         "geometry_kind", "zgc_park", "Z1", ("LineString",)),
    Case("polygon in point layer", shape_blob("projects", "J02", lambda g: g.buffer(50)), 1,
         "geometry_kind", "projects", "J02", ("Polygon", "point layer")),
    # outside the CRS's area of use
    Case("every layer swapped", swap_axes(), 1, "outside_crs_area", "clusters", "C1",
         ("outside", "swapped")),
    Case("one layer swapped", swap_axes("farmer_bases"), 1, "outside_crs_area", "farmer_bases",
         "B1", ("swapped",)),
    Case("feature moved to another continent", translate("clusters", "C3", 4_000_000), 1,
         "outside_crs_area", "clusters", "C3", ("CRS",)),
    Case("geographic layer with lat/lon swapped",
         lambda p: (swap_axes("places")(p), _to_geographic(p, "places")), 1,
         "outside_crs_area", "places", None, ("swapped",)),
    # planar vs geodesic
    Case("planar and geodesic areas disagree", translate("park_in_park", "P1", 2_500_000), 1,
         "planar_vs_geodesic", "park_in_park", "P1", ("geodesic", "differ")),
    # codes typed in full-width forms (IME): read in NFKC form, validate and build agree
    Case("full-width codes and references",
         lambda p: (retype("farmer_bases", "code", {f"B{i}": full_width(f"B{i}") for i in range(1, 8)})(p),
                    retype("support_nodes", "base_code", {"N3": full_width("B2")})(p)), 0),
    Case("full-width code equal to another", retype("farmer_bases", "code", {"B2": full_width("B1")}),
         1, "duplicate_code", "farmer_bases", "B1", ("NFKC", "Ｂ１", "own code")),
    Case("full-width parcel code equal to another",
         retype("land_parcels", "parcel_code", {"A1-002": full_width("A1-001")}, key="parcel_code"),
         1, "duplicate_code", "land_parcels", "A1-001", ("NFKC",)),
    Case("full-width cluster code equal to another",
         retype("clusters", "code", {"C2": "C" + full_width("1")}),
         1, "duplicate_code", "clusters", "C1", ("NFKC", "C１")),
    # single/multi swaps: one-part multis read as their single type, multi-part points refused
    Case("one-part MultiPoint where Point is expected",
         lambda p: (as_parts("projects", "J01", 1)(p), as_parts("projects", "J05", 1)(p)), 0),
    Case("Polygon where MultiPolygon is stored",
         lambda p: (as_parts("farmer_bases", "B1", 0)(p), as_parts("clusters", "C1", 0)(p)), 0),
    Case("two-part MultiPoint where Point is expected", as_parts("projects", "J02", 2), 1,
         "geometry_kind", "projects", "J02", ("MultiPoint of 2 points", "Multipart to Singleparts")),
    Case("three-part MultiPoint where Point is expected", as_parts("projects", "J03", 3), 1,
         "geometry_kind", "projects", "J03", ("MultiPoint of 3 points",)),
    Case("MultiLineString in polygon layer",
         shape_blob("clusters", "C3", lambda g: shapely.MultiLineString([g.geoms[0].exterior])), 1,
         "geometry_kind", "clusters", "C3", ("MultiLineString",)),
    # unknown extra layers: never queried
    Case("endless view, attributes", endless_view("endless"), 0, skip=DOCUMENTS),
    Case("endless view, features", endless_view("endless_features", spatial=True), 0,
         skip=DOCUMENTS),
]  # fmt: skip


def _to_geographic(path: Path, layer: str) -> None:
    frame = read(path, layer)
    # swap back to proper x/y, go to degrees, then swap lon/lat: a lat-first file read as lon-first
    proper = frame.set_geometry(shapely.transform(frame.geometry.values, lambda c: c[:, ::-1]))
    degrees = proper.to_crs(4326)
    swapped = degrees.set_geometry(shapely.transform(degrees.geometry.values, lambda c: c[:, ::-1]))
    pyogrio.write_dataframe(
        swapped.reset_index(), path, layer=layer, layer_options={"OVERWRITE": "YES", "FID": "fid"}
    )


@dataclass(frozen=True)
class Run:
    gpkg: Path
    out: Path
    build: subprocess.CompletedProcess
    validate: subprocess.CompletedProcess


def _cli(*args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "miyun_spatial", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def _run(gpkg: Path, out: Path, skip: tuple[str, ...]) -> dict:
    # the refusals come before any output is written: --skip changes only exit-0 cases
    skipped = [arg for step in skip for arg in ("--skip", step)]
    build = _cli("build", gpkg, "--out", out, "--offline", *skipped)
    validate = _cli("validate", gpkg)
    return {
        "gpkg": str(gpkg),
        "out": str(out),
        **{
            key: {
                "args": r.args,
                "returncode": r.returncode,
                "stdout": r.stdout,
                "stderr": r.stderr,
            }
            for key, r in (("build", build), ("validate", validate))
        },
    }


def _run_corpus(root: Path, default_gpkg: Path) -> dict[str, dict]:
    jobs = {}
    for i, case in enumerate(CASES):
        folder = root / f"bad{i}"
        folder.mkdir()
        gpkg = folder / "plan.gpkg"
        shutil.copyfile(default_gpkg, gpkg)
        case.damage(gpkg)
        jobs[case.name] = (gpkg, folder / "out", case.skip)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_run, *job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


# the corpus: 36 builds and validations in subprocesses: their tests are slow (conftest)
SLOW_FIXTURES = {"runs"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, default_gpkg) -> dict[str, Run]:
    """Every case run once per test run (``conftest.made_once``), whichever xdist worker asks
    first; the damaged files and outputs are read only."""
    _root, ran = made_once(tmp_path_factory, "bad-input", lambda r: _run_corpus(r, default_gpkg))

    def done(r: dict) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(r["args"], r["returncode"], r["stdout"], r["stderr"])

    return {
        name: Run(Path(r["gpkg"]), Path(r["out"]), done(r["build"]), done(r["validate"]))
        for name, r in ran.items()
    }


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "internal"))]


def _findings(out: Path) -> list[dict]:
    with open(out / "validation.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_with_its_code_and_one_line(runs, case):
    run = runs[case.name]
    for result in (run.build, run.validate):
        assert "Traceback" not in result.stderr + result.stdout
        assert result.returncode == case.exit, (result.args[3], result.stderr[-800:])
    if case.exit == 0:
        assert (run.out / "index.html").is_file() and (run.out / "results.gpkg").is_file()
        assert (run.out / "report.html").is_file() is ("reports" not in case.skip)
        assert (run.out / "atlas.pdf").is_file() is ("static maps" not in case.skip)
        assert not (run.out / "review.pdf").exists()  # the step skipped
        return
    [line] = _errors(run.build.stderr)
    assert str(run.gpkg) in line
    if case.exit == 2:
        assert f"'{case.layer}'" in line
        for word in case.words:
            assert word in line, (word, line)
        return
    assert f"the first: {case.layer}" in line and "(fix: " in line, line
    rows = [r for r in _findings(run.out) if r["check"] == case.check and r["level"] == "error"]
    rows = [r for r in rows if r["layer"] == case.layer]
    assert rows, [r for r in _findings(run.out) if r["level"] == "error"][:3]
    row = next((r for r in rows if case.code is None or r["code"] == case.code), None)
    assert row is not None, rows[:3]
    if case.code is not None:
        assert row["fid"] != ""
    text = row["message"] + " " + row["hint"]
    for word in case.words:
        assert word in text, (word, text)
    assert "\n" not in text
    assert sorted(p.name for p in run.out.iterdir()) == [
        ".miyun-run.json",
        "validation.csv",
    ]  # nothing computed


def test_the_corpus_covers_several_variants_of_every_class():
    per_class: dict[str, int] = {}
    for case in CASES:
        key = case.check or ("refused" if case.exit == 2 else "ignored")
        per_class[key] = per_class.get(key, 0) + 1
    assert per_class["geometry_corrupt"] >= 3 and per_class["text_encoding"] >= 3
    assert per_class["empty_layer"] >= 3 and per_class["geometry_kind"] >= 3
    assert per_class["outside_crs_area"] >= 3 and per_class["refused"] >= 3
    assert per_class["ignored"] >= 2
    assert per_class["duplicate_code"] >= 3  # full-width codes equal to others after NFKC
    kinds = [c for c in CASES if "Multi" in c.name or "where" in c.name]
    assert len([c for c in kinds if c.exit == 0]) >= 2 and len(kinds) >= 4


def test_a_file_that_validates_builds(runs):
    """The property of one rule set: validate exit 0 => build exit 0 (whatever build refuses,
    validate reports first), over the whole corpus; and never exit 4 for either."""
    assert {c.name for c in CASES if runs[c.name].validate.returncode == 0} == {
        c.name for c in CASES if c.exit == 0
    }
    for case in CASES:
        run = runs[case.name]
        assert 4 not in (run.validate.returncode, run.build.returncode), case.name
        if run.validate.returncode == 0:
            assert run.build.returncode == 0, (case.name, run.build.stderr[-600:])


JSON_CASES = ["full-width code equal to another", "two-part MultiPoint where Point is expected",
              "GBK bytes"]  # fmt: skip


@pytest.mark.parametrize("name", JSON_CASES)
def test_validate_json_with_errors_exits_1_with_one_error_line(runs, name):
    import json

    run = runs[name]
    result = _cli("validate", run.gpkg, "--json")
    assert result.returncode == 1
    payload = json.loads(result.stdout)  # the findings, on stdout
    assert payload["counts"]["error"] >= 1
    [line] = result.stderr.splitlines()  # the verdict, on stderr
    case = next(c for c in CASES if c.name == name)
    assert line.startswith(f"error: {run.gpkg}: ") and f"the first: {case.layer}" in line, line


def test_damaged_values_are_reported_but_the_users_file_is_untouched(tmp_path, default_gpkg):
    from miyun_spatial.io import geopackage as store

    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    not_utf8("farmer_bases", "name_zh", "code", "B2", "密云".encode("gbk"))(gpkg)
    before = gpkg.read_bytes()
    plan = store.load(gpkg)
    [damage] = plan.damaged
    assert (damage.kind, damage.layer, damage.field) == ("text_encoding", "farmer_bases", "name_zh")
    frame = plan["farmer_bases"]
    assert frame.loc[damage.fid, "code"] == "B2" and pd.isna(frame.loc[damage.fid, "name_zh"])
    assert frame["name_zh"].notna().sum() == len(frame) - 1  # every other value read
    assert gpkg.read_bytes() == before


def test_unknown_layers_are_listed_never_counted(tmp_path, default_gpkg):
    from miyun_spatial.io import geopackage as store

    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    endless_view("endless")(gpkg)
    infos = store.layer_infos(gpkg)
    assert "endless" not in infos and "projects" in infos


def test_point_shapes_for_the_corpus_are_what_they_claim():
    # the helpers above build what the case names say (a test of the corpus itself)
    square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    assert _geometry(gpkg_blob(square.representative_point())).geom_type == "Point"
    assert _geometry(gpkg_blob(LineString(square.exterior.coords))).is_closed
    assert _geometry(gpkg_blob(Point(1, 2))).equals(Point(1, 2))


SPOT_CHECKS = ["point in polygon layer", "no parcels", "every layer swapped", "GBK bytes"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SPOT_CHECKS)
def test_metric_commands_and_watch_refuse_broken_input_in_one_line(tmp_path, default_gpkg, name):
    case = next(c for c in CASES if c.name == name)
    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    case.damage(gpkg)
    runs = [_cli(command, gpkg) for command in ("areas", "mix", "yield", "adjustments")]
    runs.append(_cli("watch", gpkg, "--out", tmp_path / "out", "--max-runs", "0", "--offline"))
    for result in runs:
        assert "Traceback" not in result.stderr, result.args
        assert result.returncode == 1, (result.args[3], result.stderr[-600:])
        lines = _errors(result.stderr) or [
            line for line in result.stderr.splitlines() if "build failed: " in line
        ]  # watch reports each build on its own line
        assert len(lines) == 1, result.stderr[-600:]
        assert str(gpkg) in lines[0] and case.layer in lines[0], lines[0]
