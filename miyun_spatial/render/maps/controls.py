"""Map controls: categorical legend, provenance note, title, search, measure, full screen, etc.

The legend is fed by ``palette.py`` (the same colours as the QGIS styles and the reports).
Panels carry HTML built and escaped here; the controls' behaviour is in ``client.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.template import Template

from .fields import esc, fmt_area, safe_color
from .layers import to_json


class ClientControl(MacroElement):
    """``new miyun.<kind>(options).addTo(map)``: one of the controls defined in client.py."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
new miyun.{{ this.kind }}({{ this.options_json }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, kind: str, **options: object):
        super().__init__()
        self._name = "MiyunControl"
        self.kind = kind
        self.options_json = to_json(options)


class ClientConfig(MacroElement):
    """Page-wide settings for the client code (亩 per ha, display datum)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
miyun.config = {{ this.config_json }};
miyun.initFace({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, **config: object):
        super().__init__()
        self._name = "MiyunConfig"
        self.config_json = to_json(config)


@dataclass(frozen=True)
class LegendEntry:
    """One legend row. ``label`` is plain text (escaped when rendered)."""

    value: str
    label: str
    color: str
    count: int | None = None
    area_ha: float | None = None
    extra: str = ""
    shape: str = "box"  # box | dot | line | dash | dashdot | hatch | hatch_tint
    views: tuple[tuple[str, str], ...] = ()  # (view key, text) cells, one per view
    layer: str = ""  # the row shows only while this page layer is on the map


@dataclass(frozen=True)
class LegendSection:
    """A legend block; shown only while one of ``layers`` (page layer keys) is on the map."""

    title: str
    entries: tuple[LegendEntry, ...]
    note: str = ""
    layers: tuple[str, ...] = ()
    view_layer: str = ""  # the layer whose active view the section's view cells mark
    view_mark: str = ""  # HTML: the active view's name (updated in the browser)
    count_label: str = "数量 count"  # column headings (shown when a row has the column)
    area_label: str = "面积 ha（亩） area"
    extra_label: str = ""
    view_labels: tuple[str, ...] = ()  # one heading per view cell


def _header(section: LegendSection) -> str:
    """The heading row of a section's number columns, '' when it has none."""
    entries = section.entries
    cells = []
    if any(e.count is not None for e in entries):
        cells.append(section.count_label)
    if any(e.area_ha is not None for e in entries):
        cells.append(section.area_label)
    if any(e.extra for e in entries):
        cells.append(section.extra_label)
    views = max((len(e.views) for e in entries), default=0)
    if views:
        labels = list(section.view_labels) + [""] * views
        cells += labels[:views]
    if not cells:
        return ""
    heads = "".join(f'<th class="num">{esc(c)}</th>' for c in cells)
    return f'<thead><tr><th colspan="2"></th>{heads}</tr></thead>'


LINE_DASHES = {"line": "", "dash": "6 4", "dashdot": "10 3 2 3"}


def _swatch(entry: LegendEntry) -> str:
    color = safe_color(entry.color)
    if entry.shape in LINE_DASHES:
        dash = LINE_DASHES[entry.shape]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<svg class="sw-line {entry.shape}" width="22" height="8" aria-hidden="true">'
            f'<line x1="0" y1="4" x2="22" y2="4" stroke="{color}" stroke-width="2"{dash_attr}/>'
            "</svg>"
        )
    if entry.shape == "hatch":
        css = f"background:repeating-linear-gradient(45deg,{color} 0 1.5px,#f4f4f4 1.5px 5px)"
        return f'<span class="sw hatch" style="{css}"></span>'
    if entry.shape == "hatch_tint":  # dark hatch over the class colour
        css = f"background:repeating-linear-gradient(45deg,rgba(40,60,20,.6) 0 1px,{color} 1px 4px)"
        return f'<span class="sw hatch tint" style="{css}"></span>'
    shape = " dot" if entry.shape == "dot" else ""
    return f'<span class="sw{shape}" style="background:{color}"></span>'


