"""index.html: the entry page listing every map with a one-line description and key figures.

Plain HTML and CSS, no script: it opens anywhere, online or not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .... import __version__
from ..fields import esc
from ..index_files import files_html
from ..page import MapInputs, Page

FILENAME = "index.html"
TITLE_ZH = "密云区“十四五”高精尖产业发展规划 地图目录"
TITLE_EN = "Miyun 14th Five-Year high-tech industry plan: maps"

_CSS = """
body { font: 14px/1.5 "Helvetica Neue", Arial, "PingFang SC", "Microsoft YaHei",
  "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 980px; padding: 0 1em;
  color: #222; }
h1 { font-size: 22px; margin-bottom: .2em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f9; }
td.map a { font-weight: bold; white-space: nowrap; }
h2 { font-size: 17px; margin: 1.4em 0 .2em; }
td.file a { white-space: nowrap; }
ul.figures { margin: 0; padding-left: 1.1em; color: #333; }
.note { background: #fff8e1; border-left: 4px solid #f39c12; padding: .6em 1em; }
footer { color: #777; font-size: 12px; margin-top: 2em; }
"""


def _row(page: Page) -> str:
    figures = "".join(f"<li>{esc(f)}</li>" for f in page.figures)
    return (
        "<tr>"
        f'<td class="map"><a href="{esc(page.filename)}">{esc(page.title_zh)}</a><br>'
        f"<small>{esc(page.title_en)}</small></td>"
        f"<td>{esc(page.description)}</td>"
        f'<td><ul class="figures">{figures}</ul></td>'
        "</tr>"
    )


def build(
    inputs: MapInputs,
    pages: Sequence[Page],
    *,
    out_dir: Path | None = None,
    files: Iterable[Path] = (),
) -> Page:
    """The index of ``pages`` (itself not included) and of every other file of ``files``
    (the run's outputs, in ``out_dir``): reports, static figures, tables, results.gpkg."""
    options = inputs.options
    mode = (
        "离线：无底图，不请求任何网络资源 Offline: no basemap tiles, nothing is requested"
        if options.offline
        else f"底图 Basemap: {options.basemap}（坐标 datum {options.datum}）"
    )
    rows = "".join(_row(p) for p in pages)
    others = (
        files_html(out_dir, files, pages=[p.filename for p in pages]) if out_dir is not None else ""
    )
    contents = " · ".join(
        f'<a href="#{key}">{esc(text)}</a>'
        for key, text in (
            ("maps", "地图 Maps"),
            ("reports", "报告 Reports"),
            ("static", "静态图 Figures"),
            ("tables", "表格 Tables"),
            ("data", "数据 Data"),
        )
        if key == "maps" or f'id="{key}"' in others
    )
    contents = f'<p class="contents">{contents}</p>' if others else ""
    html = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="miyun-spatial">
<title>{esc(TITLE_ZH)} {esc(TITLE_EN)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{esc(TITLE_ZH)}</h1>
<p class="sub">{esc(TITLE_EN)} · {len(pages)} 幅地图 maps · {esc(mode)}</p>
<p class="note">规划要素几何为示意位置（图上虚线），地块及企业经济数据为合成示意数据；面积在 EPSG:4548 中量算。
Plan geometry is schematic (dashed on the maps); parcel economics are synthetic; areas are
measured in EPSG:4548.</p>
{contents}
<h2 id="maps">地图 Maps</h2>
<table>
<thead><tr><th>地图 Map</th><th>内容 What it shows</th><th>关键数字 Key figures</th></tr></thead>
<tbody>{rows}</tbody>
</table>
{others}
<footer>来源 Source: {esc(inputs.plan.path.name)} (sha256 {esc(inputs.plan.sha256[:12])}…) ·
miyun-spatial {esc(__version__)} · 每页自带 Leaflet，可在内网打开 each page carries its own
Leaflet and opens without internet access.</footer>
</body>
</html>
"""
    return Page(FILENAME, TITLE_ZH, TITLE_EN, "地图目录 Map index", (), html, {})
