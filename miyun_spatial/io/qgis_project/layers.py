"""Which layers the QGIS project shows, in which group and order, read from the GeoPackage.

The groups and the layer -> group table are data (``layers.json``): a table of the file
that the table does not name goes to the default group, so layers other steps add (control
lines, conflicts...) appear without a change here. Views are extra layers of one table drawn
by another field (the parcels by yield grade).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ...core.catalogue import CATALOGUE
from ..qgis_styles import STYLE_NAME, STYLE_TABLE

SETTINGS = json.loads((Path(__file__).with_name("layers.json")).read_text(encoding="utf-8"))
GROUPS: dict[str, str] = {g["key"]: g["label"] for g in SETTINGS["groups"]}
DEFAULT_GROUP: str = SETTINGS["default_group"]
LAYER_GROUPS: dict[str, str] = SETTINGS["layers"]
# points over lines over polygons, whatever the group
GEOMETRY_RANK = {"Point": 0, "Line": 1, "Polygon": 2}
_GEOMETRY = {
    "POINT": "Point",
    "LINESTRING": "Line",
    "POLYGON": "Polygon",
    "CURVEPOLYGON": "Polygon",
}
SAFE_NAME = re.compile(r"^[A-Za-z0-9_]+$")  # a name that is safe in a '|layername=' source


@dataclass(frozen=True)
class Srs:
    srs_id: int
    authid: str
    description: str
    wkt: str


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project: a table of the GeoPackage (or a view of one)."""

    id: str
    table: str
    title: str
    group: str
    geometry: str  # Point / Line / Polygon (QGIS's names)
    extent: tuple[float, float, float, float] | None
    srs: Srs | None
    qml: str | None  # the table's default style (layer_styles), None if it has none
    visible: bool = True
    view: dict | None = None  # the view's entry of layers.json


def _geometry(type_name: str) -> str:
    name = type_name.upper().removeprefix("MULTI")
    return _GEOMETRY.get(name.removesuffix("Z").removesuffix("M").rstrip(), "Polygon")


def _srs(con: sqlite3.Connection, srs_id: int) -> Srs | None:
    row = con.execute(
        "SELECT srs_name, organization, organization_coordsys_id, definition "
        "FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None:
        return None
    name, organization, code, definition = row
    authid = f"{organization.upper()}:{code}" if organization and code is not None else ""
    return Srs(srs_id, authid, name or "", definition or "")


def _styles(con: sqlite3.Connection) -> dict[str, str]:
    """Table -> its default QML (this package's style first, else any default one)."""
    exists = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STYLE_TABLE,)
    ).fetchone()
    if not exists:
        return {}
    rows = con.execute(
        f'SELECT f_table_name, styleQML FROM "{STYLE_TABLE}" WHERE useAsDefault '
        "ORDER BY styleName = ? DESC, id DESC",
        (STYLE_NAME,),
    ).fetchall()
    styles: dict[str, str] = {}
    for table, qml in rows:
        styles.setdefault(table, qml)
    return styles


def _rank(entry: ProjectLayer, order: list[str]) -> tuple:
    return (
        GEOMETRY_RANK.get(entry.geometry, 3),
        order.index(entry.table) if entry.table in order else len(order),
        entry.view is not None,
        entry.id,
    )


def project_layers(con: sqlite3.Connection) -> list[ProjectLayer]:
    """The feature tables of the GeoPackage as project layers, in the layer tree's order.

    Groups in ``layers.json`` order; inside a group points first, then lines, then polygons,
    each in the table's order (unknown tables last, by name). Tables whose name does not fit
    a data source string (``|``, quotes) are left out (``skipped_tables`` names them).
    """
    geometry = {
        table: (column, type_name, srs_id)
        for table, column, type_name, srs_id in con.execute(
            "SELECT table_name, column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns"
        )
    }
    styles = _styles(con)
    layers: list[ProjectLayer] = []
    for table, xmin, ymin, xmax, ymax in con.execute(
        "SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents "
        "WHERE data_type = 'features'"
    ).fetchall():
        if table not in geometry or not SAFE_NAME.match(table):
            continue
        _column, type_name, srs_id = geometry[table]
        extent = None if None in (xmin, ymin, xmax, ymax) else (xmin, ymin, xmax, ymax)
        spec = CATALOGUE.get(table)
        columns = {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
        base = ProjectLayer(
            id=f"miyun_{table}",
            table=table,
            title=spec.title if spec is not None else table,
            group=LAYER_GROUPS.get(table, DEFAULT_GROUP),
            geometry=_geometry(type_name),
            extent=extent,
            srs=_srs(con, srs_id),
            qml=styles.get(table),
        )
        layers.append(base)
        for view in SETTINGS["views"]:
            if view["table"] == table and view["field"] in columns:
                layers.append(
                    ProjectLayer(
                        **{
                            **base.__dict__,
                            "id": f"miyun_{view['name']}",
                            "title": view["title"],
                            "group": view["group"],
                            "visible": bool(view.get("visible", True)),
                            "view": view,
                        }
                    )
                )
    order = list(LAYER_GROUPS)
    groups = list(GROUPS)
    return sorted(
        layers,
        key=lambda e: (
            groups.index(e.group) if e.group in groups else len(groups),
            *_rank(e, order),
        ),
    )


def skipped_tables(con: sqlite3.Connection) -> list[str]:
    """Feature tables left out of the project because their name is not a safe source."""
    rows = con.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")
    return [name for (name,) in rows if not SAFE_NAME.match(name)]


def render_order(layers: list[ProjectLayer]) -> list[ProjectLayer]:
    """The drawing order, top first: every point layer over every line over every polygon,
    the tree's order otherwise (zones over parcels, parcels over the district)."""
    position = {entry.id: i for i, entry in enumerate(layers)}
    return sorted(layers, key=lambda e: (GEOMETRY_RANK.get(e.geometry, 3), position[e.id]))


def district_extent(layers: list[ProjectLayer]) -> tuple[float, float, float, float] | None:
    """The district's extent (``extent_layer``), or every layer's together without it."""
    context = [e.extent for e in layers if e.table == SETTINGS["extent_layer"] and e.extent]
    extents = context or [e.extent for e in layers if e.extent]
    if not extents:
        return None
    return (
        min(e[0] for e in extents),
        min(e[1] for e in extents),
        max(e[2] for e in extents),
        max(e[3] for e in extents),
    )
