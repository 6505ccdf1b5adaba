"""Interactive folium maps for planners: the only place data goes to EPSG:4326.

Every page is self-contained (Leaflet and this package's own small client code inlined), so it
opens on an intranet without internet access; ``MapOptions(offline=True)`` also leaves out all
tile basemaps, so nothing at all is requested.
"""

from importlib import import_module

from .options import BASEMAPS, DEFAULT_BASEMAP, TIANDITU_ENV, MapOptions, tianditu_key_from_env

# the pages import folium (0.4 s): loaded on first use, so that a command which only needs
# the map options (validate, mix ...) starts without it
_LAZY = {"MapInputs": ".page", "Page": ".page", "build_pages": ".writer"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
