"""The whole ``build --offline`` at a district's scale: N irregular parcels tiling the park.

    python benchmarks/build_scale.py --parcels 100000            # a table
    python benchmarks/build_scale.py --parcels 100000 --json     # JSON
    python benchmarks/build_scale.py --parcels 100000 --naive    # + the naive validation steps
    python benchmarks/build_scale.py --parcels 100000 --check OUT_DIR   # tables equal OUT_DIR's?
    python benchmarks/build_scale.py --parcels 1000000 --browser # + page size / load in Chromium

The GeoPackage is a copy of the embedded default whose ``land_parcels`` holds N Voronoi cells
(fixed seed) tiling the Miyun park (Z1) instead of the park's 332 default parcels (the farmer
bases keep their 85 default parcels). Each cell takes the land use, status and sector of the
default parcel under it, a code ``C2-0000001``...; revenue, output and employees come from
``miyun_spatial.io.default_data.parcels.add_economics``, so the park's totals match the plan's
published figures as in the default data. Schema and values are valid: ``validate`` passes.

The build runs in a fresh process (``pipeline.build`` with ``MapOptions(offline=True)``, as
``miyun-spatial build --offline``) and reports the seconds of every progress step, the peak
resident memory of that process (``resource.getrusage``, max RSS) and the size of every output.
``--naive`` also times the validation checks done as they were before (the difference of
every parcel against the district, the intersection of every touching pair). ``--check DIR``
compares ``validation.csv`` and every metric CSV with those in DIR (e.g. written by the main
branch on the same GeoPackage). Nothing is asserted: the numbers are for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.flow.workers import default_jobs
from miyun_spatial.io import geopackage as store
from miyun_spatial.io.default_data.parcels import ParkTargets, add_economics

PARCELS = CATALOGUE["land_parcels"]
PARK_PREFIXES = ("A1", "C2", "C3")
SEED = 4548
METRIC_CSVS = (
    "validation",
    "areas",
    "mix",
    "mix_indices",
    "zone_yields",
    "parcel_yields",
    "benchmark",
    "transitions",
    "changing_parcels",
    "adjustment_totals",
    "base_land_changes",
)


# --- the GeoPackage -------------------------------------------------------------------------


def _park(plan: store.PlanData):
    park = plan["zgc_park"]
    spec = CATALOGUE["zgc_park"]
    return park.loc[park[spec.category_field] == "current"].geometry.iloc[0]


def voronoi_cells(region, n: int, seed: int = SEED) -> np.ndarray:
    """About ``n`` Voronoi cells of uniform random seeds, clipped to ``region`` (vectorised)."""
    rng = np.random.default_rng(seed)
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    found, total = [], 0
    while total < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), (2 * n, 2))
        xy = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        found.append(xy)
        total += len(xy)
    xy = np.concatenate(found)[:n]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=region))
    inside = shapely.covers(region, cells)
    clipped = shapely.intersection(cells[~inside], region)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    parts, owner = parts[polygon], owner[polygon]
    edge = shapely.multipolygons(parts, indices=owner)  # one per clipped cell with polygons
    whole = shapely.multipolygons(cells[inside][:, None])
    return np.concatenate([whole, edge[~shapely.is_empty(edge)]])


def _parcel_codes(prefix, points) -> pd.Series:
    """Parcel codes ``PREFIX-0000001``, numbered north to south, west to east."""
    order = np.lexsort((shapely.get_x(points), -np.round(shapely.get_y(points), -1)))
    number = np.empty(len(points), dtype=np.int64)
    number[order] = np.arange(1, len(points) + 1)
    return pd.Series(prefix).str.cat(pd.Series(number).map("{:07d}".format), sep="-")


def _parcel_frame(src, codes, uses, has_enterprise, cells, crs) -> gpd.GeoDataFrame:
    """Synthetic parcels: ``uses`` (current, planned, proposed), the rest from ``src``."""
    current, planned, proposed = uses
    return gpd.GeoDataFrame(
        {
            PARCELS.id_field: codes.to_numpy(),
            "current_use": current,
            "planned_use": planned,
            "proposed_use": proposed,
            "status": src["status"].to_numpy(),
            "enterprise": np.where(has_enterprise, "示例企业 " + codes + "（合成）", None),
            "sector": src["sector"].to_numpy(),
            "project_code": None,
            "data_basis": "synthetic",
        },
        geometry=cells,
        crs=crs,
    )


def synthetic_parcels(plan: store.PlanData, n: int, seed: int = SEED) -> gpd.GeoDataFrame:
    """``n`` park parcels with valid values, taken over from the default parcels under them."""
    default = plan["land_parcels"]
    code = default[PARCELS.id_field].astype(str)
    park_parcels = default[code.str.split("-").str[0].isin(PARK_PREFIXES)]
    cells = voronoi_cells(_park(plan), n, seed)
    points = shapely.point_on_surface(cells)
    cell_i, parcel_i = park_parcels.sindex.query(points, predicate="within")
    source = np.full(len(cells), -1)
    source[cell_i[::-1]] = parcel_i[::-1]  # the first match wins
    missing = source < 0
    if missing.any():
        _, nearest = park_parcels.sindex.nearest(points[missing], return_all=False)
        source[missing] = nearest
    src = park_parcels.iloc[source]
    prefix = src[PARCELS.id_field].astype(str).str.split("-").str[0].to_numpy()
    codes = _parcel_codes(prefix, points)
    uses = (
        src["current_use"].to_numpy(),
        src["planned_use"].to_numpy(),
        src["proposed_use"].to_numpy(),
    )
    frame = _parcel_frame(
        src, codes, uses, src["enterprise"].notna().to_numpy(), cells, default.crs
    )
    targets = ParkTargets.from_land_facts(plan["land_facts"])
    classes = plan["land_use_classes"].copy()  # add_economics reads the source table's yes/no
    classes["counts_as_industrial"] = np.where(classes["counts_as_industrial"], "yes", "no")
    frame = add_economics(frame, targets, classes)
    bases = default[~default.index.isin(park_parcels.index)]
    out = pd.concat([frame, bases.reset_index(drop=True)], ignore_index=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="fid")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=default.crs)


SHARE_MULTIPART = 0.03  # fragmented pattern: pairs of nearby cells made one parcel
SHARE_HOLED = 0.03  # cells with an island parcel cut out of them (a parcel with a hole)
SHARE_SLIVER = 0.08  # cells with a thin strip (<= 6 % of the cell) split off as a parcel


def fragmented_geometries(region, n: int, seed: int) -> np.ndarray:
    """Survey-like shapes: Voronoi cells over ``region``, some as islands inside holes of
    others, some with slivers split off, some pairs of nearby cells as one multi-part parcel."""
    rng = np.random.default_rng(seed + 1)
    cells = shapely.get_parts(voronoi_cells(region, n, seed))  # polygons
    pick = rng.random(len(cells))
    holed = pick < SHARE_HOLED
    size = np.sqrt(shapely.area(cells[holed]))
    island = shapely.buffer(cells[holed], -0.3 * size, quad_segs=2)
    ok = ~shapely.is_empty(island) & (shapely.get_type_id(island) == 3)
    target = np.flatnonzero(holed)[ok]
    cells[target] = shapely.difference(cells[target], island[ok])
    sliver = (pick >= SHARE_HOLED) & (pick < SHARE_HOLED + SHARE_SLIVER)
    minx, miny, maxx, maxy = shapely.bounds(cells[sliver]).T
    strip = shapely.box(
        minx - 1, miny - 1, minx + rng.uniform(0.02, 0.06, len(minx)) * (maxx - minx), maxy + 1
    )
    cut = shapely.intersection(cells[sliver], strip)
    rest = shapely.difference(cells[sliver], strip)
    cells[sliver] = rest
    pieces = np.concatenate([cells, island[ok], cut])
    pieces = shapely.get_parts(pieces)
    pieces = pieces[(shapely.get_type_id(pieces) == 3) & (shapely.area(pieces) > 1.0)]
    # pairs of nearby pieces (two apart along rows of 200 m) as one parcel of two parts, as a
    # road or a ditch splits a survey parcel; pairs whose parts share an edge are invalid: kept apart
    centre = shapely.centroid(pieces)
    rows = np.lexsort((shapely.get_x(centre), np.floor(shapely.get_y(centre) / 200)))
    first = rng.choice(len(rows) - 2, int(SHARE_MULTIPART * len(pieces)) // 2, replace=False)
    first = np.sort(first)
    first = first[np.r_[True, np.diff(first) > 2]]  # no piece in two pairs
    pairs = np.column_stack([rows[first], rows[first + 2]])
    multi = shapely.multipolygons(pieces[pairs])
    valid = shapely.is_valid(multi)
    single = np.ones(len(pieces), bool)
    single[pairs[valid].ravel()] = False
    return np.concatenate([shapely.multipolygons(pieces[single][:, None]), multi[valid]])


def fragmented_parcels(plan: store.PlanData, n: int, seed: int = SEED) -> gpd.GeoDataFrame:
    """``n`` parcels over the whole district (around the bases' parcels) whose land uses are
    drawn at random per parcel: fine-grained mixing of every class, as a 三调 survey has."""
    rng = np.random.default_rng(seed + 2)
    default = plan["land_parcels"]
    code = default[PARCELS.id_field].astype(str)
    in_park_default = code.str.split("-").str[0].isin(PARK_PREFIXES)
    park_parcels, bases = default[in_park_default], default[~in_park_default]
    district = shapely.union_all(plan["district"].geometry.values)
    region = shapely.difference(district, shapely.union_all(bases.geometry.values))
    cells = fragmented_geometries(region, n, seed)
    points = shapely.point_on_surface(cells)
    park = _park(plan)
    inside = shapely.contains_xy(park, shapely.get_x(points), shapely.get_y(points))
    src = park_parcels.iloc[rng.integers(0, len(park_parcels), len(cells))]
    prefix = np.where(inside, src[PARCELS.id_field].astype(str).str.split("-").str[0], "D1")
    classes = plan["land_use_classes"]["code"].astype(str).to_numpy()
    weights = default["current_use"].value_counts().reindex(classes, fill_value=0) + 3.0
    p = (weights / weights.sum()).to_numpy()
    current = rng.choice(classes, len(cells), p=p)
    planned = np.where(rng.random(len(cells)) < 0.7, current, rng.choice(classes, len(cells), p=p))
    proposed = np.where(rng.random(len(cells)) < 0.05, rng.choice(classes, len(cells), p=p), None)
    codes = _parcel_codes(prefix, points)
    has_enterprise = inside & src["enterprise"].notna().to_numpy()
    frame = _parcel_frame(
        src, codes, (current, planned, proposed), has_enterprise, cells, default.crs
    )
    return _with_economics(plan, frame, bases)


def _with_economics(plan, frame, bases) -> gpd.GeoDataFrame:
    targets = ParkTargets.from_land_facts(plan["land_facts"])
    classes = plan["land_use_classes"].copy()  # add_economics reads the source table's yes/no
    classes["counts_as_industrial"] = np.where(classes["counts_as_industrial"], "yes", "no")
    frame = add_economics(frame, targets, classes)
    out = pd.concat([frame, bases.reset_index(drop=True)], ignore_index=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="fid")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=plan["land_parcels"].crs)


PATTERNS = {"patches": synthetic_parcels, "fragmented": fragmented_parcels}


def make_gpkg(path: Path, n: int, seed: int = SEED, pattern: str = "patches") -> Path:
    """A copy of the default GeoPackage whose land_parcels holds the synthetic parcels."""
    plan = store.load()
    parcels = PATTERNS[pattern](plan, n, seed)
    shutil.copyfile(plan.path, path)
    with sqlite3.connect(path) as con:
        con.execute(f"DELETE FROM {PARCELS.name}")
    columns = [c for c in plan["land_parcels"].columns if c != "geometry"]
    data = parcels[[*columns, "geometry"]].reset_index()
    data["employees"] = data["employees"].astype("Int64")
    pyogrio.write_dataframe(data, path, layer=PARCELS.name, append=True, use_arrow=True)
    return path


# --- the build, in a fresh process ----------------------------------------------------------


def run_build(gpkg: Path, out: Path, jobs: int) -> dict:
    """``build --offline --jobs JOBS`` of ``gpkg`` into ``out``: seconds per step and task
    (``BuildResult.timings``; tasks in parallel overlap), peak memory, output sizes."""
    from miyun_spatial.flow.build import build
    from miyun_spatial.render.maps.options import MapOptions

    sampler = PssSampler()
    sampler.start()
    start = time.perf_counter()
    result = build(gpkg, out, map_options=MapOptions(offline=True), jobs=jobs)
    end = time.perf_counter()
    sampler.stop()
    return {
        "seconds": round(end - start, 2),
        "jobs": jobs,
        "steps": {label: round(seconds, 2) for label, seconds in result.timings},
        "task_peak_rss_mb": dict(result.peaks),
        "peak_rss_mb": _max_rss_mb(resource.RUSAGE_SELF),
        "peak_rss_workers_mb": _max_rss_mb(resource.RUSAGE_CHILDREN),
        "peak_pss_mb": round(sampler.peak_kb / 1024, 0),
        "outputs": {p.name: p.stat().st_size for p in sorted(result.outputs)},
        "validation": result.summary["validation"],
    }


def _max_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 0)


class PssSampler(threading.Thread):
    """The peak of the summed PSS (proportional set size: shared pages split between the
    processes sharing them) of this process and its worker processes, every 50 ms: the
    memory the build takes from the machine, with forked workers' shared pages counted once."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in _tree(os.getpid())))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return pids


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def build_in_subprocess(gpkg: Path, out: Path, jobs: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--run-build", str(gpkg), str(out), str(jobs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the build failed (exit {done.returncode})")
    return json.loads(done.stdout)


# --- naive steps, for comparison ------------------------------------------------------------


def naive_validation(gpkg: Path) -> dict:
    """The outside-the-district and overlap checks done exactly, for every parcel / pair."""
    plan = store.load(gpkg)
    parcels = plan["land_parcels"]
    district = shapely.union_all(plan["district"].geometry.values)
    geoms = parcels.geometry.values
    t0 = time.perf_counter()
    outside = shapely.area(shapely.difference(geoms, district))
    t1 = time.perf_counter()
    left, right = parcels.sindex.query(geoms, predicate="intersects")
    keep = left < right
    areas = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]]))
    t2 = time.perf_counter()
    return {
        "naive_outside_seconds": round(t1 - t0, 2),
        "naive_overlap_seconds": round(t2 - t1, 2),
        "naive_outside_count": int((outside / shapely.area(geoms) > 0.001).sum()),
        "naive_overlap_count": int((areas > 1.0).sum()),
        "touching_pairs": int(keep.sum()),
    }


