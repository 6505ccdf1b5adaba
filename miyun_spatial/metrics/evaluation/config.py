"""Evaluation configurations (亩均效益评价): TOML presets and files, checked when loaded.

The format is documented in ``docs/evaluation.md``; the presets live in
``miyun_spatial/core/presets/*.toml``. Every mistake is one :class:`ConfigError` line naming
the file, the key and the fix: unknown keys, wrong types, weights that do not add up to the
declared ``scoring.weights_sum``, an unknown preset, formulas outside the grammar.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...core.errors import InputError
from .formula import Formula, FormulaError, parse

PRESET_DIR = Path(__file__).resolve().parents[2] / "core" / "presets"
DEFAULT_PRESET = "plan"
MISSING_RULES = ("not_graded", "zero", "reweight")
DIRECTIONS = ("higher", "lower")
METHODS = ("thresholds", "rank")
STATS = ("mean", "median", "quantile")
WEIGHT_TOLERANCE = 1e-9


class ConfigError(InputError):
    """An evaluation configuration that cannot be used (exit 2)."""


@dataclass(frozen=True)
class Benchmark:
    """A fixed ``value``, a ``land_facts`` ``fact`` code, or a group statistic (``stat``)."""

    value: float | None = None
    fact: str | None = None
    stat: str | None = None
    q: float | None = None


@dataclass(frozen=True)
class Indicator:
    key: str
    label_zh: str
    label_en: str
    unit: str
    formula: Formula
    weight: float
    benchmark: Benchmark
    direction: str = "higher"
    cap: float | None = None
    missing: str = "not_graded"


@dataclass(frozen=True)
class Rule:
    """A named condition: a group, an exemption, or a low-efficiency reason."""

    name: str
    when: Formula
    label_zh: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class LowEfficiency:
    reasons: tuple[Rule, ...] = ()
    far_standard: Mapping[str, float] = field(default_factory=dict)
    zone_layer: str = "clusters"


@dataclass(frozen=True)
class Monitoring:
    """规划实施监测预警 thresholds: warning green when value / expected >= ``green``, amber
    when >= ``amber``, else red; ``expected`` on the path to the 2025 target in
    ``assessment_year``; ``data_year``: the year the data's own figures stand for."""

    assessment_year: int = 2025
    data_year: int = 2020
    green: float = 1.0
    amber: float = 0.9


@dataclass(frozen=True)
class Config:
    name: str
    title_zh: str
    title_en: str
    source: str
    verified: bool
    notes: tuple[str, ...]
    constants: Mapping[str, float]
    weights_sum: float
    cap: float | None
    scale: float
    method: str
    grades: tuple[str, ...]
    cutoffs: tuple[float, ...]  # thresholds (descending) or rank shares (ascending)
    not_graded: str
    groups: tuple[Rule, ...]
    exempt: tuple[Rule, ...]
    indicators: tuple[Indicator, ...]
    low_efficiency: LowEfficiency
    origin: str = ""
    monitoring: Monitoring = field(default_factory=Monitoring)

    def names(self, part: str = "all") -> set[str]:
        """The column names the formulas read (constants excluded): of the scoring (indicators,
        groups, exemptions), of the 低效用地 reasons, or ``all``."""
        formulas = []
        if part in ("all", "scoring"):
            formulas += [i.formula for i in self.indicators]
            formulas += [r.when for r in (*self.groups, *self.exempt)]
        if part in ("all", "low_efficiency"):
            formulas += [r.when for r in self.low_efficiency.reasons]
        return {n for f in formulas for n in f.names} - set(self.constants)


