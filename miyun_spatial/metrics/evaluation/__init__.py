"""亩均效益评价: a configurable evaluation engine, 低效用地 identification, presets in TOML.

- ``formula``: formulas parsed with ``ast`` against a whitelist (never evaluated as code);
- ``config``: the TOML format (``docs/evaluation.md``), presets in ``core/presets``;
- ``engine``: values, benchmarks, scores, groups, exemptions, grades;
- ``low_land``: 低效用地 reasons and totals;
- ``tables``: the run's tables (``enterprise_evaluation`` ...), from ``metrics.prepare``.
"""

from __future__ import annotations

from .config import (
    DEFAULT_PRESET,
    Config,
    ConfigError,
    load_config,
    load_preset,
    parse_config,
    preset_names,
)
from .engine import evaluate
from .formula import FormulaError, parse
from .low_land import identify, totals
from .tables import EVALUATION_TABLES, evaluation_tables

__all__ = [
    "DEFAULT_PRESET",
    "EVALUATION_TABLES",
    "Config",
    "ConfigError",
    "FormulaError",
    "evaluate",
    "evaluation_tables",
    "identify",
    "load_config",
    "load_preset",
    "parse",
    "parse_config",
    "preset_names",
    "totals",
]
