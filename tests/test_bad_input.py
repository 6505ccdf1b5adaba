"""A corpus of broken GeoPackages, generated here, run through ``miyun-spatial build``.

Every case: the documented exit code (cli.py: 1 data errors, 2 input unreadable), one line on
stderr and no traceback, a one-line reason naming the layer, the feature and the fix (on
stderr for unreadable files, in validation.csv for data errors), no partial output, and the
input's bytes (and its folder) unchanged afterwards.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import fiona
import pandas as pd
import pytest
import shapely
from gpkg_edit import overwrite, read, remove_crs
from shapely.geometry import Polygon

HA = 10_000.0
SOURCES = Path(__file__).resolve().parents[1] / "geodata" / "sources"
LAND_FACTS = pd.read_csv(SOURCES / "land_facts.csv").set_index("fact_code")
PARK_HA = float(LAND_FACTS.loc["F01", "value"])  # 中关村密云园 规划面积 1000.84 公顷
MARKUP = '<script>window.__miyun_injected=1</script><img src=x onerror="alert(1)">'


# -- editing helpers: plain SQLite as a careless script (or QGIS) would -----------------------


def _geometry(blob: bytes):
    """Decode a GeoPackage geometry blob (header + WKB) with shapely."""
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return shapely.from_wkb(bytes(blob[8 + envelope :]))


def connect(path: Path, **kwargs) -> sqlite3.Connection:
    """SQLite connection with the ST_* functions GDAL's R-tree triggers call."""
    con = sqlite3.connect(path, **kwargs)
    con.create_function("ST_IsEmpty", 1, lambda b: int(b is None or bool(b[3] & 0x10)))
    for name, i in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, lambda b, i=i: _geometry(b).bounds[i])
    return con


def sql(path: Path, statement: str, *params) -> None:
    con = connect(path)
    with con:
        con.execute(statement, params)
    con.close()


def set_geometry(path: Path, layer: str, code: str, make: Callable) -> None:
    frame = read(path, layer)
    fid = frame.index[frame["code"] == code][0]
    frame.loc[fid, "geometry"] = make(frame.geometry[fid])
    overwrite(path, layer, frame)


def bowtie(geom) -> Polygon:
    x0, y0, x1, y1 = geom.bounds
    return Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])


def hole_outside(geom) -> Polygon:
    x0, y0, x1, y1 = geom.bounds
    w = x1 - x0
    hole = [(x1 + w, y0), (x1 + 2 * w, y0), (x1 + 2 * w, y1), (x1 + w, y1)]
    return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [hole])


def text_type_revenue(path: Path) -> None:
    frame = read(path, "land_parcels")
    revenue = frame["revenue_10k_cny"].astype(object).where(frame["revenue_10k_cny"].notna())
    revenue = revenue.map(lambda v: None if v is None else f"{v:.1f}").astype(object)
    revenue.iloc[0] = "about 300"
    overwrite(path, "land_parcels", frame.assign(revenue_10k_cny=revenue))


def reproject(path: Path, layer: str, epsg: int) -> None:
    overwrite(path, layer, read(path, layer).to_crs(epsg))


def local_crs(path: Path, layer: str) -> None:
    """Assign a site grid (an engineering CRS): no transformation to EPSG:4548 exists."""
    wkt = 'LOCAL_CS["Site grid",UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    sql(
        path,
        "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
        "organization_coordsys_id, definition) VALUES ('Site grid', 100000, 'NONE', 100000, ?)",
        wkt,
    )
    sql(path, "UPDATE gpkg_geometry_columns SET srs_id = 100000 WHERE table_name = ?", layer)
    sql(path, "UPDATE gpkg_contents SET srs_id = 100000 WHERE table_name = ?", layer)


def as_points(path: Path, layer: str) -> None:
    frame = read(path, layer)
    overwrite(path, layer, frame.set_geometry(frame.geometry.representative_point()))


# -- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataCase:
    """A broken copy of the default GeoPackage and the finding the validator must report."""

    name: str
    damage: Callable[[Path], None]
    check: str
    layer: str
    code: str | None  # the feature's code (None: a problem of the whole layer)
    hint: str  # a word of the fix


