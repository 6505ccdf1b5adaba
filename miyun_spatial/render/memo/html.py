"""review.html: the review memo as one printable A4 page set, nothing external.

Rendered with Jinja2 and autoescaping (every text from the data is escaped, and text is never
compiled as a template); a Content-Security-Policy forbids scripts and requests. Printed (by a
browser or by WeasyPrint, :mod:`.pdf`), every page carries the data mark while any input is
schematic or synthetic (an ``@page`` margin box), the page number of the total, and the run id.
"""

from __future__ import annotations

import jinja2
from markupsafe import Markup

from ...core.citation import SCHEMATIC_MARK_EN, SCHEMATIC_MARK_ZH
from ..reports.html import FONT_STACK
from .content import Memo

CSP = "default-src 'none'; style-src 'unsafe-inline'"
# the font the PDF embeds first (render/fonts.py finds it for matplotlib)
MEMO_FONTS = '"WenQuanYi Zen Hei", ' + FONT_STACK


def css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes, line breaks and ``<`` escaped)."""
    out = []
    for ch in text:
        if ch.isalnum() or ch in " -/，,.:;_（）()·" or ord(ch) > 0x2000:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'


CSS = """
* { box-sizing: border-box; }
body { font-family: FONTS; color: #222; font-size: 10.5pt; line-height: 1.5; margin: 0 auto;
       max-width: 900px; padding: 16px; }
