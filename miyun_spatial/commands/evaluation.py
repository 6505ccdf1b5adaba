"""``miyun-spatial evaluate``: the configurable 亩均效益评价 and 低效用地 (thin: parse, run, write)."""

from __future__ import annotations

from pathlib import Path

import click

from ..analysis.run import load_checked, refuse_errors, work_layers
from ..io.outputs import write_csv
from ..io.staging import staged_run
from ..metrics import prepare
from ..metrics.evaluation import (
    DEFAULT_PRESET,
    evaluation_tables,
    load_config,
    load_preset,
    preset_names,
)
from .common import emit_json, gpkg_argument, out_option, say, verbosity

WRITTEN = (
    "enterprise_evaluation",
    "evaluation_indicators",
    "low_efficiency_land",
    "low_efficiency_totals",
)


@click.command("evaluate")
@gpkg_argument
@click.option(
    "--preset",
    default=None,
    help=f"Evaluation preset (miyun_spatial/core/presets/NAME.toml) [default: {DEFAULT_PRESET}].",
)
@click.option(
    "--config",
    "config_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="An evaluation configuration file (TOML, see docs/evaluation.md) instead of a preset.",
)
@out_option
@click.option("--json", "as_json", is_flag=True, help="Print the outputs and grades as JSON.")
@verbosity
def evaluate_command(
    gpkg: Path, preset: str | None, config_file: Path | None, out_dir: Path, as_json: bool
) -> None:
    """Score and grade every enterprise parcel of GPKG (亩均效益评价) and list 低效用地.

    Writes enterprise_evaluation.csv (parcel code, group, each indicator's value, benchmark and
    score, total score, grade, reason when not graded), evaluation_indicators.csv (which
    indicator could be computed, and why not), low_efficiency_land.csv and
    low_efficiency_totals.csv (ha and 亩 by reason, zone and nearest town) into the output
    folder. Presets: see --preset; a bad configuration is one error line (exit 2).
    """
    if preset and config_file:
        raise click.UsageError("give --preset or --config, not both")
    if config_file is not None:
        config = load_config(config_file)
    else:
        config = load_preset(preset or DEFAULT_PRESET)
    plan, findings = load_checked(gpkg)
    refuse_errors(plan, findings, see=f"'miyun-spatial validate {plan.path}'")
    work = work_layers(plan)
    tables = evaluation_tables(prepare(work, plan), config, places=work.get("places"))
    with staged_run(out_dir, command="evaluate", replace_all=False) as stage:
        paths = [stage.final(write_csv(tables[key], stage.path / f"{key}.csv")) for key in WRITTEN]
    rows = tables["enterprise_evaluation"]
    grades = rows["grade"].value_counts().to_dict()
    indicators = tables["evaluation_indicators"]
    skipped = indicators[~indicators["computable"].astype(bool)]
    listed = tables["low_efficiency_land"]
    if as_json:
        emit_json(
            {
                "source": str(plan.path),
                "preset": config.name,
                "config": config.origin,
                "verified": config.verified,
                "outputs": [str(p) for p in paths],
                "grades": {str(k): int(v) for k, v in grades.items()},
                "not_computable": dict(skipped["why_not"].items()),
                "low_efficiency_parcels": len(listed),
                "low_efficiency_ha": float(listed["area_ha"].sum()),
            }
        )
        return
    say(f"评价方案 preset {config.name}: {config.title_zh or config.title_en}")
    if not config.verified:
        say("  weights/thresholds partly illustrative, not verified (see the preset's notes)")
    say("  grades: " + ", ".join(f"{k} {v}" for k, v in grades.items()))
    for key, why in skipped["why_not"].items():
        say(f"  indicator {key} cannot be computed: {why}")
    say(
        f"  低效用地 low-efficiency land: {len(listed)} parcels, "
        f"{listed['area_ha'].sum():,.2f} ha ({listed['area_mu'].sum():,.1f} 亩)"
    )
    for path in paths:
        say(f"wrote {path}")


COMMANDS = (evaluate_command,)
__all__ = ["COMMANDS", "preset_names"]
