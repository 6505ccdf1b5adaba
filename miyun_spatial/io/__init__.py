"""Everything that reads or writes a file or a database: the GeoPackage reader and writer, the
source dispatcher (GeoPackage or PostGIS), imports of deliveries, QGIS styles, atomic output
files and cell escaping, scratch space, the default data's builder. Imports only ``core``."""
