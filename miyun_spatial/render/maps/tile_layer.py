"""The land-use page's tiled parcels: the tile tasks, and the Leaflet layer that shows them.

Parcel layers above ``MapOptions.tiles_above`` parcels are drawn from ``tiles/<use>/`` (see
:mod:`.tiles`): one Leaflet tile layer per use, switched by the page's view switch (only
the shown one loads tiles), with relative URLs (``file://`` and a web server alike). A click
at or beyond ``CLICK_ZOOM_BELOW`` zooms under the top one loads that tile's lookup
(``tiles/lookup/z/x/y.js``, a ``<script>`` element: ``fetch`` is refused on ``file://``) and
opens the parcel's code, classes and area.
"""

from __future__ import annotations

from pathlib import Path

import folium
import numpy as np
from jinja2 import Template

from ...core.catalogue import CATALOGUE
from ...core.landuse import parcel_uses
from ...core.palette import UNCOVERED_COLOR, land_use_colors, land_use_labels
from .layers import to_json
from .tile_lookup import lookup_frame
from .tiles import (
    FOLDER,
    USES,
    TileData,
    palette_codes,
    tile_grid,
    write_index,
    write_metatiles,
    write_overviews,
)

PARTS = 2  # tile tasks (metatiles split between them), then one for the overviews
CLICK_ZOOM_BELOW = 3
OPACITY = 0.75  # as the vector parcels' fill
CODE = CATALOGUE["land_parcels"].id_field


def uses_tiles(inputs) -> bool:
    parcels = inputs.layer("land_parcels")
    return parcels is not None and len(parcels) > inputs.options.tiles_above


def tile_data(inputs) -> TileData:
    """The parcels' geometry, palette index per use and lookup rows (see :mod:`.tiles`)."""
    from .basemaps import display_shift
    from .page import feature_areas_ha

    parcels = inputs.layer("land_parcels")
    classes = inputs.table("land_use_classes")
    uses = parcel_uses(parcels)  # as the land-use page's views
    by_use = {use: uses[use].astype("category") for use in USES}
    colors = land_use_colors(classes) if classes is not None else {}
    codes, palette = palette_codes(by_use, colors, UNCOVERED_COLOR)
    lookup = lookup_frame(parcels[CODE], by_use, feature_areas_ha(parcels))
    return TileData(
        np.asarray(parcels.geometry.array), codes, palette, lookup, display_shift(inputs.options)
    )


def grid_of(inputs):
    from .basemaps import display_shift

    parcels = inputs.layer("land_parcels")
    return tile_grid(parcels.total_bounds, display_shift(inputs.options))


def tile_tasks(inputs, out_dir: Path) -> list:
    """'maps: tiles i/n' (metatiles, in parallel) and 'maps: tile overviews' after them.
    Their values are empty page lists (the maps step collects pages)."""
    from ...core.parallel import Task

    if not uses_tiles(inputs):
        return []

    def part(i: int) -> list:
        write_metatiles(tile_data(inputs), grid_of(inputs), out_dir, part=i, parts=PARTS)
        return []

    labels = [f"maps: tiles {i + 1}/{PARTS}" for i in range(PARTS)]
    tasks = [Task(label, lambda _, i=i: part(i), writes=False) for i, label in enumerate(labels)]

    def overviews(_) -> list:
        write_overviews(grid_of(inputs), USES, out_dir)
        write_index(out_dir)
        return []

    overview = Task(
        "maps: tile overviews",
        overviews,
        tuple(labels),
        writes=False,
    )
    return [*tasks, overview]


