"""PostGIS as a ``sources.Source``: the catalogue layers of one schema, read as one snapshot.

Every read runs in a single ``REPEATABLE READ READ ONLY`` transaction, so the layers come from
one committed state of the database: a colleague's save during the read is either wholly seen
or not at all, and the read takes no write lock (only the ACCESS SHARE lock every SELECT
takes). Rows come through psycopg; geometries as WKB (``ST_AsBinary``), attributes through
Arrow to pandas as pyogrio reads a GeoPackage, so a layer read from PostGIS and the same layer
read from a GeoPackage give equal frames (index = fid, same dtypes, same CRS).

Identifiers are quoted with ``psycopg.sql.Identifier`` and values passed as parameters: a
hostile layer, field or value name is data, never SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS

from ...core.catalogue import CATALOGUE
from ...core.code_text import normalise_codes
from ...core.errors import InputError
from ...core.plan import LayerInfo, PlanData, SourceName
from ..single_parts import single_points
from .connect import Target, connect, database_errors, has_postgis, parse_dsn, schema_exists

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "10s"
FULL_CHECK_S = 30.0  # watch: compare the digests at least this often, whatever the counters say
_SIGNATURE_SQL = (
    "SELECT c.relname, c.xmin::text, s.n_tup_ins, s.n_tup_upd, s.n_tup_del, "
    "(SELECT max(a.xmin::text::bigint) FROM pg_attribute a WHERE a.attrelid = c.oid) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid "
    "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname"
)
# PostgreSQL type name -> (fiona-style type reported in LayerInfo.fields, Arrow type, SQL cast)
_TYPES: dict[str, tuple[str, pa.DataType, str | None]] = {
    "text": ("str", pa.string(), None),
    "character varying": ("str", pa.string(), None),
    "character": ("str", pa.string(), None),
    "double precision": ("float", pa.float64(), None),
    "real": ("float", pa.float64(), "double precision"),
    "numeric": ("float", pa.float64(), "double precision"),
    "bigint": ("int", pa.int64(), None),
    "integer": ("int32", pa.int32(), None),
    "smallint": ("int32", pa.int32(), "integer"),
    "boolean": ("bool", pa.bool_(), None),
    "date": ("date", pa.date32(), None),
}
_OTHER = ("str", pa.string(), "text")
_GEOMETRY_NAMES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
    "GEOMETRYCOLLECTION": "GeometryCollection",
}


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str

    @property
    def kind(self) -> tuple[str, pa.DataType, str | None]:
        return _TYPES.get(self.pg_type.split("(")[0], _OTHER)


@dataclass(frozen=True)
class Table:
    """What the catalogue needs to know about one table of the schema."""

    name: str
    oid: int
    fid: str | None
    columns: tuple[Column, ...]
    geometry: str | None = None
    geometry_type: str | None = None
    srid: int = 0


@dataclass(frozen=True)
class PostGISSource:
    """The catalogue layers in one schema of a PostGIS database."""

    target: Target

    @classmethod
    def from_dsn(cls, dsn: str, *, schema: str | None = None) -> PostGISSource:
        return cls(parse_dsn(dsn, schema=schema))

    @property
    def name(self) -> str:
        return self.target.display

    @property
    def schema(self) -> str:
        return self.target.schema

    def __str__(self) -> str:
        return self.target.display

    def signature(self) -> tuple:
        """A cheap 'look again' marker: the schema's tables, their catalogue row versions and
        write counters (pg_stat_all_tables), and a clock tick every FULL_CHECK_S seconds (the
        counters are flushed by the writing session within about a second, not at commit).
        """
        tick = int(time.monotonic() // FULL_CHECK_S)
        try:
            con = connect(self.target, autocommit=True)
        except InputError:
            return (time.monotonic_ns(),)  # unreachable: let the digests say why
        try:
            with database_errors(self.target):
                rows = con.execute(_SIGNATURE_SQL, (self.target.schema,)).fetchall()
        except InputError:
            return (time.monotonic_ns(),)
        finally:
            con.close()
        return (tuple(rows), tick)

    def load(self, *, after_layer: Callable[[str], None] | None = None) -> PlanData:
        """Every catalogue layer of the schema, read in one REPEATABLE READ transaction.

        ``after_layer(name)`` is called after each layer is read (progress, tests of
        concurrent edits).
        """
        with self.snapshot() as con:
            tables = catalogue_tables(con, self.target)
            digests = {name: table_digest(con, self.target, t) for name, t in tables.items()}
            infos, layers = {}, {}
            for name, table in tables.items():
                infos[name], layers[name] = read_table(con, self.target, table)
                if after_layer is not None:
                    after_layer(name)
        layers = single_points(normalise_codes(layers))  # as a GeoPackage is read
        log.info("read %d layers from %s", len(layers), self.target)
        return PlanData(
            SourceName(self.target.display),
            content_sha256(digests),
            MappingProxyType(infos),
            MappingProxyType(layers),
        )

    def layer_digests(self) -> dict[str, str]:
        """SHA-256 of each catalogue layer's columns, CRS and rows, from one snapshot."""
        with self.snapshot() as con:
            tables = catalogue_tables(con, self.target)
            return {name: table_digest(con, self.target, t) for name, t in tables.items()}

    def snapshot(self):
        return snapshot(self.target)


