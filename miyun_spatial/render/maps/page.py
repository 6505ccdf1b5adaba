"""What every map page shares: inputs, the base map with its tools, context layers, rendering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from ... import __version__
from ...core.catalogue import CATALOGUE
from ...core.crs import WORK_CRS
from ...core.measure import planar_area_ha
from ...core.plan import PlanData
from .assets import inline_assets
from .basemaps import display_shift, tile_layers
from .client import CLIENT_CSS, CLIENT_JS
from .client_layout import LAYOUT_CSS, LAYOUT_JS
from .controls import (
    ClientConfig,
    ClientControl,
    LegendEntry,
    LegendSection,
    add_legend,
    add_panel,
    add_tools,
    schematic_section,
    title_html,
)
from .fields import esc, search_text
from .layers import LayerData, LayerStyle, StyledGeoJson, display_geometry, layer_data
from .mapface import FitView, attribution_prefix, generated_on, source_html
from .options import MapOptions

DISTRICT_SIMPLIFY_M = 15.0
# a real administrative boundary: dash-dot (区界), never the schematic dash
DISTRICT_DASH = "10 3 2 3"
DISTRICT_COLOR = "#6a3d9a"
PLACE_COLOR = "#222222"


@dataclass(frozen=True)
class MapInputs:
    """Everything a page is drawn from: the plan as read, its work-CRS layers, the metrics."""

    plan: PlanData
    work: Mapping[str, gpd.GeoDataFrame]
    metrics: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    options: MapOptions = field(default_factory=MapOptions)
    generated: str = field(default_factory=generated_on)  # date, Beijing time

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """The work-CRS layer ``name``, or None when the GeoPackage lacks it."""
        return self.work.get(name)

    def table(self, name: str) -> pd.DataFrame | None:
        """The attribute table (or layer, as read) ``name``, or None when absent."""
        return self.plan.layers.get(name)

    def display(self, geometry: gpd.GeoSeries, **kwargs) -> gpd.GeoSeries:
        """Display geometry for this page's datum (see ``layers.display_geometry``)."""
        return display_geometry(geometry, shift=display_shift(self.options), **kwargs)


@dataclass(frozen=True)
class Page:
    """One generated map: its file name, titles, one-line description, key figures and HTML."""

    filename: str
    title_zh: str
    title_en: str
    description: str
    figures: tuple[str, ...]
    html: str
    features: Mapping[str, int] = field(default_factory=dict)  # layer key -> features embedded


def new_map(inputs: MapInputs, *, title_zh: str, title_en: str, subtitle: str = "") -> folium.Map:
    """A map with inline Leaflet, the page's basemaps (none offline) and the common tools."""
    m = folium.Map(
        location=None,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,  # folium's shows miles too: miyun.Scale is metric only
        zoom_start=10,
        max_zoom=19,
        zoom_snap=0.25,
    )
    m.get_root().title = esc(f"{title_zh} {title_en}")  # branca does not escape it
    m.get_root().header.add_child(
        Element('<meta name="generator" content="miyun-spatial">'), name="generator"
    )
    inline_assets(m, extra_js=CLIENT_JS + LAYOUT_JS, extra_css=CLIENT_CSS + LAYOUT_CSS)
    ClientConfig(
        muPerHa=CATALOGUE.mu_per_ha, datum=inputs.options.datum, prefix=attribution_prefix()
    ).add_to(m)
    for tiles in tile_layers(inputs.options):
        tiles.add_to(m)
    add_panel(
        m,
        title_html(title_zh, title_en, subtitle),
        position="topright",
        class_name="miyun-title",
    )
    add_tools(m, datum=inputs.options.datum)
    return m


def add_context(
    m: folium.Map, inputs: MapInputs, *, labels: bool = True, label_priority: int = -10
) -> list[StyledGeoJson]:
    """District boundary and town labels: the context offline pages have instead of tiles.

    Town labels are placed after the plan features' (``label_priority`` -10) on most pages;
    a page about one small feature places them first, so its label moves aside instead.
    """
    layers = context_layers(inputs, labels=labels, label_priority=label_priority)
    return [data.add_to(m) for data in layers]


def context_layers(
    inputs: MapInputs, *, labels: bool = True, label_priority: int = -10
) -> list[LayerData]:
    """The layers of :func:`add_context`, to draw on several pages."""
    added = []
    district = inputs.layer("district")
    if district is not None and len(district):
        style = LayerStyle(
            color=DISTRICT_COLOR,
            weight=2.5,
            opacity=0.85,
            fill_opacity=0.0,
            interactive=False,
            solid_dash=DISTRICT_DASH,
        )
        added.append(
            layer_data(
                key="district",
                name=CATALOGUE["district"].title,
                geometry=inputs.display(district.geometry, simplify_m=DISTRICT_SIMPLIFY_M),
                style=style,
                schematic=pd.Series(False, index=district.index),
            )
        )
    places = inputs.layer("places")
    if labels and places is not None and len(places):
        names = places["name_zh"].map(esc) if "name_zh" in places else None
        added.append(
            layer_data(
                key="places",
                name=CATALOGUE["places"].title,
                geometry=inputs.display(places.geometry, simplify_m=0),
                style=LayerStyle(
                    color=PLACE_COLOR,
                    fill="#ffffff",
                    weight=1,
                    fill_opacity=1,
                    radius=3,
                    label=True,
                    label_priority=label_priority,
                    label_class="place",
                    interactive=False,
                ),
                label=names,
                search=search_text(places, ("name_zh", "name_en")),
            )
        )
    return added


def drawn_keys(m: folium.Map) -> set[str]:
    """Keys of the styled layers added to ``m`` so far."""
    return {c.key for c in m._children.values() if isinstance(c, StyledGeoJson)}


