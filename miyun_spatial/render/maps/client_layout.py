"""The browser side of a page's map face: initial view around the panels, labels, legend sync.

- ``miyun.fitView``: the page opens fitted to what it is about, with the panels' space reserved.
  The panels' rectangles are measured in the browser after layout; every rectangle must be left
  out by one of the four paddings, and the paddings that give the largest scale are chosen
  (a small exhaustive search over the panels' edges), then ``map.fitBounds`` with
  ``paddingTopLeft`` / ``paddingBottomRight``.
- Labels: one per labelled feature, in their own pane, placed by priority; a label whose box
  overlaps one already placed falls back to its short form (the code), then is hidden. Placed
  again after every zoom and whenever a layer is switched on or off.
- The legend shows only the sections of layers on the map (``data-layers``); the land-use
  legend marks the active view.
- Map-face elements: metric scale bar, north arrow, a notice when basemap tiles fail.

Label and legend text arrive HTML-escaped from Python (see ``layers.py``).
"""

from __future__ import annotations

LAYOUT_JS = r"""
(function () {
  "use strict";
  var M = window.miyun;
  M.labels = [];

  // -- the initial view ------------------------------------------------------------------------
  M.controlRects = function (map) {
    var c = map.getContainer().getBoundingClientRect(), out = [];
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) {
        out.push({ x0: r.left - c.left, y0: r.top - c.top, x1: r.right - c.left,
                   y1: r.bottom - c.top });
      }
    });
    return out;
  };
  function uniq(values) {
    return values.filter(function (v, i) { return values.indexOf(v) === i; });
  }
  // Paddings [left, top, right, bottom] that leave every rectangle outside the free area and
  // give the content of pixel size bw x bh the largest scale.
  M.reservedPadding = function (W, H, rects, bw, bh, margin) {
    var Ls = uniq([0].concat(rects.map(function (r) { return Math.ceil(r.x1); })));
    var Ts = uniq([0].concat(rects.map(function (r) { return Math.ceil(r.y1); })));
    var Rs = uniq([0].concat(rects.map(function (r) { return Math.ceil(W - r.x0); })));
    var Bs = uniq([0].concat(rects.map(function (r) { return Math.ceil(H - r.y0); })));
    var best = null, i, j, k, n, l, t, r, b, s, ok, q;
    for (i = 0; i < Ls.length; i++) { l = Ls[i];
      for (j = 0; j < Ts.length; j++) { t = Ts[j];
        for (k = 0; k < Rs.length; k++) { r = Rs[k];
          if (W - l - r < 4 * margin) { continue; }
          for (n = 0; n < Bs.length; n++) { b = Bs[n];
            if (H - t - b < 4 * margin) { continue; }
            s = Math.min((W - l - r - 2 * margin) / bw, (H - t - b - 2 * margin) / bh);
            if (best && s <= best.s) { continue; }
            ok = true;
            for (q = 0; q < rects.length && ok; q++) {
              var R = rects[q];
              ok = l >= R.x1 || t >= R.y1 || r >= W - R.x0 || b >= H - R.y0;
            }
            if (ok) { best = { s: s, l: l, t: t, r: r, b: b }; }
          }
        }
      }
    }
    if (!best) { return null; }
    return [[best.l + margin, best.t + margin], [best.r + margin, best.b + margin]];
  };
  // Folded in this order when the panels leave too little room (small windows)
  var FOLD = [".miyun-legend", ".miyun-base-info details", ".miyun-mix details",
              ".miyun-title details"];
  // Panels cover at most this share of the map; side panels fold first, the legend last
  M.MAX_PANEL_SHARE = 0.25;
  // (the legend stays open: it scrolls inside its max-height instead)
  var SHARE_FOLD = [".miyun-base-info details", ".miyun-mix details", ".miyun-base-links details",
                    ".miyun-title details"];
  // Share of the map's area under panels (their union, on a 4 px grid)
  M.panelShare = function (map) {
    var size = map.getSize(), cell = 4, nx = Math.ceil(size.x / cell), ny = Math.ceil(size.y / cell);
    var grid = new Uint8Array(nx * ny), covered = 0;
    M.controlRects(map).forEach(function (r) {
      var x0 = Math.max(0, Math.floor(r.x0 / cell)), x1 = Math.min(nx, Math.ceil(r.x1 / cell));
      var y0 = Math.max(0, Math.floor(r.y0 / cell)), y1 = Math.min(ny, Math.ceil(r.y1 / cell));
      for (var y = y0; y < y1; y++) {
        for (var x = x0; x < x1; x++) {
          if (!grid[y * nx + x]) { grid[y * nx + x] = 1; covered++; }
        }
      }
    });
    return covered / (nx * ny);
  };
  M.limitPanels = function (map) {
    for (var f = 0; f < SHARE_FOLD.length && M.panelShare(map) > M.MAX_PANEL_SHARE; f++) {
      map.getContainer().querySelectorAll(SHARE_FOLD[f]).forEach(function (d) { d.open = false; });
    }
  };
  M.fitView = function (map, bounds, opts) {
    opts = opts || {};
    var b = L.latLngBounds(bounds), size;
    map.invalidateSize(false);
    size = map.getSize();
    if (!size.x || !size.y || !b.isValid()) { return; }
    var z = 12, sw = map.project(b.getSouthWest(), z), ne = map.project(b.getNorthEast(), z);
    var bw = Math.max(ne.x - sw.x, 1), bh = Math.max(sw.y - ne.y, 1), m = opts.margin || 12;
    M.limitPanels(map);
    var pad = M.reservedPadding(size.x, size.y, M.controlRects(map), bw, bh, m);
    // a window too small for the panels: fold them one by one while the content has less
    // than a third of the window in either direction and folding draws it at least 1.5x larger
    function cramped(p) {
      return !p || size.x - p[0][0] - p[1][0] < size.x / 3 ||
        size.y - p[0][1] - p[1][1] < size.y / 3;
    }
    function scale(p) {
      return p ? Math.min((size.x - p[0][0] - p[1][0]) / bw, (size.y - p[0][1] - p[1][1]) / bh) : 0;
    }
    for (var f = 0; f < FOLD.length && cramped(pad); f++) {
      var open = [].filter.call(map.getContainer().querySelectorAll(FOLD[f]),
        function (d) { return d.open; });
      open.forEach(function (d) { d.open = false; });
      var folded = M.reservedPadding(size.x, size.y, M.controlRects(map), bw, bh, m);
      if (scale(folded) >= 1.5 * scale(pad)) {
        pad = folded;
      } else {
        open.forEach(function (d) { d.open = true; });
      }
    }
    pad = pad || [[m, m], [m, m]];
    map.fitBounds(b, { paddingTopLeft: pad[0], paddingBottomRight: pad[1],
                      maxZoom: opts.maxZoom || 16, animate: false });
    M.view = { bounds: b, padding: pad };
    M.refresh(true);
  };

  // -- labels ----------------------------------------------------------------------------------
  var SMALL_PX = 48;  // areas smaller than this on screen are labelled beside, not on top
  M.addLabel = function (layer, spec, p) {
    var map = M.map, anchor = p._a ? L.latLng(p._a[0], p._a[1]) :
      (layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter());
    var point = !!layer.getLatLng && !layer.getBounds;
    var offset = point ? (p._r || spec.radius || 4) + 3 : 0;
    var html = '<span class="miyun-lab ' + (spec.label_class || "") + '"></span>';
    var marker = L.marker(anchor, {
      icon: L.divIcon({ className: "miyun-label-icon", html: html, iconSize: null }),
      interactive: false, keyboard: false, pane: "miyunLabels"
    });
    // points: right of the marker, else left, above or below it; areas: centred on the
    // feature, else just above or below it (offsets from the anchor, at the current zoom)
    var places = point ? function () {
      return ["translate(" + offset + "px,-50%)", "translate(calc(-100% - " + offset + "px),-50%)",
              "translate(-50%,calc(-100% - " + offset + "px))", "translate(-50%," + offset + "px)"];
    } : function () {
      var b = layer.getBounds(), a = map.latLngToContainerPoint(anchor);
      var nw = map.latLngToContainerPoint(b.getNorthWest());
      var se = map.latLngToContainerPoint(b.getSouthEast());
      var top = a.y - nw.y + 2, bottom = se.y - a.y + 2;
      var around = ["translate(-50%,calc(-100% - " + top + "px))", "translate(-50%," + bottom + "px)"];
      if (se.x - nw.x < SMALL_PX || se.y - nw.y < SMALL_PX) {
        // a small area: its label beside it, so that the area itself stays visible
        return ["translate(" + (se.x - a.x + 3) + "px,-50%)",
                "translate(calc(-100% - " + (a.x - nw.x + 3) + "px),-50%)"].concat(around);
      }
      return ["translate(-50%,-50%)"].concat(around);
    };
    M.labels.push({ marker: marker, layer: layer, long: p._l, short: p._ls || p._l,
                    places: places, prio: spec.label_priority || 0, i: M.labels.length });
    return marker;
  };
  function overlaps(a, b) {
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  }
  M.placeLabels = function () {
    var map = M.map;
    if (!map || !M.labelLayer) { return; }
    // panels are obstacles too; a label must lie inside the map
    var frame = map.getContainer().getBoundingClientRect();
    var placed = [];
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0) { placed.push({ x0: r.left, y0: r.top, x1: r.right, y1: r.bottom }); }
    });
    function inside(c) {
      return c.x0 >= frame.left && c.y0 >= frame.top && c.x1 <= frame.right &&
        c.y1 <= frame.bottom;
    }
    // labelled point markers are obstacles too: a label must not cover another feature's
    // marker (J03's label ran over J09's marker, and J09's own label found no place left)
    var markers = [];
    M.labels.forEach(function (lab) {
      var group = lab.layer._miyunGroup, l = lab.layer;
      if (!group || !map.hasLayer(group) || !l.getLatLng || l.getBounds) { return; }
      var q = map.latLngToContainerPoint(l.getLatLng()), r = (l.options.radius || 3) + 1;
      markers.push({ x0: frame.left + q.x - r, y0: frame.top + q.y - r, x1: frame.left + q.x + r,
                     y1: frame.top + q.y + r, own: lab });
    });
    M.labels.slice().sort(function (a, b) { return b.prio - a.prio || a.i - b.i; })
      .forEach(function (lab) {
        var group = lab.layer._miyunGroup;
        if (!group || !map.hasLayer(group)) {
          M.labelLayer.removeLayer(lab.marker);
          lab.shown = false;
          return;
        }
        if (!M.labelLayer.hasLayer(lab.marker)) { M.labelLayer.addLayer(lab.marker); }
        var el = lab.marker.getElement(), span = el.firstChild, box = null;
        var forms = lab.long === lab.short ? [lab.long] : [lab.long, lab.short];
        el.style.visibility = "hidden";
        var places = lab.places();
        for (var f = 0; f < forms.length && !box; f++) {
          span.innerHTML = forms[f];  // escaped in Python
          for (var q = 0; q < places.length && !box; q++) {
            span.style.transform = places[q];
            var r = span.getBoundingClientRect();
            var c = { x0: r.left - 4, y0: r.top - 3, x1: r.right + 4, y1: r.bottom + 3 };
            if (inside(c) && !placed.some(function (o) { return overlaps(o, c); }) &&
                !markers.some(function (o) { return o.own !== lab && overlaps(o, c); })) {
              box = c;
            }
          }
        }
        lab.shown = !!box;
        if (box) { placed.push(box); el.style.visibility = ""; }
      });
  };

  // -- legend: visible layers only, active view marked ------------------------------------------
  M.syncLegend = function () {
    var map = M.map;
    document.querySelectorAll(".miyun-section[data-layers]").forEach(function (s) {
      var on = s.getAttribute("data-layers").split(" ").some(function (k) {
        return M.layers[k] && map.hasLayer(M.layers[k]);
      });
      s.hidden = !on;
    });
    document.querySelectorAll(".miyun-legend tr[data-layer]").forEach(function (row) {
      var g = M.layers[row.getAttribute("data-layer")];
      row.hidden = !(g && map.hasLayer(g));
    });
  };
  M.markView = function (key, field) {
    document.querySelectorAll('.miyun-view-mark[data-layer="' + key + '"]').forEach(function (el) {
      var label = el.getAttribute("data-" + field);
      if (label) { el.textContent = label; }
    });
    document.querySelectorAll('.miyun-section[data-view-layer="' + key + '"] td.view')
      .forEach(function (td) { td.classList.toggle("active", td.dataset.view === field); });
  };

  var pending = false;
  M.refresh = function (now) {
    if (now) { pending = false; M.syncLegend(); M.placeLabels(); return; }
    if (pending) { return; }
    pending = true;
    setTimeout(function () { if (pending) { M.refresh(true); } }, 0);
  };
  M.initFace = function (map) {
    M.map = map;
    // the map's own source instead of Leaflet's default prefix (a link and a flag)
    if (map.attributionControl) { map.attributionControl.setPrefix(M.config.prefix || false); }
    map.createPane("miyunLabels").style.zIndex = 610;
    map.getPane("miyunLabels").style.pointerEvents = "none";
    M.labelLayer = L.layerGroup().addTo(map);
    map.on("zoomend viewreset resize", function () { M.refresh(); });
    map.on("layeradd layerremove", function (e) {
      if (e.layer && e.layer.options && e.layer.options.miyunSpec) { M.refresh(); }
    });
    M.watchTiles(map);
  };

  // -- a notice when basemap tiles fail ---------------------------------------------------------
  M.watchTiles = function (map) {
    function hook(layer) {
      if (layer instanceof L.TileLayer && !layer._miyunWatched) {
        layer._miyunWatched = true;
        layer.on("tileerror", function () { M.tileNotice(map); });
      }
    }
    map.eachLayer(hook);
    map.on("layeradd", function (e) { hook(e.layer); });
  };
  M.tileNotice = function (map) {
    if (M._tileNotice) { return; }
    var d = M._tileNotice = L.DomUtil.create("div", "miyun-tile-notice", map.getContainer());
    d.setAttribute("role", "alert");
    d.innerHTML = "<b>底图瓦片加载失败</b>（无法连接地图服务，可能无网络）。内网或离线使用请运行 " +
      "<code>miyun-spatial build --offline</code>。<br>Basemap tiles failed to load (no " +
      "internet?). For intranet or offline use, rebuild with <code>--offline</code>. " +
      '<a href="#" class="miyun-close" aria-label="关闭 Close">×</a>';
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.on(d.querySelector(".miyun-close"), "click", function (e) {
      L.DomEvent.preventDefault(e);
      d.hidden = true;
    });
  };

  // -- scale bar (metric only) and north arrow -------------------------------------------------
  M.Scale = L.Control.Scale.extend({
    options: { position: "bottomleft", metric: true, imperial: false, maxWidth: 160 }
  });
  M.NorthArrow = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var d = L.DomUtil.create("div", "miyun-north");
      d.title = "指北针 North";
      d.innerHTML = '<svg viewBox="0 0 30 44" width="30" height="44" role="img" ' +
        'aria-label="指北针 North arrow"><text x="15" y="11" text-anchor="middle" ' +
        'font-size="11" font-weight="bold" font-family="Arial,sans-serif">N</text>' +
        '<path d="M15 14 L24 40 L15 34 Z" fill="#222"/>' +
        '<path d="M15 14 L6 40 L15 34 Z" fill="#fff" stroke="#222" stroke-width="1"/></svg>';
      return d;
    }
  });

  // -- radio buttons that switch which layers are shown ------------------------------------------
  M.LayerSwitch = L.Control.extend({
    options: { position: "topright", title: "", choices: [], initial: 0 },
    onAdd: function (map) {
      var o = this.options;
      var d = L.DomUtil.create("div", "miyun-panel miyun-views miyun-layer-switch");
      L.DomUtil.create("div", "miyun-heading", d).innerHTML = o.title;  // escaped in Python
      o.choices.forEach(function (choice, i) {
        var label = L.DomUtil.create("label", "", d);
        var r = L.DomUtil.create("input", "", label);
        r.type = "radio"; r.name = "miyun-switch"; r.value = String(i); r.checked = i === o.initial;
        L.DomUtil.create("span", "", label).innerHTML = " " + choice.label;
        r.addEventListener("change", function () { M.showChoice(map, o.choices, i); });
      });
      L.DomEvent.disableClickPropagation(d);
      var self = this;
      setTimeout(function () { M.showChoice(map, o.choices, o.initial, self); }, 0);
      return d;
    }
  });
  M.showChoice = function (map, choices, index) {
    choices.forEach(function (choice, i) {
      choice.layers.forEach(function (key) {
        var g = M.layers[key];
        if (!g) { return; }
        if (i === index) { map.addLayer(g); } else { map.removeLayer(g); }
      });
    });
    M.refresh(true);
  };
})();
"""