class ParcelTiles(folium.map.Layer):
    """The tile layers of every use in one Leaflet layer group, registered as ``key``."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
{{ this.script }}
var {{ this.get_name() }} = miyun.parcelTiles({{ this._parent.get_name() }}, {{ this.options_json }});
{% endmacro %}
"""
    )

    def render(self, **kwargs) -> None:
        self.get_root().header.add_child(self.header, name="miyun_tile_index")
        super().render(**kwargs)

    def __init__(self, inputs, *, key: str, name: str, views, initial: str, show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ParcelTiles"
        grid = grid_of(inputs)
        classes = inputs.table("land_use_classes")
        west, south, east, north = grid.bounds
        self.script = TILES_JS
        # loaded before the layer is made (synchronous: file:// forbids fetch, not scripts)
        index = f'<script src="{FOLDER}/index.js"></script>'
        self.header = folium.Element(index)
        self.options_json = to_json(
            {
                "key": key,
                "base": FOLDER,
                "views": [{"field": f, "use": use} for f, use, _ in views],
                "initial": initial,
                "minZoom": grid.min_zoom,
                "maxZoom": grid.max_zoom,
                "clickZoom": grid.max_zoom - CLICK_ZOOM_BELOW,
                "bounds": [[south, west], [north, east]],
                "opacity": OPACITY,
                "show": show,
                "labels": land_use_labels(classes) if classes is not None else {},
                "useLabels": [label for _, _, label in views],
            }
        )


TILES_JS = r"""
if (!miyun.parcelTiles) miyun.parcelTiles = function (map, o) {
  var group = L.layerGroup(), layers = {}, cache = {}, pending = {};
  var index = window.miyunTileIndex || {};  // tiles/index.js: the tiles that exist
  var Tiles = L.TileLayer.extend({
    createTile: function (coords, done) {
      if (index[coords.z + "/" + coords.x + "/" + coords.y]) {
        return L.TileLayer.prototype.createTile.call(this, coords, done);
      }
      var empty = document.createElement("div");
      L.Util.requestAnimFrame(L.Util.bind(done, this, null, empty));
      return empty;
    }
  });
  o.views.forEach(function (v) {
    layers[v.field] = new Tiles(o.base + "/" + v.use + "/{z}/{x}/{y}.png", {
      minZoom: Math.max(o.minZoom - 2, 0), minNativeZoom: o.minZoom, maxNativeZoom: o.maxZoom,
      maxZoom: 22, bounds: o.bounds, opacity: o.opacity, className: "miyun-tiles-" + v.field
    });
  });
  group.addLayer(layers[o.initial]);
  group.miyunSetView = function (field) { group.clearLayers(); group.addLayer(layers[field]); };
  miyun.layers[o.key] = group;
  if (o.show) { group.addTo(map); }
  window.miyunTileLookup = function (key, data) {
    cache[key] = data;
    (pending[key] || []).forEach(function (f) { f(data); });
    delete pending[key];
  };
  var label = function (code) {
    return code === null ? "—" : miyun.esc(o.labels[code] || code);
  };
  var html = function (r) {
    var ha = r[4], rows = "<tr><th>地块编码 Code</th><td>" + miyun.esc(r[0]) + "</td></tr>";
    o.useLabels.forEach(function (name, i) {
      rows += "<tr><th>" + miyun.esc(name) + "</th><td>" + label(r[1 + i]) + "</td></tr>";
    });
    if (ha !== null) {
      rows += "<tr><th>面积 Area</th><td>" + ha.toFixed(2) + " ha · " +
        (ha * miyun.config.muPerHa).toFixed(1) + " 亩</td></tr>";
    }
    return '<table class="miyun-details miyun-tile-parcel">' + rows + "</table>";
  };
  // the parcel under latlng, from the top-zoom tile's lookup: callback(row or null)
  miyun.tileParcel = function (latlng, callback) {
    var p = map.project(latlng, o.maxZoom), tx = Math.floor(p.x / 256), ty = Math.floor(p.y / 256);
    var key = o.maxZoom + "/" + tx + "/" + ty;
    var pick = function (d) {
      if (!d) { callback(null); return; }
      var cx = Math.floor((p.x - tx * 256) / 256 * d.grid), cy = Math.floor((p.y - ty * 256) / 256 * d.grid);
      var i = d.g[cy * d.grid + cx];
      callback(i >= 0 ? d.p[i] : null);
    };
    if (key in cache) { pick(cache[key]); return; }
    if (pending[key]) { pending[key].push(pick); return; }
    pending[key] = [pick];
    var s = document.createElement("script");
    s.src = o.base + "/lookup/" + key + ".js";
    s.onerror = function () { cache[key] = null; var f = pending[key] || []; delete pending[key]; f.forEach(function (g) { g(null); }); };
    document.head.appendChild(s);
  };
  map.on("click", function (e) {
    if (!map.hasLayer(group) || map.getZoom() < o.clickZoom) { return; }
    miyun.tileParcel(e.latlng, function (r) {
      if (r) { L.popup({ maxWidth: 420 }).setLatLng(e.latlng).setContent(html(r)).openOn(map); }
    });
  });
  return group;
};
"""
