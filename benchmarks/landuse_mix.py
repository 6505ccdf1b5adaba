"""Benchmark: land-use mix of ~30 zones over 10k / 100k / 1M synthetic parcels.

Times, in the same run and interleaved (median of ``--repeat`` runs):

- ``seconds``: miyun_spatial's land-use mix (``metrics.mix.land_use_mix``, current use);
- ``baseline_seconds``: ``geopandas.overlay(zones, parcels, how="intersection")`` + groupby;
- ``floor_seconds``: vectorised ``shapely.area`` of every parcel (no engine can beat it);

and, end to end from a GeoPackage on disk (read + compute):

- ``e2e_seconds``: pyogrio + Arrow (one attribute column) + the land-use mix;
- ``duckdb_seconds``: DuckDB's spatial extension, ST_Read + one SQL query (when the offline
  wheel ``duckdb-extension-spatial`` is installed);
- ``e2e_baseline_seconds``: ``geopandas.read_file`` + overlay + groupby;
- ``postgis_seconds``: the mix computed in PostGIS (``miyun_spatial.metrics.mix_sql``: one SQL
  query, ST_Covers fast path, ST_Intersection on boundary parcels, GiST index) on tables
  loaded beforehand (untimed) into the schema ``miyun_bench`` of ``--postgis DSN``.

``peak_mb`` / ``baseline_peak_mb``: the highest resident memory above the level before the
computation, sampled from /proc every 2 ms in a fresh subprocess (untimed), so that memory
freed by earlier runs does not hide it. ``max_rel_diff``: the
largest relative difference between the engine's class areas and the overlay's.
``load_before``: the 1-minute load average before the size was measured (anything else
running on the machine slows the threaded engine most).

Usage::

    python benchmarks/landuse_mix.py                      # 10k, 100k and 1M parcels, a table
    python benchmarks/landuse_mix.py --parcels 100000 --json
    python benchmarks/landuse_mix.py --parcels 100000 --postgis postgresql://me@localhost/db

With ``--json`` the output is a JSON list with one object per size.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from miyun_spatial.core.crs import WORK_CRS
from miyun_spatial.core.landuse import UNCOVERED
from miyun_spatial.io import geopackage as store
from miyun_spatial.metrics.mix import CURRENT_USE, land_use_mix
from miyun_spatial.metrics.overlay import overlay_pieces

SIDE_M = 30_000.0  # the synthetic district is a 30 km square
ORIGIN = (470_000.0, 4_455_000.0)  # inside EPSG:4548's zone, around Miyun
CLASSES = np.array(["R", "A", "A35", "B", "M1", "M2", "W", "S", "G", "E2"])
CLASS_WEIGHTS = np.array([12, 6, 3, 8, 20, 5, 4, 10, 12, 20], dtype=float)
ZONES = 30
ZONE_HA = (15.0, 2000.0)
SIZES = (10_000, 100_000, 1_000_000)


# --- synthetic data -------------------------------------------------------------------------


def make_parcels(n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """About ``n`` quadrilateral parcels tiling the square (a jittered grid), ~10 classes."""
    rng = np.random.default_rng(seed)
    k = max(2, round(np.sqrt(n)))
    step = SIDE_M / k
    xs = ORIGIN[0] + np.arange(k + 1) * step
    ys = ORIGIN[1] + np.arange(k + 1) * step
    gx, gy = np.meshgrid(xs, ys)
    inner = (slice(1, -1), slice(1, -1))  # keep the outer edge straight
    gx[inner] += rng.uniform(-0.3, 0.3, gx[inner].shape) * step
    gy[inner] += rng.uniform(-0.3, 0.3, gy[inner].shape) * step
    c = np.stack([gx, gy], axis=-1)
    rings = np.stack([c[:-1, :-1], c[:-1, 1:], c[1:, 1:], c[1:, :-1], c[:-1, :-1]], axis=2)
    geoms = shapely.polygons(rings.reshape(-1, 5, 2))
    uses = CLASSES[rng.choice(len(CLASSES), len(geoms), p=CLASS_WEIGHTS / CLASS_WEIGHTS.sum())]
    frame = gpd.GeoDataFrame({CURRENT_USE: uses}, geometry=geoms, crs=WORK_CRS)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")
    return frame


def _blob(center, area_m2: float, rng: np.random.Generator, vertices: int = 120):
    """An irregular, star-shaped polygon of about ``area_m2``."""
    t = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    wobble = 1 + 0.25 * np.sin(3 * t + rng.uniform(0, 6)) + rng.uniform(-0.08, 0.08, vertices)
    r = np.sqrt(area_m2 / np.pi) / np.sqrt(np.mean(wobble**2))
    shell = np.c_[center[0] + r * wobble * np.cos(t), center[1] + r * wobble * np.sin(t)]
    return shapely.make_valid(shapely.Polygon(shell))


def make_zones(count: int = ZONES, *, seed: int = 1) -> gpd.GeoDataFrame:
    """``count`` irregular zones of 15-2000 ha; some overlap, one has a hole, one is multi."""
    rng = np.random.default_rng(seed)
    geoms, centers = [], []
    for i in range(count):
        area = float(np.exp(rng.uniform(*np.log(np.array(ZONE_HA) * 10_000))))
        r = np.sqrt(area / np.pi)
        if i % 6 == 5 and centers:  # overlap an earlier zone
            base = centers[int(rng.integers(len(centers)))]
            center = (base[0] + rng.uniform(-r, r), base[1] + rng.uniform(-r, r))
        else:
            center = (
                ORIGIN[0] + rng.uniform(1.3 * r, SIDE_M - 1.3 * r),
                ORIGIN[1] + rng.uniform(1.3 * r, SIDE_M - 1.3 * r),
            )
        geom = _blob(center, area, rng)
        if i == 0:  # a hole
            geom = geom.difference(_blob(center, area / 5, rng))
        if i == 1:  # a multipolygon
            twin = shapely.affinity.translate(geom, 3 * r, 0)
            geom = shapely.union_all([geom, twin])
        minx, miny = ORIGIN
        geom = geom.intersection(shapely.box(minx, miny, minx + SIDE_M, miny + SIDE_M))
        geoms.append(geom)
        centers.append(center)
    codes = [f"Z{i + 1:02d}" for i in range(count)]
    return gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs=WORK_CRS).set_index("code")


# --- the computations -----------------------------------------------------------------------


def engine(zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> pd.Series:
    """Class areas (m²) per zone with miyun_spatial's land-use mix."""
    mix = land_use_mix(zones, parcels, uses=("current",), pieces=overlay_pieces(zones, parcels))
    return mix["area_ha"].droplevel("use") * 10_000


