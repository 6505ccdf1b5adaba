"""QML: a QGIS 3.22 layer style (renderer, labels, field aliases, drop-downs, constraints)
for a catalogue layer, as XML text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import pandas as pd

from ...core.catalogue import FieldSpec, LayerSpec
from .values import (
    LABEL_SIZE_PT,
    OTHER_COLOR,
    OTHER_LABEL,
    POINT_SIZE_MM,
    QGIS_VERSION,
    SOFT,
    SURVEYED,
    VALUEMAP_NULL,
    ValueMap,
    field_values,
    rgba,
    value_maps,
)

# Characters XML 1.0 forbids even as references; ElementTree writes them through, and a label
# from the data holding one (e.g. a vertical tab) made the whole style unreadable to QGIS.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_GEOMETRY_TYPE = {"point": 0, "polygon": 2, None: 4}  # QML layerGeometryType


def _options(parent: ET.Element, values: Mapping[str, str]) -> None:
    """<Option type="Map"> with one QString per key, then the legacy <prop k v> pairs."""
    option_map = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(option_map, "Option", name=key, type="QString", value=value)
    for key, value in values.items():
        ET.SubElement(parent, "prop", k=key, v=value)


def _data_defined(parent: ET.Element, tag: str, expressions: Mapping[str, str]) -> None:
    """A property collection binding symbol-layer properties to QGIS expressions."""
    root = ET.SubElement(ET.SubElement(parent, tag), "Option", type="Map")
    ET.SubElement(root, "Option", name="name", type="QString", value="")
    if expressions:
        properties = ET.SubElement(root, "Option", name="properties", type="Map")
        for key, expression in expressions.items():
            prop = ET.SubElement(properties, "Option", name=key, type="Map")
            ET.SubElement(prop, "Option", name="active", type="bool", value="true")
            ET.SubElement(prop, "Option", name="expression", type="QString", value=expression)
            ET.SubElement(prop, "Option", name="type", type="int", value="3")
    else:
        ET.SubElement(root, "Option", name="properties")
    ET.SubElement(root, "Option", name="type", type="QString", value="collection")


def _provenance_field(spec: LayerSpec, columns: Sequence[str]) -> str | None:
    """The field saying whether a feature's geometry is surveyed (dashed outline otherwise)."""
    for field in spec.fields:
        if field.name in columns and SURVEYED in field.allowed:
            return field.name
    return None


def _field_ref(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _symbol(
    parent: ET.Element,
    name: str,
    spec: LayerSpec,
    fill: str,
    *,
    dashed_unless: str | None,
) -> None:
    """A fill symbol (polygons) or a circle marker (points) in the layer's catalogue style."""
    style = spec.style
    outline = style.get("color", "#333333")
    polygon = spec.geometry == "polygon"
    symbol = ET.SubElement(
        parent,
        "symbol",
        name=name,
        type="fill" if polygon else "marker",
        alpha="1",
        clip_to_extent="1",
        force_rhr="0",
    )
    _data_defined(symbol, "data_defined_properties", {})
    layer = ET.SubElement(
        symbol,
        "layer",
        {"class": "SimpleFill" if polygon else "SimpleMarker"},
        enabled="1",
        locked="0",
        **{"pass": "0"},
    )
    if polygon:
        dashed = "dash" in style
        props = {
            "color": rgba(fill, float(style.get("fill_opacity", 0.3))),
            "style": "solid",
            "outline_color": rgba(outline),
            "outline_style": "dash" if dashed else "solid",
            "outline_width": f"{float(style.get('weight', 2)):g}",
            "outline_width_unit": "Pixel",
            "joinstyle": "bevel",
        }
    else:
        props = {
            "color": rgba(fill),
            "name": "circle",
            "outline_color": rgba(outline),
            "outline_style": "solid",
            "outline_width": "0.3",
            "outline_width_unit": "MM",
            "size": f"{POINT_SIZE_MM:g}",
            "size_unit": "MM",
        }
    _options(layer, props)
    expressions = {}
    if polygon and dashed_unless and "dash" not in style:
        # The HTML maps draw outlines dashed unless the geometry is surveyed; so does QGIS.
        expressions["outlineStyle"] = (
            f"CASE WHEN coalesce({_field_ref(dashed_unless)}, '') = {_literal(SURVEYED)} "
            "THEN 'solid' ELSE 'dash' END"
        )
    _data_defined(layer, "data_defined_properties", expressions)


def _renderer(
    root: ET.Element, spec: LayerSpec, columns: Sequence[str], classes: pd.DataFrame | None
) -> None:
    style = spec.style
    base_fill = style.get("fill", style.get("color", OTHER_COLOR))
    dashed_unless = _provenance_field(spec, columns)
    category = spec.category_field if spec.category_field in columns else None
    values = (
        [v for v in field_values(spec, spec.field(category), classes) if v.color]
        if category
        else []
    )
    common = {"forceraster": "0", "symbollevels": "0", "enableorderby": "0"}
    if not values:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", **common)
        symbols = ET.SubElement(renderer, "symbols")
        _symbol(symbols, "0", spec, base_fill, dashed_unless=dashed_unless)
        return
    renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=category, **common)
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    entries = [(v.value, v.label, v.color) for v in values]
    entries.append(("", OTHER_LABEL, OTHER_COLOR))  # QGIS: "all other values"
    for i, (value, label, color) in enumerate(entries):
        ET.SubElement(
            categories, "category", value=value, label=label, symbol=str(i), render="true"
        )
        _symbol(symbols, str(i), spec, color, dashed_unless=dashed_unless)
    source = ET.SubElement(renderer, "source-symbol")
    _symbol(source, "0", spec, base_fill, dashed_unless=dashed_unless)


