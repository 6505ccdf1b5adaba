"""The QGIS style of results.gpkg's ``low_efficiency_land`` layer (低效用地 by first reason).

The layer is an output, not a catalogue layer: its spec is made here, in the catalogue's
terms, so ``layer_qml`` styles it like the others (categories by ``reason``, colours below).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from types import MappingProxyType

from ...core.catalogue import AllowedValue, FieldSpec, LayerSpec
from .gpkg import _tables, _write_styles
from .qml import layer_qml

LAYER = "low_efficiency_land"
REASONS = (  # code, 中文, English, colour: the reasons of the presets' [low_efficiency]
    ("approved_not_supplied", "批而未供", "approved, not supplied", "#984ea3"),
    ("supplied_not_used", "供而未用", "supplied, not used", "#ff7f00"),
    ("underused", "用而未尽", "underused (FAR below standard)", "#ffd92f"),
    ("built_not_operating", "建而未投", "built, not operating", "#a65628"),
    ("below_standard", "投而未达标", "operating, below standard", "#e41a1c"),
)

SPEC = LayerSpec(
    name=LAYER,
    role="context",
    geometry="polygon",
    id_field="parcel_code",
    title_zh="低效用地",
    title_en="Low-efficiency land",
    description="Parcels meeting a 低效用地 reason of the evaluation preset (synthetic data).",
    fields=(
        FieldSpec("parcel_code", "text", label_zh="地块编码", label_en="Parcel code"),
        FieldSpec(
            "reason",
            "text",
            label_zh="首要原因",
            label_en="First reason",
            values=tuple(AllowedValue(c, zh, en, colour) for c, zh, en, colour in REASONS),
        ),
        FieldSpec("reasons", "text", label_zh="全部原因", label_en="All reasons"),
        FieldSpec("area_ha", "real", label_zh="面积", label_en="Area", unit="公顷"),
        FieldSpec("area_mu", "real", label_zh="面积", label_en="Area", unit="亩"),
    ),
    style=MappingProxyType(
        {
            "color": "#b2182b",
            "fill": "#f4a582",
            "fill_opacity": 0.7,
            "weight": 0.8,
            "category_field": "reason",
        }
    ),
)


def add_low_efficiency_style(path: Path) -> Path:
    """Store the default style of ``low_efficiency_land`` in ``path`` if the layer is there."""
    path = Path(path)
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        tables = [t for t in _tables(con) if t.name == LAYER]
        if tables:
            _write_styles(con, [(tables[0], layer_qml(SPEC, tables[0].columns), SPEC)])
    return path


__all__ = ["LAYER", "REASONS", "SPEC", "add_low_efficiency_style"]
