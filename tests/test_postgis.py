"""PostGIS as source and destination, against a real throw-away server (tests/pg_cluster.py).

publish -> build from PostGIS gives the GeoPackage build's tables and findings; a concurrent
edit during a read is seen wholly or not at all; the mix in SQL equals the engine; bad DSNs,
passwords, schemas, layers and columns give one clear line; hostile names cannot inject SQL.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from gpkg_edit import drop_layer, set_value, sql

from miyun_spatial.io import geopackage as store
from miyun_spatial.io import sources
from miyun_spatial.io.postgis import PostGISSource
from miyun_spatial.metrics.mix_sql import database_mix_tables

pytestmark = pytest.mark.postgis

CSV_INDEX = {
    "areas.csv": 2,
    "mix.csv": 4,
    "mix_indices.csv": 3,
    "zone_yields.csv": 2,
    "parcel_yields.csv": 1,
    "benchmark.csv": 1,
    "transitions.csv": 5,
    "changing_parcels.csv": 1,
    "adjustment_totals.csv": 1,
    "base_land_changes.csv": 3,
    "baselines.csv": 5,
}


def run(pg, *args) -> subprocess.CompletedProcess:
    """``miyun-spatial ARGS`` in a subprocess, with the cluster's password file only."""
    command = [sys.executable, "-m", "miyun_spatial", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=pg.env(), timeout=600)


def one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="session")
def published(pg, default_gpkg) -> str:
    """The default GeoPackage published (through the CLI) into database t_main, schema miyun."""
    dsn = pg.create_database("t_main")
    result = run(pg, "publish", default_gpkg, f"{dsn}?schema=miyun")
    assert result.returncode == 0, result.stderr
    layers = [n for n, _ in pyogrio.list_layers(default_gpkg) if n != "layer_styles"]
    assert f"published {len(layers)} layers" in result.stdout  # control lines, scenarios too
    return f"{dsn}?schema=miyun"


def _publish_copy(pg, gpkg: Path, dbname: str, schema: str = "miyun") -> str:
    dsn = pg.create_database(dbname)
    result = run(pg, "publish", gpkg, dsn, "--schema", schema)
    assert result.returncode == 0, result.stderr
    return f"{dsn}?schema={schema}"


def _csv(path: Path, levels: int) -> pd.DataFrame:
    return pd.read_csv(path, index_col=list(range(levels)), keep_default_na=False, na_values=[""])


