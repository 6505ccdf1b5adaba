"""PostGIS as a destination: ``publish`` a GeoPackage into a schema, ``export`` one back.

``publish`` writes every catalogue layer of the GeoPackage as a table of one schema, in one
transaction: the same columns and types as the GeoPackage (so that a build from the database
gives the same tables and findings as a build from the file), ``fid`` as identity primary key,
a GiST index on ``geom``, the catalogue's rules as constraints (allowed values as CHECK, codes
as UNIQUE, references as FOREIGN KEY to the value tables, required as NOT NULL), the
catalogue's titles and labels as COMMENTs, and the package's QGIS style of each layer as its
default style in ``public.layer_styles`` (where QGIS looks for it, with value-map widgets).
Constraints the data already breaks are kept NOT VALID (they hold for new edits) and logged.

With ``replace`` the data goes into a fresh schema that is renamed into place, and the old
schema dropped, in the same transaction: readers see the old tables or the new ones, never a
half-loaded schema.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...core.catalogue import CATALOGUE, FieldSpec, LayerSpec
from ...core.errors import InputError, OutputError
from .. import geopackage as store
from ..qgis_styles import LAND_USE, STYLE_NAME, layer_qml
from .connect import Target, connect, database_errors, has_postgis, postgis_schema, schema_exists
from .source import PostGISSource

log = logging.getLogger(__name__)

GEOMETRY_COLUMN = "geom"
LOCK_TIMEOUT = "30s"
STYLE_TABLE = "layer_styles"
# fiona field type (LayerInfo.fields) -> PostgreSQL type
_PG_TYPES = {
    "str": "text",
    "float": "double precision",
    "int": "bigint",
    "int64": "bigint",
    "int32": "integer",
    "bool": "boolean",
    "date": "date",
    "datetime": "timestamp",
}
# The table QGIS creates the first time a style is saved in a PostgreSQL database.
_STYLE_DDL = (
    "CREATE TABLE IF NOT EXISTS public.layer_styles (id serial PRIMARY KEY, "
    "f_table_catalog varchar, f_table_schema varchar, f_table_name varchar, "
    "f_geometry_column varchar, stylename text, styleqml xml, stylesld xml, "
    "useasdefault boolean, description text, owner varchar(63) DEFAULT CURRENT_USER, "
    "ui xml, update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)"
)


@dataclass(frozen=True)
class Published:
    target: str
    schema: str
    layers: dict[str, int]
    not_valid: tuple[str, ...]


def _sql():
    from psycopg import sql

    return sql


def publish(gpkg, target: Target, *, replace: bool = False) -> Published:
    """Load the catalogue layers of ``gpkg`` (a GeoPackage path or any ``sources.Source``) into
    ``target.schema`` (see the module docstring)."""
    plan = store.load(gpkg)
    names = [name for name in CATALOGUE.names if name in plan.layers]
    if not names:
        raise InputError(f"{plan.path}: holds no catalogue layer; nothing to publish")
    con = connect(target)
    try:
        with database_errors(target, OutputError):
            con.execute("SELECT set_config('lock_timeout', %s, false)", (LOCK_TIMEOUT,))
            if not has_postgis(con):
                raise OutputError(
                    f"{target}: PostGIS is not installed in this database; run "
                    "'CREATE EXTENSION postgis' as its owner first"
                )
            exists = schema_exists(con, target.schema)
            if exists and not replace:
                raise OutputError(
                    f"{target}: schema '{target.schema}' already exists; add --replace to "
                    "swap it for the new data (one transaction) or choose another --schema"
                )
            schema = f"{target.schema[:40]}_new_{secrets.token_hex(4)}" if exists else target.schema
            ident = _sql().Identifier
            con.execute(_sql().SQL("CREATE SCHEMA {}").format(ident(schema)))
            layers, not_valid = {}, []
            for name in names:
                layers[name] = _create_table(con, schema, plan, CATALOGUE[name])
            for foreign in (False, True):  # UNIQUE keys first: foreign keys point at them
                for name in names:
                    spec = CATALOGUE[name]
                    not_valid += _constraints(con, schema, plan, spec, names, foreign=foreign)
            if exists:
                old = f"{target.schema[:40]}_old_{secrets.token_hex(4)}"
                con.execute(
                    _sql()
                    .SQL("ALTER SCHEMA {} RENAME TO {}")
                    .format(ident(target.schema), ident(old))
                )
                con.execute(
                    _sql()
                    .SQL("ALTER SCHEMA {} RENAME TO {}")
                    .format(ident(schema), ident(target.schema))
                )
                con.execute(_sql().SQL("DROP SCHEMA {} CASCADE").format(ident(old)))
            _styles(con, target.schema, plan, names)
            con.commit()
    finally:
        con.close()
    log.info("published %d layers to %s", len(layers), target)
    return Published(str(target), target.schema, layers, tuple(not_valid))


def _columns(plan: store.PlanData, name: str) -> list[tuple[str, str]]:
    """(column, PostgreSQL type) of the layer's attributes, in the GeoPackage's order."""
    fields = plan.info[name].fields
    frame = plan.layers[name]
    out = []
    for column in frame.columns:
        if column == "geometry" or column == "fid":
            continue
        kind = fields.get(column, "str").split(":")[0]
        out.append((column, _PG_TYPES.get(kind, "text")))
    return out


def _geometry_type(plan: store.PlanData, name: str) -> tuple[str, int] | None:
    frame = plan.layers[name]
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    kind = (plan.info[name].geometry_type or "Geometry").replace("3D ", "")
    if kind == "Unknown":
        kind = "Geometry"
    srid = frame.crs.to_epsg() if frame.crs is not None else None
    if frame.crs is not None and srid is None:
        log.warning("%s: CRS has no EPSG code; stored with SRID 0 (no CRS)", name)
    return kind, int(srid or 0)


def _create_table(con, schema: str, plan: store.PlanData, spec: LayerSpec) -> int:
    sql = _sql()
    columns = _columns(plan, spec.name)
    geometry = _geometry_type(plan, spec.name)
    parts = [sql.SQL("fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")]
    parts += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns]
    if geometry is not None:
        kind, srid = geometry
        parts.append(
            sql.SQL("{} geometry({}, {})").format(
                sql.Identifier(GEOMETRY_COLUMN), sql.SQL(kind), sql.Literal(srid)
            )
        )
    table = sql.Identifier(schema, spec.name)
    con.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(", ").join(parts)))
    count = _copy_rows(con, table, plan.layers[spec.name], columns, geometry)
    con.execute(
        sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'fid'), {}, true)").format(
            sql.Literal(f"{_quoted(schema)}.{_quoted(spec.name)}"),
            sql.Literal(max(int(plan.layers[spec.name].index.max()) if count else 1, 1)),
        )
    )
    if geometry is not None:
        con.execute(
            sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
                sql.Identifier(f"{spec.name[:50]}_geom_gist"),
                table,
                sql.Identifier(GEOMETRY_COLUMN),
            )
        )
    _comments(con, table, spec, [c for c, _ in columns])
    return count


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _cells(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> list[list]:
    out = []
    for column, kind in columns:
        values = frame[column].astype(object).to_numpy()
        cells = []
        for v in values:
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                cells.append(None)
            elif kind in ("bigint", "integer"):
                cells.append(int(v))
            elif kind == "double precision":
                cells.append(float(v))
            elif kind == "boolean":
                cells.append(bool(v))
            elif isinstance(v, np.generic):
                cells.append(v.item())
            else:
                cells.append(v if kind != "text" else str(v))
        out.append(cells)
    return out


def _copy_rows(con, table, frame: pd.DataFrame, columns, geometry) -> int:
    sql = _sql()
    names = ["fid", *(c for c, _ in columns)]
    data = [list(map(int, frame.index)), *_cells(frame, columns)]
    if geometry is not None:
        names.append(GEOMETRY_COLUMN)
        geoms = shapely.set_srid(np.asarray(frame.geometry.array, dtype=object), geometry[1])
        data.append(list(shapely.to_wkb(geoms, hex=True, include_srid=True)))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        table, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with con.cursor().copy(statement) as copy:
        for row in zip(*data, strict=True):
            copy.write_row(row)
    return len(frame)


def _comments(con, table, spec: LayerSpec, columns: list[str]) -> None:
    sql = _sql()
    text = f"{spec.title}. {spec.description}".strip()
    con.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(text)))
    for field in spec.fields:
        if field.name in columns:
            con.execute(
                sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                    table, sql.Identifier(field.name), sql.Literal(_field_comment(field))
                )
            )


def _field_comment(field: FieldSpec) -> str:
    parts = [field.label]
    if field.description:
        parts.append(field.description)
    if field.values:
        parts.append("; ".join(f"{v.value} = {v.label}" for v in field.values))
    return ". ".join(parts)


def _constraints(con, schema, plan, spec: LayerSpec, names, *, foreign: bool) -> list[str]:
    """Add the catalogue's rules; those the data breaks stay NOT VALID (checked on new rows)."""
    sql = _sql()
    table = sql.Identifier(schema, spec.name)
    columns = dict(_columns(plan, spec.name))
    not_valid = []
    import psycopg

    for label, clause, checkable in _rules(spec, columns, names, schema):
        if label.endswith("_fk") != foreign:
            continue
        statement = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            table, sql.Identifier(label[:63]), clause
        )
        try:
            with con.transaction():
                con.execute(statement)
        except psycopg.errors.IntegrityError as exc:  # the data breaks the rule
            if checkable:
                with con.transaction():
                    con.execute(sql.SQL("{} NOT VALID").format(statement))
                not_valid.append(f"{spec.name}.{label}")
                log.warning("%s: constraint %s kept NOT VALID (%s)", spec.name, label, exc)
            else:
                log.warning("%s: constraint %s not added (%s)", spec.name, label, exc)
        except psycopg.Error as exc:  # e.g. a reference to a column that is not unique
            log.warning("%s: constraint %s not added (%s)", spec.name, label, exc)
    return not_valid