def context_section(m: folium.Map) -> LegendSection | None:
    """Legend rows of the reference layers drawn: district boundary and town points."""
    keys = drawn_keys(m)
    entries = []
    if "district" in keys:
        entries.append(
            LegendEntry("district", "区界 District boundary", DISTRICT_COLOR, shape="dashdot")
        )
    if "places" in keys:
        entries.append(LegendEntry("places", "乡镇、地名 Towns, places", "#ffffff", shape="dot"))
    if not entries:
        return None
    return LegendSection(
        "参考要素 Reference",
        tuple(entries),
        layers=tuple(k for k in ("district", "places") if k in keys),
    )


def feature_areas_ha(frame: gpd.GeoDataFrame) -> pd.Series:
    """Area of each feature in ha, measured in EPSG:4548 on the full (unsimplified) geometry."""
    frame = (
        frame if frame.crs is not None and frame.crs.equals(WORK_CRS) else frame.to_crs(WORK_CRS)
    )
    return planar_area_ha(frame)


def bounds_of(geometries: Sequence[gpd.GeoSeries]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of display geometries, or None when all are empty."""
    boxes = [g.total_bounds for g in geometries if len(g) and not g.is_empty.all()]
    if not boxes:
        return None
    stack = np.vstack(boxes)
    west, south = np.nanmin(stack[:, 0]), np.nanmin(stack[:, 1])
    east, north = np.nanmax(stack[:, 2]), np.nanmax(stack[:, 3])
    return [[float(south), float(west)], [float(north), float(east)]]


def centred_bounds(
    bounds: list[list[float]] | None, centre: tuple[float, float]
) -> list[list[float]] | None:
    """``bounds`` grown to be symmetric about ``centre`` (lon, lat), so that a view fitted to
    them has the page's subject at the centre of the space the panels leave."""
    if bounds is None:
        return None
    (south, west), (north, east) = bounds
    lon, lat = centre
    dx = max(abs(east - lon), abs(lon - west))
    dy = max(abs(north - lat), abs(lat - south))
    return [[lat - dy, lon - dx], [lat + dy, lon + dx]]


def provenance_html(inputs: MapInputs) -> str:
    """Where the data comes from and how far to trust it (shown on every map)."""
    schematic = surveyed = 0
    for spec in CATALOGUE.by_role("plan", "projects"):
        frame = inputs.layer(spec.name)
        if frame is not None and "geom_source" in frame:
            source = frame["geom_source"].astype(object)
            surveyed += int((source == "surveyed").sum())
            schematic += int((source != "surveyed").sum())
    parcels = inputs.layer("land_parcels")
    economics = ""
    if parcels is not None and "data_basis" in parcels:
        counts = parcels["data_basis"].value_counts()  # no copy as Python objects: 1M rows
        synthetic = int(counts.get("synthetic", 0))
        economics = (
            f"<p>地块经济数据：{synthetic}/{len(parcels)} 为合成（示意）数据 "
            f"Parcel economics: {synthetic} of {len(parcels)} synthetic, not real enterprises.</p>"
        )
    digest = esc(inputs.plan.sha256[:12]) if inputs.plan.sha256 else "—"
    return (
        '<details class="miyun-note"><summary>数据说明 About the data</summary>'
        f"<p>规划要素几何：{schematic} 个示意、{surveyed} 个实测（虚线 = 示意）。"
        f"Plan geometry: {schematic} schematic, {surveyed} surveyed features "
        "(dashed outline = schematic position, not a survey).</p>"
        f"{economics}"
        "<p>面积在 EPSG:4548（CGCS2000 3° GK CM 117E）中量算；图上几何已简化，仅供显示。"
        "Areas measured in EPSG:4548; drawn geometry is simplified for display only.</p>"
        f"<p>显示坐标 Display datum: {esc(inputs.options.datum)}. "
        f"来源 Source: {esc(inputs.plan.path.name)} (sha256 {digest}…), "
        f"miyun-spatial {esc(__version__)}.</p></details>"
    )


def assign_stable_ids(m: folium.Map) -> None:
    """Replace folium's random element ids by a counter, so the same input gives the same page."""
    counter = 0
    stack = [m.get_root()]
    while stack:
        element = stack.pop(0)
        element._id = f"{counter:04d}"
        counter += 1
        stack.extend(element._children.values())


def finish(
    m: folium.Map,
    inputs: MapInputs,
    *,
    legend: Sequence[LegendSection],
    bounds: list[list[float]] | None,
    panels: Sequence[tuple[str, str]] = (),
    max_zoom: float = 16,
    margin: float = 12,
) -> str:
    """Add legend, provenance note, source line, north arrow, layer control and side
    ``panels`` (html, CSS class); open fitted to ``bounds``; render the HTML.

    Layout: tools and the legend on the left, title, north arrow, layers and panels on the
    right (panels below the layer control so they never hide it), the note and the source
    line above the attribution. The initial view is fitted in the browser once the panels
    are laid out, with their space reserved (``miyun.fitView``).
    """
    context = context_section(m)
    add_legend(m, [*legend, *([context] if context else []), schematic_section()])
    add_panel(m, provenance_html(inputs), position="bottomright", class_name="miyun-note-panel")
    add_panel(
        m,
        source_html(inputs.plan.layers, generated=inputs.generated),
        position="bottomright",
        class_name="miyun-source",
    )
    ClientControl("NorthArrow", position="topright").add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    for html, class_name in panels:
        add_panel(m, html, position="topright", class_name=class_name)
    if bounds is not None:
        FitView(bounds, maxZoom=max_zoom, margin=margin).add_to(m)
    assign_stable_ids(m)
    return m.get_root().render()
