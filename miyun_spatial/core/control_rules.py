"""The control-line compliance rules (``control_rules.json``), loaded and checked once.

Data, not code: which line types forbid construction, which grades of a water protection zone
make a change a conflict or conditional, which classes may be built outside the urban
development boundary. ``metrics.control_lines`` applies them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files

from .catalogue import CATALOGUE, CatalogueError

VERDICTS = ("conflict", "conditional", "compliant")
SIDES = ("inside", "outside", "any")
CATEGORIES = ("any", "construction", "farmland")
LINES = CATALOGUE["control_lines"]
LINE_TYPES = LINES.field("line_type").allowed
GRADES = LINES.field("grade").allowed


@dataclass(frozen=True)
class Rule:
    id: str
    verdict: str
    line_type: str  # a line type or "any"
    label_zh: str
    label_en: str
    side: str = "inside"
    grades: tuple[str, ...] = ()  # empty: every grade
    from_: str = "any"
    to: str = "any"
    except_to: tuple[str, ...] = ()  # classes the rule does not apply to


@dataclass(frozen=True)
class ControlRules:
    construction_groups: tuple[str, ...]
    farmland_classes: tuple[str, ...]
    allowed_outside_urban: tuple[str, ...]
    outside_code: str
    rules: tuple[Rule, ...]

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def load_rules(text: str | None = None) -> ControlRules:
    """Load and check the rules (the packaged ``control_rules.json`` unless ``text`` is given)."""
    if text is None:
        text = files(__package__).joinpath("control_rules.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    lists = {k: tuple(raw[k]) for k in ("construction_groups", "farmland_classes")}
    allowed = tuple(raw["allowed_outside_urban"])
    rules, problems = [], []
    for spec in raw["rules"]:
        except_to = spec.get("except_to", ())
        if isinstance(except_to, str):
            except_to = raw[except_to]
        rule = Rule(
            id=spec["id"],
            verdict=spec["verdict"],
            line_type=spec["line_type"],
            label_zh=spec["label_zh"],
            label_en=spec["label_en"],
            side=spec.get("side", "inside"),
            grades=tuple(spec.get("grades", ())),
            from_=spec.get("from", "any"),
            to=spec.get("to", "any"),
            except_to=tuple(except_to),
        )
        where = f"control_rules.json rule '{rule.id}'"
        if rule.verdict not in VERDICTS:
            problems.append(f"{where}: verdict '{rule.verdict}' not in {VERDICTS}")
        if rule.line_type not in (*LINE_TYPES, "any"):
            problems.append(f"{where}: unknown line type '{rule.line_type}'")
        if rule.side not in SIDES or rule.from_ not in CATEGORIES or rule.to not in CATEGORIES:
            problems.append(f"{where}: side / from / to out of {SIDES} / {CATEGORIES}")
        if set(rule.grades) - set(GRADES):
            problems.append(f"{where}: unknown grades {sorted(set(rule.grades) - set(GRADES))}")
        rules.append(rule)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        problems.append("control_rules.json: rule ids are not unique")
    if not any(
        r.line_type == "any" and r.side == "inside" and r.to == r.from_ == "any" for r in rules
    ):
        problems.append("control_rules.json: the last rule must match every overlap")
    if problems:
        raise CatalogueError("; ".join(problems))
    return ControlRules(
        construction_groups=lists["construction_groups"],
        farmland_classes=lists["farmland_classes"],
        allowed_outside_urban=allowed,
        outside_code=raw["outside_code"],
        rules=tuple(rules),
    )


CONTROL_RULES = load_rules()
