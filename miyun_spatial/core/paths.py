"""Where the package and its embedded default GeoPackage live."""

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GPKG = PACKAGE_ROOT.parent / "geodata" / "miyun.gpkg"
