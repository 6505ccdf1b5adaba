"""The review memo's configuration, as data (``review.json``): the laws and standards cited, the
verdicts, the rules that turn findings into the conclusion, the control-line types' labels and
the sign-off roles. Loaded and checked once at import."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType

from .catalogue import CatalogueError

# the conditions the conclusion rules may name (decided in analysis.conclusion)
CONDITIONS = (
    "control_line_conflict",
    "control_line_conditional",
    "control_lines_missing",
    "area_beyond_tolerance",
    "plan_figures_mismatch",
)


@dataclass(frozen=True)
class Basis:
    kind: str  # law / standard
    title: str
    en: str


@dataclass(frozen=True)
class Verdict:
    key: str
    zh: str
    en: str
    severity: int


@dataclass(frozen=True)
class Rule:
    """When ``condition`` holds, the conclusion is at least ``verdict``; ``zh``/``en`` say why."""

    condition: str
    verdict: str
    zh: str
    en: str


@dataclass(frozen=True)
class ReviewConfig:
    title_zh: str
    title_en: str
    basis: tuple[Basis, ...]
    verdicts: MappingProxyType  # key -> Verdict
    default_verdict: str
    rules: tuple[Rule, ...]
    line_types: MappingProxyType  # line_type value -> label
    sign_off: tuple[tuple[str, str], ...]

    def line_type_label(self, value: object) -> str:
        return str(self.line_types.get(value, value))


def parse_review(raw: dict) -> ReviewConfig:
    """The configuration in ``raw`` (review.json's content), checked: every rule names a known
    condition and verdict."""
    verdicts = {
        k: Verdict(k, v["zh"], v["en"], int(v["severity"])) for k, v in raw["verdicts"].items()
    }
    rules = tuple(Rule(r["condition"], r["verdict"], r["zh"], r["en"]) for r in raw["rules"])
    for rule in rules:
        if rule.condition not in CONDITIONS:
            raise CatalogueError(
                f"review.json: unknown condition {rule.condition!r}; use one of {CONDITIONS}"
            )
        if rule.verdict not in verdicts:
            raise CatalogueError(
                f"review.json: rule {rule.condition}: unknown verdict {rule.verdict!r}"
            )
    if raw["default_verdict"] not in verdicts:
        raise CatalogueError(f"review.json: unknown default verdict {raw['default_verdict']!r}")
    return ReviewConfig(
        title_zh=raw["title_zh"],
        title_en=raw["title_en"],
        basis=tuple(Basis(b["kind"], b["title"], b.get("en", "")) for b in raw["basis"]),
        verdicts=MappingProxyType(verdicts),
        default_verdict=raw["default_verdict"],
        rules=rules,
        line_types=MappingProxyType(dict(raw.get("line_types", {}))),
        sign_off=tuple((s["zh"], s["en"]) for s in raw["sign_off"]),
    )


REVIEW = parse_review(
    json.loads(files(__package__).joinpath("review.json").read_text(encoding="utf-8"))
)

__all__ = ["CONDITIONS", "REVIEW", "Basis", "ReviewConfig", "Rule", "Verdict", "parse_review"]
