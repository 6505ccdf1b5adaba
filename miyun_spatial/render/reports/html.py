"""report.html: the review document as one printable page (A4), nothing external.

It opens with the plan cited, the schematic/synthetic data mark and the findings, then the
static maps (PNG, inline), then the sections' tables and charts (inline SVG); long listings
go to an appendix, cut to their first rows (the full lists are in the CSV files and the
workbook). Tables use a fixed layout with computed column widths and break long words
anywhere, so no table is ever wider than its page, whatever font the reader has.

Rendered with Jinja2 and autoescaping: every piece of text from the data is escaped, so a
name edited in QGIS shows as text and never runs. A Content-Security-Policy forbids scripts and
any request (styles are inline, charts are inline SVG). Each section starts on a new page;
sections with wide tables print in landscape.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2
from markupsafe import Markup

from ...core.citation import SCHEMATIC_MARK_ZH
from ...io.outputs import write_text
from .charts import chart_svg
from .control_lines_section import XLSX_ONLY as CONTROL_LINE_SHEETS
from .model import Front, Report, Section, Table
from .scenario_section import SECTION as SCENARIO_SECTION

log = logging.getLogger(__name__)

WIDE_COLUMNS = 9  # sections with a table wider than this print in landscape
PORTRAIT = frozenset({"summary"})  # the table sections flow on landscape pages, but these
IN_FRONT = frozenset({"run"})  # tables the front matter already shows
# sections whose tables only report.xlsx shows whole (report.html has their summary)
XLSX_ONLY = frozenset({*CONTROL_LINE_SHEETS, SCENARIO_SECTION})
DENSE_COLUMNS = 11  # tables wider than this use a smaller type to fit the page
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "SimHei", "Noto Sans", "DejaVu Sans", sans-serif'
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --font: FONT_STACK; --ink: #222; --muted: #666; --rule: #bbb; --flag: #fde0dc;
        --mark: #b30000; }
* { box-sizing: border-box; }
body { font-family: var(--font); color: var(--ink); font-size: 10pt; line-height: 1.4;
       margin: 0 auto; max-width: 1100px; padding: 16px; }
svg text { font-family: var(--font) !important; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 14pt; border-bottom: 2px solid var(--ink); padding-bottom: 2px; margin-top: 0; }
h3 { font-size: 11pt; margin: 12px 0 4px; }
.en { color: var(--muted); font-weight: normal; }
.subtitle { color: var(--muted); margin-top: 0; }
.note { font-size: 8.5pt; color: var(--muted); margin: 2px 0 6px; }
.citation { font-size: 10pt; margin: 6px 0; }
.mark { border: 2.5px solid var(--mark); color: var(--mark); font-weight: 700; font-size: 13pt;
        padding: 6px 10px; margin: 10px 0; }
.mark small { display: block; font-size: 8.5pt; font-weight: normal; color: var(--ink); }
.badge { float: right; color: var(--mark); border: 1px solid var(--mark); font-size: 8pt;
         font-weight: 700; padding: 0 4px; margin-top: 4px; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 9pt; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
nav ol { columns: 3; font-size: 9pt; margin: 4px 0; }
ul.findings { margin: 4px 0 8px; padding-left: 18px; }
ul.findings li { margin: 2px 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 8pt;
        margin-bottom: 8px; }
th, td { border: 0.5pt solid var(--rule); padding: 2px 4px; vertical-align: top;
         overflow-wrap: anywhere; word-break: break-word; }
th { background: #eee; text-align: left; font-weight: 600; }
table.dense { font-size: 6.5pt; }
table.dense th, table.dense td { padding: 1px 2px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: var(--flag); }
tr.warn-red td { background: #f4c7c3; } tr.warn-amber td { background: #fce8b2; }
tr.warn-green td { background: #d9ead3; }
figure { margin: 6px 0 10px; break-inside: avoid; }
figure.chart { text-align: center; }
figure.chart svg { width: 100%; height: auto; max-height: 165mm; max-width: 200mm; }
figure.map img { width: 100%; height: auto; display: block; }
@media print { div.maps figure:not(.panel) img { width: auto; max-width: 100%; max-height: 118mm;
  margin: 0 auto; } }  /* two sheet-shaped maps on a portrait page */
div.maps { display: flex; flex-wrap: wrap; justify-content: space-between; }
div.maps figure { width: 100%; }
div.maps figure.panel { width: 49%; margin: 4px 0 8px; }  /* location maps two a row */
figcaption { font-size: 8.5pt; color: var(--muted); }
section { margin-top: 28px; }
@page { size: A4; margin: 14mm 12mm 14mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
@page wide { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; }
  section { margin-top: 6mm; }
  section#maps, section#appendix { break-before: page; margin-top: 0; }
  section.wide { page: wide; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  nav a { color: inherit; text-decoration: none; }
}
""".replace("FONT_STACK", FONT_STACK)

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="miyun-spatial">
<title>{{ report.title_zh }} {{ report.title_en }}</title>
<style>{{ css }}</style>
</head>
<body>
{%- macro table_html(t) %}
<h3 id="table-{{ t.key }}">{{ t.title_zh }} <span class="en">{{ t.title_en }}</span></h3>
{%- if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
<table data-table="{{ t.key }}"{% if t.dense %} class="dense"{% endif %}>
<colgroup>{% for w in t.widths %}<col style="width:{{ w }}%">{% endfor %}</colgroup>
<thead><tr>{% for h in t.headers %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr{% if row.flag %} class="flag"{% elif row.level %} class="warn-{{ row.level }}"{% endif %}>
{%- for cell in row.cells %}<td{% if cell.num %} class="num"{% endif %}>{{ cell.text }}</td>{% endfor -%}
</tr>
{%- endfor %}
</tbody>
</table>
{%- endmacro %}
{%- macro badge() %}{% if front.mark %}<span class="badge">{{ mark_short }}</span>{% endif %}{% endmacro %}
<header id="top">
<h1>{{ report.title_zh }}</h1>
<p class="en">{{ report.title_en }}</p>
<p class="citation">依据 Plan: {{ front.citation[0] }}<br><span class="en">{{ front.citation[1] }}</span></p>
{%- if front.mark %}
<div class="mark" role="note" id="data-mark">{{ front.mark }}<small>{{ front.mark_detail }}</small></div>
{%- endif %}
<dl class="meta">
{%- for key, value in front.run %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}
</dl>
<nav aria-label="contents"><ol>
{%- for s in toc %}
<li><a href="#{{ s.key }}">{{ s.name_zh }} <span class="en">{{ s.name_en }}</span></a></li>
{%- endfor %}
</ol></nav>
<div id="findings">
<h2>主要发现 <span class="en">Findings</span>{{ badge() }}</h2>
{%- for g in findings %}
<h3 id="findings-{{ g.key }}">{{ g.title_zh }} <span class="en">{{ g.title_en }}</span></h3>
<ul class="findings">{% for item in g.lines %}<li>{{ item }}</li>{% endfor %}</ul>
{%- if g.table %}{{ table_html(g.table) }}{% endif %}
{%- endfor %}
</div>
</header>
{%- if figures %}
<section id="maps">
<h2>图件 <span class="en">Maps</span>{{ badge() }}</h2>
<p class="subtitle">Location and land use before and after of each re-designated area and each
farmer base, drawn from the EPSG:4548 layers, shown here at about 150 dpi (full resolution
and vector files: static/*.png, *.pdf, *.svg).</p>
<div class="maps">
{%- for f in figures %}
<figure class="map{% if not f.wide %} panel{% endif %}" id="map-{{ f.key }}">
<img src="data:image/png;base64,{{ f.data }}" alt="{{ f.caption }}">
<figcaption>图 {{ loop.index }} {{ f.caption }}</figcaption>
</figure>
{%- endfor %}
</div>
</section>
{%- endif %}
{% for s in sections %}
<section id="{{ s.key }}" class="{{ s.css }}">
<h2>{{ s.name_zh }} <span class="en">{{ s.name_en }}</span>{{ badge() }}</h2>
<p class="subtitle">{{ s.subtitle }}</p>
{%- for note in s.notes %}
<p class="note">{{ note }}</p>
{%- endfor %}
{%- for chart in s.charts if not chart.before %}
<figure class="chart" id="chart-{{ chart.key }}">{{ chart.svg }}</figure>
{%- endfor %}
{%- for t in s.tables %}
{%- for chart in s.charts if chart.before == t.key %}
<figure class="chart" id="chart-{{ chart.key }}">{{ chart.svg }}</figure>
{%- endfor %}
{{- table_html(t) }}
{%- endfor %}
</section>
{% endfor %}
{%- if appendix %}
<section id="appendix" class="wide">
<h2>附录：明细表（节选） <span class="en">Appendix: listings (first rows)</span>{{ badge() }}</h2>
<p class="subtitle">Long listings are cut to their first {{ front.listing_rows }} rows here;
the full lists are in the CSV files and report.xlsx named under each table.</p>
{%- for t in appendix %}{{ table_html(t) }}{% endfor %}
</section>
{%- endif %}
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def write_html(report: Report, path: Path, charts: Mapping[str, str] | None = None) -> Path:
    """Write ``report`` to ``path`` as one self-contained printable page, atomically.

    ``charts``: chart key -> SVG already drawn by :func:`chart_svgs` (the rest are drawn here).
    """
    return write_text(Path(path), render_html(report, charts))


def chart_svgs(report: Report) -> dict[str, str]:
    """Every chart of ``report`` drawn as inline SVG, by chart key."""
    return {
        chart.key: chart_svg(chart, section.table(chart.table))
        for section in report.sections
        for chart in section.charts
    }


EMBED_MAX_PX = 1800  # an A4 page's width at ~150 dpi: sharp on screen and in print
# the PNG bytes all figures may take in the page (base64 adds a third): a page <= 10 MB
EMBED_BUDGET = 5_000_000


def embedded_png(png: bytes, max_px: int = EMBED_MAX_PX) -> bytes:
    """``png`` as embedded in the page: reduced by a whole factor to at most ``max_px`` wide
    if it is wider (the static files keep the full resolution, e.g. 300 dpi A3), so the page
    stays small; a whole factor averages pixel blocks, the cheapest sharp reduction."""
    from PIL import Image  # matplotlib's own dependency; only needed here

    with Image.open(io.BytesIO(png)) as image:
        factor = -(-image.width // max_px)
        if factor <= 1:
            return png
        smaller = image.reduce(factor)
    out = io.BytesIO()
    smaller.save(out, format="PNG")
    return out.getvalue()


def embedded_pngs(pngs: Sequence[bytes], budget: int = EMBED_BUDGET) -> list[bytes]:
    """Every figure by :func:`embedded_png`, all at most ``budget`` bytes together: figures of
    finely mixed data compress badly, so when the first reduction leaves them over the budget
    they are reduced again, to a width smaller by the square root of the excess (the bytes of
    a PNG grow with its pixels), until they fit or are 300 px wide."""
    max_px = EMBED_MAX_PX
    out = [embedded_png(png, max_px) for png in pngs]
    while sum(map(len, out)) > budget and max_px > 300:
        excess = sum(map(len, out)) / budget
        max_px = max(300, int(max_px / max(excess**0.5, 1.25)))
        out = [embedded_png(png, max_px) for png in pngs]
    return out


def render_html(report: Report, charts: Mapping[str, str] | None = None) -> str:
    front = report.front or Front(("", ""), None, "", ())
    listings = dict(front.listings)
    shown = [s for s in report.sections if s.key not in XLSX_ONLY]
    sections = [_section_view(s, listings, charts or {}) for s in shown]
    appendix = [
        _table_view(t, cap=front.listing_rows, full=listings[t.key])
        for s in report.sections
        for t in s.tables
        if t.key in listings
    ]
    figures = [
        {
            "key": f.key,
            "caption": f.caption,
            "wide": f.wide,
            "data": base64.b64encode(png).decode("ascii"),
        }
        for f, png in zip(front.figures, embedded_pngs([f.png for f in front.figures]), strict=True)
    ]
    findings = [
        {
            "key": g.key,
            "title_zh": g.title_zh,
            "title_en": g.title_en,
            "lines": g.items,
            "table": _table_view(g.table) if g.table is not None else None,
        }
        for g in front.findings
    ]
    toc = [{"key": "findings", "name_zh": "主要发现", "name_en": "Findings"}]
    if figures:
        toc.append({"key": "maps", "name_zh": "图件", "name_en": "Maps"})
    toc += sections
    if appendix:
        toc.append({"key": "appendix", "name_zh": "附录", "name_en": "Appendix"})
    return _TEMPLATE.render(
        report=report,
        front=front,
        findings=findings,
        mark_short=SCHEMATIC_MARK_ZH,
        toc=toc,
        figures=figures,
        sections=sections,
        appendix=appendix,
        css=Markup(CSS),
        csp=CSP,
    )


def _section_view(section: Section, listings: dict[str, str], drawn: Mapping[str, str]) -> dict:
    tables = [t for t in section.tables if t.key not in listings and t.key not in IN_FRONT]
    wide = section.key not in PORTRAIT or any(len(t.columns) > WIDE_COLUMNS for t in tables)
    shown = {t.key for t in tables}
    charts = []
    for chart in section.charts:
        svg = drawn.get(chart.key) or chart_svg(chart, section.table(chart.table))
        # matplotlib escapes every text it writes into the SVG; the markup itself is ours.
        before = chart.table if chart.table in shown else ""
        charts.append(
            {"key": chart.key, "title": chart.title, "svg": Markup(svg), "before": before}
        )
    notes = list(section.notes)
    moved = [t for t in section.tables if t.key in listings]
    if moved:
        notes.append(
            "附录 Appendix: "
            + "; ".join(f"{t.title_zh} {t.title_en}" for t in moved)
            + " (first rows; full lists in the CSV files and report.xlsx)."
        )
    return {
        "key": section.key,
        "name_zh": section.name_zh,
        "name_en": section.name_en,
        "subtitle": section.subtitle,
        "notes": notes,
        "css": "wide" if wide else "",
        "charts": charts,
        "tables": [_table_view(t) for t in tables],
    }


WARNING_LEVELS = ("red", "amber", "green")


def _level(table: Table, record) -> str | None:
    """The warning level of a row of a ``levels`` table (the last word of its cell), or None."""
    if table.levels is None:
        return None
    value = record[[c.key for c in table.columns].index(table.levels)]
    word = str(value).split()[-1] if value else ""
    return word if word in WARNING_LEVELS else None


def _table_view(table: Table, *, cap: int | None = None, full: str = "") -> dict:
    """A table as the template draws it; with ``cap``, an excerpt of its first rows for the
    appendix (the columns those rows leave empty are left out of the excerpt)."""
    flag_index = None
    if table.flag is not None:
        flag_index = [c.key for c in table.columns].index(table.flag[0])
    values = table.cell_values()
    shown = values if cap is None else values[:cap]
    keep = list(range(len(table.columns)))
    if cap is not None:
        keep = [i for i in keep if i == flag_index or any(r[i] is not None for r in shown)]
    columns = [table.columns[i] for i in keep]
    rows = []
    for record in shown:
        cells = [
            {"text": column.display(record[i]), "num": column.numeric and record[i] is not None}
            for i, column in zip(keep, columns, strict=True)
        ]
        flag = flag_index is not None and record[flag_index] == table.flag[1]
        rows.append({"cells": cells, "flag": flag, "level": _level(table, record)})
    note = table.note
    if cap is not None:
        cut = f"前 {len(shown)} 行，共 {len(values)} 行 first {len(shown)} of {len(values)} rows"
        dropped = len(table.columns) - len(columns)
        if dropped:
            cut += f"; {dropped} empty columns left out"
        note = f"{cut}; 完整列表 full list: {full}. {note}".strip()
    headers = [c.header for c in columns]
    return {
        "key": table.key,
        "title_zh": table.title_zh,
        "title_en": table.title_en,
        "note": note,
        "headers": headers,
        "widths": column_widths(
            headers,
            [[c["text"] for c in r["cells"]] for r in rows],
            [c.numeric for c in columns],
        ),
        "dense": len(columns) > DENSE_COLUMNS,
        "rows": rows,
    }


def _text_width(text: str) -> float:
    """Width of ``text`` in Latin character widths (a CJK character counts two)."""
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def column_widths(
    headers: list[str], rows: list[list[str]], numeric: list[bool], sample: int = 60
) -> list[float]:
    """Percent width of each column (table-layout: fixed).

    A number column gets the width of its longest number (numbers never break); a text column
    the width of its header's longest word and of its typical cell, within bounds, so that
    long names wrap instead of starving the other columns.
    """
    weights = []
    for i, header in enumerate(headers):
        word = max((_text_width(w) for w in header.split()), default=2.0)
        cells = sorted(_text_width(r[i]) for r in rows[:sample]) or [0.0]
        if numeric[i]:
            weights.append(max(cells[-1] + 1.5, min(word, 9.0), 4.0))
        else:
            typical = cells[int(0.8 * (len(cells) - 1))]
            weights.append(min(max(min(word, 12.0), typical * 0.7, 4.0), 26.0))
    total = sum(weights) or 1.0
    return [round(100 * w / total, 2) for w in weights]