SCHEMA = {
    "": {"preset", "constants", "scoring", "grading", "groups", "exempt", "indicators",
         "low_efficiency", "monitoring"},
    "monitoring": {"assessment_year", "data_year", "green", "amber"},
    "preset": {"name", "title_zh", "title_en", "source", "verified", "notes"},
    "scoring": {"weights_sum", "cap", "scale"},
    "grading": {"method", "grades", "thresholds", "rank_cutoffs", "not_graded"},
    "groups": {"name", "when", "label_zh", "label_en"},
    "exempt": {"name", "when", "label_zh", "label_en"},
    "indicators": {"key", "label_zh", "label_en", "unit", "formula", "weight", "benchmark",
                   "direction", "cap", "missing"},
    "benchmark": {"value", "fact", "stat", "q"},
    "low_efficiency": {"reasons", "far_standard", "zone_layer"},
    "reasons": {"name", "when", "label_zh", "label_en"},
}  # fmt: skip


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_preset(name: str) -> Config:
    """The preset ``name`` from ``core/presets``; ConfigError naming the presets otherwise."""
    path = PRESET_DIR / f"{name}.toml"
    if not name or "/" in name or "\\" in name or not path.is_file():
        raise ConfigError(
            f"unknown evaluation preset '{name}'; use one of: {', '.join(preset_names())} "
            "(or --config FILE)"
        )
    return load_config(path)


def load_config(path: Path | str) -> Config:
    """Read and check the TOML file ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}); give a UTF-8 TOML file") from None
    return parse_config(text, origin=str(path))


def parse_config(text: str, *, origin: str = "<config>") -> Config:
    """Check a configuration given as TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: TOML syntax error: {exc}; fix the line") from None
    return _Reader(origin).config(data)


