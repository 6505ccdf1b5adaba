"""The steps of ``build`` before the rendering, one by one: seconds and peak memory of each.

    python benchmarks/analysis_steps.py GPKG                      # a table
    python benchmarks/analysis_steps.py GPKG --out DIR            # + the CSVs and results.gpkg
    python benchmarks/analysis_steps.py GPKG --profile DIR        # + a cProfile dump per step
    python benchmarks/analysis_steps.py GPKG --json

Runs what ``pipeline.build`` runs before its maps and reports: ``store.load``, ``validate``,
``analysis.analyse`` (split into the work layers, the feature areas, ``compute_all``'s
inputs, mix, yield and adjustment tables, and the plan checks), ``write_csv`` of
``validation.csv``, ``areas.csv`` and every metric table, and ``write_results``. For each
step: wall seconds, the process's peak RSS once it ended and the peak reached *during* it
(Linux: the peak is reset through ``/proc/self/clear_refs`` before each step and read from
``VmHWM``), with the 1-minute load average before and after. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from miyun_spatial.analysis.run import Results, park_key, work_layers
from miyun_spatial.checks.consistency import check_consistency
from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.io import geopackage as store
from miyun_spatial.io.outputs import write_csv
from miyun_spatial.io.qgis_styles import styles_for
from miyun_spatial.metrics import (
    adjustment_tables,
    mix_tables,
    prepare,
    yield_tables,
)
from miyun_spatial.metrics.areas import feature_areas
from miyun_spatial.render.results_gpkg import RESULTS_NAME, write_results
from miyun_spatial.validate.layers import findings_frame, validate


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 0)
    return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


class Steps:
    def __init__(self, profile: Path | None) -> None:
        self.rows: list[dict] = []
        self.profile = profile

    @contextmanager
    def step(self, name: str):
        _reset_peak()
        rss = _status_mb("VmRSS")
        profiler = cProfile.Profile() if self.profile else None
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            yield
        finally:
            if profiler:
                profiler.disable()
                profiler.dump_stats(self.profile / f"{len(self.rows):02d}_{name}.prof")
            self.rows.append(
                {
                    "step": name,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "rss_before_mb": rss,
                    "peak_during_mb": _status_mb("VmHWM"),
                    "rss_after_mb": _status_mb("VmRSS"),
                }
            )


def run(gpkg: Path, out: Path, profile: Path | None) -> dict:
    steps = Steps(profile)
    load_before = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    with steps.step("reading"):
        plan = store.load(gpkg)
    with steps.step("validating"):
        findings = tuple(validate(plan))
    with steps.step("work layers"):
        work = work_layers(plan)
    with steps.step("feature areas"):
        areas = feature_areas(
            {s.name: work[s.name] for s in CATALOGUE.plan_layers if s.name in work}
        )
    with steps.step("metrics: prepare (overlays, zone codes)"):
        inputs = prepare(work, plan)
    with steps.step("metrics: mix"):
        tables = mix_tables(inputs)
    with steps.step("metrics: yields"):
        tables.update(yield_tables(inputs))
    with steps.step("metrics: adjustments"):
        tables.update(adjustment_tables(inputs))
    with steps.step("plan checks"):
        checks = tuple(check_consistency(plan, areas=areas, tables=tables, work=work))
    results = Results(plan, findings, work, areas, tables, checks, park_key(work))
    with steps.step("csv: validation, areas"):
        write_csv(findings_frame(findings), out / "validation.csv")
        write_csv(areas, out / "areas.csv")
    for key, table in tables.items():
        with steps.step(f"csv: {key}"):
            write_csv(table, out / f"{key}.csv")
    with steps.step("results.gpkg"):
        write_results(
            out / RESULTS_NAME, results.work, tables, source=plan, finish=styles_for(plan)
        )
    return {
        "gpkg": str(gpkg),
        "parcels": len(plan["land_parcels"]),
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 2),
        "seconds": round(time.perf_counter() - t0, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "steps": steps.rows,
        "findings": len(findings),
    }


def table(r: dict) -> str:
    lines = [
        f"{r['parcels']:,} parcels: {r['seconds']} s, peak RSS {r['peak_rss_mb']} MB "
        f"(load {r['load_before']} -> {r['load_after']})",
        f"  {'step':<30} {'s':>7} {'RSS before':>11} {'peak':>7} {'after':>7}",
    ]
    for s in r["steps"]:
        lines.append(
            f"  {s['step']:<30} {s['seconds']:>7.2f} {s['rss_before_mb']:>11.0f} "
            f"{s['peak_during_mb']:>7.0f} {s['rss_after_mb']:>7.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gpkg", type=Path)
    parser.add_argument("--out", type=Path, help="Write the CSVs and results.gpkg here.")
    parser.add_argument("--profile", type=Path, help="Write a cProfile dump per step here.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="miyun-steps-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        result = run(args.gpkg, out, args.profile)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
