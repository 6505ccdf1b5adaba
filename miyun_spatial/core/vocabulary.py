"""The output vocabulary, as data: labels, units and kinds of metric columns, roles of features,
fact codes.

It lives in ``vocabulary.json`` beside the layer catalogue and is loaded and checked once at
import. Renderers (maps, reports, CSV, CLI tables) take a column's label from here, never from a
string literal of their own; metrics and checks take "which feature is the park" and "which
``land_facts`` row is the 2025 target" from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType

import pandas as pd

from .catalogue import CATALOGUE, CatalogueError


@dataclass(frozen=True)
class Label:
    """What a column or figure is called: Chinese first, English alongside, with its unit."""

    key: str
    zh: str
    en: str
    unit: str = ""
    kind: str = "auto"
    sub: bool = False  # a figure that qualifies the one before it (shown indented)

    @property
    def text(self) -> str:
        """'面积 Area'."""
        return f"{self.zh} {self.en}".strip()

    @property
    def header(self) -> str:
        """'面积 Area (ha)'."""
        return f"{self.text} ({self.unit})" if self.unit else self.text


@dataclass(frozen=True)
class Role:
    """A part the plan gives to a feature: a layer, and optionally the attribute that marks it."""

    name: str
    layer: str
    field: str | None = None
    value: str | None = None
    about_zh: str = ""
    about_en: str = ""


@dataclass(frozen=True)
class Vocabulary:
    kinds: tuple[str, ...]
    columns: MappingProxyType
    summary: MappingProxyType
    roles: MappingProxyType
    facts: MappingProxyType

    def column(self, key: str) -> Label:
        """The label of metric column ``key``; KeyError names the file to extend."""
        try:
            return self.columns[key]
        except KeyError:
            raise KeyError(f"column '{key}' has no label in vocabulary.json") from None

    def fact(self, name: str) -> str:
        """The ``land_facts`` code of a named fact (e.g. ``revenue_target_per_ha_2025``)."""
        return self.facts[name]


def role_members(frame: pd.DataFrame | None, role: Role) -> pd.DataFrame | None:
    """The rows of ``frame`` (the role's layer) that play ``role``, or None when there are none.

    This is the one place that decides e.g. which zgc_park feature is the park's current extent.
    """
    if frame is None or len(frame) == 0:
        return None
    if role.field is None:
        return frame
    if role.field not in frame.columns:
        return None
    members = frame[frame[role.field].astype(object) == role.value]
    return members if len(members) else None


def role_code(frame: pd.DataFrame | None, role: Role) -> str | None:
    """The id (code) of the first feature playing ``role`` in its layer ``frame``, or None."""
    members = role_members(frame, role)
    if members is None:
        return None
    return str(members[CATALOGUE[role.layer].id_field].iloc[0])


def _load() -> Vocabulary:
    raw = json.loads(files(__package__).joinpath("vocabulary.json").read_text(encoding="utf-8"))
    kinds = tuple(raw["kinds"])

    def labels(section: str) -> MappingProxyType:
        out = {}
        for key, spec in raw[section].items():
            kind = spec.get("kind", "auto")
            if kind not in kinds:
                raise CatalogueError(f"vocabulary.json {section}.{key}: unknown kind '{kind}'")
            out[key] = Label(
                key, spec["zh"], spec["en"], spec.get("unit", ""), kind, spec.get("sub", False)
            )
        return MappingProxyType(out)

    roles = {}
    for name, spec in raw["roles"].items():
        layer = spec["layer"]
        if layer not in CATALOGUE.names:
            raise CatalogueError(f"vocabulary.json roles.{name}: unknown layer '{layer}'")
        role = Role(name, **spec)
        if role.field is not None:
            allowed = {v.value for v in CATALOGUE[layer].field(role.field).values}
            if allowed and role.value not in allowed:
                raise CatalogueError(
                    f"vocabulary.json roles.{name}: '{role.value}' is not a value of "
                    f"{layer}.{role.field}"
                )
        roles[name] = role
    return Vocabulary(
        kinds=kinds,
        columns=labels("columns"),
        summary=labels("summary"),
        roles=MappingProxyType(roles),
        facts=MappingProxyType(dict(raw["facts"])),
    )


VOCABULARY = _load()


MIYUN_PARK_ZH = "密云园"  # the Miyun park's row in Table 1-1 (zgc_benchmark.park_zh)


def park_key(layers: Mapping[str, pd.DataFrame]) -> tuple[str, str] | None:
    """(layer, code) of the park's current extent (the vocabulary's ``park`` role; Z1 in the
    default), or None: the one place the park is decided, every other module reads it."""
    role = VOCABULARY.roles["park"]
    code = role_code(layers.get(role.layer), role)
    return None if code is None else (role.layer, code)


def park_code(layers: Mapping[str, pd.DataFrame]) -> str | None:
    """The code of the park's current extent (:func:`park_key`), or None."""
    key = park_key(layers)
    return None if key is None else key[1]