def _assert_tables_equal(a: pd.DataFrame, b: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    assert a.index.equals(b.index)
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            np.testing.assert_allclose(x.to_numpy(float), y.to_numpy(float), rtol=rtol, atol=0)
        else:
            assert x.astype(str).tolist() == y.astype(str).tolist(), column


def test_build_from_postgis_equals_geopackage_build(pg, published, built_default, tmp_path):
    out = tmp_path / "out"
    with_password = published.replace("miyun@", f"miyun:{pg.password}@", 1)
    result = run(pg, "build", with_password, "--out", out, "--offline")
    assert result.returncode == 0, result.stderr
    assert pg.password not in result.stdout + result.stderr
    for name, levels in CSV_INDEX.items():
        _assert_tables_equal(_csv(out / name, levels), _csv(built_default / name, levels))
    gpkg_findings = pd.read_csv(built_default / "validation.csv")
    pg_findings = pd.read_csv(out / "validation.csv")
    pd.testing.assert_frame_equal(pg_findings, gpkg_findings)
    # provenance names the database without password; nothing secret in any output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert published.split("?")[0].replace("postgresql://", "") in html
    for path in (p for p in out.rglob("*") if p.is_file()):
        assert pg.password.encode() not in path.read_bytes(), path.name


def test_password_in_dsn_is_never_shown(pg, published, tmp_path):
    with_password = published.replace("miyun@", f"miyun:{pg.password}@", 1)
    result = run(pg, "validate", with_password, "--json")
    assert result.returncode == 0, result.stderr
    assert pg.password not in result.stdout + result.stderr
    assert json.loads(result.stdout)["file"] == published
    wrong = published.replace("miyun@", "miyun:not-the-password@", 1)
    env_less = run(pg, "areas", wrong)
    line = one_line_error(env_less)
    assert "cannot log in" in line and "password authentication failed" in line
    assert "not-the-password" not in env_less.stderr + env_less.stdout


def test_wrong_password_from_pgpassword(pg, published, tmp_path):
    env = {k: v for k, v in pg.env().items() if k != "PGPASSFILE"}
    env["PGPASSWORD"] = "definitely-wrong"
    env["PGPASSFILE"] = str(tmp_path / "none")
    result = subprocess.run(
        [sys.executable, "-m", "miyun_spatial", "validate", published],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    line = one_line_error(result)
    assert "cannot log in" in line and "PGPASSWORD" in line
    assert "definitely-wrong" not in line


def test_unreachable_server_missing_schema_and_bad_dsn(pg, published):
    dead = f"postgresql://miyun@127.0.0.1:{pg.port}/t_main".replace(str(pg.port), "1", 1)
    line = one_line_error(run(pg, "areas", dead))
    assert "connection failed" in line and "127.0.0.1:1" in line
    line = one_line_error(run(pg, "validate", published.replace("schema=miyun", "schema=nope")))
    assert "schema 'nope' does not exist" in line and "publish" in line
    bad = run(pg, "areas", "postgresql://miyun@127.0.0.1/x?sslmode=sideways")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_dropped_connection_is_one_line(pg, published):
    """The server ends the session in the middle of a read: exit 2, one line."""
    source = PostGISSource.from_dsn(published)
    killer = psycopg.connect(pg.dsn("t_main"), autocommit=True)

    def kill_others(_name: str) -> None:
        killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'miyun-spatial' AND pid <> pg_backend_pid()"
        )

    with pytest.raises(store.InputError, match="connection failed or was lost") as caught:
        source.load(after_layer=kill_others)
    killer.close()
    assert "\n" not in str(caught.value)


def test_concurrent_edit_during_a_read_is_all_or_nothing(pg, default_gpkg):
    """A colleague commits an edit of two layers while a build reads: old state, whole."""
    dsn = _publish_copy(pg, default_gpkg, "t_concurrent")
    source = PostGISSource.from_dsn(dsn)
    before = source.load()
    edits = []

    def colleague_saves(name: str) -> None:
        if edits:
            return
        with psycopg.connect(pg.dsn("t_concurrent")) as con:
            con.execute("SET lock_timeout = '2s'")  # a write lock held by the reader would fail
            con.execute(
                "UPDATE miyun.land_parcels SET revenue_10k_cny = revenue_10k_cny + 1000 "
                "WHERE revenue_10k_cny IS NOT NULL"
            )
            con.execute("UPDATE miyun.land_facts SET value = value * 2")
            con.execute("UPDATE miyun.clusters SET name_en = name_en || ' (edited)'")
        edits.append(name)

    during = source.load(after_layer=colleague_saves)
    assert edits == ["clusters"]  # the first layer read; the others were read after the commit
    for name in before.layers:
        pd.testing.assert_frame_equal(during[name], before[name])
    assert during.sha256 == before.sha256
    after = source.load()
    revenue = "revenue_10k_cny"
    delta = (after["land_parcels"][revenue] - before["land_parcels"][revenue]).dropna()
    assert len(delta) and np.allclose(delta, 1000.0, rtol=1e-12)
    np.testing.assert_allclose(after["land_facts"]["value"], before["land_facts"]["value"] * 2)
    assert after.sha256 != before.sha256
    assert source.layer_digests() != {} and sources.layer_digests(dsn) == source.layer_digests()


def test_database_mix_equals_engine(pg, published, default_plan):
    from miyun_spatial.flow.build import work_layers
    from miyun_spatial.metrics import mix_tables, prepare

    ours = database_mix_tables(PostGISSource.from_dsn(published))
    engine = mix_tables(prepare(work_layers(default_plan), default_plan))
    for key in ("mix", "mix_indices"):
        _assert_tables_equal(ours[key], engine[key], rtol=1e-9)


def test_mix_command_engines_agree(pg, published):
    memory = run(pg, "mix", published, "--engine", "memory", "--csv")
    database = run(pg, "mix", published, "--engine", "database", "--csv")
    assert memory.returncode == 0 and database.returncode == 0, database.stderr
    a = pd.read_csv(pd.io.common.StringIO(memory.stdout), index_col=[0, 1, 2, 3])
    b = pd.read_csv(pd.io.common.StringIO(database.stdout), index_col=[0, 1, 2, 3])
    _assert_tables_equal(b, a)
    refused = run(pg, "mix", "--engine", "database")
    assert refused.returncode == 2 and "needs a PostGIS source" in refused.stderr


def test_missing_layer_and_column_reported_like_geopackage(pg, published, gpkg_copy, tmp_path):
    con = psycopg.connect(pg.dsn("t_main"), autocommit=True)
    con.execute("CREATE SCHEMA broken")
    for table in ("land_use_classes", "land_parcels", "land_facts", "zgc_park", "clusters"):
        con.execute(f"CREATE TABLE broken.{table} AS TABLE miyun.{table}")
    con.execute("ALTER TABLE broken.land_parcels DROP COLUMN planned_use")
    con.close()
    keep = {"land_use_classes", "land_parcels", "land_facts", "zgc_park", "clusters"}
    for name in [n for n in store.load(gpkg_copy).layers if n not in keep]:
        drop_layer(gpkg_copy, name)
    sql(gpkg_copy, "ALTER TABLE land_parcels DROP COLUMN planned_use")
    from_pg = run(pg, "validate", published.replace("schema=miyun", "schema=broken"), "--json")
    from_file = run(pg, "validate", gpkg_copy, "--json")
    assert from_pg.returncode == from_file.returncode == 1, from_pg.stderr
    findings = [json.loads(r.stdout)["findings"] for r in (from_pg, from_file)]
    key = ("level", "check", "layer", "feature", "message")
    assert [tuple(f.get(k) for k in key) for f in findings[0]] == [
        tuple(f.get(k) for k in key) for f in findings[1]
    ]
    assert any(f["check"] == "missing_field" for f in findings[0])
    assert any(f["check"] == "missing_layer" for f in findings[0])


def test_hostile_names_and_values_cannot_inject_sql(pg, gpkg_copy):
    evil_value = "x'); DROP TABLE miyun.land_facts; --"
    evil_column = 'note"); DROP TABLE land_facts; --'
    set_value(gpkg_copy, "land_facts", "fact_code", "F01", "subject_zh", evil_value)
    sql(
        gpkg_copy,
        f'ALTER TABLE land_facts ADD COLUMN "{evil_column.replace(chr(34), chr(34) * 2)}" TEXT',
        f"UPDATE land_facts SET \"{evil_column.replace(chr(34), chr(34) * 2)}\" = 'ok'",
    )
    schema = 'team"; DROP SCHEMA public CASCADE; --'
    dsn = _publish_copy(pg, gpkg_copy, "t_hostile", schema=schema)
    plan = PostGISSource.from_dsn(dsn.split("?")[0], schema=schema).load()
    facts = plan["land_facts"]
    assert evil_value in set(facts["subject_zh"])
    assert (facts[evil_column] == "ok").all()
    tables = pg.psql(
        "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'miyun') "
        "AND tablename IN ('spatial_ref_sys', 'layer_styles')",
        "t_hostile",
    )
    assert tables == "2"


def test_publish_replace_and_export_round_trip(pg, default_gpkg, gpkg_copy, tmp_path):
    dsn = _publish_copy(pg, default_gpkg, "t_replace")
    again = run(pg, "publish", gpkg_copy, dsn)
    assert one_line_error(again, 3).endswith("or choose another --schema")
    set_value(gpkg_copy, "clusters", "code", "C1", "name_en", "Renamed cluster")
    replaced = run(pg, "publish", gpkg_copy, dsn, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    schemas = pg.psql(
        "SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname ~ 'miyun'", "t_replace"
    )
    assert schemas == "miyun"
    out = tmp_path / "snapshot.gpkg"
    result = run(pg, "export", dsn, out)
    assert result.returncode == 0, result.stderr
    exported, original = store.load(out), store.load(gpkg_copy)
    assert "Renamed cluster" in set(exported["clusters"]["name_en"])
    for name, frame in original.layers.items():
        if isinstance(frame, gpd.GeoDataFrame):
            assert_geodataframe_equal(exported[name], frame)
        else:
            pd.testing.assert_frame_equal(exported[name], frame)
    # styles, constraints and comments for QGIS
    styles = pg.psql(
        "SELECT count(*) FROM public.layer_styles WHERE f_table_schema = 'miyun' AND useasdefault",
        "t_replace",
    )
    with sqlite3.connect(default_gpkg) as source:  # as many default styles as the source has
        (expected,) = source.execute(
            "SELECT count(*) FROM layer_styles WHERE useAsDefault"
        ).fetchone()
    assert int(styles) == expected
    comment = pg.psql("SELECT obj_description('miyun.land_parcels'::regclass)", "t_replace")
    assert "land parcels" in comment.lower() or "地块" in comment
    with psycopg.connect(pg.dsn("t_replace")) as con, pytest.raises(psycopg.errors.IntegrityError):
        con.execute("UPDATE miyun.land_parcels SET current_use = 'NOPE' WHERE fid = 1")


def test_diff_between_geopackage_and_postgis(pg, published, default_gpkg):
    result = run(pg, "diff", default_gpkg, published, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["changed_layers"] == [] and payload["new"] == published


def test_watch_polls_postgis_digests(pg, default_gpkg, tmp_path):
    from miyun_spatial.flow.watch import watch

    dsn = _publish_copy(pg, default_gpkg, "t_watch")
    seen = []

    def builder(source, out_dir, **_options):
        seen.append(str(source))
        raise store.InputError("not building in this test")

    polls = {"n": 0}

    def sleep(_seconds):
        polls["n"] += 1
        if polls["n"] == 2:
            pg.psql("UPDATE miyun.land_facts SET value = value + 1", "t_watch")

    events = []
    watch(
        dsn, tmp_path, max_polls=4, debounce=0, sleep=sleep, builder=builder, on_event=events.append
    )
    assert [e.kind for e in events][:1] == ["failed"]
    assert any(e.run == 1 and e.layers == ("land_facts",) for e in events)
    assert seen and all(s == dsn for s in seen)


def test_dsn_forms_and_display_without_password():
    from miyun_spatial.io.postgis import parse_dsn

    gdal = parse_dsn("PG:dbname=plan host=db.local port=5433 user=gis password=s3cret schemas=team")
    assert (gdal.schema, gdal.display) == (
        "team",
        "postgresql://gis@db.local:5433/plan?schema=team",
    )
    assert "s3cret" not in gdal.scrub("login with s3cret failed") and "s3cret" in gdal.conninfo
    uri = parse_dsn("postgresql://gis:s3cret@db.local/plan?schema=miyun&sslmode=prefer")
    assert uri.display == "postgresql://gis@db.local/plan?schema=miyun"
    assert "schema" not in uri.conninfo and "sslmode=prefer" in uri.conninfo
    assert parse_dsn("postgresql:///plan?host=/run/pg", schema="x").display == (
        "postgresql:///plan?host=/run/pg&schema=x"
    )
    assert sources.is_database("PG:dbname=x") and not sources.is_database(Path("x.gpkg"))
    assert isinstance(sources.open_source(Path("x.gpkg")), sources.GeoPackageSource)


def test_publish_replace_during_a_read_swaps_atomically(pg, default_gpkg, gpkg_copy):
    """``publish --replace`` while a build reads: the read sees the old schema entirely."""
    import threading

    dsn = _publish_copy(pg, default_gpkg, "t_swap")
    set_value(gpkg_copy, "land_facts", "fact_code", "F01", "subject_zh", "新的 new")
    source = PostGISSource.from_dsn(dsn)
    before = source.load()
    results = []
    thread = threading.Thread(
        target=lambda: results.append(run(pg, "publish", gpkg_copy, dsn, "--replace"))
    )

    def replace_meanwhile(name: str) -> None:
        if not thread.is_alive() and not results:
            thread.start()
            thread.join(timeout=5)  # it waits for this read's locks: still running
            assert thread.is_alive()

    during = source.load(after_layer=replace_meanwhile)
    thread.join(timeout=120)
    assert results and results[0].returncode == 0, results and results[0].stderr
    for name in before.layers:
        pd.testing.assert_frame_equal(during[name], before[name])
    after = source.load()
    assert "新的 new" in set(after["land_facts"]["subject_zh"])
    assert "新的 new" not in set(during["land_facts"]["subject_zh"])
