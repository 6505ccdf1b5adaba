"""The browser side of every page: this project's own small JavaScript and CSS, inlined.

Layers are styled in the browser from a small class -> colour table (one function per layer,
not one ``switch`` case per feature as folium's Python ``style_function`` emits) and drawn on
the canvas renderer. The controls folium takes from CDN plugins (full screen, measure, mouse
position, search) are written here, short, against Leaflet's public API, so that pages need
nothing but Leaflet.

Every string property in a page's GeoJSON was HTML-escaped in Python (see ``layers.py``), so
it may go into ``innerHTML``; search queries are escaped the same way before matching.
"""

from __future__ import annotations

CLIENT_JS = r"""
(function () {
  "use strict";
  var M = (window.miyun = { layers: {}, index: [], config: {} });
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
    "\x7b": "&#123;", "\x7d": "&#125;" };  // as fields.esc: braces never reach a template
  M.esc = function (s) {
    return String(s).replace(/[&<>"'\x7b\x7d]/g, function (c) { return ESC[c]; });
  };

  // Hatched fill (for "not assessed" classes): a canvas pattern usable as a fill colour.
  var patterns = {};
  // tint: the class colour as background under a dark hatch (strategic reserve land)
  M.hatch = function (color, tint) {
    var key = color + (tint ? " tint" : "");
    if (!patterns[key]) {
      var c = document.createElement("canvas"), ctx = c.getContext("2d");
      c.width = c.height = 8;
      ctx.fillStyle = tint ? color : "#f4f4f4"; ctx.fillRect(0, 0, 8, 8);
      ctx.strokeStyle = tint ? "rgba(40,60,20,.6)" : color; ctx.lineWidth = tint ? 1 : 1.5;
      ctx.beginPath(); ctx.moveTo(-2, 10); ctx.lineTo(10, -2); ctx.moveTo(-2, 2);
      ctx.lineTo(2, -2); ctx.moveTo(6, 10); ctx.lineTo(10, 6); ctx.stroke();
      patterns[key] = ctx.createPattern(c, "repeat");
    }
    return patterns[key];
  };

  // One style function per layer, fed by a small table: spec.colors[value of spec.field].
  M.styler = function (spec) {
    return function (feature) {
      var p = feature.properties || {};
      var k = p[spec.field], c = spec.colors ? spec.colors[k] : undefined;
      var hatched = spec.hatch && c && spec.hatch.indexOf(k) >= 0;
      return {
        color: spec.outline_by_class && c ? c : spec.color,
        weight: spec.weight,
        opacity: spec.opacity,
        fill: spec.fill_opacity > 0,
        fillColor: hatched ? M.hatch(c, spec.hatch_tint) : c || spec.fill,
        fillOpacity: spec.fill_opacity,
        dashArray: p._s ? spec.dash : spec.solid_dash || null,
        radius: p._r || spec.radius
      };
    };
  };

  M.highlight = function (e) {
    var l = e.target;
    if (l.setStyle) {
      l.setStyle({ weight: (l.options.weight || 1) + 2, color: "#00bcd4" });
      if (l.bringToFront) { l.bringToFront(); }
    }
  };
  M.unhighlight = function (e) {
    var l = e.target;
    if (l._miyunGroup) { l._miyunGroup.resetStyle(l); }
  };

  M.layerOptions = function (key, spec) {
    var style = M.styler(spec);
    var interactive = spec.interactive !== false;
    return {
      miyunSpec: spec,
      style: style,
      interactive: interactive,
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, L.extend({ interactive: interactive }, style(f)));
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        layer._miyunKey = key;
        if (p._q) { M.index.push({ q: p._q.toLowerCase(), label: p._q, layer: layer }); }
        if (spec.label && p._l) { M.addLabel(layer, spec, p); }
        if (interactive) { layer.on({ mouseover: M.highlight, mouseout: M.unhighlight }); }
      }
    };
  };

  // Popup / tooltip table of a feature: labels and values were escaped in Python; repeated
  // values arrive as indices into spec.lookups[key].
  M.details = function (spec, n) {
    var columns = n ? spec.columns.slice(0, n) : spec.columns;
    return function (layer) {
      var p = layer.feature.properties, rows = "";
      columns.forEach(function (c) {
        var v = p[c.key], lookup = spec.lookups[c.key];
        if (lookup && v !== null && v !== undefined) { v = lookup[v]; }
        if (c.optional && (v === null || v === undefined || v === "")) { return; }
        rows += "<tr><th>" + c.label + "</th><td>" +
          (v === null || v === undefined || v === "" ? "—" : v) + "</td></tr>";
      });
      return '<table class="miyun-details">' + rows + "</table>";
    };
  };

  M.register = function (key, group, map) {
    var details = group.options.miyunSpec.details;
    M.layers[key] = group;
    if (M.map !== map) { M.initFace(map); }
    group.eachLayer(function (l) { l._miyunGroup = group; });
    if (details) {
      group.bindPopup(M.details(details, 0), { maxWidth: 420 });
      if (details.tooltip) {
        group.bindTooltip(M.details(details, details.tooltip), { sticky: true });
      }
    }
  };

  // Zoom to a feature, show its group, open its popup.
  M.show = function (map, layer) {
    var group = layer._miyunGroup, center;
    if (group && !map.hasLayer(group)) { map.addLayer(group); }
    if (layer.getBounds) {
      var b = layer.getBounds();
      map.fitBounds(b, { maxZoom: 16, padding: [40, 40], animate: false });
      center = b.getCenter();
    } else {
      center = layer.getLatLng();
      map.setView(center, Math.max(map.getZoom(), 14), { animate: false });
    }
    layer.fire("click", { latlng: center }, true);
  };

  function icon(path) {
    return '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">' +
      '<path d="' + path + '" fill="none" stroke="#333" stroke-width="1.8"/></svg>';
  }
  function button(bar, title, svgPath) {
    var a = L.DomUtil.create("a", "miyun-button", bar);
    a.href = "#"; a.title = title; a.setAttribute("role", "button");
    a.setAttribute("aria-label", title);
    a.innerHTML = icon(svgPath);
    return a;
  }

  M.Panel = L.Control.extend({
    options: { position: "bottomright", html: "", className: "" },
    onAdd: function () {
      var d = L.DomUtil.create("div", "miyun-panel " + this.options.className);
      d.innerHTML = this.options.html;  // built and escaped in Python
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }
  });

  M.Fullscreen = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function (map) {
      var bar = L.DomUtil.create("div", "leaflet-bar miyun-fullscreen");
      var a = button(bar, "全屏 Full screen", "M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5");
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(a, "click", function (e) {
        L.DomEvent.preventDefault(e);
        var el = map.getContainer();
        if (document.fullscreenElement) {
          document.exitFullscreen();
        } else if (el.requestFullscreen) {
          el.requestFullscreen().catch(function () {
            document.body.classList.toggle("miyun-full");
            map.invalidateSize();
          });
        } else {
          document.body.classList.toggle("miyun-full");
          map.invalidateSize();
        }
      });
      document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
      return bar;
    }
  });

  // Planar-enough for a district: great-circle distances, spherical polygon area.
  M.sphericalArea = function (pts) {
    var R = 6378137, rad = Math.PI / 180, total = 0;
    for (var i = 0; i < pts.length; i++) {
      var a = pts[i], b = pts[(i + 1) % pts.length];
      total += (b.lng - a.lng) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
    }
    return Math.abs(total * R * R / 2);
  };
  function fmtLength(m) {
    return m < 1000 ? m.toFixed(0) + " m" : (m / 1000).toFixed(2) + " km";
  }
  function fmtArea(m2) {
    var ha = m2 / 10000;
    return ha.toFixed(2) + " ha（" + (ha * (M.config.muPerHa || 15)).toFixed(1) + " 亩）";
  }

  M.Measure = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function (map) {
      var self = this;
      var bar = L.DomUtil.create("div", "leaflet-bar miyun-measure");
      var a = button(bar, "测量距离与面积 Measure distance and area",
        "M1 11L11 1l4 4L5 15zM4 8l2 2M7 5l2 2");
      this._out = L.DomUtil.create("div", "miyun-measure-out", bar);
      this._out.hidden = true;
      this._map = map;
      this._pts = [];
      this._group = L.featureGroup();
      L.DomEvent.disableClickPropagation(bar);
      L.DomEvent.on(a, "click", function (e) { L.DomEvent.preventDefault(e); self.toggle(); });
      return bar;
    },
    toggle: function () {
      var map = this._map, self = this;
      this._on = !this._on;
      map.getContainer().classList.toggle("miyun-measuring", this._on);
      M.measuring = this._on;
      // while measuring, features are not interactive: a click on one adds a point
      Object.keys(M.layers).forEach(function (key) {
        M.layers[key].eachLayer(function (l) {
          if (self._on) {
            l._miyunInteractive = l.options.interactive;
            l.options.interactive = false;
          } else if (l._miyunInteractive !== undefined) {
            l.options.interactive = l._miyunInteractive;
          }
        });
      });
      map.closePopup();
      if (this._on) {
        this._pts = [];
        this._group.addTo(map);
        map.doubleClickZoom.disable();
        map.on("click", this._add, this);
        this._out.hidden = false;
        this._draw();
      } else {
        map.off("click", this._add, this);
        map.doubleClickZoom.enable();
        this._group.clearLayers().remove();
        this._out.hidden = true;
      }
    },
    _add: function (e) { this._pts.push(e.latlng); this._draw(); },
    _draw: function () {
      var pts = this._pts, g = this._group, d = 0, i;
      var line = { color: "#e91e63", weight: 2, interactive: false };
      g.clearLayers();
      if (pts.length > 2) {
        L.polygon(pts, L.extend({}, line, { weight: 1, dashArray: "4 4", fillOpacity: 0.1 })).addTo(g);
      }
      if (pts.length > 1) { L.polyline(pts, line).addTo(g); }
      for (i = 0; i < pts.length; i++) {
        L.circleMarker(pts[i], L.extend({}, line, { radius: 3 })).addTo(g);
        if (i > 0) { d += pts[i - 1].distanceTo(pts[i]); }
      }
      var text = "点击地图添加测点 Click the map to add points";
      if (pts.length > 1) { text = "距离 Distance: " + fmtLength(d); }
      if (pts.length > 2) { text += "<br>面积 Area: " + fmtArea(M.sphericalArea(pts)); }
      this._out.innerHTML = text +
        "<br><small>球面近似，仅供参考 spherical approximation, for orientation only</small>";
    }
  });

  M.MousePosition = L.Control.extend({
    options: { position: "bottomleft", datum: "WGS84" },
    onAdd: function (map) {
      var d = L.DomUtil.create("div", "miyun-mouse");
      var datum = this.options.datum;
      d.textContent = datum;
      map.on("mousemove", function (e) {
        d.textContent = datum + " 纬度 lat " + e.latlng.lat.toFixed(5) +
          ", 经度 lon " + e.latlng.lng.toFixed(5);
      });
      return d;
    }
  });

  M.Search = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function (map) {
      var box = L.DomUtil.create("div", "leaflet-bar miyun-search");
      var input = L.DomUtil.create("input", "", box);
      var list = L.DomUtil.create("ul", "", box);
      input.type = "search";
      input.placeholder = "搜索名称或编码 Search name or code";
      input.setAttribute("aria-label", input.placeholder);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      function choose(hit) { list.innerHTML = ""; M.show(map, hit.layer); }
      input.addEventListener("input", function () {
        list.innerHTML = "";
        var q = M.esc(input.value.trim().toLowerCase());
        if (!q) { return; }
        var hits = M.index.filter(function (h) { return h.q.indexOf(q) >= 0; }).slice(0, 12);
        hits.forEach(function (hit) {
          var li = L.DomUtil.create("li", "", list);
          li.innerHTML = hit.label;  // escaped in Python
          li.tabIndex = 0;
          // the list item is removed on choosing: the click must not reach the map (which
          // would take it for a click on the map and close the popup just opened)
          li.addEventListener("click", function (e) { L.DomEvent.stop(e); choose(hit); });
          li.addEventListener("keydown", function (e) { if (e.key === "Enter") { choose(hit); } });
        });
        if (!hits.length) { list.innerHTML = '<li class="miyun-none">无结果 No match</li>'; }
      });
      input.addEventListener("keydown", function (e) {
        var first = M.index.filter(function (h) {
          return h.q.indexOf(M.esc(input.value.trim().toLowerCase())) >= 0;
        })[0];
        if (e.key === "Enter" && input.value.trim() && first) { choose(first); }
      });
      return box;
    }
  });

  // Radio buttons that restyle one layer by another attribute (e.g. current / planned use).
  M.ViewSwitch = L.Control.extend({
    options: { position: "topright", layer: "", initial: "", title: "", views: [] },
    onAdd: function () {
      var o = this.options;
      var d = L.DomUtil.create("div", "miyun-panel miyun-views");
      L.DomUtil.create("div", "miyun-heading", d).innerHTML = o.title;
      o.views.forEach(function (v) {
        var label = L.DomUtil.create("label", "", d);
        var r = L.DomUtil.create("input", "", label);
        r.type = "radio"; r.name = "miyun-view-" + o.layer; r.value = v.field; r.checked = v.field === o.initial;
        L.DomUtil.create("span", "", label).innerHTML = " " + v.label;
        r.addEventListener("change", function () { M.setView(o.layer, v.field); });
      });
      L.DomEvent.disableClickPropagation(d);
      setTimeout(function () { M.markView(o.layer, o.initial); }, 0);
      return d;
    }
  });
  M.setView = function (key, field) {
    var g = M.layers[key];
    if (g.miyunSetView) { g.miyunSetView(field); M.markView(key, field); return; }  // tiles
    g.options.miyunSpec.field = field;
    g.eachLayer(function (l) { g.resetStyle(l); });
    M.markView(key, field);
  };
})();
"""

