"""Time the control-line tables (metrics.control_lines) on build_scale's synthetic parcels.

    python benchmarks/control_lines.py --parcels 100000

Makes the GeoPackage of ``build_scale.make_gpkg`` (N Voronoi parcels tiling the park, the
default schematic control lines kept), reads it, prepares the metric inputs once and times
``control_line_analysis`` alone (the zone x parcel overlays of ``prepare`` are not counted).
Nothing is asserted: the numbers are for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from build_scale import make_gpkg

from miyun_spatial.analysis.run import work_layers
from miyun_spatial.io import sources
from miyun_spatial.metrics import prepare
from miyun_spatial.metrics.control_lines import control_line_analysis


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--pattern", choices=("patches", "fragmented"), default="patches")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = make_gpkg(Path(tmp) / "scale.gpkg", args.parcels, pattern=args.pattern)
        plan = sources.load(gpkg)
        work = work_layers(plan)
        inputs = prepare(work, plan)
        started = time.perf_counter()
        tables = control_line_analysis(
            work.get("control_lines"), inputs.parcels, inputs.zones, inputs.classes,
            pieces=inputs.pieces,
        ).tables  # fmt: skip
        seconds = time.perf_counter() - started
    rows = {name: len(t) for name, t in tables.items()}
    print(
        f"parcels {len(inputs.parcels):,} ({args.pattern}); control-line tables {seconds:.2f} s; rows {rows}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