DATA_CASES = [
    DataCase(
        "missing layer",
        lambda p: fiona.remove(str(p), layer="projects"),
        "missing_layer",
        "projects",
        None,
        "restore",
    ),
    DataCase(
        "renamed field",
        lambda p: sql(p, "ALTER TABLE farmer_bases RENAME COLUMN category TO categ"),
        "missing_field",
        "farmer_bases",
        None,
        "rename",
    ),
    DataCase(
        "wrong geometry type",
        lambda p: as_points(p, "farmer_bases"),
        "geometry_type",
        "farmer_bases",
        None,
        "polygon",
    ),
    DataCase(
        "no CRS", lambda p: remove_crs(p, "clusters"), "crs_missing", "clusters", None, "EPSG:4548"
    ),
    DataCase(
        "CRS without a conversion to EPSG:4548",
        lambda p: local_crs(p, "other_sites"),
        "crs_unusable",
        "other_sites",
        None,
        "Layer Properties",
    ),
    DataCase(
        "self-intersecting geometry",
        lambda p: set_geometry(p, "farmer_bases", "B3", bowtie),
        "geometry_invalid",
        "farmer_bases",
        "B3",
        "Fix Geometries",
    ),
    DataCase(
        "invalid geometry (hole outside its shell)",
        lambda p: set_geometry(p, "support_nodes", "N2", hole_outside),
        "geometry_invalid",
        "support_nodes",
        "N2",
        "Fix Geometries",
    ),
    DataCase(
        "empty geometry",
        lambda p: set_geometry(p, "farmer_bases", "B4", lambda g: Polygon()),
        "geometry_empty",
        "farmer_bases",
        "B4",
        "draw",
    ),
    DataCase(
        "null geometry",
        lambda p: set_geometry(p, "clusters", "C3", lambda g: None),
        "geometry_empty",
        "clusters",
        "C3",
        "draw",
    ),
    DataCase(
        "unknown category",
        lambda p: sql(p, "UPDATE farmer_bases SET category = 'upgarde' WHERE code = 'B5'"),
        "unknown_value",
        "farmer_bases",
        "B5",
        "upgrade",
    ),
    DataCase(
        "duplicate codes",
        lambda p: sql(p, "UPDATE clusters SET code = 'C1' WHERE code = 'C3'"),
        "duplicate_code",
        "clusters",
        "C1",
        "own code",
    ),
    DataCase(
        "text in a numeric field",
        lambda p: sql(
            p, "UPDATE land_parcels SET revenue_10k_cny = 'n/a' WHERE parcel_code = 'C3-001'"
        ),
        "non_numeric",
        "land_parcels",
        "C3-001",
        "enter a number",
    ),
    DataCase(
        "numeric field stored as text",
        text_type_revenue,
        "field_type",
        "land_parcels",
        None,
        "Refactor fields",
    ),
    DataCase(
        "negative revenue",
        lambda p: sql(
            p, "UPDATE land_parcels SET revenue_10k_cny = -5 WHERE parcel_code = 'C3-001'"
        ),
        "below_minimum",
        "land_parcels",
        "C3-001",
        "negative",
    ),
]


def corrupt_truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def corrupt_empty(path: Path) -> None:
    path.write_bytes(b"")


def corrupt_text(path: Path) -> None:
    path.write_text("code,name\nB1,华云\n", encoding="utf-8")


