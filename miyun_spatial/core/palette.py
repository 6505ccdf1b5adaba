"""One palette for maps, QGIS styles and reports: read from the catalogue and the class table."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .catalogue import CATALOGUE

GRADES = ("A", "B", "C", "D")
NO_DATA = "n/a"


def category_colors(layer: str, field: str) -> dict[str, str]:
    """Colour of every allowed value of ``layer.field`` (e.g. farmer_bases.category)."""
    return {v.value: v.color for v in CATALOGUE[layer].field(field).values if v.color}


def category_labels(layer: str, field: str) -> dict[str, str]:
    """Chinese-first label of every allowed value of ``layer.field``."""
    return {v.value: v.label for v in CATALOGUE[layer].field(field).values}


def land_use_colors(classes: pd.DataFrame) -> dict[str, str]:
    """Class code -> planning colour, from the GeoPackage's own land_use_classes table."""
    return dict(zip(classes["code"].astype(str), classes["color_hex"].astype(str), strict=True))


def land_use_labels(classes: pd.DataFrame) -> dict[str, str]:
    """Class code -> 'M1 一类工业用地 Industrial (class 1...)'."""
    return {
        str(code): f"{code} {zh} {en}"
        for code, zh, en in zip(
            classes["code"], classes["name_zh"], classes["name_en"], strict=True
        )
    }


def grade_colors() -> dict[str, str]:
    return dict(CATALOGUE.palettes["grade"])


def grade_labels() -> dict[str, str]:
    return dict(CATALOGUE.palettes["grade_labels"])


def target_ratio_colors() -> tuple[str, ...]:
    """Five colours from far below target (first) to at or above target (last)."""
    return tuple(CATALOGUE.palettes["target_ratio"])


def layer_style(layer: str) -> Mapping[str, object]:
    """Outline/fill colours, opacity and weight of a layer, as the catalogue gives them."""
    return CATALOGUE[layer].style


SCHEMATIC_DASH = CATALOGUE.palettes["schematic_dash"]
UNCOVERED_COLOR = CATALOGUE.palettes["uncovered"]


def color_meaning(color: str) -> dict[str, str] | None:
    """What ``color`` means on every map ({'zh': ..., 'en': ...}), from ``palettes.meanings``."""
    meaning = CATALOGUE.palettes.get("meanings", {}).get(str(color).lower())
    return dict(meaning) if meaning else None


def is_red(color: str) -> bool:
    """Whether ``color`` is one of the reds kept for exit and conflict (``palettes.red``)."""
    return str(color).lower() in {c.lower() for c in CATALOGUE.palettes.get("red", ())}


def hatched_land_uses(classes: pd.DataFrame) -> tuple[str, ...]:
    """Class codes drawn tinted and hatched (strategic reserve land: ``palettes.
    hatched_land_use_groups``), so that they never read as blank "no data" white."""
    groups = set(CATALOGUE.palettes.get("hatched_land_use_groups", ()))
    if "group" not in classes:
        return ()
    return tuple(
        str(c) for c, g in zip(classes["code"], classes["group"], strict=True) if g in groups
    )
