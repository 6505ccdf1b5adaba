"""The values behind the QGIS styles: constants, allowed values and colours per field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ...core.catalogue import CATALOGUE, FieldSpec, LayerSpec
from ...core.palette import land_use_colors, land_use_labels

STYLE_NAME = "miyun-spatial"
STYLE_TABLE = "layer_styles"
QGIS_VERSION = "3.22.16-Białowieża"  # the format written; QGIS 3.22 LTR and later read it
SCHEMA_EXTENSION = "gpkg_schema"
SCHEMA_DEFINITION = "http://www.geopackage.org/spec121/#extension_schema"
VALUEMAP_NULL = "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"  # QGIS's "no value" entry
SOFT = 2  # QgsFieldConstraints::ConstraintStrengthSoft: warn in the form, allow saving
OTHER_COLOR = "#bdbdbd"
OTHER_LABEL = "其他 other"
LABEL_SIZE_PT = 9
POINT_SIZE_MM = 3.0
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_PARCELS = CATALOGUE.by_role("parcels")[0]
LAND_USE = _PARCELS.field(_PARCELS.category_field).ref_layer  # the land-use class table
SURVEYED = "surveyed"  # provenance value drawn with a solid outline


@dataclass(frozen=True)
class TableInfo:
    """What the styles need to know about one table of the GeoPackage."""

    name: str
    data_type: str  # gpkg_contents.data_type: features / attributes
    geometry_column: str  # "" for attribute tables, as QGIS stores it
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """One allowed value of a field, its Chinese-first label and its colour (if it has one)."""

    value: str
    label: str
    color: str | None = None


@dataclass(frozen=True)
class ValueMap:
    """Allowed values of one field: a GeoPackage enum constraint and a QGIS drop-down."""

    name: str  # constraint_name, shared by every field with the same values
    values: tuple[Choice, ...]


def land_use_values(classes: pd.DataFrame | None) -> tuple[Choice, ...]:
    """The land-use classes of the file as allowed values: 'M1 一类工业用地 Industrial...'."""
    if classes is None or not len(classes):
        return ()
    colors = land_use_colors(classes)
    labels = land_use_labels(classes)
    return tuple(
        Choice(code, labels[code], _color_or(colors.get(code), OTHER_COLOR)) for code in labels
    )


def field_values(
    spec: LayerSpec, field: FieldSpec, classes: pd.DataFrame | None
) -> tuple[Choice, ...]:
    """Allowed values of ``spec.field``: the catalogue's, or the land-use classes for a ref."""
    if field.values:
        colors = {v.value: v.color for v in field.values if v.color}  # = category_colors
        return tuple(Choice(v.value, v.label, colors.get(v.value)) for v in field.values)
    if field.ref_layer == LAND_USE:
        return land_use_values(classes)
    return ()


def value_maps(
    spec: LayerSpec, classes: pd.DataFrame | None, columns: Iterable[str] | None = None
) -> dict[str, ValueMap]:
    """Field name -> value map, for the fields of ``spec`` (present in ``columns``) that have one.

    Fields sharing the same values share one constraint, named after the field (or after the
    referenced table for land-use codes).
    """
    present = set(columns) if columns is not None else set(spec.field_names)
    maps: dict[str, ValueMap] = {}
    for field in spec.fields:
        if field.name not in present:
            continue
        values = field_values(spec, field, classes)
        if values:
            name = LAND_USE if field.ref_layer == LAND_USE else _constraint_name(spec, field)
            maps[field.name] = ValueMap(name, values)
    return maps


def _constraint_name(spec: LayerSpec, field: FieldSpec) -> str:
    """The field's name when every catalogue field of that name allows the same values."""
    same_name = [
        layer.field(field.name).allowed for layer in CATALOGUE.layers if layer.has_field(field.name)
    ]
    return field.name if len(set(same_name)) == 1 else f"{spec.name}_{field.name}"


def _color_or(value: object, default: str) -> str:
    return value if isinstance(value, str) and _HEX.match(value) else default


def rgba(hex_color: str, opacity: float = 1.0) -> str:
    """'#1a9850', 0.5 -> '26,152,80,128' (QGIS's colour notation)."""
    color = _color_or(hex_color, OTHER_COLOR)
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"{red},{green},{blue},{round(max(0.0, min(1.0, opacity)) * 255)}"
