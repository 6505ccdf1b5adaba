"""Page size and load time of the maps, against folium's default ``style_function`` path.

    python benchmarks/maps_size.py                      # default data + 1k and 10k parcels
    python benchmarks/maps_size.py --parcels 1000 10000 100000 --json
    python benchmarks/maps_size.py --gpkg parcels_100000.gpkg   # each page module of a build

Two measurements:

* ``default``: every page written for the embedded GeoPackage (offline), its size and its load
  time in headless Chromium, against the budget (3 MB, 1.5 s interactive).
* ``parcels``: a land-use page for N synthetic parcels (Voronoi cells over a 6 km square in
  EPSG:4548, 10 classes) as this package writes it (styled in the browser from a class ->
  colour table, canvas renderer, 6 decimals, simplified; aggregated beyond 20k polygons),
  against the baseline: the same parcels through ``folium.GeoJson`` with a Python
  ``style_function`` and a ``GeoJsonTooltip`` (folium emits one JavaScript ``switch`` case per
  feature), with Leaflet inlined the same way so both pages load offline.

* ``--gpkg PATH``: the GeoPackage read and analysed once (``load_and_analyse``), then each page
  module of the build timed on its own (``module.build(MapInputs(...))``, offline, as
  ``write_maps`` calls it), with every page's size, the features it embeds (all layers, and the
  largest layer) and its load time; the 1-minute load average before and after.

"Load" is the navigation's ``loadEventEnd`` (every inline script, hence every layer, has run),
median of ``--runs`` loads in a fresh headless Chromium. Ratios are baseline / ours. Nothing
here is asserted: the numbers are for the README and for regressions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely

from miyun_spatial.flow.build import work_layers
from miyun_spatial.flow.maps import write_maps
from miyun_spatial.io import geopackage as store
from miyun_spatial.metrics import compute_all
from miyun_spatial.render.maps import MapInputs, MapOptions
from miyun_spatial.render.maps.assets import inline_assets
from miyun_spatial.render.maps.pages import land_use

BUDGET_BYTES = 3 * 1024 * 1024
BUDGET_SECONDS = 1.5
CENTRE = (486_000.0, 4_467_000.0)  # Miyun development zone, EPSG:4548
SIDE_M = 6_000.0


def synthetic_parcels(n: int, classes: list[str], seed: int = 4548) -> gpd.GeoDataFrame:
    """``n`` Voronoi parcels over a square around the development zone, random classes."""
    rng = np.random.default_rng(seed)
    x0, y0 = CENTRE[0] - SIDE_M / 2, CENTRE[1] - SIDE_M / 2
    points = shapely.multipoints(rng.uniform((x0, y0), (x0 + SIDE_M, y0 + SIDE_M), (n, 2)))
    box = shapely.box(x0, y0, x0 + SIDE_M, y0 + SIDE_M)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(points)), box)
    planned = rng.choice(classes, len(cells))
    return gpd.GeoDataFrame(
        {
            "parcel_code": [f"S{i:06d}" for i in range(len(cells))],
            "current_use": rng.choice(classes, len(cells)),
            "planned_use": planned,
            "proposed_use": np.where(rng.random(len(cells)) < 0.1, rng.choice(classes), None),
            "status": "built",
            "data_basis": "synthetic",
        },
        geometry=cells,
        crs=4548,
    )


def ours(plan, work, parcels: gpd.GeoDataFrame, path: Path) -> Path:
    inputs = MapInputs(plan, {**work, "land_parcels": parcels}, {}, MapOptions(offline=True))
    path.write_text(land_use.build(inputs).html, encoding="utf-8")
    return path


def baseline(parcels: gpd.GeoDataFrame, colors: dict[str, str], path: Path) -> Path:
    """folium's documented way: GeoJson + Python style_function + GeoJsonTooltip."""
    m = folium.Map(tiles=None)
    inline_assets(m)  # same Leaflet, inline, so the page loads offline too
    folium.GeoJson(
        parcels.to_crs(4326)[["parcel_code", "planned_use", "geometry"]],
        style_function=lambda f: {
            "fillColor": colors.get(f["properties"]["planned_use"], "#cccccc"),
            "color": "#555555",
            "weight": 0.5,
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(["parcel_code", "planned_use"]),
    ).add_to(m)
    m.fit_bounds([[40.33, 116.8], [40.39, 116.88]])
    m.save(str(path))
    return path


class Browser:
    """Fresh headless Debian Chromium; ``load(path)`` returns loadEventEnd in seconds."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="miyun-bench-")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "chromium"
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            f"--user-data-dir={self.profile}",
            "--window-size=1280,900",
        ):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(
            service=Service(shutil.which("chromedriver")), options=options
        )
        self.driver.set_page_load_timeout(600)

    def load(self, path: Path) -> float:
        self.driver.get("about:blank")
        self.driver.get(path.resolve().as_uri())
        while True:
            end = self.driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return n ? n.loadEventEnd : 0;"
            )
            if end:
                return end / 1000
            time.sleep(0.02)

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


def median_load(browser: Browser | None, path: Path, runs: int) -> float | None:
    if browser is None:
        return None
    return statistics.median(browser.load(path) for _ in range(runs))


def measure_default(out: Path, browser: Browser | None, runs: int) -> list[dict]:
    plan = store.load()
    work = work_layers(plan)
    paths = write_maps(
        plan, work, out, metrics=compute_all(work, plan), options=MapOptions(offline=True)
    )
    rows = []
    for path in paths:
        size = path.stat().st_size
        seconds = median_load(browser, path, runs)
        rows.append(
            {
                "page": path.name,
                "bytes": size,
                "seconds": seconds,
                "within_budget": size < BUDGET_BYTES
                and (seconds is None or seconds < BUDGET_SECONDS),
            }
        )
    return rows


def measure_parcels(sizes: list[int], out: Path, browser: Browser | None, runs: int) -> list[dict]:
    plan = store.load()
    work = work_layers(plan)
    classes = plan["land_use_classes"]
    codes = classes["code"].astype(str).tolist()[:10]
    colors = dict(zip(classes["code"], classes["color_hex"], strict=True))
    rows = []
    for n in sizes:
        parcels = synthetic_parcels(n, codes)
        t0 = time.perf_counter()
        mine = ours(plan, work, parcels, out / f"ours_{n}.html")
        t1 = time.perf_counter()
        base = baseline(parcels, colors, out / f"baseline_{n}.html")
        t2 = time.perf_counter()
        row = {
            "parcels": n,
            "bytes": mine.stat().st_size,
            "baseline_bytes": base.stat().st_size,
            "write_seconds": round(t1 - t0, 2),
            "baseline_write_seconds": round(t2 - t1, 2),
            "aggregated": n > land_use.MAX_EMBEDDED,
            "seconds": median_load(browser, mine, runs),
            "baseline_seconds": median_load(browser, base, runs),
        }
        row["size_ratio"] = round(row["baseline_bytes"] / row["bytes"], 2)
        if row["seconds"] and row["baseline_seconds"]:
            row["load_ratio"] = round(row["baseline_seconds"] / row["seconds"], 2)
        rows.append(row)
        print(f"  {n} parcels done", file=sys.stderr)
    return rows


def measure_gpkg(path: Path, out: Path, browser: Browser | None, runs: int) -> dict:
    """Seconds of each page module for ``path``'s build, and each page's size and load."""
    from miyun_spatial.analysis.run import load_and_analyse
    from miyun_spatial.render.maps.writer import PAGE_MODULES

    results = load_and_analyse(path)
    inputs = MapInputs(results.plan, results.work, dict(results.tables), MapOptions(offline=True))
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    modules, pages = [], []
    for module in PAGE_MODULES:
        t0 = time.perf_counter()
        built = module.build(inputs)
        seconds = time.perf_counter() - t0
        built = built if isinstance(built, list) else [built]
        modules.append({"module": module.__name__.rsplit(".", 1)[-1], "seconds": seconds})
        for page in built:
            target = out / page.filename
            target.write_text(page.html, encoding="utf-8")
            pages.append(
                {
                    "page": page.filename,
                    "bytes": target.stat().st_size,
                    "features": sum(page.features.values()),
                    "largest_layer": max(page.features.values(), default=0),
                }
            )
    load_after = os.getloadavg()[0]
    for row in pages:
        row["seconds"] = median_load(browser, out / row["page"], runs)
    return {
        "gpkg": str(path),
        "parcels": len(inputs.layer("land_parcels")),
        "load_before": load_before,
        "load_after": load_after,
        "modules": modules,
        "pages": pages,
    }


def print_gpkg(result: dict) -> None:
    print(
        f"{result['gpkg']}: {result['parcels']} parcels, "
        f"load {result['load_before']:.1f} -> {result['load_after']:.1f}"
    )
    for row in result["modules"]:
        print(f"  {row['module']:<12} {row['seconds']:6.2f} s")
    for row in result["pages"]:
        print(
            f"  {row['page']:<16} {_mb(row['bytes']):>9} {row['features']:>7} features "
            f"(largest layer {row['largest_layer']}) {_s(row['seconds']):>8}"
        )


def _mb(n: int) -> str:
    return f"{n / 1_048_576:.2f} MB"


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3, help="loads per page (median)")
    parser.add_argument("--no-browser", action="store_true", help="sizes only")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--gpkg", type=Path, help="time each page module of this GeoPackage")
    args = parser.parse_args(argv)
    browser = None if args.no_browser else Browser()
    if args.gpkg is not None:
        try:
            with tempfile.TemporaryDirectory(prefix="miyun-maps-bench-") as tmp:
                result = measure_gpkg(args.gpkg, Path(tmp), browser, args.runs)
        finally:
            if browser is not None:
                browser.close()
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print_gpkg(result)
        return 0
    try:
        with tempfile.TemporaryDirectory(prefix="miyun-maps-bench-") as tmp:
            default = measure_default(Path(tmp) / "default", browser, args.runs)
            parcels = measure_parcels(args.parcels, Path(tmp), browser, args.runs)
    finally:
        if browser is not None:
            browser.close()
    if args.json:
        print(json.dumps({"default": default, "parcels": parcels}, indent=2))
        return 0
    print(f"default data, offline (budget {_mb(BUDGET_BYTES)}, {BUDGET_SECONDS} s):")
    for row in default:
        flag = "ok" if row["within_budget"] else "OVER BUDGET"
        print(f"  {row['page']:<16} {_mb(row['bytes']):>9} {_s(row['seconds']):>8}  {flag}")
    print("\nland-use page, synthetic parcels: ours vs folium style_function baseline")
    print(
        f"  {'parcels':>8} {'ours':>9} {'baseline':>9} {'size x':>7} {'ours':>8} {'baseline':>9} {'load x':>7}"
    )
    for r in parcels:
        print(
            f"  {r['parcels']:>8} {_mb(r['bytes']):>9} {_mb(r['baseline_bytes']):>9} "
            f"{r['size_ratio']:>7} {_s(r['seconds']):>8} {_s(r['baseline_seconds']):>9} "
            f"{r.get('load_ratio', '—'):>7}{'  (aggregated)' if r['aggregated'] else ''}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