def corrupt_plain_sqlite(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE parcels (code TEXT)")
    con.close()


UNREADABLE = [
    ("not a GeoPackage", corrupt_text, "not a GeoPackage"),
    ("SQLite but not a GeoPackage", corrupt_plain_sqlite, "not a GeoPackage"),
    ("truncated file", corrupt_truncated, "truncated"),
    ("empty file", corrupt_empty, "empty"),
]


# -- running and checking --------------------------------------------------------------------


def folder_state(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of every file in ``folder`` (the input and anything beside it)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@dataclass(frozen=True)
class Run:
    """One build of a corpus file: the result and the input folder before and after."""

    gpkg: Path
    out: Path
    result: object
    before: dict[str, str]
    after: dict[str, str]


def run_build(cli, gpkg: Path, out: Path) -> Run:
    before = folder_state(gpkg.parent)
    result = cli("build", gpkg, "--out", out)
    return Run(gpkg, out, result, before, folder_state(gpkg.parent))


def check_common(run: Run) -> None:
    """What every case shares: no traceback, the input and its folder byte-identical."""
    assert "Traceback" not in run.result.stderr + run.result.stdout
    assert run.after == run.before, "the input or its folder changed"


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(("error:", "internal"))]


def findings(out: Path) -> list[dict]:
    with open(out / "validation.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# a build of every corpus file: their tests are slow (conftest)
SLOW_FIXTURES = {"corpus_runs"}


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory, default_gpkg) -> dict[str, Run]:
    """Every unreadable and bad-data case, damaged one by one, built in parallel (CLI); once
    per test run, whichever xdist worker asks first (read only)."""
    from conftest import made_once

    _root, made = made_once(tmp_path_factory, "corpus", lambda r: _run_corpus(r, default_gpkg))
    return {
        name: Run(
            Path(r["gpkg"]),
            Path(r["out"]),
            subprocess.CompletedProcess(["build"], *r["result"]),
            r["before"],
            r["after"],
        )
        for name, r in made.items()
    }


def _run_corpus(root: Path, default_gpkg: Path) -> dict[str, dict]:
    from conftest import run_cli

    jobs = {}
    damages = [(name, damage) for name, damage, _ in UNREADABLE]
    damages += [(case.name, case.damage) for case in DATA_CASES]
    for i, (name, damage) in enumerate(damages):
        folder = root / f"corpus{i}"
        (folder / "input").mkdir(parents=True)
        gpkg = folder / "input" / "plan.gpkg"
        shutil.copyfile(default_gpkg, gpkg)
        damage(gpkg)
        jobs[name] = (gpkg, folder / "out")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            name: pool.submit(run_build, run_cli, gpkg, out) for name, (gpkg, out) in jobs.items()
        }
        runs = {name: future.result() for name, future in futures.items()}
    return {
        name: {
            "gpkg": str(run.gpkg),
            "out": str(run.out),
            "result": [run.result.returncode, run.result.stdout, run.result.stderr],
            "before": run.before,
            "after": run.after,
        }
        for name, run in runs.items()
    }


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    """An input folder holding only the copy under test, and an output folder beside it."""
    (tmp_path / "input").mkdir()
    return tmp_path


@pytest.fixture
def broken(work_dir: Path, default_gpkg: Path) -> Path:
    target = work_dir / "input" / "plan.gpkg"
    shutil.copyfile(default_gpkg, target)
    return target


@pytest.mark.parametrize(
    ("name", "reason"), [(c[0], c[2]) for c in UNREADABLE], ids=[c[0] for c in UNREADABLE]
)
def test_unreadable_file_exits_2_with_one_line_and_no_output(corpus_runs, name, reason):
    run = corpus_runs[name]
    check_common(run)
    assert run.result.returncode == 2, run.result.stderr
    [line] = error_lines(run.result.stderr)
    assert str(run.gpkg) in line and reason in line
    assert "restore" in line or "not a GeoPackage" in line
    assert not run.out.exists() or not any(run.out.iterdir())


@pytest.mark.parametrize("case", DATA_CASES, ids=[c.name for c in DATA_CASES])
def test_bad_data_exits_1_naming_layer_feature_and_fix(corpus_runs, case):
    run = corpus_runs[case.name]
    check_common(run)
    assert run.result.returncode == 1, run.result.stderr
    [line] = error_lines(run.result.stderr)
    assert str(run.gpkg) in line and "validation.csv" in line
    assert f"the first: {case.layer}" in line and "(fix: " in line
    # Nothing computed: the validation report is the only file, no temporary left over.
    assert sorted(p.name for p in run.out.iterdir()) == [".miyun-run.json", "validation.csv"]
    rows = [
        row
        for row in findings(run.out)
        if row["level"] == "error" and row["check"] == case.check and row["layer"] == case.layer
    ]
    assert rows, f"no {case.check} error on {case.layer}: {findings(run.out)}"
    row = rows[0]
    if case.code is not None:
        assert row["code"] == case.code and row["fid"] != ""
    assert case.hint.lower() in (row["message"] + " " + row["hint"]).lower()
    assert "\n" not in row["message"] + row["hint"]


@pytest.mark.parametrize("epsg", [4326, 3857])
def test_layers_in_degrees_or_web_mercator_are_measured_in_4548(broken, work_dir, cli, epsg):
    """Stored in EPSG:4326 / 3857: a warning naming the layer and the fix; areas stay right."""
    reproject(broken, "zgc_park", epsg)
    before = folder_state(broken.parent)
    result = cli("areas", broken, "--json")
    assert result.returncode == 0, result.stderr
    assert folder_state(broken.parent) == before
    warning = [line for line in result.stderr.splitlines() if "zgc_park" in line]
    assert warning and f"EPSG:{epsg}" in warning[0] and "EPSG:4548" in warning[0]
    rows = {(r["layer"], r["code"]): r for r in json.loads(result.stdout)}
    assert rows[("zgc_park", "Z1")]["area_ha"] == pytest.approx(PARK_HA, rel=0.001)
    validation = cli("validate", broken, "--json")
    assert validation.returncode == 0
    assert '"crs_not_work"' in validation.stdout and "store it in EPSG:4548" in validation.stdout


