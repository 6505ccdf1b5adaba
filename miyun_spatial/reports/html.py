"""report.html: the report as one printable page (A4), charts as inline SVG, nothing external.

Rendered with Jinja2 and autoescaping: every piece of text from the data is escaped, so a
name edited in QGIS shows as text and never runs. A Content-Security-Policy forbids scripts and
any request (styles are inline, charts are inline SVG). Each section starts on a new page;
sections with wide tables print in landscape.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..outputs import write_text
from .charts import chart_svg
from .model import Report, Section, Table

log = logging.getLogger(__name__)

WIDE_COLUMNS = 9  # sections with a table wider than this print in landscape
DENSE_COLUMNS = 16  # tables wider than this use a smaller type to fit the page
FONT_STACK = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "SimHei", "Noto Sans", "DejaVu Sans", sans-serif'
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --font: FONT_STACK; --ink: #222; --muted: #666; --rule: #bbb; --flag: #fde0dc; }
* { box-sizing: border-box; }
body { font-family: var(--font); color: var(--ink); font-size: 10pt; line-height: 1.4;
       margin: 0 auto; max-width: 1100px; padding: 16px; }
svg text { font-family: var(--font) !important; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 14pt; border-bottom: 2px solid var(--ink); padding-bottom: 2px; }
h3 { font-size: 11pt; margin: 14px 0 4px; }
.en { color: var(--muted); font-weight: normal; }
.subtitle { color: var(--muted); margin-top: 0; }
.note { font-size: 8.5pt; color: var(--muted); margin: 2px 0 6px; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; font-size: 9pt; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
nav ol { columns: 2; font-size: 10pt; }
table { border-collapse: collapse; width: 100%; font-size: 8pt; margin-bottom: 8px; }
th, td { border: 0.5pt solid var(--rule); padding: 2px 4px; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #eee; text-align: left; font-weight: 600; }
table.dense { font-size: 6.5pt; }
table.dense th, table.dense td { overflow-wrap: anywhere; padding: 1px 2px; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.flag td { background: var(--flag); }
figure.chart { margin: 8px 0 12px; break-inside: avoid; }
figure.chart svg { width: 100%; height: auto; max-height: 230mm; }
section { margin-top: 28px; }
@page { size: A4; margin: 14mm 12mm 16mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
@page wide { size: A4 landscape; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9pt; }
  section { break-before: page; margin-top: 0; }
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
<header id="top">
<h1>{{ report.title_zh }}</h1>
<p class="en">{{ report.title_en }}</p>
<nav aria-label="contents"><ol>
{%- for s in sections %}
<li><a href="#{{ s.key }}">{{ s.name_zh }} <span class="en">{{ s.name_en }}</span></a></li>
{%- endfor %}
</ol></nav>
</header>
{% for s in sections %}
<section id="{{ s.key }}" class="{{ s.css }}">
<h2>{{ s.name_zh }} <span class="en">{{ s.name_en }}</span></h2>
<p class="subtitle">{{ s.subtitle }}</p>
{%- for note in s.notes %}
<p class="note">{{ note }}</p>
{%- endfor %}
{%- if s.meta %}
<dl class="meta">
{%- for key, value in s.meta %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}
</dl>
{%- endif %}
{%- for chart in s.charts %}
<figure class="chart" id="chart-{{ chart.key }}">{{ chart.svg }}</figure>
{%- endfor %}
{%- for t in s.tables %}
<h3 id="{{ s.key }}-{{ t.key }}">{{ t.title_zh }} <span class="en">{{ t.title_en }}</span></h3>
{%- if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
<table data-table="{{ t.key }}"{% if t.dense %} class="dense"{% endif %}>
<thead><tr>{% for h in t.headers %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr{% if row.flag %} class="flag"{% endif %}>
{%- for cell in row.cells %}<td{% if cell.num %} class="num"{% endif %}>{{ cell.text }}</td>{% endfor -%}
</tr>
{%- endfor %}
</tbody>
</table>
{%- endfor %}
</section>
{% endfor %}
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def write_html(report: Report, path: Path) -> Path:
    """Write ``report`` to ``path`` as one self-contained printable page, atomically."""
    return write_text(Path(path), render_html(report))


def render_html(report: Report) -> str:
    sections = [_section_view(s) for s in report.sections]
    return _TEMPLATE.render(report=report, sections=sections, css=Markup(CSS), csp=CSP)


def _section_view(section: Section) -> dict:
    wide = any(len(t.columns) > WIDE_COLUMNS for t in section.tables)
    charts = []
    for chart in section.charts:
        svg = chart_svg(chart, section.table(chart.table))
        # matplotlib escapes every text it writes into the SVG; the markup itself is ours.
        charts.append({"key": chart.key, "title": chart.title, "svg": Markup(svg)})
    return {
        "key": section.key,
        "name_zh": section.name_zh,
        "name_en": section.name_en,
        "subtitle": section.subtitle,
        "notes": section.notes,
        "meta": (),
        "css": "wide" if wide else "",
        "charts": charts,
        "tables": [_table_view(t) for t in section.tables],
    }


def _table_view(table: Table) -> dict:
    flag_index = None
    if table.flag is not None:
        flag_index = [c.key for c in table.columns].index(table.flag[0])
    rows = []
    for values in table.cell_values():
        cells = [
            {"text": column.display(value), "num": column.numeric and value is not None}
            for column, value in zip(table.columns, values, strict=True)
        ]
        flag = flag_index is not None and values[flag_index] == table.flag[1]
        rows.append({"cells": cells, "flag": flag})
    return {
        "key": table.key,
        "title_zh": table.title_zh,
        "title_en": table.title_en,
        "note": table.note,
        "headers": [c.header for c in table.columns],
        "dense": len(table.columns) > DENSE_COLUMNS,
        "rows": rows,
    }
