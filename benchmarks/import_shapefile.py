"""Time ``miyun-spatial import`` of a survey-style Shapefile of N parcels (default 100 000).

Generates, in a temporary folder, a 三调-style delivery (GBK .dbf without .cpg, EPSG:4527,
DLBM/DLMC/TBMJ fields, codes including the working classes 05H1/08H2) of N square parcels
tiling a square inside Miyun district, then times the import as a user runs it (a subprocess:
read, CRS, geometry, crosswalk, write the new GeoPackage, validate it). Nothing is asserted.

    python benchmarks/import_shapefile.py                 # 100 000 parcels
    python benchmarks/import_shapefile.py --parcels 10000 --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

CODES = [("0601", "工业用地"), ("05H1", "商业服务业设施用地"), ("08H2", "科教文卫用地"),
         ("0701", "城镇住宅用地"), ("1003", "公路用地"), ("0103", "旱地"), ("0301", "乔木林地")]  # fmt: skip
ORIGIN = (476_000.0, 4_485_000.0)  # EPSG:4548: the 10 km square lies inside the district
SIDE_M = 10_000.0


def delivery(folder: Path, n: int) -> Path:
    k = math.isqrt(n)
    step = SIDE_M / k
    i, j = np.divmod(np.arange(k * k), k)
    x0, y0 = ORIGIN[0] + i * step, ORIGIN[1] + j * step
    boxes = shapely.box(x0, y0, x0 + step, y0 + step)
    codes = [CODES[v % len(CODES)] for v in range(k * k)]
    frame = gpd.GeoDataFrame(
        {
            "BSM": [f"110228{v:08d}" for v in range(k * k)],
            "DLBM": [c for c, _ in codes],
            "DLMC": [name for _, name in codes],
            "TBMJ": np.round(shapely.area(boxes), 2),
        },
        geometry=boxes,
        crs="EPSG:4548",
    ).to_crs("EPSG:4527")
    path = folder / "DLTB.shp"
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="miyun-import-bench-") as tmp:
        folder = Path(tmp)
        shp = delivery(folder, args.parcels)
        out = folder / "imported.gpkg"
        command = [sys.executable, "-m", "miyun_spatial", "import", str(shp)]
        command += ["--layer", "land_parcels", "--out", str(out), "--json"]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - start
        report = json.loads(result.stdout) if result.stdout.startswith("{") else {}
        row = {
            "parcels": report.get("features_written"),
            "exit_code": result.returncode,
            "wall_seconds": round(wall, 2),
            "import_seconds": round(report.get("seconds", float("nan")), 2),
            "shapefile_mb": round(sum(p.stat().st_size for p in folder.glob("DLTB.*")) / 1e6, 1),
            "gpkg_mb": round(out.stat().st_size / 1e6, 1) if out.exists() else None,
            "validation": {k: report.get("validation", {}).get(k) for k in ("error", "warning")},
            "load_before": round(load, 2),
        }
        if result.returncode not in (0, 1):
            row["stderr"] = result.stderr.strip()[-500:]
    print(
        json.dumps(row, ensure_ascii=False)
        if args.json
        else "\n".join(f"{k:16} {v}" for k, v in row.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