CLIENT_CSS = r"""
.miyun-panel { background: rgba(255,255,255,.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font: 12px/1.45 "Helvetica Neue", Arial,
  "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; max-width: 340px;
  max-height: 42vh; overflow: auto; }
.miyun-title { max-height: 20vh; }
.miyun-panel h1 { font-size: 15px; margin: 0 0 2px; }
.miyun-panel p { margin: 2px 0; }
.miyun-panel a { color: #1f4e9c; }
.miyun-heading, .miyun-panel summary { font-weight: bold; cursor: pointer; }
.miyun-legend table { border-collapse: collapse; }
.miyun-legend td { padding: 1px 4px; vertical-align: middle; }
.miyun-legend td.num { text-align: right; white-space: nowrap; }
.miyun-legend .sw { display: inline-block; width: 16px; height: 12px; border: 1px solid #555; }
.miyun-legend .sw.dot { border-radius: 50%; width: 12px; }
.miyun-legend .sw.line { height: 0; border-width: 2px 0 0; width: 18px; }
.miyun-legend .sw.dash { border-style: dashed; }
.miyun-legend .sub { color: #555; font-size: 11px; }
.miyun-note { font-size: 11px; max-width: 300px; }
.miyun-views label { display: block; cursor: pointer; }
.miyun-label { background: rgba(255,255,255,.75); border: 0; box-shadow: none; padding: 0 3px;
  font-size: 11px; color: #222; }
.miyun-label::before { display: none; }
.miyun-button { display: flex !important; align-items: center; justify-content: center; }
.miyun-measure-out { background: #fff; padding: 4px 6px; font-size: 12px; min-width: 200px; }
.miyun-measuring { cursor: crosshair !important; }
.miyun-mouse { background: rgba(255,255,255,.8); padding: 0 5px; font-size: 11px; }
.miyun-search { background: #fff; }
.miyun-search input { width: 210px; padding: 4px 6px; border: 0; font-size: 12px; }
.miyun-search ul { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow: auto; }
.miyun-search li { padding: 3px 6px; border-top: 1px solid #eee; cursor: pointer; font-size: 12px;
  max-width: 260px; }
.miyun-search li:hover, .miyun-search li:focus { background: #e8f0fe; }
.miyun-search li.miyun-none { color: #777; cursor: default; }
.miyun-details { font-size: 12px; line-height: 1.35; border-collapse: collapse; }
.miyun-details th { text-align: left; vertical-align: top; padding: 1px 8px 1px 0;
  white-space: nowrap; }
.miyun-details td { padding: 1px 0; }
.leaflet-popup-content table th { text-align: left; vertical-align: top; padding-right: 8px;
  white-space: nowrap; }
.leaflet-popup-content { max-height: 320px; overflow: auto; }
body.miyun-full .folium-map { position: fixed !important; inset: 0; z-index: 10000; }
"""
