"""The land-use mix computed in PostGIS, for parcel tables too large to bring into memory.

The same method as the in-memory engine (``metrics.overlay``), as one SQL query per zone layer
run inside the source's REPEATABLE READ snapshot: candidate (zone, parcel) pairs from the GiST
index on the parcels (``ST_Intersects``); a parcel the zone covers (``ST_Covers``, prepared by
PostGIS for the repeated zone) takes its own area without an intersection; only boundary
parcels are intersected (``ST_Intersection``). The pieces' areas are materialised without
their geometries, then summed per zone and use with ``GROUPING SETS`` in the database; only
those sums travel. Python then builds the very tables
of ``metrics.mix`` (``mix_from_class_areas``, ``stack_mix``), so the numbers equal the
engine's to floating-point rounding (tests check 1e-9 relative).

Areas are planar in EPSG:4548: layers stored in another SRID are ``ST_Transform``-ed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from ..core.catalogue import CATALOGUE, ZONE_LAYERS
from ..core.crs import WORK_CRS
from ..core.errors import DataError, InputError
from ..core.landuse import USES
from ..io.postgis.source import PostGISSource, Table, _ident, catalogue_tables, read_table
from . import stack_mix
from .mix import (
    CLASS_CODE,
    CLASSES,
    CURRENT_USE,
    PARCELS,
    PLANNED_USE,
    PROPOSED_USE,
    mix_from_class_areas,
)
from .overlay import ZONE

log = logging.getLogger(__name__)

AUTO_MIN_PARCELS = 200_000  # "auto": parcels at least this many are mixed in the database
ENGINES = ("auto", "memory", "database")
WORK_SRID = WORK_CRS.to_epsg()


def parcel_count(source: PostGISSource) -> int:
    """Number of parcels in the source (0 without a parcel table)."""
    with source.snapshot() as con:
        tables = catalogue_tables(con, source.target)
        if PARCELS.name not in tables:
            return 0
        query = "SELECT count(*) FROM {}"
        from psycopg import sql

        table = _ident(source.schema, PARCELS.name)
        return int(con.execute(sql.SQL(query).format(table)).fetchone()[0])


def use_database(source, engine: str) -> bool:
    """Whether the mix of ``source`` runs in the database for ``engine`` (auto/memory/database)."""
    if engine == "memory":
        return False
    from ..io.sources import is_database

    if not is_database(source):
        if engine == "database":
            raise InputError(
                f"{source}: --engine database needs a PostGIS source (postgresql://...)"
            )
        return False
    return engine == "database" or parcel_count(source) >= AUTO_MIN_PARCELS


def _geom(table: Table):
    from psycopg import sql

    column = _ident(table.geometry)
    if table.srid == WORK_SRID:
        return column
    if not table.srid:
        raise DataError(
            f"layer '{table.name}' has no CRS (SRID 0); set it in the database: "
            f"SELECT UpdateGeometrySRID(..., {WORK_SRID})"
        )
    return sql.SQL("ST_Transform({}, {})").format(column, sql.Literal(WORK_SRID))


def _require(table: Table | None, name: str, fields: Sequence[str], source) -> Table:
    if table is None:
        raise DataError(f"{source}: layer '{name}' is missing; the mix needs it")
    have = {c.name for c in table.columns}
    for field in fields:
        if field not in have:
            raise DataError(f"{source}: layer '{name}' has no field '{field}'; add it")
    if name != CLASSES.name and table.geometry is None:
        raise DataError(f"{source}: layer '{name}' has no geometry column")
    return table


def _check_parcels(con, source, parcels: Table, classes: Table, uses: Sequence[str]) -> None:
    """DataError naming a parcel with an empty or unknown land-use code (as the engine does)."""
    from psycopg import sql

    p = _ident(source.schema, parcels.name)
    c = _ident(source.schema, classes.name)
    code = _ident(PARCELS.id_field)
    fields = _use_fields(uses)
    if "adjusted" in uses and PROPOSED_USE in {col.name for col in parcels.columns}:
        fields.append(PROPOSED_USE)
    for field in fields:
        f = _ident(field)
        if field != PROPOSED_USE:
            row = con.execute(
                sql.SQL(
                    "SELECT {}::text, count(*) OVER () FROM {} WHERE {} IS NULL LIMIT 1"
                ).format(code, p, f)
            ).fetchone()
            if row:
                raise DataError(
                    f"layer '{parcels.name}' feature {row[0]}: '{field}' is empty ({row[1]} "
                    "parcels); fill in a land_use_classes code"
                )
        row = con.execute(
            sql.SQL(
                "SELECT {code}::text, {f}::text FROM {p} WHERE {f} IS NOT NULL AND {f}::text "
                "NOT IN (SELECT {cc}::text FROM {c} WHERE {cc} IS NOT NULL) LIMIT 1"
            ).format(code=code, f=f, p=p, cc=_ident(CLASS_CODE), c=c)
        ).fetchone()
        if row:
            raise DataError(
                f"layer '{parcels.name}' feature {row[0]}: '{field}' = '{row[1]}' is not a code "
                f"of {CLASSES.name}; add the class or correct the code"
            )


def _zone_areas(con, source, table: Table) -> pd.Series:
    from psycopg import sql

    spec = CATALOGUE[table.name]
    code = _ident(spec.id_field)
    rows = con.execute(
        sql.SQL("SELECT {}::text, ST_Area({}) FROM {} ORDER BY {}").format(
            code, _geom(table), _ident(source.schema, table.name), _ident(table.fid or "ctid")
        )
    ).fetchall()
    index = pd.Index([r[0] for r in rows], name=ZONE)
    if index.hasnans or not index.is_unique:
        bad = index[index.isna() | index.duplicated()][:1].tolist()
        raise DataError(
            f"layer '{table.name}': feature code {bad[0] if bad else '?'} is empty or used "
            "more than once; give each feature its own code"
        )
    return pd.Series([float(r[1]) for r in rows], index=index, name="zone_area_m2")


def _class_sums(con, source, zones: Table, parcels: Table, uses: Sequence[str]) -> pd.DataFrame:
    """(use, zone, class, m²) from one query: covered parcels whole, boundary ones intersected."""
    from psycopg import sql

    has_proposed = PROPOSED_USE in {c.name for c in parcels.columns}
    adjusted = (
        sql.SQL("coalesce({}, {})").format(_ident(PROPOSED_USE), _ident(PLANNED_USE))
        if has_proposed
        else _ident(PLANNED_USE)
    )
    expressions = {"current": _ident(CURRENT_USE), "planned": _ident(PLANNED_USE)}
    expressions["adjusted"] = adjusted
    use_columns = sql.SQL(", ").join(
        sql.SQL("{}::text AS {}").format(expressions[u], _ident(f"u_{u}")) for u in uses
    )
    sets = sql.SQL(", ").join(sql.SQL("(zone, {})").format(_ident(f"u_{u}")) for u in uses)
    grouping = sql.SQL(", ").join(_ident(f"u_{u}") for u in uses)
    use_names = sql.SQL(", ").join(sql.SQL("p.{}").format(_ident(f"u_{u}")) for u in uses)
    query = sql.SQL(
        """
        WITH z AS MATERIALIZED (
            SELECT {code}::text AS zone, {zgeom} AS geom FROM {zones}
        ), p AS (
            SELECT {pgeom} AS geom, {use_columns} FROM {parcels}
        ), pieces AS MATERIALIZED (
            SELECT z.zone, {use_names},
                   CASE WHEN ST_Covers(z.geom, p.geom) THEN ST_Area(p.geom)
                        ELSE ST_Area(ST_Intersection(z.geom, p.geom)) END AS area
            FROM z JOIN p ON ST_Intersects(z.geom, p.geom)
        )
        SELECT zone, GROUPING({grouping}) AS g, {grouping}, sum(area)
        FROM pieces GROUP BY GROUPING SETS ({sets})
        """
    ).format(
        code=_ident(CATALOGUE[zones.name].id_field),
        zgeom=_geom(zones),
        zones=_ident(source.schema, zones.name),
        pgeom=_geom(parcels) if parcels.srid != WORK_SRID else _ident(parcels.geometry),
        use_columns=use_columns,
        parcels=_ident(source.schema, parcels.name),
        grouping=grouping,
        use_names=use_names,
        sets=sets,
    )
    con.execute("SELECT set_config('jit', 'off', true)")  # compiling costs more than it saves
    rows = con.execute(query).fetchall()
    n = len(uses)
    records = []
    for zone, g, *rest in rows:
        values, area = rest[:n], rest[n]
        for i, use in enumerate(uses):  # the set's own column is the one not aggregated away
            if not (g >> (n - 1 - i)) & 1:
                records.append((use, zone, values[i], float(area)))
    return pd.DataFrame(records, columns=["use", ZONE, "class", "area_m2"])


def _wide(sums: pd.DataFrame, use: str, zone_m2: pd.Series) -> pd.DataFrame:
    part = sums[(sums["use"] == use) & (sums["area_m2"] > 0)]
    wide = part.pivot_table(
        index=ZONE, columns="class", values="area_m2", aggfunc="sum", fill_value=0.0
    )
    wide = wide.reindex(zone_m2.index, fill_value=0.0).astype(float)
    wide.columns = pd.Index(wide.columns.astype(object), name="class")
    wide.index = zone_m2.index
    return wide


def database_mix_tables(
    source: PostGISSource,
    *,
    layers: Sequence[str] = ZONE_LAYERS,
    uses: Sequence[str] = USES,
) -> dict[str, pd.DataFrame]:
    """``mix`` and ``mix_indices`` as ``metrics.mix_tables`` gives them, computed in PostGIS."""
    with source.snapshot() as con:
        tables = catalogue_tables(con, source.target)
        parcels = _require(
            tables.get(PARCELS.name), PARCELS.name, [PARCELS.id_field, *_use_fields(uses)], source
        )
        classes_table = _require(tables.get(CLASSES.name), CLASSES.name, [CLASS_CODE], source)
        _check_parcels(con, source, parcels, classes_table, uses)
        _, classes = read_table(con, source.target, classes_table)
        parts = {}
        for name in layers:
            if name not in tables:
                continue
            zones = _require(tables[name], name, [CATALOGUE[name].id_field], source)
            zone_m2 = _zone_areas(con, source, zones)
            sums = _class_sums(con, source, zones, parcels, uses)
            areas = {use: _wide(sums, use, zone_m2) for use in uses}
            parts[name] = mix_from_class_areas(areas, zone_m2, classes=classes, zone_layer=name)
            log.info("%s: mixed %d zones in the database", name, len(zone_m2))
    if not parts:
        raise DataError(f"{source}: none of the zone layers {', '.join(layers)} is present")
    return stack_mix(parts, classes)


def _use_fields(uses: Sequence[str]) -> list[str]:
    """The parcel fields the uses read (``adjusted`` falls back on ``planned_use``)."""
    fields = [CURRENT_USE] if "current" in uses else []
    return fields + ([PLANNED_USE] if {"planned", "adjusted"} & set(uses) else [])


__all__ = ["AUTO_MIN_PARCELS", "ENGINES", "database_mix_tables", "parcel_count", "use_database"]
