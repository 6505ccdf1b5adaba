"""Interactive folium maps for planners: the only place data goes to EPSG:4326.

Every page is self-contained (Leaflet and this package's own small client code inlined), so it
opens on an intranet without internet access; ``MapOptions(offline=True)`` also leaves out all
tile basemaps, so nothing at all is requested.
"""

from .options import BASEMAPS, DEFAULT_BASEMAP, TIANDITU_ENV, MapOptions, tianditu_key_from_env
from .page import MapInputs, Page
from .writer import build_pages

__all__ = [
    "BASEMAPS",
    "DEFAULT_BASEMAP",
    "TIANDITU_ENV",
    "MapInputs",
    "MapOptions",
    "Page",
    "build_pages",
    "tianditu_key_from_env",
]