def baseline(zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> pd.Series:
    """Class areas (m²) per zone with geopandas.overlay + groupby."""
    pieces = gpd.overlay(zones.reset_index(), parcels, how="intersection", keep_geom_type=True)
    return pieces.geometry.area.groupby([pieces["code"], pieces[CURRENT_USE]]).sum()


def floor(parcels: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.area(parcels.geometry.values)


def max_rel_diff(ours: pd.Series, reference: pd.Series) -> float:
    ours = ours[ours.index.get_level_values(-1) != UNCOVERED]
    ours.index = ours.index.set_names(["code", "class"])
    reference.index = reference.index.set_names(["code", "class"])
    both = pd.concat([ours.rename("ours"), reference.rename("ref")], axis=1).fillna(0.0)
    both = both[(both["ref"] > 1e-6) | (both["ours"] > 1e-6)]
    return float(((both["ours"] - both["ref"]).abs() / both["ref"].abs().clip(lower=1.0)).max())


def write_gpkg(folder: Path, zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> Path:
    path = folder / "bench.gpkg"
    store.write_gpkg(path, {"zones": zones.reset_index(), "parcels": parcels})
    return path


def e2e_engine(path: Path) -> pd.Series:
    zones = pyogrio.read_dataframe(path, layer="zones", use_arrow=True).set_index("code")
    parcels = pyogrio.read_dataframe(
        path, layer="parcels", columns=[CURRENT_USE], use_arrow=True, fid_as_index=True
    )
    return engine(zones, parcels)


def e2e_baseline(path: Path) -> pd.Series:
    zones = gpd.read_file(path, layer="zones").set_index("code")
    parcels = gpd.read_file(path, layer="parcels", columns=[CURRENT_USE])
    return baseline(zones, parcels)


def duckdb_extension() -> Path | None:
    """The spatial extension shipped by the PyPI wheel duckdb-extension-spatial, if any."""
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError:
        return None
    folder = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = folder / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    return path if path.is_file() else None


DUCKDB_SQL = """
WITH z AS (SELECT code, geom FROM ST_Read(?, layer = 'zones')),
     p AS (SELECT current_use, geom FROM ST_Read(?, layer = 'parcels'))
SELECT z.code, p.current_use,
       sum(CASE WHEN ST_Covers(z.geom, p.geom) THEN ST_Area(p.geom)
                ELSE ST_Area(ST_Intersection(z.geom, p.geom)) END) AS area_m2
FROM z JOIN p ON ST_Intersects(z.geom, p.geom)
GROUP BY ALL
"""


def e2e_duckdb(path: Path, extension: Path) -> pd.Series:
    import duckdb

    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        con.execute(f"LOAD '{extension}'")
        rows = con.execute(DUCKDB_SQL, [str(path), str(path)]).fetchall()
    finally:
        con.close()
    frame = pd.DataFrame(rows, columns=["code", "class", "area_m2"])
    return frame.set_index(["code", "class"])["area_m2"]


# --- measuring ------------------------------------------------------------------------------


def _release_freed_memory() -> None:
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_mb(fn: Callable[[], object]) -> float | None:
    """Highest resident memory above the starting level while ``fn`` runs (Linux only)."""
    if not Path("/proc/self/statm").exists():
        return None
    _release_freed_memory()
    start = _rss_bytes()
    peak, done = [start], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    peak[0] = max(peak[0], _rss_bytes())
    return (peak[0] - start) / 2**20


def peak_mb_in_subprocess(which: str, n: int, seed: int) -> float | None:
    """``peak_mb`` of ``engine`` or ``baseline`` measured in a fresh Python process."""
    command = [sys.executable, __file__, "--peak-of", which, "--parcels", str(n)]
    done = subprocess.run(
        [*command, "--seed", str(seed)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    value = done.stdout.strip()
    return float(value) if value and value != "None" else None


def _peak_of(which: str, n: int, seed: int) -> float | None:
    parcels, zones = make_parcels(n, seed=seed), make_zones(seed=seed + 1)
    fn = {"engine": engine, "baseline": baseline}[which]
    fn(zones.iloc[:2], parcels.iloc[:1000])  # imports and pools, as in the timed runs
    return peak_mb(lambda: fn(zones, parcels))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def load_postgis(dsn: str, zones: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame):
    """The synthetic layers as catalogue tables in schema miyun_bench (replaced), untimed."""
    from miyun_spatial.io.postgis import PostGISSource, parse_dsn
    from miyun_spatial.io.postgis.publish import publish

    classes = pd.DataFrame({"code": CLASSES, "name_zh": CLASSES, "name_en": CLASSES})
    classes["group"], classes["counts_as_industrial"] = "construction", False
    classes["color_hex"] = "#999999"
    classes.index = pd.RangeIndex(1, len(classes) + 1, name="fid")
    layers = {
        "land_use_classes": classes,
        "clusters": zones.reset_index(),
        "land_parcels": parcels.assign(
            parcel_code=[f"P{i}" for i in parcels.index], planned_use=parcels[CURRENT_USE]
        ),
    }
    with tempfile.TemporaryDirectory(prefix="miyun-bench-pg-") as tmp:
        path = Path(tmp) / "bench.gpkg"
        store.write_gpkg(path, layers)
        target = parse_dsn(dsn, schema="miyun_bench")
        publish(path, target, replace=True)
    return PostGISSource(target)


def postgis_mix(source) -> pd.Series:
    from miyun_spatial.metrics.mix_sql import database_mix_tables

    mix = database_mix_tables(source, layers=("clusters",), uses=("current",))["mix"]
    return mix["area_ha"].droplevel(["layer", "use"]) * 10_000


def measure_postgis(dsn: str, zones, parcels, *, repeat: int) -> dict[str, object]:
    t0 = time.perf_counter()
    source = load_postgis(dsn, zones, parcels)
    out: dict[str, object] = {"postgis_load_seconds": time.perf_counter() - t0}
    runs, result = [], None
    for _ in range(repeat):
        t, result = timed(lambda: postgis_mix(source))
        runs.append(t)
    out["postgis_seconds"] = statistics.median(runs)
    ours = engine(zones, parcels)
    both = pd.concat([ours.rename("engine"), result.rename("pg")], axis=1).fillna(0.0)
    out["postgis_max_rel_diff"] = float(
        ((both["pg"] - both["engine"]).abs() / both["engine"].abs().clip(lower=1.0)).max()
    )
    return out


def measure(n: int, *, repeat: int, e2e: bool, seed: int) -> dict[str, object]:
    parcels, zones = make_parcels(n, seed=seed), make_zones(seed=seed + 1)
    engine(zones.iloc[:2], parcels.iloc[:1000])  # warm-up (imports, thread pool)
    runs: dict[str, list[float]] = {"seconds": [], "baseline_seconds": [], "floor_seconds": []}
    ours = reference = None
    for _ in range(repeat):  # interleaved, so that drifts hit all three alike
        t, ours = timed(lambda: engine(zones, parcels))
        runs["seconds"].append(t)
        t, reference = timed(lambda: baseline(zones, parcels))
        runs["baseline_seconds"].append(t)
        runs["floor_seconds"].append(timed(lambda: floor(parcels))[0])
    result: dict[str, object] = {"parcels": len(parcels), "zones": len(zones), "repeat": repeat}
    result["cpus"] = os.cpu_count()
    result["load_before"] = round(os.getloadavg()[0], 2)  # other work on the machine skews times
    result.update({key: statistics.median(values) for key, values in runs.items()})
    result["speedup"] = result["baseline_seconds"] / result["seconds"]
    result["floor_ratio"] = result["seconds"] / result["floor_seconds"]
    result["peak_mb"] = peak_mb_in_subprocess("engine", n, seed)
    result["baseline_peak_mb"] = peak_mb_in_subprocess("baseline", n, seed)
    result["max_rel_diff"] = max_rel_diff(ours, reference)
    if e2e:
        result.update(measure_e2e(zones, parcels, repeat=max(1, min(repeat, 3))))
    return result


def measure_engine_postgis(n: int, dsn: str, *, repeat: int, seed: int) -> dict[str, object]:
    """The engine (in memory) and PostGIS only: for sizes where the overlay baseline is too slow."""
    parcels, zones = make_parcels(n, seed=seed), make_zones(seed=seed + 1)
    engine(zones.iloc[:2], parcels.iloc[:1000])
    result: dict[str, object] = {"parcels": len(parcels), "zones": len(zones), "repeat": repeat}
    result["load_before"] = round(os.getloadavg()[0], 2)
    result["seconds"] = statistics.median(
        timed(lambda: engine(zones, parcels))[0] for _ in range(repeat)
    )
    result.update(measure_postgis(dsn, zones, parcels, repeat=repeat))
    return result


def measure_e2e(zones, parcels, *, repeat: int) -> dict[str, object]:
    out: dict[str, object] = {}
    extension = duckdb_extension()
    with tempfile.TemporaryDirectory(prefix="miyun-bench-") as tmp:
        path = write_gpkg(Path(tmp), zones, parcels)
        out["gpkg_mb"] = path.stat().st_size / 2**20
        runs: dict[str, list[float]] = {"e2e_seconds": [], "e2e_baseline_seconds": []}
        if extension is not None:
            runs["duckdb_seconds"] = []
        duck = None
        for _ in range(repeat):
            runs["e2e_seconds"].append(timed(lambda: e2e_engine(path))[0])
            if extension is not None:
                t, duck = timed(lambda: e2e_duckdb(path, extension))
                runs["duckdb_seconds"].append(t)
            runs["e2e_baseline_seconds"].append(timed(lambda: e2e_baseline(path))[0])
        out.update({key: statistics.median(values) for key, values in runs.items()})
        if duck is not None:
            out["duckdb_max_rel_diff"] = max_rel_diff(e2e_engine(path), duck)
        else:
            out["duckdb_seconds"] = None
            out["duckdb_note"] = "duckdb-extension-spatial is not installed: not compared"
    return out


# --- output ---------------------------------------------------------------------------------

COLUMNS = (
    ("parcels", "parcels", "{:,}"),
    ("seconds", "mix s", "{:.3f}"),
    ("baseline_seconds", "overlay s", "{:.3f}"),
    ("speedup", "speedup", "{:.1f}x"),
    ("floor_seconds", "floor s", "{:.4f}"),
    ("floor_ratio", "x floor", "{:.1f}"),
    ("peak_mb", "peak MB", "{:.0f}"),
    ("baseline_peak_mb", "overlay MB", "{:.0f}"),
    ("e2e_seconds", "e2e s", "{:.2f}"),
    ("duckdb_seconds", "duckdb s", "{:.2f}"),
    ("e2e_baseline_seconds", "e2e overlay s", "{:.2f}"),
    ("postgis_seconds", "postgis s", "{:.2f}"),
    ("max_rel_diff", "max rel diff", "{:.1e}"),
    ("postgis_max_rel_diff", "pg rel diff", "{:.1e}"),
)


def table(results: list[dict[str, object]]) -> str:
    def cell(result, key, fmt):
        value = result.get(key)
        return "—" if value is None else fmt.format(value)

    rows = [[label for _key, label, _fmt in COLUMNS]]
    rows += [[cell(r, key, fmt) for key, _label, fmt in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--parcels",
        type=int,
        action="append",
        help="Number of parcels (repeatable) [default: 10000, 100000, 1000000].",
    )
    parser.add_argument("--repeat", type=int, default=5, help="Runs per timing [5].")
    parser.add_argument("--seed", type=int, default=0, help="Random seed [0].")
    parser.add_argument("--no-e2e", action="store_true", help="Skip the end-to-end timings.")
    parser.add_argument("--json", action="store_true", help="Print JSON, one object per size.")
    parser.add_argument(
        "--postgis",
        metavar="DSN",
        help="Also time the mix in PostGIS (creates/replaces schema miyun_bench there).",
    )
    parser.add_argument(
        "--only-postgis", action="store_true", help="Time only the engine and PostGIS."
    )
    parser.add_argument("--peak-of", choices=("engine", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak_of:  # internal: one memory measurement in this fresh process
        print(_peak_of(args.peak_of, (args.parcels or [SIZES[0]])[0], args.seed))
        return 0
    results = []
    for n in args.parcels or SIZES:
        print(f"measuring {n:,} parcels ...", file=sys.stderr)
        if args.only_postgis and args.postgis:
            result = measure_engine_postgis(n, args.postgis, repeat=args.repeat, seed=args.seed)
        else:
            result = measure(n, repeat=args.repeat, e2e=not args.no_e2e, seed=args.seed)
            if args.postgis:
                parcels, zones = make_parcels(n, seed=args.seed), make_zones(seed=args.seed + 1)
                result.update(measure_postgis(args.postgis, zones, parcels, repeat=args.repeat))
        results.append(result)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(table(results))
        notes = {r.get("duckdb_note") for r in results} - {None}
        for note in notes:
            print(f"note: {note}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