def _labeling(root: ET.Element, spec: LayerSpec, label_field: str) -> None:
    """Plain-text labels (never HTML) from ``label_field``, with a white halo."""
    labeling = ET.SubElement(root, "labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    text = ET.SubElement(
        settings,
        "text-style",
        fieldName=label_field,
        isExpression="0",
        allowHtml="0",
        fontSize=str(LABEL_SIZE_PT),
        fontSizeUnit="Point",
        fontWeight="50",
        fontItalic="0",
        textColor=rgba(spec.style.get("color", "#333333")),
        textOpacity="1",
        multilineHeight="1",
        capitalization="0",
        blendMode="0",
    )
    ET.SubElement(
        text,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.8",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="1",
        bufferNoFill="1",
        bufferJoinStyle="128",
        bufferBlendMode="0",
    )
    polygon = spec.geometry == "polygon"
    ET.SubElement(
        settings,
        "placement",
        placement="1" if polygon else "0",  # over the centroid / around the point
        dist="0" if polygon else "1",
        distUnits="MM",
        centroidInside="1",
        centroidWhole="0",
        priority="5",
    )
    ET.SubElement(
        settings,
        "rendering",
        drawLabels="1",
        obstacle="1",
        obstacleFactor="1",
        displayAll="0",
        upsidedownLabels="0",
        labelPerPart="0",
        mergeLines="0",
        scaleVisibility="0",
    )


def _constraint_parts(spec: LayerSpec, field: FieldSpec) -> tuple[int, list[str]]:
    """QGIS constraint flags (1 not null, 2 unique, 4 expression) and the expression parts."""
    flags = (1 if field.required else 0) | (2 if field.unique else 0)
    expressions = []
    ref = _field_ref(field.name)
    if field.min is not None and field.type in ("real", "integer"):
        expressions.append(f"{ref} IS NULL OR {ref} >= {field.min:g}")
    if field.name == spec.id_field and spec.code_pattern:
        expressions.append(f"{ref} IS NULL OR regexp_match({ref}, {_literal(spec.code_pattern)})")
    if field.type == "text" and field.pattern:
        expressions.append(f"{ref} IS NULL OR regexp_match({ref}, {_literal(field.pattern)})")
    return flags | (4 if expressions else 0), expressions


def _fields(
    root: ET.Element, spec: LayerSpec, columns: Sequence[str], maps: Mapping[str, ValueMap]
) -> None:
    """Value-map widgets, Chinese-first aliases and soft constraints of the catalogue fields."""
    present = [f for f in spec.fields if f.name in columns]
    configuration = ET.SubElement(root, "fieldConfiguration")
    for field in present:
        if field.name not in maps:
            continue
        element = ET.SubElement(configuration, "field", name=field.name, configurationFlags="None")
        widget = ET.SubElement(element, "editWidget", type="ValueMap")
        config = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
        entries = ET.SubElement(config, "Option", name="map", type="List")
        choices = [(v.label, v.value) for v in maps[field.name].values]
        if not field.required:
            choices.insert(0, ("<NULL>", VALUEMAP_NULL))
        for label, value in choices:
            entry = ET.SubElement(entries, "Option", type="Map")
            ET.SubElement(entry, "Option", name=label, type="QString", value=value)
    aliases = ET.SubElement(root, "aliases")
    for field in present:
        index = str(columns.index(field.name))
        ET.SubElement(aliases, "alias", field=field.name, index=index, name=field.label)
    constraints = ET.SubElement(root, "constraints")
    expressions = ET.SubElement(root, "constraintExpressions")
    for field in present:
        flags, parts = _constraint_parts(spec, field)
        if not flags:
            continue
        ET.SubElement(
            constraints,
            "constraint",
            field=field.name,
            constraints=str(flags),
            notnull_strength=str(SOFT if flags & 1 else 0),
            unique_strength=str(SOFT if flags & 2 else 0),
            exp_strength=str(SOFT if flags & 4 else 0),
        )
        if parts:
            expression = " AND ".join(f"({p})" for p in parts)
            ET.SubElement(
                expressions,
                "constraint",
                field=field.name,
                exp=expression,
                desc=f"{field.label}: 取值不符合规划数据规范 value does not follow the catalogue",
            )


def layer_qml(spec: LayerSpec, columns: Sequence[str], classes: pd.DataFrame | None = None) -> str:
    """The QML document (QGIS 3.22) styling ``spec`` for a table with these ``columns``.

    ``classes`` is the land-use class table whose colours and names the land-use fields use.
    """
    columns = list(columns)
    label_field = "name_zh" if "name_zh" in columns and spec.has_field("name_zh") else None
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="AllStyleCategories",
        labelsEnabled="1" if (label_field and spec.is_spatial) else "0",
        hasScaleBasedVisibilityFlag="0",
        readOnly="0",
    )
    if spec.is_spatial:
        _renderer(root, spec, columns, classes)
        if label_field:
            _labeling(root, spec, label_field)
    _fields(root, spec, columns, value_maps(spec, classes, columns))
    preview = spec.id_field if spec.id_field in columns else None
    ET.SubElement(root, "previewExpression").text = _field_ref(preview) if preview else ""
    ET.SubElement(root, "layerGeometryType").text = str(_GEOMETRY_TYPE[spec.geometry])
    body = _XML_ILLEGAL.sub("", ET.tostring(root, encoding="unicode"))
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