class _Reader:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.origin}: key '{key}' {problem}; {fix}")

    def keys(self, table: Mapping, allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                shown = f"{where}.{key}" if where else key
                raise self.fail(shown, "is unknown", f"use one of: {', '.join(sorted(allowed))}")

    def table(self, data: Mapping, key: str, where: str, *, required: bool = False) -> dict:
        value = data.get(key, {} if not required else None)
        if not isinstance(value, dict):
            raise self.fail(f"{where}{key}", "must be a table", f"write it as [{where}{key}]")
        return value

    def text(self, data: Mapping, key: str, where: str, *, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(f"{where}{key}", "must be non-empty text", 'write key = "..."')
        return value

    def number(self, data: Mapping, key: str, where: str, *, default=None, positive=False):
        value = data.get(key, default)
        if value is None:
            if default is None and key in data:
                raise self.fail(f"{where}{key}", "must be a number", "write a number")
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(f"{where}{key}", f"must be a number, not {value!r}", "write a number")
        if positive and value <= 0:
            raise self.fail(f"{where}{key}", f"must be > 0, not {value}", "write a positive number")
        return float(value)

    def choice(self, data: Mapping, key: str, where: str, choices, default: str) -> str:
        value = data.get(key, default)
        if value not in choices:
            raise self.fail(f"{where}{key}", f"is {value!r}", f"use one of: {', '.join(choices)}")
        return value

    def formula(self, data: Mapping, key: str, where: str) -> Formula:
        if key not in data:
            raise self.fail(f"{where}{key}", "is missing", 'write key = "an expression"')
        try:
            return parse(data[key])
        except FormulaError as exc:
            raise self.fail(
                f"{where}{key}", f"is not a valid formula ({exc})",
                "use column names, numbers, + - * /, comparisons, and/or, min/max/isnull",
            ) from None  # fmt: skip

    def items(self, data: Mapping, key: str, where: str) -> list[dict]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{where}{key}", "must be an array of tables", f"write [[{key}]]")
        return value

    def rules(self, data: Mapping, key: str, where: str = "") -> tuple[Rule, ...]:
        out, seen = [], set()
        for i, item in enumerate(self.items(data, key, where)):
            at = f"{where}{key}[{i}]."
            self.keys(item, SCHEMA[key], at[:-1])
            name = self.text(item, "name", at)
            if name in seen:
                raise self.fail(f"{at}name", f"repeats '{name}'", "give every entry its own name")
            seen.add(name)
            out.append(
                Rule(
                    name=name,
                    when=self.formula(item, "when", at),
                    label_zh=self.text(item, "label_zh", at, default=""),
                    label_en=self.text(item, "label_en", at, default=""),
                )
            )
        return tuple(out)

    def config(self, data: dict) -> Config:
        self.keys(data, SCHEMA[""], "")
        preset = self.table(data, "preset", "", required=True)
        self.keys(preset, SCHEMA["preset"], "preset")
        verified = preset.get("verified", False)
        if not isinstance(verified, bool):
            raise self.fail("preset.verified", "must be true or false", "write true or false")
        notes = preset.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise self.fail("preset.notes", "must be an array of text", 'write ["...", "..."]')
        constants = self.table(data, "constants", "")
        consts = {k: self.number(constants, k, "constants.") for k in constants}
        scoring = self.table(data, "scoring", "", required=True)
        self.keys(scoring, SCHEMA["scoring"], "scoring")
        weights_sum = self.number(scoring, "weights_sum", "scoring.", positive=True)
        if weights_sum is None:
            raise self.fail("scoring.weights_sum", "is missing", "declare the sum of the weights")
        indicators = self._indicators(data)
        total = math.fsum(i.weight for i in indicators)
        if abs(total - weights_sum) > WEIGHT_TOLERANCE * max(1.0, weights_sum):
            raise self.fail(
                "scoring.weights_sum",
                f"declares {weights_sum:g} but the indicators' weights add up to {total:g}",
                "correct the weights or the declared sum",
            )
        method, grades, cutoffs, not_graded = self._grading(data)
        return Config(
            name=self.text(preset, "name", "preset."),
            title_zh=self.text(preset, "title_zh", "preset.", default=""),
            title_en=self.text(preset, "title_en", "preset.", default=""),
            source=self.text(preset, "source", "preset."),
            verified=verified,
            notes=tuple(notes),
            constants=consts,
            weights_sum=weights_sum,
            cap=self.number(scoring, "cap", "scoring.", positive=True),
            scale=self.number(scoring, "scale", "scoring.", default=1.0, positive=True),
            method=method,
            grades=grades,
            cutoffs=cutoffs,
            not_graded=not_graded,
            groups=self.rules(data, "groups"),
            exempt=self.rules(data, "exempt"),
            indicators=indicators,
            low_efficiency=self._low_efficiency(data),
            origin=self.origin,
            monitoring=self._monitoring(data),
        )

    def _monitoring(self, data: Mapping) -> Monitoring:
        table = self.table(data, "monitoring", "")
        self.keys(table, SCHEMA["monitoring"], "monitoring")
        years = {}
        for key in ("assessment_year", "data_year"):
            value = table.get(key, getattr(Monitoring, key))
            if isinstance(value, bool) or not isinstance(value, int) or not 2020 <= value <= 2035:
                raise self.fail(f"monitoring.{key}", f"is {value!r}", "write a year 2020-2035")
            years[key] = value
        green = self.number(table, "green", "monitoring.", default=1.0, positive=True)
        amber = self.number(table, "amber", "monitoring.", default=0.9, positive=True)
        if amber > green:
            raise self.fail("monitoring.amber", f"{amber:g} is above green {green:g}", "lower it")
        return Monitoring(green=green, amber=amber, **years)

    def _indicators(self, data: Mapping) -> tuple[Indicator, ...]:
        items = self.items(data, "indicators", "")
        if not items:
            raise self.fail("indicators", "is empty", "add at least one [[indicators]] table")
        out, seen = [], set()
        for i, item in enumerate(items):
            at = f"indicators[{i}]."
            self.keys(item, SCHEMA["indicators"], at[:-1])
            key = self.text(item, "key", at)
            if not key.isidentifier() or key in seen:
                raise self.fail(
                    f"{at}key", f"'{key}' is not a new identifier", "use a_name_like_this"
                )
            seen.add(key)
            weight = self.number(item, "weight", at)
            if weight is None or weight < 0:
                raise self.fail(f"{at}weight", "must be a number >= 0", "write weight = 0.2")
            out.append(
                Indicator(
                    key=key,
                    label_zh=self.text(item, "label_zh", at, default=key),
                    label_en=self.text(item, "label_en", at, default=key),
                    unit=self.text(item, "unit", at, default=""),
                    formula=self.formula(item, "formula", at),
                    weight=weight,
                    benchmark=self._benchmark(item, at),
                    direction=self.choice(item, "direction", at, DIRECTIONS, "higher"),
                    cap=self.number(item, "cap", at, positive=True),
                    missing=self.choice(item, "missing", at, MISSING_RULES, "not_graded"),
                )
            )
        return tuple(out)

    def _benchmark(self, item: Mapping, at: str) -> Benchmark:
        value = item.get("benchmark")
        key = f"{at}benchmark"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Benchmark(value=self.number(item, "benchmark", at, positive=True))
        if not isinstance(value, dict):
            raise self.fail(
                key, "must be a number or a table",
                'write benchmark = 12000, {fact = "F12"}, {stat = "mean"} or '
                '{stat = "quantile", q = 0.5}',
            )  # fmt: skip
        self.keys(value, SCHEMA["benchmark"], key)
        if len(set(value) - {"q"}) != 1:
            raise self.fail(key, "must have exactly one of value, fact, stat", "keep one of them")
        if "value" in value:
            return Benchmark(value=self.number(value, "value", f"{key}.", positive=True))
        if "fact" in value:
            return Benchmark(fact=self.text(value, "fact", f"{key}."))
        stat = self.choice(value, "stat", f"{key}.", STATS, "mean")
        q = self.number(value, "q", f"{key}.", default=0.5 if stat != "quantile" else None)
        if stat == "quantile" and (q is None or not 0 <= q <= 1):
            raise self.fail(f"{key}.q", "must be a number between 0 and 1", "write q = 0.5")
        return Benchmark(stat=stat, q=q if stat == "quantile" else None)

    def _grading(self, data: Mapping):
        grading = self.table(data, "grading", "", required=True)
        self.keys(grading, SCHEMA["grading"], "grading")
        method = self.choice(grading, "method", "grading.", METHODS, "thresholds")
        grades = grading.get("grades", ["A", "B", "C", "D"])
        if (
            not isinstance(grades, list)
            or len(grades) < 2
            or not all(isinstance(g, str) and g for g in grades)
            or len(set(grades)) != len(grades)
        ):
            raise self.fail(
                "grading.grades", "must be 2 or more distinct names", 'write ["A", "B"]'
            )
        key = "thresholds" if method == "thresholds" else "rank_cutoffs"
        table = self.table(grading, key, "grading.", required=True)
        expected = grades[:-1]
        if list(table) != expected:
            raise self.fail(
                f"grading.{key}",
                f"names {list(table)}",
                f"give one value for each grade but the last, in order: {expected}",
            )
        cutoffs = tuple(self.number(table, g, f"grading.{key}.") for g in expected)
        if method == "thresholds" and any(a < b for a, b in itertools.pairwise(cutoffs)):
            raise self.fail(f"grading.{key}", "must decrease from grade to grade", "reorder them")
        if method == "rank" and (
            any(a >= b for a, b in itertools.pairwise(cutoffs))
            or not cutoffs[0] > 0
            or cutoffs[-1] > 1
        ):
            raise self.fail(
                f"grading.{key}", "must increase within (0, 1]",
                "give cumulative shares from the top, e.g. A = 0.2, B = 0.6, C = 0.95",
            )  # fmt: skip
        not_graded = self.text(grading, "not_graded", "grading.", default="n/a")
        return method, tuple(grades), cutoffs, not_graded

    def _low_efficiency(self, data: Mapping) -> LowEfficiency:
        table = self.table(data, "low_efficiency", "")
        self.keys(table, SCHEMA["low_efficiency"], "low_efficiency")
        far = self.table(table, "far_standard", "low_efficiency.")
        return LowEfficiency(
            reasons=self.rules(table, "reasons", "low_efficiency."),
            far_standard={k: self.number(far, k, "low_efficiency.far_standard.") for k in far},
            zone_layer=self.text(table, "zone_layer", "low_efficiency.", default="clusters"),
        )


__all__ = [
    "DEFAULT_PRESET",
    "Benchmark",
    "Config",
    "ConfigError",
    "Indicator",
    "LowEfficiency",
    "Monitoring",
    "Rule",
    "load_config",
    "load_preset",
    "parse_config",
    "preset_names",
]
