"""Charts of the printable report as inline SVG, drawn with matplotlib (no pyplot, no network).

Text stays text in the SVG (``svg.fonttype = none``): the browser draws it with the page's
font stack, so Chinese labels show wherever the reader has a Chinese font, and the file stays
small. For the layout, matplotlib uses an installed CJK font when it finds one; without one
it measures with DejaVu Sans (labels may sit a little loose) and says so once in the log.
Fonts are never fetched.
"""

from __future__ import annotations

import html
import io
import logging
import math
import re

import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..fonts import FALLBACK_FONT, cjk_font, font_context
from .model import Chart, Table

log = logging.getLogger(__name__)

HIGHLIGHT = "#d7301f"
BASE = "#4c78a8"
SERIES = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b")
THOUSANDS = FuncFormatter(lambda value, _pos: f"{value:,.0f}")
_ID_REF = re.compile(r'(\bid="|url\(#|href="#)')
WIDTH_IN = 7.0  # every chart is drawn at the text width of a portrait A4 page
FONT_PT = 8
BAR_HEIGHT = 0.78  # of a 100 % stacked bar, in category units
SEGMENT_EDGE = "#555555"
SEGMENT_LINE = 0.3  # points
__all__ = ["FALLBACK_FONT", "chart_svg", "cjk_font"]


def chart_svg(chart: Chart, table: Table) -> str:
    """``chart`` drawn from ``table`` as an SVG element (no XML prolog), ids prefixed by key."""
    rc = {
        "text.parse_math": False,  # names are data: "$...$" is text, never mathtext to parse
        "svg.fonttype": "none",
        "svg.hashsalt": f"miyun-{chart.key}",
        "font.size": FONT_PT,
        "axes.titlesize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with font_context(cjk_font(), **rc):
        figure = _draw(chart, table)
        buffer = io.StringIO()
        # The SVG canvas drawn directly: savefig would draw the figure once more, only to
        # lay it out first (the canvas's own draw lays it out as it draws, to the same SVG)
        FigureCanvasSVG(figure).print_svg(
            buffer, metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
        )
    return _inline(buffer.getvalue(), chart.key, chart.title)


MAX_AXIS_LABEL = 28  # characters of a category name on an axis (the table beside has it whole)


def _axis_label(value: object) -> str:
    """A category as an axis label: long names from the data are cut, so the plot keeps room."""
    text = str(value)
    return text if len(text) <= MAX_AXIS_LABEL else text[: MAX_AXIS_LABEL - 1] + "…"


def _inline(svg: str, key: str, title: str) -> str:
    """Drop the XML prolog and make every id (and reference to it) unique to this chart."""
    svg = svg[svg.index("<svg") :]
    svg = _ID_REF.sub(rf"\g<1>{key}-", svg)
    label = html.escape(title, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _values(table: Table, column: str) -> list[float]:
    return [float("nan") if v is None else float(v) for v in table.frame[column].tolist()]


def _draw(chart: Chart, table: Table) -> Figure:
    categories = [_axis_label(c) for c in table.frame[chart.category].tolist()]
    drawers = {"bar": _columns, "barh": _ranking, "stacked": _shares}
    if chart.kind not in drawers:
        raise ValueError(f"chart '{chart.key}': unknown kind '{chart.kind}'")
    figure = drawers[chart.kind](chart, table, categories)
    figure.suptitle(chart.title, fontsize=9)
    return figure


def _columns(chart: Chart, table: Table, categories: list[str]) -> Figure:
    """Clustered columns, one group per category (e.g. yield beside target)."""
    n = len(categories)
    long_labels = max((len(c) for c in categories), default=0) * n > 60
    figure = Figure(figsize=(WIDTH_IN, 4.2 if long_labels else 3.4), layout="constrained")
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(chart.series))
    for i, key in enumerate(chart.series):
        offset = (i - (len(chart.series) - 1) / 2) * width
        ax.bar(
            [x + offset for x in range(n)],
            _values(table, key),
            width=width,
            label=table.column(key).header,
            color=chart.colors.get(key, SERIES[i % len(SERIES)]),
        )
    if long_labels:
        ax.set_xticks(range(n), categories, rotation=30, ha="right", rotation_mode="anchor")
    else:
        ax.set_xticks(range(n), categories)
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_ylabel(chart.value_label)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.04), ncol=2, frameon=False)
    return figure


