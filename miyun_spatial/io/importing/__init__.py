"""Real deliveries (Shapefile, FileGDB, DXF, GeoJSON...) -> catalogue layers of a new GeoPackage.

One concern per module: ``source`` reads (``archive`` opens zipped deliveries, ``encoding``
decides the text encoding),
``coordinates`` decides the CRS and moves to EPSG:4548, ``geometry`` fits the geometries,
``fields`` maps fields, ``crosswalk`` maps land-use codes to the plan's classes (tables in
``crosswalks/``), ``detect`` decides a field's classification from its codes and names,
``landuse`` ties class fields to source fields and classifications, ``report`` renders the
import report; :mod:`miyun_spatial.flow.importing` ties them together, writes and validates.
"""

from __future__ import annotations

from .crosswalk import CLASSIFICATIONS, load_crosswalk
from .report import ImportReport, render_text

__all__ = [
    "CLASSIFICATIONS",
    "ImportReport",
    "load_crosswalk",
    "render_text",
]