# --- comparing with another build -----------------------------------------------------------


def compare(out: Path, reference: Path) -> dict[str, str]:
    """Per CSV: 'equal', 'differs (...)' or 'missing' against the same file in ``reference``."""
    verdict = {}
    for name in METRIC_CSVS:
        mine, theirs = out / f"{name}.csv", reference / f"{name}.csv"
        if not mine.exists() or not theirs.exists():
            verdict[name] = "missing"
            continue
        a, b = (pd.read_csv(f, low_memory=False) for f in (mine, theirs))
        if name == "validation":
            a, b = (f.sort_values(list(f.columns)).reset_index(drop=True) for f in (a, b))
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
            verdict[name] = "equal"
        except AssertionError as exc:
            verdict[name] = "differs: " + str(exc).splitlines()[0]
    return verdict


# --- main -----------------------------------------------------------------------------------


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(
    n: int,
    *,
    work: Path,
    seed: int,
    naive: bool,
    check: Path | None,
    browser: bool,
    jobs: int,
    pattern: str = "patches",
):
    name = f"{n}" if pattern == "patches" else f"{pattern}_{n}"
    gpkg = work / f"parcels_{name}.gpkg"
    t0 = time.perf_counter()
    if not gpkg.exists():
        make_gpkg(gpkg, n, seed, pattern)
    made = time.perf_counter() - t0
    result: dict[str, object] = {"parcels": n, "pattern": pattern}
    result["make_gpkg_seconds"] = round(made, 1)
    result["load_before"] = _load()
    out = work / f"out_{name}"
    shutil.rmtree(out, ignore_errors=True)
    result.update(build_in_subprocess(gpkg, out, jobs))
    result["load_after"] = _load()
    tiles = [p for p in (out / "tiles").rglob("*") if p.is_file()]
    result["tile_files"] = len(tiles)
    result["tile_bytes"] = sum(p.stat().st_size for p in tiles)
    pages = {p.name: p.stat().st_size for p in out.glob("*.html")}
    result["largest_page"] = max(pages.items(), key=lambda kv: kv[1]) if pages else None
    if naive:
        result.update(naive_validation(gpkg))
    if check is not None:
        result["check"] = compare(out, check)
    if browser:
        from maps_size import Browser

        pages = {}
        chrome = Browser()
        try:
            for page in sorted(out.glob("*.html")):
                pages[page.name] = {
                    "bytes": page.stat().st_size,
                    "seconds": round(chrome.load(page), 2),
                }
        finally:
            chrome.close()
        result["pages"] = pages
    return result


