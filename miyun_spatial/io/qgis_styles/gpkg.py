"""The styles and value maps written into a GeoPackage: the ``layer_styles`` table QGIS reads
and the GeoPackage schema extension (``gpkg_data_columns`` + enum constraints)."""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ...core.catalogue import CATALOGUE, LayerSpec
from ...core.plan import PlanData
from .derived import styled_spec
from .qml import layer_qml
from .values import (
    LAND_USE,
    SCHEMA_DEFINITION,
    SCHEMA_EXTENSION,
    STYLE_NAME,
    STYLE_TABLE,
    Choice,
    TableInfo,
    ValueMap,
    field_values,
    land_use_values,
    value_maps,
)

log = logging.getLogger(__name__)

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


def add_styles(path: Path, *, classes: pd.DataFrame | None = None) -> Path:
    """Store a default QGIS style and the value maps of every catalogue table in ``path``.

    ``classes`` (the land-use class table) defaults to the file's own ``land_use_classes``;
    pass it for files without one (``results.gpkg``). Existing styles of this package are
    replaced; styles saved by users under other names are kept. Returns ``path``.
    """
    path = Path(path)
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        tables = [t for t in _tables(con) if styled_spec(t.name) is not None]
        if classes is None:
            classes = _read_classes(con)
        rows = [
            (t, layer_qml(styled_spec(t.name), t.columns, classes), styled_spec(t.name))
            for t in tables
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
        spec = styled_spec(table.name)
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
