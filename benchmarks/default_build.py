"""The main job on the embedded default data, as a user runs it: wall seconds of the command.

Runs ``miyun-spatial build --offline --out DIR -q`` in a fresh process, with the default
workers and with ``--jobs 1`` (the baseline: everything one by one in one process),
alternately, ``--runs`` times each, and prints the best and median wall time of each and
their ratio. The time includes Python's start-up and every import, i.e. what the user waits
for; the machine's load average is printed beside it.

    python benchmarks/default_build.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = Path(sys.executable).with_name("miyun-spatial")


def wall(out: Path, jobs: str | None) -> float:
    """Seconds of one ``build --offline`` into ``out`` (emptied first)."""
    shutil.rmtree(out, ignore_errors=True)
    args = [str(COMMAND), "build", "--offline", "--out", str(out), "-q"]
    if jobs is not None:
        args += ["--jobs", jobs]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the build failed (exit {done.returncode})")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each [5]")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    variants = {"default workers": None, "--jobs 1 (baseline)": "1"}
    times: dict[str, list[float]] = {name: [] for name in variants}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="miyun-default-build-") as tmp:
        wall(Path(tmp) / "warm", None)  # page cache, compiled bytecode
        for _ in range(args.runs):
            for name, jobs in variants.items():
                times[name].append(wall(Path(tmp) / "out", jobs))
    result = {
        "runs": args.runs,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "seconds": {
            name: {"best": round(min(t), 2), "median": round(statistics.median(t), 2)}
            for name, t in times.items()
        },
    }
    default, baseline = (statistics.median(t) for t in times.values())
    result["baseline_over_default"] = round(baseline / default, 2)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"load average {result['load_before']} before, {result['load_after']} after")
    for name, figures in result["seconds"].items():
        print(f"{name:22s} best {figures['best']:5.2f} s   median {figures['median']:5.2f} s")
    print(f"the baseline takes {result['baseline_over_default']}x the default's median time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
