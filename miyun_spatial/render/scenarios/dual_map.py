"""scenario_<code>.html: the base and one scenario on two synchronized Leaflet maps.

folium's ``DualMap`` loads Leaflet.Sync from a CDN, so these pages are plain HTML instead:
Leaflet inline (``render.maps.assets``, as every map page of the tool), the layers as one JSON
document in a ``<script type="application/json">`` (escaped by ``layers.to_json``), and a few
lines of script that keep the two views together. No tile basemap: the district boundary gives
context, and the page requests nothing from any network. Feature text is shown with
``textContent``, never as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from ...analysis.run import Results
from ...analysis.scenarios import ScenarioRun
from ...core.catalogue import CATALOGUE
from ...core.citation import SCHEMATIC_MARK_EN, SCHEMATIC_MARK_ZH
from ...core.crs import to_web_crs
from ...core.landuse import parcel_uses
from ...core.scenario import Scenario
from ...io.outputs import write_text
from ..maps.assets import leaflet_css, leaflet_js, script_tag, style_tag
from ..maps.layers import to_json

ZONES = ("zgc_park", "farmer_bases", "clusters", "land_adjustments")
ZONE_COLOURS = {
    "zgc_park": "#542788",
    "farmer_bases": "#1a9850",
    "clusters": "#2166ac",
    "land_adjustments": "#d6604d",
}
DIGITS = 6  # ~0.1 m in EPSG:4326: for display only

SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('scenario-data').textContent);
  function popup(props) {
    var box = document.createElement('div');
    Object.keys(props).forEach(function (k) {
      var line = document.createElement('div');
      line.textContent = k + ': ' + props[k];
      box.appendChild(line);
    });
    return box;
  }
  function draw(id, side) {
    var map = L.map(id, {zoomSnap: 0.25});
    var overlays = {};
    data.layers.forEach(function (layer) {
      var features = layer[side];
      var group = L.geoJSON(features, {
        style: function (f) {
          var edited = f.properties['修改 edited'] === '是 yes';
          return {color: edited ? '#000000' : layer.stroke, weight: edited ? 3 : 1.2,
                  fillColor: f.properties._fill || layer.stroke,
                  fillOpacity: layer.fill ? 0.6 : 0.05, dashArray: layer.fill ? null : '6 4'};
        },
        onEachFeature: function (f, l) {
          var shown = {};
          Object.keys(f.properties).forEach(function (k) {
            if (k.charAt(0) !== '_') { shown[k] = f.properties[k]; }
          });
          l.bindPopup(function () { return popup(shown); });
        }
      }).addTo(map);
      overlays[layer.title] = group;
    });
    L.control.layers(null, overlays, {collapsed: true}).addTo(map);
    L.control.scale({imperial: false}).addTo(map);
    map.fitBounds(data.bounds);
    return map;
  }
  var a = draw('map-base', 'base'), b = draw('map-scenario', 'scenario');
  var busy = false;
  function follow(from, to) {
    from.on('move', function () {
      if (busy) { return; }
      busy = true;
      to.setView(from.getCenter(), from.getZoom(), {animate: false});
      busy = false;
    });
  }
  follow(a, b);
  follow(b, a);
  window.miyunScenarioMaps = [a, b];
})();
"""

CSS = """
html,body{margin:0;height:100%;overflow:hidden;font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif}
#head{height:64px;padding:4px 10px;box-sizing:border-box;border-bottom:1px solid #999;
font-size:13px;overflow:hidden}#head h1{font-size:16px;margin:0 0 2px}
.pane{position:absolute;top:64px;bottom:0;width:50%}#pane-base{left:0}
#pane-scenario{left:50%;border-left:2px solid #333}.pane .map{position:absolute;top:24px;
bottom:0;left:0;right:0}.pane .title{height:24px;line-height:24px;padding:0 8px;
background:#f2f2f2;font-weight:bold;overflow:hidden;white-space:nowrap}
.mark{color:#b2182b}
"""


def page_name(scenario: Scenario) -> str:
    """The page's file name (scenario codes are letters, digits, - and _: validated)."""
    return f"scenario_{scenario.code}.html"


def write_scenario_maps(run: ScenarioRun, out_dir: Path, *, offline: bool = True) -> list[Path]:
    """One side-by-side page per scenario; ``offline`` is accepted for the command's flag
    (the pages never load tiles)."""
    return [
        write_text(Path(out_dir) / page_name(s), scenario_page(run.base, s, r))
        for s, r in run.scenarios
    ]


