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
import re
import warnings
from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .model import Chart, Table

log = logging.getLogger(__name__)

FALLBACK_FONT = "DejaVu Sans"  # ships with matplotlib
CJK_PROBE = "密云园"
# Families tried first; any other installed font that covers CJK_PROBE also qualifies.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
NOT_CJK = ("Last Resort",)  # matplotlib's own fallback maps every code point to a box
HIGHLIGHT = "#d7301f"
BASE = "#4c78a8"
SERIES = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b")
THOUSANDS = FuncFormatter(lambda value, _pos: f"{value:,.0f}")
_ID_REF = re.compile(r'(\bid="|url\(#|href="#)')


@cache
def cjk_font() -> str | None:
    """The family name of an installed font that has Chinese glyphs, or None.

    Looks at the fonts matplotlib knows and at the system's font folders (matplotlib's font
    cache may predate a font installed later); a system font found only there is registered
    with matplotlib for this process.
    """
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    registered = set(known.values())
    candidates: list[tuple[str | None, str]] = list(known.items())
    candidates += [
        (None, path) for path in font_manager.findSystemFonts() if path not in registered
    ]
    for name, path in candidates:
        if name is not None and name.startswith(NOT_CJK):
            continue
        family = _covers_probe(path)
        if family is None or family.startswith(NOT_CJK):
            continue
        if name is None:
            font_manager.fontManager.addfont(path)
        return family
    log.info(
        "no installed font has Chinese glyphs: charts are laid out with %s and the browser "
        "draws their Chinese text with its own fonts",
        FALLBACK_FONT,
    )
    return None


def _covers_probe(path: str) -> str | None:
    """The family name of the font file at ``path`` if it has every glyph of CJK_PROBE."""
    try:
        font = font_manager.get_font(path)
        charmap = font.get_charmap()
    except (OSError, RuntimeError, ValueError):
        return None
    return font.family_name if all(ord(ch) in charmap for ch in CJK_PROBE) else None


def chart_svg(chart: Chart, table: Table) -> str:
    """``chart`` drawn from ``table`` as an SVG element (no XML prolog), ids prefixed by key."""
    font = cjk_font()
    rc = {
        "text.parse_math": False,  # names are data: "$...$" is text, never mathtext to parse
        "svg.fonttype": "none",
        "svg.hashsalt": f"miyun-{chart.key}",
        "font.family": [font, FALLBACK_FONT] if font else [FALLBACK_FONT],
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        if font is None:
            warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
        figure = _draw(chart, table)
        buffer = io.StringIO()
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    return _inline(buffer.getvalue(), chart.key, chart.title)


def _inline(svg: str, key: str, title: str) -> str:
    """Drop the XML prolog and make every id (and reference to it) unique to this chart."""
    svg = svg[svg.index("<svg") :]
    svg = _ID_REF.sub(rf"\g<1>{key}-", svg)
    label = html.escape(title, quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _values(table: Table, column: str) -> list[float]:
    return [float("nan") if v is None else float(v) for v in table.frame[column].tolist()]


def _draw(chart: Chart, table: Table) -> Figure:
    categories = [str(c) for c in table.frame[chart.category].tolist()]
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
    figure = Figure(figsize=(7.0, 4.2 if long_labels else 3.4), layout="constrained")
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
    figure = Figure(figsize=(7.0, 0.22 * n + 1.0), layout="constrained")
    ax = figure.add_subplot()
    values = _values(table, chart.series[0])
    colors = [HIGHLIGHT if c == chart.highlight else BASE for c in categories]
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
    """100 % stacked horizontal bars: the share of each series per category."""
    n = len(categories)
    figure = Figure(figsize=(7.0, 0.3 * n + 1.8), layout="constrained")
    ax = figure.add_subplot()
    left = [0.0] * n
    for i, key in enumerate(chart.series):
        values = [0.0 if v != v else v for v in _values(table, key)]
        ax.barh(
            range(n),
            values,
            left=left,
            label=table.column(key).label_zh or key,
            color=chart.colors.get(key, SERIES[i % len(SERIES)]),
            edgecolor="#555555",
            linewidth=0.3,
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(range(n), categories)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlabel(chart.value_label)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=6, frameon=False)
    return figure