h1 { font-size: 20pt; text-align: center; margin: 0 0 2px; letter-spacing: 2px; }
p.en-title { text-align: center; color: #666; margin: 0 0 8px; }
h2 { font-size: 14pt; border-bottom: 1.5px solid #222; margin: 16px 0 6px; break-after: avoid; }
h3 { font-size: 11pt; margin: 10px 0 4px; break-after: avoid; }
.en { color: #666; font-weight: normal; }
.mark { border: 2px solid #b30000; color: #b30000; font-weight: 700; padding: 4px 8px;
        margin: 8px 0; }
.mark small { display: block; font-weight: normal; color: #222; font-size: 8.5pt; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 1px 12px; font-size: 8.5pt;
          margin: 6px 0; }
dl.meta dt { color: #666; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4px 0 8px; }
th, td { border: 0.5pt solid #999; padding: 2px 4px; vertical-align: top;
         overflow-wrap: anywhere; word-break: break-word; }
th { background: #eee; text-align: left; }
table.fixed { table-layout: fixed; }
table.fixed td.num { white-space: normal; }
caption { text-align: left; font-size: 8.5pt; }
td.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
p.note { color: #666; font-size: 8.5pt; margin: 2px 0 6px; }
.verdict { font-size: 16pt; font-weight: 700; border: 2px solid #222; padding: 6px 12px;
           display: inline-block; margin: 6px 0; }
.verdict.reject { color: #b30000; border-color: #b30000; }
.verdict.conditional { color: #8a5a00; border-color: #8a5a00; }
table.sign td { height: 12mm; }
table.sign td.seal { width: 42mm; text-align: center; vertical-align: middle; color: #999; }
section#sign { break-inside: avoid; }
a { color: #0645ad; }
@page { size: A4; margin: 20mm 16mm 18mm;
  @bottom-right { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页 Page "
                  counter(page) " of " counter(pages); font-family: FONTS; font-size: 8pt; }
  @bottom-left { content: RUNID; font-family: FONTS; font-size: 7pt; color: #666; }
  MARKBOX }
@media print { body { max-width: none; padding: 0; font-size: 10pt; } }
"""

MARK_BOX = (
    "@top-center { content: MARK; font-family: FONTS; font-size: 9pt; font-weight: 700; "
    "color: #b30000; border-bottom: 1pt solid #b30000; }"
)

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="generator" content="miyun-spatial">
<meta name="miyun-run-id" content="{{ memo.run_id }}">
<title>{{ memo.title_zh }} {{ memo.title_en }}</title>
<style>{{ css }}</style>
</head>
<body>
{%- macro table_html(t) %}
<table data-table="{{ t.key }}"{% if t.widths %} class="fixed"{% endif %}>
<caption class="en">{{ t.title }}</caption>
{%- if t.widths %}<colgroup>{% for w in t.widths %}<col style="width:{{ w }}%">{% endfor %}</colgroup>{% endif %}
<thead><tr>{% for h in t.headers %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{%- for row in t.rows %}
<tr>{% for c in row %}<td{% if c.num %} class="num"{% endif %}>
{%- if c.href %}<a href="{{ c.href }}">{{ c.text }}</a>{% else %}{{ c.text }}{% endif %}</td>{% endfor %}</tr>
{%- endfor %}
</tbody>
</table>
{%- if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
{%- endmacro %}
<header>
<h1>{{ memo.title_zh }}</h1>
<p class="en-title">{{ memo.title_en }}</p>
{%- if memo.mark %}
<div class="mark" id="data-mark" role="note">{{ memo.mark }}<small>{{ memo.mark_detail }}</small></div>
{%- endif %}
<dl class="meta">
{%- for key, value in memo.run %}<dt>{{ key }}</dt><dd>
{%- if value == memo.annex %}<a href="{{ memo.annex }}">{{ value }}</a>{% else %}{{ value }}{% endif %}</dd>{% endfor %}
</dl>
<p>结论 Verdict: <span class="verdict {{ memo.verdict_key }}" id="verdict-top">{{ memo.verdict_text }}</span></p>
</header>
{%- for s in memo.sections %}
<section id="{{ s.key }}">
<h2>{{ loop.index }}. {{ s.title_zh }} <span class="en">{{ s.title_en }}</span></h2>
{%- set outer = loop.index %}
{%- for p in s.parts %}
<div class="part" id="{{ p.key }}">
<h3>{{ outer }}.{{ loop.index }} {{ p.title }}</h3>
{%- if s.key == "basis" %}<ol>{% for text in p.paragraphs %}<li>{{ text }}</li>{% endfor %}</ol>
{%- else %}{% for text in p.paragraphs %}<p>{{ text }}</p>{% endfor %}{% endif %}
{%- for t in p.tables %}{{ table_html(t) }}{% endfor %}
</div>
{%- endfor %}
{%- if s.key == "conclusion" %}
<p><span class="verdict {{ memo.verdict_key }}" id="verdict">{{ memo.verdict_text }}</span></p>
{%- endif %}
</section>
{%- endfor %}
<section id="sign">
<h2>签署 <span class="en">Sign-off</span></h2>
<table class="sign" data-table="sign">
<thead><tr><th>职责 Role</th><th>签名 Signature</th><th>日期 Date</th><th>盖章 Seal</th></tr></thead>
<tbody>
{%- for zh, en in memo.sign_off %}
<tr><td>{{ zh }} {{ en }}</td><td></td><td></td>
{%- if loop.first %}<td class="seal" rowspan="{{ memo.sign_off|length }}">（盖章 seal）</td>{% endif %}</tr>
{%- endfor %}
</tbody>
</table>
<p class="note">成文日期 Dated {{ memo.date }}。 数据附件 Data annex: <a href="{{ memo.annex }}">{{ memo.annex }}</a>。 {{ memo.footer }}</p>
</section>
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def memo_css(memo: Memo, font: str | None = None) -> str:
    """The memo's style; ``font``: a CJK family to put first (the one the PDF embeds)."""
    fonts = f"{css_string(font)}, {MEMO_FONTS}" if font else MEMO_FONTS
    mark = MARK_BOX.replace("MARK", css_string(f"{SCHEMATIC_MARK_ZH} {SCHEMATIC_MARK_EN}"))
    return (
        CSS.replace("MARKBOX", mark if memo.mark else "")
        .replace("RUNID", css_string(f"run {memo.run_id}"))
        .replace("FONTS", fonts)
    )


def render_memo(memo: Memo, *, font: str | None = None) -> str:
    """The memo as an HTML document (``font``: see :func:`memo_css`)."""
    return _TEMPLATE.render(memo=memo, css=Markup(memo_css(memo, font)), csp=CSP)


__all__ = ["CSP", "render_memo"]