def scenario_page(base: Results, scenario: Scenario, results: Results) -> str:
    edited = {(e.layer, e.feature) for e in scenario.edits}
    colours = _class_colours(base)
    order = ("district", "land_parcels", *ZONES)  # outlines above the parcels they hold
    layers = [_layer(base, results, name, edited, colours) for name in order]
    layers = [layer for layer in layers if layer is not None]
    data = {"layers": layers, "bounds": _bounds(base, results, edited)}
    e = html.escape
    return "\n".join(
        [
            "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
            f"<title>{e(scenario.label)} – 情景对比 scenario vs base</title>",
            style_tag(leaflet_css() + CSS),
            script_tag(leaflet_js()),
            "</head><body><div id='head'>",
            f"<h1>情景对比 Scenario vs base: {e(scenario.label)}</h1>",
            f"<div>{e(scenario.description)}</div>",
            f"<div class='mark'>{e(SCHEMATIC_MARK_ZH)} {e(SCHEMATIC_MARK_EN)} · "
            "地块按调整后用地着色 parcels by use after re-designation; 粗黑边 = 情景修改的要素 "
            "thick black outline = features the scenario edits</div></div>",
            "<div class='pane' id='pane-base'><div class='title'>基准 Base</div>"
            "<div class='map' id='map-base'></div></div>",
            f"<div class='pane' id='pane-scenario'><div class='title'>情景 Scenario: "
            f"{e(scenario.label)}</div><div class='map' id='map-scenario'></div></div>",
            f"<script type='application/json' id='scenario-data'>{to_json(data)}</script>",
            script_tag(SCRIPT),
            "</body></html>",
        ]
    )


def _class_colours(results: Results) -> dict[str, str]:
    classes = results.plan.layers.get("land_use_classes")
    if classes is None or "color_hex" not in classes.columns:
        return {}
    return {str(c): str(h) for c, h in zip(classes["code"], classes["color_hex"], strict=False)}


def _layer(base: Results, results: Results, name: str, edited, colours) -> dict | None:
    if name not in base.work:
        return None
    spec = CATALOGUE[name]
    return {
        "title": spec.title,
        "stroke": ZONE_COLOURS.get(name, "#555555"),
        "fill": name == "land_parcels",
        "base": _features(base, name, edited, colours),
        "scenario": _features(results, name, edited, colours),
    }


def _features(results: Results, name: str, edited, colours) -> dict:
    frame = results.work[name]
    spec = CATALOGUE[name]
    web = to_web_crs(frame)
    geoms = shapely.set_precision(np.asarray(web.geometry.values, dtype=object), 10**-DIGITS)
    codes = frame[spec.id_field].astype(str).to_numpy()
    props = _properties(frame, name, spec, colours)
    features = []
    for i, (code, geom) in enumerate(zip(codes, geoms, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        p = {k: v[i] for k, v in props.items()}
        p["修改 edited"] = "是 yes" if (name, code) in edited else "否 no"
        features.append({"type": "Feature", "properties": p, "geometry": _mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def _properties(frame: gpd.GeoDataFrame, name: str, spec, colours) -> dict[str, list]:
    code = frame[spec.id_field].astype(str).tolist()
    out: dict[str, list] = {f"{spec.field(spec.id_field).label_zh} code": code}
    if "name_zh" in frame.columns:
        out["名称 name"] = [None if v is None else str(v) for v in frame["name_zh"].tolist()]
    category = spec.category_field
    if category and category in frame.columns:
        labels = {v.value: v.label for v in spec.field(category).values}
        out[spec.field(category).label] = [labels.get(v, str(v)) for v in frame[category]]
    if name == "land_parcels":
        uses = parcel_uses(frame)
        out["规划用地 planned"] = uses["planned"].astype(str).tolist()
        out["调整后用地 adjusted"] = uses["adjusted"].astype(str).tolist()
        out["_fill"] = [colours.get(u, "#bdbdbd") for u in out["调整后用地 adjusted"]]
    return {k: ["" if v is None else v for v in values] for k, values in out.items()}


def _mapping(geom) -> dict:
    return shapely.geometry.mapping(geom)


def _bounds(base: Results, results: Results, edited) -> list[list[float]]:
    """The edited features of both runs (the park when nothing is drawn), in EPSG:4326."""
    parts: Sequence = []
    for run in (base, results):
        for layer, code in edited:
            frame = run.work.get(layer)
            if frame is None or not CATALOGUE[layer].is_spatial:
                continue
            spec = CATALOGUE[layer]
            parts = [*parts, *frame.geometry[frame[spec.id_field].astype(str) == code]]
    if not parts and base.park is not None:
        frame = base.work[base.park[0]]
        parts = list(frame.geometry[frame["code"].astype(str) == base.park[1]])
    if not parts:
        parts = list(base.work["land_parcels"].geometry)
    box = gpd.GeoSeries(parts, crs=base.work["land_parcels"].crs).to_crs(4326).total_bounds
    return [[float(box[1]), float(box[0])], [float(box[3]), float(box[2])]]