def legend_html(sections: Sequence[LegendSection], *, title: str = "图例 Legend") -> str:
    """The legend as escaped HTML: one table per section, with counts and areas when given."""
    parts = [f'<details open class="miyun-legend"><summary>{esc(title)}</summary>']
    for section in sections:
        layers = f' data-layers="{esc(" ".join(section.layers))}"' if section.layers else ""
        view = f' data-view-layer="{esc(section.view_layer)}"' if section.view_layer else ""
        parts.append(
            f'<div class="miyun-section"{layers}{view}>'
            f'<div class="miyun-heading">{esc(section.title)}{section.view_mark}</div><table>'
            + _header(section)
        )
        for e in section.entries:
            cells = [f"<td>{_swatch(e)}</td>", f'<td class="label">{esc(e.label)}</td>']
            if e.count is not None:
                cells.append(f'<td class="num count">{e.count}</td>')
            if e.area_ha is not None:
                cells.append(f'<td class="num area">{fmt_area(e.area_ha)}</td>')
            if e.extra:
                cells.append(f'<td class="num extra">{esc(e.extra)}</td>')
            for key, text in e.views:
                cells.append(f'<td class="num view" data-view="{esc(key)}">{esc(text)}</td>')
            row_layer = f' data-layer="{esc(e.layer)}"' if e.layer else ""
            parts.append(f'<tr data-value="{esc(e.value)}"{row_layer}>{"".join(cells)}</tr>')
        parts.append("</table>")
        if section.note:
            parts.append(f'<div class="sub">{esc(section.note)}</div>')
        parts.append("</div>")
    parts.append("</details>")
    return "".join(parts)


def schematic_section() -> LegendSection:
    """The outline convention every map shares."""
    return LegendSection(
        "几何 Geometry",
        (
            LegendEntry("schematic", "虚线：示意位置 dashed: schematic", "#333333", shape="dash"),
            LegendEntry("surveyed", "实线：实测 solid: surveyed", "#333333", shape="line"),
        ),
    )


def add_panel(m: folium.Map, html: str, *, position: str, class_name: str) -> None:
    ClientControl("Panel", position=position, html=html, className=class_name).add_to(m)


def add_legend(m: folium.Map, sections: Sequence[LegendSection]) -> None:
    add_panel(m, legend_html(sections), position="bottomleft", class_name="miyun-legend-panel")


def title_html(title_zh: str, title_en: str, subtitle: str = "") -> str:
    """The map's title (图名), collapsible: the heading stays when the rest is folded."""
    sub = f"<p>{esc(subtitle)}</p>" if subtitle else ""
    return (
        f"<details open><summary><h1>{esc(title_zh)} {esc(title_en)}</h1></summary>{sub}"
        '<p><a href="index.html">← 地图目录 Map index</a></p></details>'
    )


def add_tools(m: folium.Map, *, datum: str) -> None:
    """Full screen, measure, search (top left); metric scale and mouse position (bottom left)."""
    ClientControl("Fullscreen", position="topleft").add_to(m)
    ClientControl("Measure", position="topleft").add_to(m)
    ClientControl("Search", position="topleft").add_to(m)
    ClientControl("MousePosition", position="bottomleft", datum=datum).add_to(m)
    ClientControl("Scale", position="bottomleft").add_to(m)


def add_layer_switch(
    m: folium.Map, *, title: str, choices: Sequence[tuple[str, Sequence[str]]], initial: int = 0
) -> None:
    """Radio buttons showing one group of layers at a time (``choices``: label, layer keys)."""
    ClientControl(
        "LayerSwitch",
        position="topright",
        title=esc(title),
        initial=initial,
        choices=[{"label": esc(label), "layers": list(keys)} for label, keys in choices],
    ).add_to(m)


def add_view_switch(
    m: folium.Map, *, layer: str, title: str, views: Sequence[tuple[str, str]], initial: str
) -> None:
    """Radio buttons restyling ``layer`` by another property (``views``: key, label)."""
    ClientControl(
        "ViewSwitch",
        position="topright",
        layer=layer,
        initial=initial,
        title=esc(title),
        views=[{"field": key, "label": esc(label)} for key, label in views],
    ).add_to(m)