def _ranking(chart: Chart, table: Table, categories: list[str]) -> Figure:
    """Horizontal bars in the table's order, one category highlighted, values written."""
    n = len(categories)
    figure = Figure(figsize=(WIDTH_IN, 0.22 * n + 1.0), layout="constrained")
    ax = figure.add_subplot()
    values = _values(table, chart.series[0])
    colors = [
        HIGHLIGHT if chart.highlight is not None and c == _axis_label(chart.highlight) else BASE
        for c in categories
    ]
    ax.barh(range(n), values, color=colors)
    ax.set_yticks(range(n), categories)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.set_xlabel(chart.value_label)
    for y, value in enumerate(values):
        ax.annotate(
            f"{value:,.0f}", (value, y), xytext=(3, 0), textcoords="offset points", va="center"
        )
    return figure


def _shares(chart: Chart, table: Table, categories: list[str]) -> Figure:
    """100 % stacked horizontal bars: the share of each series per category.

    The legend sits below the axes in as many columns as fit the width, so that the bars keep
    the full width of the page whatever the number of classes (a legend in one long row
    squeezed the axes to slivers).
    """
    n = len(categories)
    labels = [table.column(key).label_zh or key for key in chart.series]
    ncol = legend_columns(labels)
    legend_rows = math.ceil(len(labels) / ncol)
    height = 0.2 * n + 0.18 * legend_rows + 1.2
    figure = Figure(figsize=(WIDTH_IN, height), layout="constrained")
    ax = figure.add_subplot()
    # One collection of every segment (series by series, as stacked bars are painted) with a
    # legend of proxies: a patch per segment cost most of the drawing time.
    left = np.zeros(n)
    y = np.arange(n, dtype=float)
    boxes, faces, handles = [], [], []
    for i, key in enumerate(chart.series):
        values = np.asarray(_values(table, key))
        values = np.where(np.isnan(values), 0.0, values)
        color = chart.colors.get(key, SERIES[i % len(SERIES)])
        x0, x1 = left, left + values
        y0, y1 = y - BAR_HEIGHT / 2, y + BAR_HEIGHT / 2
        boxes.append(np.stack([[x0, y0], [x0, y1], [x1, y1], [x1, y0]]).transpose(2, 0, 1))
        faces += [color] * n
        handles.append(
            Rectangle(
                (0, 0),
                1,
                1,
                label=labels[i],
                facecolor=color,
                edgecolor=SEGMENT_EDGE,
                linewidth=SEGMENT_LINE,
            )
        )
        left = x1
    segments = PolyCollection(
        np.concatenate(boxes) if boxes else np.empty((0, 4, 2)),
        facecolors=faces,
        edgecolors=SEGMENT_EDGE,
        linewidths=SEGMENT_LINE,
        joinstyle="miter",
    )
    ax.add_collection(segments, autolim=False)
    ax.set_yticks(range(n), categories)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlabel(chart.value_label)
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncol=ncol,
        frameon=False,
        fontsize=FONT_PT - 0.5,
    )
    return figure


def legend_columns(labels: list[str], width_in: float = WIDTH_IN) -> int:
    """How many legend entries of these labels fit side by side in ``width_in`` inches."""
    if not labels:
        return 1
    em = (FONT_PT - 0.5) / 72  # inches
    widest = max(sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in label) for label in labels)
    entry = (widest + 3.5) * em  # handle, gap and padding
    return max(1, min(len(labels), int(width_in // entry)))