def test_markup_and_long_names_are_warnings_and_never_reach_html_raw(
    broken, work_dir, cli, built_default
):
    """HTML / script and a 500-character name: exit 0 with warnings; the HTML shows text."""
    long_name = "超长名称" * 125
    sql(broken, "UPDATE farmer_bases SET name_zh = ? WHERE code = 'B1'", MARKUP)
    sql(broken, "UPDATE farmer_bases SET town_zh = ? WHERE code = 'B2'", MARKUP)
    sql(broken, "UPDATE clusters SET name_zh = ? WHERE code = 'C2'", long_name)
    out = work_dir / "out"
    run = run_build(cli, broken, out)
    check_common(run)
    result = run.result
    assert result.returncode == 0, result.stderr
    assert error_lines(result.stderr) == []
    found = {(r["check"], r["layer"], r["code"]) for r in findings(out)}
    assert ("markup_in_text", "farmer_bases", "B1") in found
    assert ("markup_in_text", "farmer_bases", "B2") in found
    assert ("long_text", "clusters", "C2") in found
    # The same files as a clean build, and no HTML file carries the markup as markup.
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in built_default.iterdir())
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>window.__miyun_injected" not in text, page.name
        assert "<img src=x" not in text, page.name


def test_file_locked_by_another_writer_exits_2_naming_the_fix(broken, work_dir, cli):
    """An exclusive SQLite lock (a writer mid-transaction): no wait forever, no output."""
    holder = sqlite3.connect(broken, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        out = work_dir / "out"
        result = cli("build", broken, "--out", out, timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "Traceback" not in result.stderr
    assert result.returncode == 2, result.stderr
    [line] = error_lines(result.stderr)
    assert "locked" in line and str(broken) in line and "run again" in line
    assert not out.exists() or not any(out.iterdir())


def test_open_qgis_edit_session_in_wal_mode_reads_committed_state_undisturbed(
    broken, work_dir, cli
):
    """QGIS holds the file in WAL mode: one edit committed (still in -wal), one uncommitted.

    The run sees the committed edit, not the uncommitted one; the database, -wal and -shm
    are byte-identical afterwards, and the editor can still commit.
    """
    editor = connect(broken, isolation_level=None, check_same_thread=False)
    assert editor.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    editor.execute("UPDATE farmer_bases SET category = 'exit' WHERE code = 'B1'")  # committed
    editor.execute("BEGIN IMMEDIATE")
    editor.execute("UPDATE farmer_bases SET category = 'transform' WHERE code = 'B2'")
    wal = Path(f"{broken}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    try:
        before = folder_state(broken.parent)
        result = cli("areas", broken, "--json", timeout=60)
        after = folder_state(broken.parent)
        assert "Traceback" not in result.stderr
        assert result.returncode == 0, result.stderr
        assert {k: v for k, v in after.items() if not k.endswith("-shm")} == {
            k: v for k, v in before.items() if not k.endswith("-shm")
        }
        rows = {(r["layer"], r["code"]): r for r in json.loads(result.stdout)}
        assert rows[("farmer_bases", "B1")]["category"] == "exit"
        assert rows[("farmer_bases", "B2")]["category"] == "upgrade"
        editor.execute("COMMIT")  # the editor is not disturbed
    finally:
        if editor.in_transaction:
            editor.execute("ROLLBACK")
        editor.close()
    with sqlite3.connect(f"file:{broken}?mode=ro", uri=True) as con:
        assert con.execute("SELECT category FROM farmer_bases WHERE code = 'B2'").fetchone() == (
            "transform",
        )
    con.close()


def test_a_lock_released_while_waiting_is_read(broken, work_dir, cli):
    """A short write transaction (shorter than the lock timeout) only delays the run."""
    holder = sqlite3.connect(broken, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        result = cli("validate", broken, "--json", timeout=60)
    finally:
        release.join()
        holder.close()
    assert result.returncode == 0, result.stderr