@contextlib.contextmanager
def snapshot(target: Target) -> Iterator:
    """A connection inside one read-only REPEATABLE READ transaction, rolled back after.

    The catalogue tables are locked (ACCESS SHARE, as any SELECT does) before the snapshot is
    taken, so that a ``publish --replace`` committed meanwhile cannot swap tables under it.
    """
    import psycopg
    from psycopg import sql

    con = connect(target)
    try:
        with database_errors(target):
            if not schema_exists(con, target.schema):
                raise InputError(
                    f"{target}: schema '{target.schema}' does not exist; publish the data "
                    f"first (miyun-spatial publish GPKG DSN --schema {target.schema}) or name "
                    "the right schema with ?schema=NAME"
                )
            names = [name for name in _present(con, target.schema) if name in CATALOGUE.names]
            con.rollback()
            con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            con.read_only = True
            con.execute("SELECT set_config('lock_timeout', %s, true)", (LOCK_TIMEOUT,))
            if names:
                tables = sql.SQL(", ").join(_ident(target.schema, n) for n in names)
                con.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(tables))
            yield con
    finally:
        with contextlib.suppress(Exception):
            con.rollback()  # read only: nothing to keep
        con.close()


def _present(con, schema: str) -> dict[str, int]:
    """Tables, views and foreign tables of ``schema``: name -> oid."""
    rows = con.execute(
        "SELECT c.relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        (schema,),
    ).fetchall()
    return dict(rows)


def catalogue_tables(con, target: Target) -> dict[str, Table]:
    """The catalogue layers present in the schema, in catalogue order."""
    present = _present(con, target.schema)
    spatial = _geometry_columns(con, target.schema) if has_postgis(con) else {}
    return {
        name: _table(con, name, present[name], spatial.get(name))
        for name in CATALOGUE.names
        if name in present
    }


def _geometry_columns(con, schema: str) -> dict[str, tuple[str, str, int, int]]:
    rows = con.execute(
        "SELECT f_table_name, f_geometry_column, type, srid, coord_dimension "
        "FROM geometry_columns WHERE f_table_schema = %s ORDER BY f_geometry_column",
        (schema,),
    ).fetchall()
    out: dict[str, tuple[str, str, int, int]] = {}
    for table, column, kind, srid, dims in rows:
        out.setdefault(table, (column, kind, srid, dims))
    return out


def _table(con, name: str, oid: int, geometry) -> Table:
    columns = con.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (oid,),
    ).fetchall()
    keys = con.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s AND i.indisprimary",
        (oid,),
    ).fetchall()
    fid = keys[0][0] if len(keys) == 1 and keys[0][1] in ("bigint", "integer", "smallint") else None
    if geometry is None:
        fields = tuple(Column(c, t) for c, t in columns if c != fid and t != "geometry")
        return Table(name, oid, fid, fields)
    column, kind, srid, dims = geometry
    fields = tuple(Column(c, t) for c, t in columns if c not in (fid, column))
    return Table(name, oid, fid, fields, column, _geometry_name(kind, dims), int(srid or 0))


