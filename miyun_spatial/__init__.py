"""miyun-spatial: the spatial layout of Miyun District's high-tech industry plan as data and answers."""

from importlib.metadata import PackageNotFoundError, version

import pyogrio

try:
    __version__ = version("miyun-spatial")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

# GDAL otherwise writes a '<file>.aux.xml' side file next to a GeoPackage that carries dataset
# metadata when it is merely read: the tool must leave the user's folder as it found it.
pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": "NO"})
