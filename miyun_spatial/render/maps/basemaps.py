"""Tile basemaps and the datum each one needs.

WGS84 basemaps (OpenStreetMap, a light basemap, imagery from xyzservices; Tianditu, whose
CGCS2000 tiles line up with WGS84 at map scale) are offered together in the layer control.
Gaode tiles are in GCJ-02: a Gaode page shifts its data to GCJ-02 for display and offers
Gaode tiles only, so one page never mixes datums. ``none`` draws no tiles; offline pages
never add any.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote

import folium
import numpy as np
import shapely
import xyzservices
import xyzservices.providers as xyz

from ...core.crs import wgs_to_gcj
from .fields import esc
from .options import MapOptions

_WGS84_PROVIDERS = {
    "osm": ("OpenStreetMap 标准地图", xyz.OpenStreetMap.Mapnik),
    "light": ("浅色底图 Light (Esri)", xyz.Esri.WorldGrayCanvas),
    "imagery": ("影像 Imagery (Esri)", xyz.Esri.WorldImagery),
}
_GAODE_PROVIDERS = {
    "gaode": ("高德地图 Gaode", xyz.Gaode.Normal),
    "gaode_satellite": ("高德影像 Gaode imagery", xyz.Gaode.Satellite),
}
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_TIANDITU_ATTRIBUTION = (
    '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a> 国家地理信息公共服务平台'
)


def _provider_layer(name: str, provider: xyzservices.TileProvider, *, show: bool):
    return folium.TileLayer(tiles=provider, name=name, attr=provider.html_attribution, show=show)


def _tianditu_layers(key: str, *, imagery: bool, show: bool) -> list[folium.TileLayer]:
    base, notes = ("img", "cia") if imagery else ("vec", "cva")
    title = "天地图影像 Tianditu imagery" if imagery else "天地图矢量 Tianditu vector"
    safe_key = quote(key, safe="")
    options = {"subdomains": "01234567", "max_zoom": 18, "attr": _TIANDITU_ATTRIBUTION}
    tiles = folium.TileLayer(
        tiles=_TIANDITU_URL.format(layer=base, key=safe_key), name=title, show=show, **options
    )
    labels = folium.TileLayer(
        tiles=_TIANDITU_URL.format(layer=notes, key=safe_key),
        name=f"{title} 注记 labels",
        overlay=True,
        show=show,
        **options,
    )
    return [tiles, labels]


def local_tile_layer(options: MapOptions) -> folium.TileLayer:
    """The local or intranet XYZ source of ``--basemap-tiles``, with its attribution (escaped:
    Leaflet writes attributions as HTML)."""
    return folium.TileLayer(
        tiles=options.tiles_url,
        name="本地底图 Local tiles",
        attr=esc(options.tiles_attribution or ""),
        max_zoom=19,
        show=True,
    )


def tile_layers(options: MapOptions) -> list[folium.TileLayer]:
    """The tile layers a page offers, only the chosen one shown; none when offline or 'none'.

    A ``--basemap-tiles`` source is shown first, offline too (it is the user's own server or
    folder); the public basemaps are then offered beside it, not shown.
    """
    if options.tiles_url:
        local = [local_tile_layer(options)]
        if not options.draws_tiles:
            return local
        others = tile_layers(replace(options, tiles_url=None))
        for layer in others:
            layer.show = False
        return local + others
    if not options.draws_tiles:
        return []
    if options.datum == "GCJ-02":
        return [
            _provider_layer(name, provider, show=i == 0)
            for i, (name, provider) in enumerate(_GAODE_PROVIDERS.values())
        ]
    layers: list[folium.TileLayer] = []
    chosen = options.basemap
    for key, (name, provider) in _WGS84_PROVIDERS.items():
        layers.append(_provider_layer(name, provider, show=key == chosen))
    if options.tianditu_key:
        layers += _tianditu_layers(options.tianditu_key, imagery=False, show=chosen == "tianditu")
        layers += _tianditu_layers(options.tianditu_key, imagery=True, show=False)
    return layers


def display_shift(options: MapOptions) -> Callable[[np.ndarray], np.ndarray] | None:
    """The coordinate shift for display on this page's basemap (lon/lat arrays), or None.

    Only Gaode pages shift (WGS84 -> GCJ-02, with prcoords); measurements never use it.
    """
    return wgs_to_gcj if options.datum == "GCJ-02" else None


def shift_geometries(geoms: np.ndarray, shift: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply a lon/lat coordinate shift to shapely geometries (points outside China unchanged)."""
    with warnings.catch_warnings():
        # prcoords warns and returns points outside China as they are: that is what we want.
        warnings.simplefilter("ignore", UserWarning)
        return shapely.transform(geoms, shift)
