"""The index's list of every other file a run wrote: reports, static figures, tables, data.

Built from the files themselves (the paths the run reports, as they are on disk): one line
each with what it is and a key figure read from the file (rows and columns of a table, pixel
size of a figure, size on disk). Names and figures are escaped; links are percent-encoded.
"""

from __future__ import annotations

import csv
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from .fields import esc

# (section heading, description by file name or suffix)
SECTIONS = (
    ("reports", "报告 Reports"),
    ("static", "静态专题图（文档用）Static figures for documents"),
    ("tables", "表格 Tables (CSV, UTF-8 BOM)"),
    ("data", "数据 Data"),
    ("other", "其他 Other files"),
)
KNOWN = {
    "report.html": "审查报告（可打印 A4）Review report, printable",
    "report.xlsx": "面积报告 Excel（8 个工作表）Area report workbook",
    "results.gpkg": "成果 GeoPackage：分区与地块及其指标，含 QGIS 样式与工程 Results, styled for QGIS",
    "validation.csv": "数据校验结果 Validation findings",
    "review.html": "审查意见书 Review memo",
    "review.pdf": "审查意见书（PDF，可签发）Review memo, PDF for signing",
    "review_issues.csv": "问题清单（全部）Review memo: every issue",
}
STATIC = {
    "overview": "高精尖产业空间布局总图 Spatial layout",
    "bases": "农民就业产业基地分布图 Farmer bases",
    "land_use_current": "园区用地现状图 Land use, current",
    "land_use_adjusted": "园区用地调整后图 Land use, adjusted",
    "yield": "地块亩均等级图 Yield grades",
    "projects": "储备项目分布图 Projects",
    "base_": "基地位置与用地变化 Base: location and land-use change",
    "area_": "调整区位置与用地变化 Re-designation: location and land-use change",
}
REPORT_SUFFIXES = {".html", ".xlsx", ".md", ".pdf", ".docx", ".txt"}
DATA_SUFFIXES = {".gpkg", ".geojson", ".json", ".zip", ".qgz", ".qgs"}


def section_of(relative: str) -> str:
    """Which index section a file (path relative to the output folder) belongs to."""
    path = Path(relative)
    suffix = path.suffix.lower()
    if path.parts[0] == "static" and suffix in {".png", ".svg"}:
        return "static"
    if suffix == ".csv":
        return "tables"
    if suffix in DATA_SUFFIXES:
        return "data"
    if suffix in REPORT_SUFFIXES and len(path.parts) == 1:
        return "reports"
    return "other"


def _size(nbytes: int) -> str:
    if nbytes >= 1024 * 1024:
        return f"{nbytes / 1024 / 1024:,.1f} MB"
    return f"{max(nbytes / 1024, 0.1):,.1f} KB"


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's IHDR chunk, or None when it is not a PNG."""
    with open(path, "rb") as handle:
        head = handle.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def csv_shape(path: Path) -> tuple[int, int]:
    """(data rows, columns) of a CSV table as written (UTF-8 with BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        rows = sum(1 for _ in reader)
    return rows, len(header)


def key_figure(path: Path, relative: str) -> str:
    """A file's key figure: rows x columns, pixel size, and its size on disk."""
    size = _size(path.stat().st_size)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows, columns = csv_shape(path)
        return f"{rows:,} 行 rows × {columns} 列 columns · {size}"
    if suffix == ".png":
        pixels = png_size(path)
        if pixels:
            return f"{pixels[0]} × {pixels[1]} px · {size}"
    return size


def _static_what(relative: str) -> str:
    if section_of(relative) != "static":
        return ""
    stem = Path(relative).stem
    for key, text in STATIC.items():
        if stem == key or (key.endswith("_") and stem.startswith(key)):
            return text
    return ""


def _link(relative: str) -> str:
    return f'<a href="{esc(quote(relative))}">{esc(relative)}</a>'


def files_html(out_dir: Path, files: Iterable[Path], *, pages: Sequence[str] = ()) -> str:
    """Sections listing every file of ``files`` (besides ``pages`` and the index) that exists
    in ``out_dir``; a static figure's SVG goes on its PNG's line. '' when there is none."""
    out_dir = Path(out_dir)
    skip = {"index.html", *pages}
    relative = []
    for file in files:
        path = Path(file)
        try:
            rel = path.relative_to(out_dir).as_posix() if path.is_absolute() else path.as_posix()
        except ValueError:
            continue
        if rel not in skip and (out_dir / rel).is_file() and rel not in relative:
            relative.append(rel)
    svgs = {r for r in relative if r.endswith(".svg") and section_of(r) == "static"}
    grouped: dict[str, list[str]] = {key: [] for key, _ in SECTIONS}
    tiles = [r for r in relative if section_of(r) == "other" and r.startswith("tiles/")]
    for rel in relative:
        if rel in svgs and rel[:-4] + ".png" in relative:
            continue  # on its PNG's line
        if rel in tiles:
            continue
        grouped[section_of(rel)].append(rel)
    parts = []
    for key, heading in SECTIONS:
        rows = []
        for rel in sorted(grouped[key]):
            extra = ""
            svg = rel[:-4] + ".svg"
            if rel.endswith(".png") and svg in svgs:
                extra = f" · {_link(svg)}"
            what = KNOWN.get(rel, "") or _static_what(rel)
            rows.append(
                f'<tr><td class="file">{_link(rel)}{extra}</td><td>{esc(what)}</td>'
                f"<td>{esc(key_figure(out_dir / rel, rel))}</td></tr>"
            )
        if key == "other" and tiles:
            rows.append(
                f"<tr><td>tiles/</td><td>{esc('大数据量地块的栅格瓦片 Raster tiles of the parcels')}"
                f"</td><td>{len(tiles):,} 个文件 files</td></tr>"
            )
        if rows:
            parts.append(
                f'<h2 id="{key}">{esc(heading)}</h2><table class="files"><thead><tr>'
                "<th>文件 File</th><th>内容 Content</th><th>关键数字 Key figures</th>"
                f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
    return "".join(parts)