def _mb(n: float) -> str:
    return f"{n / 1_048_576:.2f} MB"


def table(r: dict) -> str:
    lines = [
        f"{r['parcels']:,} parcels ({r['pattern']}): build {r['seconds']} s with {r['jobs']} jobs, peak PSS "
        f"{r['peak_pss_mb']:.0f} MB (RSS {r['peak_rss_mb']:.0f} MB, workers "
        f"{r['peak_rss_workers_mb']:.0f} MB) "
        f"(load {r['load_before']} -> {r['load_after']}); validation {r['validation']}"
    ]
    lines.append(
        f"  tiles: {r['tile_files']:,} files, {_mb(r['tile_bytes'])}; largest page "
        f"{r['largest_page'][0]} {_mb(r['largest_page'][1])}"
    )
    lines += [f"  {step:<28} {s:>8.2f} s" for step, s in r["steps"].items()]
    lines += [f"  {name:<28} {_mb(b):>11}" for name, b in r["outputs"].items()]
    for key in ("naive_outside_seconds", "naive_overlap_seconds", "touching_pairs"):
        if key in r:
            lines.append(f"  {key:<28} {r[key]}")
    for name, verdict in r.get("check", {}).items():
        lines.append(f"  check {name:<22} {verdict}")
    for name, page in r.get("pages", {}).items():
        lines.append(f"  page {name:<23} {_mb(page['bytes']):>11} {page['seconds']:>6.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, nargs="*", default=[100_000])
    parser.add_argument("--seed", type=int, default=SEED, help=f"Random seed [{SEED}].")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    parser.add_argument("--naive", action="store_true", help="Also time the naive validation.")
    parser.add_argument("--check", type=Path, help="Compare the CSVs with those in this folder.")
    parser.add_argument("--browser", action="store_true", help="Load every page in Chromium.")
    parser.add_argument("--work", type=Path, help="Keep the GeoPackages and outputs here.")
    parser.add_argument(
        "--jobs", type=int, default=default_jobs(), help="Worker processes [the CPUs, at most 4]."
    )
    parser.add_argument(
        "--pattern",
        choices=[*PATTERNS, "both"],
        default="both",
        help="patches: classes of the default parcel under each cell (large patches); "
        "fragmented: classes drawn per parcel over the whole district, holes, slivers, "
        "multi-part parcels [both].",
    )
    parser.add_argument("--run-build", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_build:
        gpkg, out, jobs = args.run_build
        print(json.dumps(run_build(Path(gpkg), Path(out), int(jobs))))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="miyun-scale-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        patterns = list(PATTERNS) if args.pattern == "both" else [args.pattern]
        for n, pattern in [(n, p) for n in args.parcels for p in patterns]:
            results.append(
                measure(
                    n,
                    pattern=pattern,
                    work=work,
                    seed=args.seed,
                    naive=args.naive,
                    check=args.check,
                    browser=args.browser,
                    jobs=args.jobs,
                )
            )
            if not args.json:
                print(table(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