def _geometry_name(kind: str, dims: int) -> str:
    base = kind.upper().rstrip("M") if kind.upper() not in _GEOMETRY_NAMES else kind.upper()
    name = _GEOMETRY_NAMES.get(base, "Unknown")
    return f"3D {name}" if dims and int(dims) >= 3 and name != "Unknown" else name


def _ident(*parts: str):
    from psycopg import sql

    return sql.Identifier(*parts)


def _order(table: Table):
    from psycopg import sql

    if table.fid is not None:
        return sql.SQL("ORDER BY {}").format(_ident(table.fid))
    return sql.SQL("ORDER BY ctid")


def read_table(con, target: Target, table: Table) -> tuple[LayerInfo, pd.DataFrame]:
    """One table as pyogrio reads a GeoPackage layer: index = fid, Arrow dtypes, WKB geometry."""
    from psycopg import sql

    selected = [_ident(table.fid) if table.fid else sql.SQL("row_number() OVER (ORDER BY ctid)")]
    for column in table.columns:
        cast = column.kind[2]
        ident = _ident(column.name)
        selected.append(sql.SQL("{}::{}").format(ident, sql.SQL(cast)) if cast else ident)
    if table.geometry:
        selected.append(sql.SQL("ST_AsBinary({})").format(_ident(table.geometry)))
    query = sql.SQL("SELECT {} FROM {} {}").format(
        sql.SQL(", ").join(selected), _ident(target.schema, table.name), _order(table)
    )
    rows = con.execute(query).fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(selected)
    arrays = {c.name: pa.array(columns[i + 1], type=c.kind[1]) for i, c in enumerate(table.columns)}
    frame = pa.table(arrays).to_pandas() if arrays else pd.DataFrame(index=range(len(rows)))
    frame.index = pd.Index(pd.array(columns[0], dtype="int64"), name="fid")
    crs = _crs(con, table.srid) if table.geometry else None
    if table.geometry:
        geoms = shapely.from_wkb([bytes(g) if g is not None else None for g in columns[-1]])
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=crs)
    fields = {c.name: c.kind[0] for c in table.columns}
    info = LayerInfo(
        table.name,
        table.geometry_type,
        crs,
        MappingProxyType(fields),
        len(frame),
    )
    return info, frame


def _crs(con, srid: int) -> CRS | None:
    if not srid:
        return None
    row = con.execute(
        "SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s", (srid,)
    ).fetchone()
    if row is None:
        return None
    auth, code, wkt = row
    if auth and auth.upper() == "EPSG" and code:
        return CRS.from_epsg(int(code))
    return CRS.from_wkt(wkt) if wkt else None


def table_digest(con, target: Target, table: Table) -> str:
    """SHA-256 of the table's column names and types, its SRID and every row, in fid order."""
    from psycopg import sql

    query = sql.SQL(
        "SELECT encode(sha256(convert_to(coalesce(string_agg(md5(t::text), '' {}), ''), "
        "'UTF8')), 'hex') FROM {} AS t"
    ).format(_order(table), _ident(target.schema, table.name))
    rows_hash = con.execute(query).fetchone()[0]
    schema = ";".join(f"{c.name}:{c.pg_type}" for c in table.columns)
    head = f"{table.fid}\n{schema}\n{table.geometry}:{table.geometry_type}:{table.srid}\n"
    return hashlib.sha256(f"{head}{rows_hash}".encode()).hexdigest()


def content_sha256(digests: Mapping[str, str]) -> str:
    """One digest of all layers' digests (the provenance of a database read)."""
    text = "\n".join(f"{name}:{digests[name]}" for name in sorted(digests))
    return hashlib.sha256(text.encode()).hexdigest()
