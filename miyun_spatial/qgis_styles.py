"""QGIS styles and drop-downs stored inside a GeoPackage, generated from the catalogue.

GIS staff open the GeoPackage in QGIS 3.22 and see the same symbology as the HTML maps:

- a default QML style per layer in the ``layer_styles`` table (the table QGIS itself creates:
  ``f_table_catalog`` and ``f_table_schema`` empty strings, ``f_geometry_column`` as in
  ``gpkg_geometry_columns``, registered in ``gpkg_contents`` as ``attributes``). Categorized
  renderers colour farmer bases by category, parcels by planned use (the colours of the
  file's own ``land_use_classes``), projects by stage; outlines of features that are not
  surveyed are dashed; labels show ``name_zh``; fields get Chinese-first aliases, value-map
  drop-downs and soft constraints (required, unique, minimum);
- value maps as the GeoPackage schema extension (``gpkg_data_columns`` +
  ``gpkg_data_column_constraints`` enums, declared in ``gpkg_extensions``), which QGIS turns
  into drop-downs even without the style. The validator still checks every value.

``add_styles`` is meant as ``store.write_gpkg(..., finish=add_styles)``, so the styles are
in the temporary file before it is renamed into place.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .catalogue import CATALOGUE, FieldSpec, LayerSpec
from .palette import category_colors, land_use_colors, land_use_labels, layer_style
from .store import PlanData

log = logging.getLogger(__name__)

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
# Characters XML 1.0 forbids even as references; ElementTree writes them through, and a label
# from the data holding one (e.g. a vertical tab) made the whole style unreadable to QGIS.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_GEOMETRY_TYPE = {"point": 0, "polygon": 2, None: 4}  # QML layerGeometryType
_PARCELS = CATALOGUE.by_role("parcels")[0]
LAND_USE = _PARCELS.field(_PARCELS.category_field).ref_layer  # the land-use class table
SURVEYED = "surveyed"  # provenance value drawn with a solid outline

# The table QGIS 3.22 creates (through GDAL) the first time a style is saved in a GeoPackage.
_STYLE_DDL = (
    f'CREATE TABLE IF NOT EXISTS "{STYLE_TABLE}" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT '
    'NOT NULL, "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" '
    'TEXT(256), "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, '
    '"styleSLD" TEXT, "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), '
    '"ui" TEXT(30), "update_time" DATETIME DEFAULT '
    "(strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
_COUNT_TRIGGERS = (
    f'CREATE TRIGGER IF NOT EXISTS "trigger_insert_feature_count_{STYLE_TABLE}" AFTER INSERT '
    f'ON "{STYLE_TABLE}" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 '
    f"WHERE lower(table_name) = lower('{STYLE_TABLE}'); END",
    f'CREATE TRIGGER IF NOT EXISTS "trigger_delete_feature_count_{STYLE_TABLE}" AFTER DELETE '
    f'ON "{STYLE_TABLE}" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 '
    f"WHERE lower(table_name) = lower('{STYLE_TABLE}'); END",
)
# GeoPackage 1.2 schema extension tables, as GDAL creates them.
_DATA_COLUMNS_DDL = (
    "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT "
    "NOT NULL, name TEXT UNIQUE, title TEXT, description TEXT, mime_type TEXT, "
    "constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT gdc_tn UNIQUE (table_name, name))"
)
_CONSTRAINTS_DDL = (
    "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL, "
    "constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, "
    "max NUMERIC, max_is_inclusive BOOLEAN, description TEXT, "
    "CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"
)


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


# ----------------------------------------------------------------------------- categories


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
        colors = category_colors(spec.name, field.name)
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


def _rgba(hex_color: str, opacity: float = 1.0) -> str:
    """'#1a9850', 0.5 -> '26,152,80,128' (QGIS's colour notation)."""
    color = _color_or(hex_color, OTHER_COLOR)
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"{red},{green},{blue},{round(max(0.0, min(1.0, opacity)) * 255)}"


# ----------------------------------------------------------------------------- QML


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
    style = layer_style(spec.name)
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
            "color": _rgba(fill, float(style.get("fill_opacity", 0.3))),
            "style": "solid",
            "outline_color": _rgba(outline),
            "outline_style": "dash" if dashed else "solid",
            "outline_width": f"{float(style.get('weight', 2)):g}",
            "outline_width_unit": "Pixel",
            "joinstyle": "bevel",
        }
    else:
        props = {
            "color": _rgba(fill),
            "name": "circle",
            "outline_color": _rgba(outline),
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
    style = layer_style(spec.name)
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
        textColor=_rgba(layer_style(spec.name).get("color", "#333333")),
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


# ----------------------------------------------------------------------------- GeoPackage


def add_styles(path: Path, *, classes: pd.DataFrame | None = None) -> Path:
    """Store a default QGIS style and the value maps of every catalogue table in ``path``.

    ``classes`` (the land-use class table) defaults to the file's own ``land_use_classes``;
    pass it for files without one (``results.gpkg``). Existing styles of this package are
    replaced; styles saved by users under other names are kept. Returns ``path``.
    """
    path = Path(path)
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        tables = [t for t in _tables(con) if t.name in CATALOGUE]
        if classes is None:
            classes = _read_classes(con)
        rows = [
            (t, layer_qml(CATALOGUE[t.name], t.columns, classes), CATALOGUE[t.name]) for t in tables
        ]
        _write_styles(con, rows)
        _write_value_maps(con, tables, classes)
    log.info("stored QGIS styles for %d layers in %s", len(tables), path)
    return path


def styles_for(plan: PlanData) -> Callable[[Path], Path]:
    """``add_styles`` with ``plan``'s land-use classes, for ``write_gpkg(finish=...)``.

    For files that carry styled layers of ``plan`` but no class table (``results.gpkg``).
    """
    return functools.partial(add_styles, classes=plan.layers.get(LAND_USE))


def _tables(con: sqlite3.Connection) -> list[TableInfo]:
    geometry = dict(
        con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
    )
    tables = []
    for name, data_type in con.execute("SELECT table_name, data_type FROM gpkg_contents"):
        if data_type not in ("features", "attributes"):
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        columns = tuple(row[1] for row in con.execute(f"PRAGMA table_info({quoted})"))
        tables.append(TableInfo(name, data_type, geometry.get(name, ""), columns))
    return tables


def _read_classes(con: sqlite3.Connection) -> pd.DataFrame | None:
    spec = CATALOGUE[LAND_USE]
    names = ("code", "name_zh", "name_en", "color_hex")
    exists = con.execute(
        "SELECT 1 FROM gpkg_contents WHERE table_name = ?", (spec.name,)
    ).fetchone()
    if not exists:
        return None
    columns = {row[1] for row in con.execute(f'PRAGMA table_info("{spec.name}")')}
    if not set(names) <= columns:
        return None
    query = f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} FROM "{spec.name}"'
    frame = pd.DataFrame(con.execute(query).fetchall(), columns=list(names))
    return frame[frame["code"].notna()].astype(object).fillna("")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _write_styles(con: sqlite3.Connection, rows: Sequence[tuple[TableInfo, str, LayerSpec]]):
    con.execute(_STYLE_DDL)
    has_counts = con.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'"
    ).fetchone()
    if has_counts:
        for trigger in _COUNT_TRIGGERS:
            con.execute(trigger)
        con.execute(
            "INSERT INTO gpkg_ogr_contents (table_name, feature_count) SELECT ?, 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM gpkg_ogr_contents WHERE table_name = ?)",
            (STYLE_TABLE, STYLE_TABLE),
        )
    now = _now()
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change, srs_id) SELECT ?, 'attributes', ?, '', ?, 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = ?)",
        (STYLE_TABLE, STYLE_TABLE, now, STYLE_TABLE),
    )
    for table, qml, spec in rows:
        con.execute(
            f'DELETE FROM "{STYLE_TABLE}" WHERE f_table_name = ? AND styleName = ?',
            (table.name, STYLE_NAME),
        )
        con.execute(
            f'UPDATE "{STYLE_TABLE}" SET useAsDefault = 0 WHERE f_table_name = ?', (table.name,)
        )
        con.execute(
            f'INSERT INTO "{STYLE_TABLE}" (f_table_catalog, f_table_schema, f_table_name, '
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', ?)",
            (table.name, table.geometry_column, STYLE_NAME, qml, _description(spec), now),
        )
    con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, STYLE_TABLE))


