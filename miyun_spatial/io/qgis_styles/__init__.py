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

from .gpkg import add_styles, styles_for
from .qml import layer_qml
from .values import LAND_USE, STYLE_NAME, STYLE_TABLE

__all__ = ["LAND_USE", "STYLE_NAME", "STYLE_TABLE", "add_styles", "layer_qml", "styles_for"]
