"""The project stored in the GeoPackage, as QGIS 3.22 stores one (``QgsGeoPackageProjectStorage``).

QGIS keeps projects in a ``qgis_projects`` table (``name TEXT PRIMARY KEY, metadata BLOB,
content BLOB``; not listed in ``gpkg_contents``): ``metadata`` is a small JSON text with the
last modification time and user, ``content`` the ``.qgz`` (a zip holding one ``.qgs``) as
hexadecimal text. QGIS opens it as ``geopackage:/path/results.gpkg?projectName=miyun-spatial``
and resolves the layers' relative sources against the GeoPackage's folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path

from .layers import SETTINGS, project_layers, skipped_tables
from .xml import project_xml

log = logging.getLogger(__name__)

PROJECT_TABLE = "qgis_projects"
PROJECT_NAME: str = SETTINGS["project_name"]
_DDL = f"CREATE TABLE IF NOT EXISTS {PROJECT_TABLE}(name TEXT PRIMARY KEY, metadata BLOB, content BLOB)"


def project_uri(path: Path, name: str = PROJECT_NAME) -> str:
    """The URI QGIS opens the stored project with (``QgsProject.read``, Project > Open From)."""
    return f"geopackage:{Path(path).resolve()}?projectName={name}"


def qgz_bytes(qgs: str, name: str = PROJECT_NAME) -> bytes:
    """A ``.qgz``: the zip QGIS writes, holding the project document as ``NAME.qgs``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.qgs", qgs.encode("utf-8"))
    return buffer.getvalue()


def project_document(path: Path, *, file_name: str | None = None, saved: str | None = None) -> str:
    """The ``.qgs`` text for the feature tables of the GeoPackage at ``path``.

    ``file_name``: the name the layers' sources use (default: ``path``'s own; a build passes
    the final name when ``path`` is the temporary file renamed afterwards).
    """
    saved = saved or datetime.now().replace(microsecond=0).isoformat()
    with contextlib.closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as con:
        layers = project_layers(con)
        for name in skipped_tables(con):
            log.warning("QGIS project: table %r left out (its name is not a safe source)", name)
    return project_xml(layers, file_name or Path(path).name, saved=saved)


def add_project(path: Path, *, file_name: str | None = None, name: str = PROJECT_NAME) -> Path:
    """Store the QGIS project of the GeoPackage at ``path`` in its ``qgis_projects`` table.

    A project of the same ``name`` is replaced; others (saved by users) are kept.
    """
    path = Path(path)
    saved = datetime.now().replace(microsecond=0).isoformat()
    content = qgz_bytes(project_document(path, file_name=file_name, saved=saved), name)
    metadata = json.dumps({"last_modified_time": saved, "last_modified_user": "miyun-spatial"})
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute(_DDL)
        con.execute(
            f"INSERT OR REPLACE INTO {PROJECT_TABLE} (name, metadata, content) VALUES (?, ?, ?)",
            (name, metadata, content.hex()),
        )
    log.info("stored the QGIS project %r in %s", name, path)
    return path


def stored_project(path: Path, name: str = PROJECT_NAME) -> str:
    """The ``.qgs`` text of the project ``name`` stored in the GeoPackage at ``path``."""
    with contextlib.closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as con:
        row = con.execute(f"SELECT content FROM {PROJECT_TABLE} WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise KeyError(f"{path}: no QGIS project named {name!r}")
    with zipfile.ZipFile(io.BytesIO(bytes.fromhex(row[0]))) as archive:
        qgs = next(n for n in archive.namelist() if n.endswith(".qgs"))
        return archive.read(qgs).decode("utf-8")
