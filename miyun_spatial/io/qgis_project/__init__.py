"""A QGIS project stored inside a GeoPackage (results.gpkg): grouped, ordered, styled layers.

Opening ``results.gpkg`` in QGIS 3.22 (Project > Open From > GeoPackage, or
``QgsProject.read('geopackage:...?projectName=miyun-spatial')``) shows the plan map at once:
layers grouped as ``layers.json`` says (tables it does not name go to its default group),
points over polygons, zones over parcels, each styled by its QML from ``layer_styles``, in
EPSG:4548, zoomed to the district. The layers' sources are relative to the GeoPackage, so the
project keeps working when the file is moved. Generated without QGIS (``xml.etree``).

``add_project`` is meant to run after ``qgis_styles.add_styles`` on the same file.
"""

from .layers import ProjectLayer, project_layers
from .store import (
    PROJECT_NAME,
    PROJECT_TABLE,
    add_project,
    project_document,
    project_uri,
    qgz_bytes,
    stored_project,
)

__all__ = [
    "PROJECT_NAME",
    "PROJECT_TABLE",
    "ProjectLayer",
    "add_project",
    "project_document",
    "project_layers",
    "project_uri",
    "qgz_bytes",
    "stored_project",
]