LAYOUT_CSS = r"""
.miyun-label-icon { background: none; border: 0; }
.miyun-lab { position: absolute; left: 0; top: 0; transform: translate(-50%, -50%);
  white-space: nowrap; font: bold 12px/1.2 "Noto Sans CJK SC", "WenQuanYi Zen Hei",
  "Microsoft YaHei", "PingFang SC", Arial, sans-serif; color: #1a1a1a;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
.miyun-title summary h1 { display: inline; }
.miyun-title summary { list-style-position: inside; }
.miyun-lab.place { font-weight: normal; font-size: 11px; color: #444; }
.miyun-lab.focus { font-size: 14px; }
.miyun-north { background: rgba(255,255,255,.85); border-radius: 4px; padding: 2px 3px 0;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); line-height: 0; }
.miyun-legend-panel { max-height: 40vh; max-width: 320px; }
.leaflet-container .leaflet-control-attribution { font-size: 10px; line-height: 1.4; }
.leaflet-control-scale-line { background: rgba(255,255,255,.85); }
.miyun-source { font-size: 10px; max-width: min(480px, 38vw); line-height: 1.3;
  padding: 2px 6px; max-height: none; }
.miyun-source p { margin: 0; }
.miyun-tile-notice { position: absolute; z-index: 1000; left: 50%; top: 10px;
  transform: translateX(-50%); max-width: min(520px, calc(100% - 560px)); min-width: 240px;
  box-sizing: border-box; background: #fff4e5; border: 1px solid #e0a040;
  border-radius: 4px; padding: 6px 24px 6px 10px; font-size: 12px; line-height: 1.4;
  box-shadow: 0 1px 5px rgba(0,0,0,.3); }
.miyun-tile-notice .miyun-close { position: absolute; right: 6px; top: 2px; font-size: 16px;
  text-decoration: none; color: #333; }
.miyun-legend td.view.active { font-weight: bold; background: #e8f0fe; }
.miyun-view-mark { font-weight: bold; color: #1f4e9c; }
.miyun-legend svg.sw-line { vertical-align: middle; }
.miyun-notes-en { color: #555; font-size: 11px; }
"""
