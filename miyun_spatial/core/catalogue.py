"""The layer catalogue: every layer, field, allowed value, label and colour, as data.

The catalogue lives in ``catalogue.json`` beside this module (like xyzservices' providers.json).
It is loaded and checked once at import; every other module asks it for layer and field names
instead of hard-coding them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from types import MappingProxyType
from typing import Any

FIELD_TYPES = ("text", "integer", "real", "boolean", "date")
GEOMETRIES = ("polygon", "point", None)
ROLES = ("plan", "parcels", "projects", "attributes", "context", "controls")
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


class CatalogueError(ValueError):
    """The catalogue file itself is inconsistent (a bug in the package, not in user data)."""


@dataclass(frozen=True)
class AllowedValue:
    value: str
    label_zh: str
    label_en: str
    color: str | None = None

    @property
    def label(self) -> str:
        """Chinese first, English alongside."""
        return f"{self.label_zh} {self.label_en}"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    # True: an optional field that older files may lack without a warning (added by a later
    # feature, e.g. the source_* fields that 'miyun-spatial import' fills).
    absent_ok: bool = False
    unique: bool = False
    label_zh: str = ""
    label_en: str = ""
    unit: str | None = None
    min: float | None = None
    pattern: str | None = None
    ref: str | None = None
    description: str = ""
    values: tuple[AllowedValue, ...] = ()
    max_length: int | None = None  # longer text is warned about (default: validate's limits)

    @property
    def label(self) -> str:
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.label_zh} {self.label_en}{unit}"

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)

    def value_spec(self, value: str) -> AllowedValue | None:
        return next((v for v in self.values if v.value == value), None)

    @property
    def ref_layer(self) -> str | None:
        return self.ref.split(".", 1)[0] if self.ref else None

    @property
    def ref_field(self) -> str | None:
        return self.ref.split(".", 1)[1] if self.ref else None


@dataclass(frozen=True)
class LayerSpec:
    name: str
    role: str
    geometry: str | None
    id_field: str
    title_zh: str
    title_en: str
    description: str
    fields: tuple[FieldSpec, ...]
    code_pattern: str | None = None
    # True: a GeoPackage without the layer stays valid (e.g. control_lines)
    optional: bool = False
    rules: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    style: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"

    @property
    def is_spatial(self) -> bool:
        return self.geometry is not None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"layer '{self.name}' has no field '{name}' in the catalogue")

    def has_field(self, name: str) -> bool:
        return name in self.field_names

    @property
    def category_field(self) -> str | None:
        return self.style.get("category_field")


@dataclass(frozen=True)
class Catalogue:
    crs: str
    web_crs: str
    mu_per_ha: float
    layers: tuple[LayerSpec, ...]
    palettes: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        known = ", ".join(self.names)
        raise KeyError(f"no layer '{name}' in the catalogue (known: {known})")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def get(self, name: str, default: LayerSpec | None = None) -> LayerSpec | None:
        return self[name] if name in self.names else default

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)

    def by_role(self, *roles: str) -> tuple[LayerSpec, ...]:
        return tuple(layer for layer in self.layers if layer.role in roles)

    @property
    def plan_layers(self) -> tuple[LayerSpec, ...]:
        return self.by_role("plan")


def _value(raw: dict[str, Any]) -> AllowedValue:
    return AllowedValue(raw["value"], raw["label_zh"], raw["label_en"], raw.get("color"))


def _field(raw: dict[str, Any], shared: dict[str, FieldSpec]) -> FieldSpec:
    values = tuple(_value(v) for v in raw.get("values", ()))
    if "values_from" in raw:
        values = shared[raw["values_from"].split(".", 1)[1]].values
    keys = {k: v for k, v in raw.items() if k not in ("values", "values_from")}
    return FieldSpec(values=values, **keys)


def _check(catalogue: Catalogue) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for layer in catalogue.layers:
        where = f"layer '{layer.name}'"
        if layer.name in seen:
            problems.append(f"{where} is defined twice")
        seen.add(layer.name)
        if layer.role not in ROLES:
            problems.append(f"{where}: unknown role '{layer.role}'")
        if layer.geometry not in GEOMETRIES:
            problems.append(f"{where}: unknown geometry '{layer.geometry}'")
        names = layer.field_names
        if len(set(names)) != len(names):
            problems.append(f"{where}: duplicate field names")
        if layer.id_field not in names:
            problems.append(f"{where}: id field '{layer.id_field}' is not one of its fields")
        category = layer.category_field
        if category and category not in names:
            problems.append(f"{where}: style category field '{category}' is not a field")
        for f in layer.fields:
            if f.type not in FIELD_TYPES:
                problems.append(f"{where}, field '{f.name}': unknown type '{f.type}'")
            for v in f.values:
                if v.color and not _HEX.match(v.color):
                    problems.append(f"{where}, field '{f.name}': bad colour {v.color}")
            if f.ref:
                target, _, target_field = f.ref.partition(".")
                if target not in catalogue or not catalogue[target].has_field(target_field):
                    problems.append(f"{where}, field '{f.name}': reference {f.ref} does not exist")
        for rule_field in (
            layer.rules.get("within_ref"),
            layer.rules.get("same_geometry_ref"),
            layer.rules.get("no_overlap_within"),
        ):
            if rule_field and rule_field not in names:
                problems.append(f"{where}: rule names unknown field '{rule_field}'")
    if problems:
        raise CatalogueError("catalogue.json is inconsistent:\n  " + "\n  ".join(problems))


def load_catalogue(text: str | None = None) -> Catalogue:
    """Load and check the catalogue (the packaged ``catalogue.json`` unless ``text`` is given)."""
    raw = json.loads(text if text is not None else _packaged_text())
    shared = {f["name"]: _field(f, {}) for f in raw["plan_fields"]}
    layers = []
    for spec in raw["layers"]:
        own = tuple(_field(f, shared) for f in spec.get("fields", ()))
        if spec["role"] == "plan":
            own = tuple(shared.values()) + own
        layers.append(
            LayerSpec(
                name=spec["name"],
                role=spec["role"],
                geometry=spec["geometry"],
                id_field=spec["id_field"],
                title_zh=spec["title_zh"],
                title_en=spec["title_en"],
                description=spec["description"],
                fields=own,
                code_pattern=spec.get("code_pattern"),
                optional=bool(spec.get("optional", False)),
                rules=MappingProxyType(dict(spec.get("rules", {}))),
                style=MappingProxyType(dict(spec.get("style", {}))),
            )
        )
    catalogue = Catalogue(
        crs=raw["crs"],
        web_crs=raw["web_crs"],
        mu_per_ha=raw["mu_per_ha"],
        layers=tuple(layers),
        palettes=MappingProxyType(raw.get("palettes", {})),
    )
    _check(catalogue)
    return catalogue


def _packaged_text() -> str:
    return files(__package__).joinpath("catalogue.json").read_text(encoding="utf-8")


CATALOGUE = load_catalogue()

# the polygon plan layers: the zones whose land-use mix, yields and adjustments are reported
ZONE_LAYERS = tuple(s.name for s in CATALOGUE.plan_layers if s.geometry == "polygon")
