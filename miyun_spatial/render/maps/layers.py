"""GeoJSON layers styled in the browser, with escaped tooltips and popups.

A layer is embedded once as compact GeoJSON whose properties are short keys: ``k`` (the class
value the colour table looks up), ``_s`` (schematic: dashed outline), ``_r`` (marker radius),
``_q``/``_l`` (search text and label) and ``c0``, ``c1``... per popup column, every string escaped in
``fields.py`` (repeated texts as indices into a per-layer list, also escaped). Geometry is simplified in EPSG:4548 and rounded in EPSG:4326 for display only;
areas shown in popups are measured on the unsimplified work-CRS geometry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.template import Template

from ...core.catalogue import CATALOGUE
from ...core.crs import to_web_crs
from ...core.palette import SCHEMATIC_DASH, layer_style
from .assets import Verbatim
from .basemaps import shift_geometries
from .fields import Column, esc, safe_color

log = logging.getLogger(__name__)

DECIMALS = 6  # ~0.1 m in latitude: enough for display, a fraction of the size of full floats
SIMPLIFY_M = 0.5  # display simplification tolerance in metres (EPSG:4548)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # one JSON string literal


def _inert_braces(match: re.Match) -> str:
    text = match.group(0)
    if "{" not in text and "}" not in text:
        return text
    return text.replace("{", "\\u007b").replace("}", "\\u007d")


def to_json(obj: object) -> str:
    """Compact JSON safe inside ``<script>`` and inert to a template engine.

    UTF-8 text; ``<``, ``>``, ``&``, ``'`` escaped (no ``</script>``, no HTML), and ``{``/``}``
    inside string literals written as ``\\u007b``/``\\u007d``: folium/branca compile every
    element's script output as a Jinja template and render it a second time, so a property
    such as ``{{ 7*7 }}`` or ``{% ... %}`` would otherwise run (or crash the page). Structural
    braces stay: JSON never puts ``{{``, ``{%`` or ``{#`` outside a string.
    """
    return safe_json_text(
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    )


def safe_json_text(text: str, *, braces: bool = True) -> str:
    """JSON text (one document, or several joined by newlines) made safe as :func:`to_json`'s.

    JSON never holds a raw newline (inside strings it is ``\\n``), so documents joined by
    ``"\\n"`` are escaped in one pass and split again. ``braces=False`` skips the search for
    ``{``/``}`` in string literals: only for text whose strings are known to hold none.
    """
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return _JSON_STRING.sub(_inert_braces, text) if braces else text


def _strings_hold_braces(frame: pd.DataFrame) -> bool:
    """Whether any column name or text value of ``frame`` holds ``{`` or ``}``."""
    for column in frame.columns:
        values = frame[column]
        text = str(column)
        if not pd.api.types.is_numeric_dtype(values.dtype):  # object or str columns
            text += "".join(v for v in values.tolist() if isinstance(v, str))
        if "{" in text or "}" in text:
            return True
    return False


@dataclass(frozen=True)
class LayerStyle:
    """How a layer is drawn; ``colors`` maps a class value (property ``k``) to a fill colour."""

    color: str = "#333333"
    fill: str = "#999999"
    weight: float = 2.0
    fill_opacity: float = 0.3
    opacity: float = 1.0
    colors: Mapping[str, str] = field(default_factory=dict)
    outline_by_class: bool = False
    radius: float = 6.0
    label: bool = False
    label_direction: str = "left"
    interactive: bool = True
    dash: str = SCHEMATIC_DASH
    field: str = "k"
    label_priority: int = 0  # labels of higher priority are placed first
    label_class: str = ""  # "place" (town names), "focus" (the page's subject)
    hatch: tuple[str, ...] = ()  # class values drawn hatched in their colour
    hatch_tint: bool = False  # hatched classes: dark hatch over their colour (a tint)
    solid_dash: str | None = None  # dash pattern of features that are not schematic

    def spec(self) -> dict:
        """The small table the browser styles every feature from."""
        return {
            "field": self.field,
            "color": safe_color(self.color),
            "fill": safe_color(self.fill),
            "weight": float(self.weight),
            "opacity": float(self.opacity),
            "fill_opacity": float(self.fill_opacity),
            "colors": {esc(k): safe_color(v) for k, v in self.colors.items()},
            "outline_by_class": self.outline_by_class,
            "radius": float(self.radius),
            "label": self.label,
            "label_direction": self.label_direction,
            "interactive": self.interactive,
            "dash": self.dash,
            "solid_dash": _dash(self.solid_dash),
            "label_priority": int(self.label_priority),
            "label_class": self.label_class if self.label_class in ("place", "focus") else "",
            "hatch": [esc(v) for v in self.hatch],
            "hatch_tint": bool(self.hatch_tint),
        }


def _dash(pattern: str | None) -> str | None:
    """A dash pattern of numbers only ('10 3 2 3'), else None (a solid line)."""
    return pattern if pattern and re.fullmatch(r"[0-9. ]+", pattern) else None


def catalogue_style(layer: str, **overrides) -> LayerStyle:
    """The catalogue's style for ``layer`` (colours, weight, opacity), with overrides."""
    style = layer_style(layer)
    base = {
        "color": style.get("color", "#333333"),
        "fill": style.get("fill", style.get("color", "#999999")),
        "weight": style.get("weight", 2),
        "fill_opacity": style.get("fill_opacity", 0.3),
    }
    base.update(overrides)
    return LayerStyle(**base)


def display_geometry(
    work: gpd.GeoSeries,
    *,
    shift: Callable[[np.ndarray], np.ndarray] | None = None,
    simplify_m: float = SIMPLIFY_M,
    decimals: int = DECIMALS,
) -> gpd.GeoSeries:
    """Geometry for drawing only: simplified in EPSG:4548, in EPSG:4326, shifted, rounded."""
    geoms = work
    if simplify_m > 0:
        geoms = geoms.simplify(simplify_m, preserve_topology=True)
    web = to_web_crs(gpd.GeoDataFrame(geometry=geoms, crs=work.crs)).geometry
    values = np.asarray(web.array)
    if shift is not None:
        values = shift_geometries(values, shift)
    values = shapely.transform(values, lambda c: np.round(c, decimals))
    return gpd.GeoSeries(values, index=work.index, crs=web.crs)


_LONG_FLOAT = re.compile(r"-?\d+\.\d{7,}(?![\deE])")  # GEOS writes 17 significant digits


def _shortest(match: re.Match) -> str:
    return repr(float(match.group(0)))


def geometry_json(values: np.ndarray) -> list[str]:
    """GeoJSON text of each geometry, its numbers written as Python's ``json`` writes them.

    GEOS writes 17 significant digits (116.84619000000001); the same double is written in its
    shortest form (116.84619), as ``json.dumps(json.loads(...))`` would, without the round trip.
    """
    if not len(values):
        return []
    return _LONG_FLOAT.sub(_shortest, "\n".join(shapely.to_geojson(values))).split("\n")


def feature_texts(
    geometry: gpd.GeoSeries, properties: pd.DataFrame, *, layer: str = "layer"
) -> pd.Series:
    """Each feature as GeoJSON text, safe as :func:`to_json`'s, indexed like ``geometry``.

    Features without geometry are left out (and logged). Joined with commas inside
    ``{"type":"FeatureCollection","features":[...]}`` they are the text ``to_json`` writes
    for the collection.
    """
    present = geometry.notna() & ~geometry.is_empty
    if not present.all():
        log.warning(
            "layer '%s': %d features have no geometry and are not drawn", layer, (~present).sum()
        )
    geoms = geometry[present]
    if not len(geoms):
        return pd.Series([], index=geoms.index, dtype=object)
    props = properties.loc[geoms.index]
    records = props.astype(object).where(props.notna(), None).to_dict(orient="records")
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    shapes = geometry_json(np.asarray(geoms.array, dtype=object))
    text = "\n".join(
        f'{{"type":"Feature","geometry":{shape},"properties":{encode(record)}}}'
        for shape, record in zip(shapes, records, strict=True)
    )
    # geometry text holds no strings but its type; property strings are searched only when
    # one of them holds a brace (escaped values never do)
    safe = safe_json_text(text, braces=_strings_hold_braces(props))
    return pd.Series(safe.split("\n"), index=geoms.index, dtype=object)


class StyledGeoJson(folium.GeoJson):
    """A GeoJSON layer styled in the browser (``miyun.layerOptions``) and drawn on canvas.

    ``features`` are GeoJSON texts already made safe (:func:`feature_texts`), so a layer
    serialised once can be drawn on many pages.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson(null, miyun.layerOptions({{ this.key_json }}, {{ this.spec_json }}));
{{ this.get_name() }}.addData({{ this.data_json() }});
miyun.register({{ this.key_json }}, {{ this.get_name() }}, {{ this.parent_map.get_name() }});
{% endmacro %}
"""
    )

    def __init__(
        self, features: Sequence[str], *, key: str, spec_json: str, name: str, show: bool = True
    ):
        empty = {"type": "FeatureCollection", "features": []}  # the features are text, below
        super().__init__(empty, name=name, show=show, overlay=True, control=True)
        self.key = key
        self.key_json = to_json(key)
        self.spec_json = spec_json
        self.features = list(features)
        self._placeholder = False

    def data_json(self) -> str:
        if self._placeholder:
            return "null"
        return '{"type":"FeatureCollection","features":[' + ",".join(self.features) + "]}"

    def render(self, **kwargs) -> None:
        """Render as folium does, but add the script with the data verbatim.

        branca compiles each element's script output as a Jinja template a second time
        (megabytes for a large layer): that pass is made on the script with ``null`` as data,
        then the real script (data inert to a template engine: :func:`to_json`) replaces it,
        in the same place.
        """
        self._placeholder = True
        try:
            super().render(**kwargs)
        finally:
            self._placeholder = False
        script = self._template.module.__dict__["script"](self, kwargs)
        self.get_root().script.add_child(Verbatim(str(script)), name=self.get_name())

    @property
    def feature_count(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class LayerData:
    """A layer serialised once (:func:`layer_data`): added to any number of pages, or part of it.

    ``features`` holds each drawn feature's safe GeoJSON text, indexed like the layer's frame;
    ``spec`` the style (:meth:`LayerStyle.spec`) and popup table; ``name`` is plain text.
    """

    key: str
    name: str
    spec: dict
    features: pd.Series
    show: bool = True

    @property
    def feature_count(self) -> int:
        return len(self.features)

    def subset(self, index: pd.Index) -> LayerData:
        """The features whose index label is in ``index``, in this layer's order."""
        return replace(self, features=self.features[self.features.index.isin(index)])

    def restyled(self, style: LayerStyle) -> LayerData:
        """The same features and popups drawn in ``style``."""
        spec = style.spec()
        if "details" in self.spec and style.interactive:
            spec["details"] = self.spec["details"]
        return replace(self, spec=spec)

    def add_to(
        self,
        target: folium.Map | folium.FeatureGroup,
        *,
        name: str | None = None,
        show: bool | None = None,
    ) -> StyledGeoJson:
        """Draw the layer on ``target`` (under ``name``, plain text, if given)."""
        # the layer control puts names into innerHTML: escape them like every other text
        layer = StyledGeoJson(
            self.features.tolist(),
            key=self.key,
            spec_json=to_json(self.spec),
            name=esc(self.name if name is None else name),
            show=self.show if show is None else show,
        )
        layer.add_to(target)
        return layer


def add_layer(target: folium.Map | folium.FeatureGroup, **kwargs) -> StyledGeoJson:
    """Add a styled layer to ``target``: :func:`layer_data` (same keywords), drawn once."""
    return layer_data(**kwargs).add_to(target)


def layer_data(
    *,
    key: str,
    name: str,
    geometry: gpd.GeoSeries,
    style: LayerStyle,
    classes: pd.Series | None = None,
    extra_classes: Mapping[str, pd.Series] | None = None,
    schematic: pd.Series | None = None,
    columns: Sequence[Column] = (),
    tooltip: int = 2,
    search: pd.Series | None = None,
    label: pd.Series | None = None,
    short_label: pd.Series | None = None,
    radius: pd.Series | None = None,
    show: bool = True,
) -> LayerData:
    """A styled layer: ``columns`` fill the popup, the first ``tooltip`` of them the tooltip.

    Popups and tooltips are tables built in the browser (``miyun.details``) from the escaped
    column values; text that repeats is sent once per page (:func:`encode_repeats`).

    ``geometry`` is display geometry (see :func:`display_geometry`); every Series shares its
    index. ``classes`` (and ``extra_classes``, for view switches) are class values looked up in
    ``style.colors``; ``search``/``label`` are escaped text (``fields.search_text``, ``esc``);
    a label is placed at the feature's representative point, and ``short_label`` (e.g. the
    code) replaces it where the full label would overlap another.
    """
    props = pd.DataFrame(index=geometry.index)
    for prop, values in {"k": classes, **(extra_classes or {})}.items():
        if values is not None:
            props[prop] = [None if v is None else esc(v) for v in _objects(values)]
    if schematic is not None:
        props["_s"] = schematic.astype(bool).map(int)
    if radius is not None:
        props["_r"] = radius.astype(float).round(1)
    if search is not None:
        props["_q"] = search
    if label is not None:
        props["_l"] = label
        props["_a"] = label_anchors(geometry)
        if short_label is not None:
            props["_ls"] = short_label
    details = {"columns": [], "lookups": {}, "tooltip": tooltip}
    for i, column in enumerate(columns):
        prop = f"c{i}"  # short keys: they repeat in every feature
        values, lookup = encode_repeats(column.values)
        props[prop] = values
        entry = {"key": prop, "label": column.label, "name": column.key}
        if column.optional:
            entry["optional"] = True
        details["columns"].append(entry)
        if lookup is not None:
            details["lookups"][prop] = lookup
    spec = style.spec()
    if columns and style.interactive:
        spec["details"] = details
    return LayerData(
        key=key,
        name=name,
        spec=spec,
        features=feature_texts(geometry, props, layer=key),
        show=show,
    )


def label_anchors(geometry: gpd.GeoSeries) -> list:
    """[lat, lon] of a point inside each feature (its representative point), for its label."""
    present = geometry.notna() & ~geometry.is_empty
    points = geometry[present].representative_point()
    anchors = pd.Series([None] * len(geometry), index=geometry.index, dtype=object)
    anchors[present] = [
        [round(float(y), DECIMALS), round(float(x), DECIMALS)]
        for x, y in zip(points.x, points.y, strict=True)
    ]
    return anchors.tolist()


def encode_repeats(values: pd.Series, *, min_features: int = 20) -> tuple[pd.Series, list | None]:
    """Dictionary-encode a column of display text that repeats (status, class labels...).

    Returns ``(codes, texts)``: each feature carries a small integer and the page carries each
    distinct text once; ``(values, None)`` when encoding would not make the page smaller.
    """
    if len(values) < min_features:
        return values, None
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    if len(uniques) > len(values) // 2:
        return values, None
    encoded = pd.Series(codes, index=values.index, dtype=object)
    return encoded.where(encoded >= 0, None), [str(u) for u in uniques]


def _objects(values: pd.Series) -> list:
    return values.astype(object).where(values.notna(), None).tolist()


def layer_title(layer: str) -> str:
    """'农民就业产业基地 Farmer-employment industrial bases' from the catalogue."""
    return CATALOGUE[layer].title