def _rules(spec: LayerSpec, columns: dict, names: list[str], schema: str) -> Iterator[tuple]:
    sql = _sql()
    for field in spec.fields:
        if field.name not in columns:
            continue
        column = sql.Identifier(field.name)
        if field.required:
            yield (
                f"{spec.name}_{field.name}_nn",
                sql.SQL("CHECK ({} IS NOT NULL)").format(column),
                True,
            )
        if field.unique:
            yield f"{spec.name}_{field.name}_key", sql.SQL("UNIQUE ({})").format(column), False
        if field.ref and field.ref_layer in names:
            target = CATALOGUE[field.ref_layer]
            yield (
                f"{spec.name}_{field.name}_fk",
                sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({}) ON UPDATE CASCADE").format(
                    column,
                    sql.Identifier(schema, target.name),
                    sql.Identifier(field.ref_field),
                ),
                True,
            )
        elif field.values and columns[field.name] == "text":
            allowed = sql.SQL(", ").join(sql.Literal(v) for v in field.allowed)
            yield (
                f"{spec.name}_{field.name}_check",
                sql.SQL("CHECK ({} IN ({}))").format(column, allowed),
                True,
            )


def _styles(con, schema: str, plan: store.PlanData, names: list[str]) -> None:
    """The package's QGIS style of each layer as its default in public.layer_styles."""
    sql = _sql()
    con.execute(_STYLE_DDL)
    database = con.execute("SELECT current_database()").fetchone()[0]
    classes = plan.layers.get(LAND_USE)
    needed = ["code", "name_zh", "name_en", "color_hex"]  # as qgis_styles reads a GeoPackage
    if classes is not None and set(needed) <= set(classes.columns):
        classes = classes[needed][classes["code"].notna()]
        classes = classes.astype(object).where(classes.notna(), "")
    else:
        classes = None
    for name in names:
        spec = CATALOGUE[name]
        geometry = GEOMETRY_COLUMN if spec.is_spatial and _geometry_type(plan, name) else None
        columns = ["fid", *(c for c, _ in _columns(plan, name))]
        if geometry:
            columns.append(geometry)
        qml = layer_qml(spec, columns, classes)
        where = sql.SQL("f_table_catalog = %s AND f_table_schema = %s AND f_table_name = %s")
        con.execute(
            sql.SQL("DELETE FROM public.layer_styles WHERE {} AND stylename = %s").format(where),
            (database, schema, name, STYLE_NAME),
        )
        con.execute(
            sql.SQL("UPDATE public.layer_styles SET useasdefault = false WHERE {}").format(where),
            (database, schema, name),
        )
        con.execute(
            "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, stylename, styleqml, stylesld, useasdefault, description, ui) "
            "VALUES (%s, %s, %s, %s, %s, XMLPARSE(DOCUMENT %s), NULL, true, %s, NULL)",
            (
                database,
                schema,
                name,
                geometry,
                STYLE_NAME,
                qml,
                f"{spec.title} — miyun-spatial default style (from the layer catalogue)",
            ),
        )


def export(source: PostGISSource, out: Path) -> Path:
    """A GeoPackage snapshot of the schema's catalogue layers (one consistent read)."""
    from ..qgis_styles import styles_for

    plan = source.load()
    layers = {name: plan.layers[name] for name in CATALOGUE.names if name in plan.layers}
    if not layers:
        raise InputError(f"{source}: the schema holds no catalogue layer; nothing to export")
    metadata = {"source": str(source), "source_sha256": plan.sha256}
    return store.write_gpkg(Path(out), layers, metadata=metadata, finish=styles_for(plan))


__all__ = ["Published", "export", "postgis_schema", "publish"]