def _description(spec: LayerSpec) -> str:
    return f"{spec.title} — miyun-spatial default style (from the layer catalogue)"


def _write_value_maps(
    con: sqlite3.Connection, tables: Sequence[TableInfo], classes: pd.DataFrame | None
) -> None:
    con.execute(_DATA_COLUMNS_DDL)
    con.execute(_CONSTRAINTS_DDL)
    for table in (
        "gpkg_data_columns",
        "gpkg_data_column_constraints",
    ):
        con.execute(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
            "scope) SELECT ?, NULL, ?, ?, 'read-write' WHERE NOT EXISTS (SELECT 1 FROM "
            "gpkg_extensions WHERE table_name = ? AND extension_name = ?)",
            (table, SCHEMA_EXTENSION, SCHEMA_DEFINITION, table, SCHEMA_EXTENSION),
        )
    constraints: dict[str, ValueMap] = {}
    for table in tables:
        spec = CATALOGUE[table.name]
        maps = value_maps(spec, classes, table.columns)
        for row in _data_column_rows(spec, table, maps):
            con.execute("INSERT OR REPLACE INTO gpkg_data_columns VALUES (?,?,?,?,?,?,?)", row)
        for value_map in maps.values():
            constraints[value_map.name] = value_map
    for name, value_map in constraints.items():
        con.execute("DELETE FROM gpkg_data_column_constraints WHERE constraint_name = ?", (name,))
        con.executemany(
            "INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, "
            "description) VALUES (?, 'enum', ?, ?)",
            [(name, v.value, v.label) for v in value_map.values],
        )


def _data_column_rows(
    spec: LayerSpec, table: TableInfo, maps: Mapping[str, ValueMap]
) -> Iterator[tuple]:
    """(table, column, name, title, description, mime_type, constraint) per catalogue field."""
    for field in spec.fields:
        if field.name in table.columns:
            constraint = maps[field.name].name if field.name in maps else None
            description = field.description or None
            yield (table.name, field.name, None, field.label, description, None, constraint)


__all__ = [
    "LAND_USE",
    "STYLE_NAME",
    "STYLE_TABLE",
    "Choice",
    "ValueMap",
    "add_styles",
    "field_values",
    "land_use_values",
    "layer_qml",
    "styles_for",
    "value_maps",
]
