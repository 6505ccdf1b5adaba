"""Ten scenarios on the default data: ``scenarios`` (after the base) vs ten separate builds.

The ten scenarios are the default GeoPackage's three and seven more (bases' categories,
parcels' planned use, targets, a zone and a base outline), written to a TOML file. Timed:

- ``scenarios_after_base``: the ten scenarios in one process once the base is analysed
  (``analysis.scenarios.analyse_scenario`` each: edits applied, validated, analysed with the
  base overlay shared), the figure the <= 10 s budget is about;
- ``base``: reading, validating and analysing the base once;
- ``command``: ``miyun-spatial scenarios --scenarios FILE --no-maps`` end to end (fresh process);
- ``builds``: ``miyun-spatial build --offline`` on ten copies of the GeoPackage, each edited
  like one scenario (untimed), one after the other: the hand workflow it replaces.

Prints each, the ratio builds / scenarios_after_base, the CPU seconds of the scenarios
(``scenarios_cpu``: less dependent on other load) and the load average (the machine may be
shared).

    python benchmarks/scenarios.py [--builds 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import shapely

from miyun_spatial.analysis.run import analyse, load_checked
from miyun_spatial.analysis.scenarios import analyse_scenario, apply_scenario, base_inputs
from miyun_spatial.core.paths import DEFAULT_GPKG
from miyun_spatial.core.scenario import scenarios_of
from miyun_spatial.io.gpkg_write import write_gpkg
from miyun_spatial.io.scenario_file import read_scenario_file

COMMAND = Path(sys.executable).with_name("miyun-spatial")


def extra_scenarios(plan) -> str:
    """Seven more scenarios as TOML, beside the default three."""
    bases = plan["farmer_bases"].set_index("code")
    zgc = plan["zgc_park"].set_index("code")
    parcels = plan["land_parcels"]
    wkt = {
        "Z1": shapely.to_wkt(zgc.geometry["Z1"].buffer(-100), rounding_precision=-1),
        "B1": shapely.to_wkt(bases.geometry["B1"].buffer(50), rounding_precision=-1),
    }
    c2 = sorted(parcels.loc[parcels["parcel_code"].str.startswith("C2-"), "parcel_code"])[:20]
    b6 = sorted(parcels.loc[parcels["parcel_code"].str.startswith("B6-"), "parcel_code"])
    specs = {
        "B6-exit": [("farmer_bases", "B6", "category", "exit")]
        + [("land_parcels", c, "planned_use", "LB") for c in b6],
        "B5-transform": [("farmer_bases", "B5", "category", "transform")],
        "F12-15000": [("land_facts", "F12", "value", "15000")],
        "F15-13000": [("land_facts", "F15", "value", "13000")],
        "Z1-shrink": [("zgc_park", "Z1", "geometry", None)],
        "C2-M1": [("land_parcels", c, "planned_use", "M1") for c in c2],
        "B1-larger": [("farmer_bases", "B1", "geometry", None)],
    }
    lines = []
    for code, edits in specs.items():
        lines += ["[[scenarios]]", f'scenario_code = "{code}"', f'name = "{code}"',
                  'provenance = "user"']  # fmt: skip
        for layer, feature, field, value in edits:
            lines += ["[[scenarios.edits]]", f'layer = "{layer}"',
                      f'feature_code = "{feature}"', f'field = "{field}"']  # fmt: skip
            if field == "geometry":
                lines.append(f'geometry_wkt = "{wkt[feature]}"')
            else:
                lines.append(f'value = "{value}"')
    return "\n".join(lines) + "\n"


def default_as_toml(plan) -> str:
    """The default GeoPackage's scenarios as TOML (so that one file holds all ten)."""
    lines = []
    for s in scenarios_of(plan.layers).scenarios:
        lines += ["[[scenarios]]", f'scenario_code = "{s.code}"', f"name = {json.dumps(s.name)}",
                  f'provenance = "{s.provenance}"']  # fmt: skip
        for e in s.edits:
            lines += ["[[scenarios.edits]]", f'edit_code = "{e.code}"', f'layer = "{e.layer}"',
                      f'feature_code = "{e.feature}"', f'field = "{e.field}"']  # fmt: skip
            if e.value is not None:
                lines.append(f"value = {json.dumps(e.value)}")
            if e.geometry_wkt is not None:
                lines.append(f'geometry_wkt = "{e.geometry_wkt}"')
    return "\n".join(lines) + "\n"


def timed(run) -> tuple[object, float]:
    start = time.perf_counter()
    value = run()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=10, help="separate builds to time")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (plan, findings), read_s = timed(lambda: load_checked(DEFAULT_GPKG))
        toml = root / "ten.toml"
        toml.write_text(default_as_toml(plan) + extra_scenarios(plan), encoding="utf-8")
        chosen = read_scenario_file(toml).scenarios
        assert len(chosen) == 10, len(chosen)
        inputs, prep_s = timed(lambda: base_inputs(plan))
        _base, base_s = timed(lambda: analyse(plan, findings, inputs=inputs))
        out["base"] = read_s + prep_s + base_s
        per, known = [], {}
        cpu = time.process_time()
        for scenario in chosen:
            _r, seconds = timed(lambda s=scenario: analyse_scenario(plan, s, inputs, known=known))
            per.append(seconds)
        out["scenarios_after_base"] = sum(per)
        out["scenarios_cpu"] = time.process_time() - cpu  # this process's CPU: less load-bound
        out["per_scenario"] = dict(zip((s.code for s in chosen), per, strict=True))
        command = [str(COMMAND), "scenarios", str(DEFAULT_GPKG), "--scenarios", str(toml),
                   "--out", str(root / "scenarios_out"), "--no-maps", "-q"]  # fmt: skip
        done, out["command"] = timed(lambda: subprocess.run(command, capture_output=True))
        if done.returncode:
            raise SystemExit(done.stderr.decode())
        builds = []
        for i, scenario in enumerate(chosen[: args.builds]):
            edited = root / f"edited_{i}.gpkg"
            write_gpkg(edited, dict(apply_scenario(plan, scenario).layers))
            build = [str(COMMAND), "build", str(edited), "--offline", "--out",
                     str(root / f"build_{i}"), "-q"]  # fmt: skip
            done, seconds = timed(lambda b=build: subprocess.run(b, capture_output=True))
            if done.returncode:
                raise SystemExit(done.stderr.decode())
            builds.append(seconds)
        out["builds"] = sum(builds)
        out["builds_timed"] = len(builds)
        out["ratio"] = out["builds"] / out["scenarios_after_base"] if builds else None
        out["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"base (read, validate, analyse once)      {out['base']:8.2f} s")
    print(f"10 scenarios after the base              {out['scenarios_after_base']:8.2f} s")
    print(f"  of which CPU time of this process      {out['scenarios_cpu']:8.2f} s")
    print(f"'scenarios' command, end to end          {out['command']:8.2f} s")
    print(f"{len(builds)} separate builds                        {out['builds']:8.2f} s")
    if out["ratio"]:
        print(f"ratio builds / scenarios                 {out['ratio']:8.1f}x")
    print(
        f"load average before / after              {out['load_before']:.1f} / {out['load_after']:.1f}"
    )


if __name__ == "__main__":
    main()
