"""The atlas: every static map in one PDF (``atlas.pdf`` in the output folder), for a document.

A contents page first (图集目录: each figure's number, title and page), then each map's own
vector PDF (``static/<key>.pdf``, written by :func:`~.output.write_static_maps`) one per page,
in the order a review reads them, with a bookmark per figure. The contents page is drawn with
matplotlib, its CJK font embedded as a TrueType subset like the maps'.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from pypdf import PdfReader, PdfWriter

from ...core.citation import SCHEMATIC_MARK_EN, SCHEMATIC_MARK_ZH
from ...io.outputs import write_atomic
from ..fonts import cjk_font, font_context
from .output import METADATA, STATIC_DIR, StaticMap

ATLAS_NAME = "atlas.pdf"
A4_PORTRAIT_IN = (210 / 25.4, 297 / 25.4)
PER_PAGE = 40  # contents lines on one page


def contents_pdf(maps: Sequence[StaticMap], generated: str) -> bytes:
    """The contents page(s): the atlas title, and each figure's number, title and page."""
    pages = max(1, -(-len(maps) // PER_PAGE))
    buffer = io.BytesIO()
    with font_context(cjk_font(), **{"pdf.fonttype": 42}):
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(buffer, metadata=METADATA["pdf"]) as pdf:
            for page in range(pages):
                pdf.savefig(_contents_page(maps, page, pages, generated))
    return buffer.getvalue()


def _contents_page(maps: Sequence[StaticMap], page: int, pages: int, generated: str) -> Figure:
    width, height = A4_PORTRAIT_IN
    figure = Figure(figsize=(width, height))
    top = 1 - 0.9 / height
    if page == 0:
        figure.text(0.5, top, "密云区高精尖产业规划图集", ha="center", va="top", fontsize=18,
                    fontweight="bold")  # fmt: skip
        figure.text(0.5, top - 0.45 / height, "Atlas of the Miyun high-tech industry plan",
                    ha="center", va="top", fontsize=10, color="#444444")  # fmt: skip
        figure.text(0.5, top - 0.8 / height, f"{SCHEMATIC_MARK_ZH} {SCHEMATIC_MARK_EN}；{generated}",
                    ha="center", va="top", fontsize=7, color="#444444")  # fmt: skip
        top -= 1.3 / height
    figure.text(0.1, top, "目录 Contents", ha="left", va="top", fontsize=12, fontweight="bold")
    line = 0.22 / height
    first = page * PER_PAGE
    for i, static_map in enumerate(maps[first : first + PER_PAGE], start=first):
        y = top - 0.4 / height - (i - first) * line
        figure.text(0.1, y, f"图 {i + 1}", ha="left", va="top", fontsize=8)
        figure.text(0.2, y, static_map.title, ha="left", va="top", fontsize=8)
        figure.text(0.9, y, str(pages + i + 1), ha="right", va="top", fontsize=8)
    return figure


def atlas_pdf(maps: Sequence[StaticMap], out_dir: Path, generated: str) -> bytes:
    """The contents pages, then ``static/<key>.pdf`` of each map (one page each)."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(contents_pdf(maps, generated))).pages:
        writer.add_page(page)
    for i, static_map in enumerate(maps, start=1):
        reader = PdfReader(Path(out_dir) / STATIC_DIR / f"{static_map.key}.pdf")
        number = len(writer.pages)
        for page in reader.pages:
            writer.add_page(page)
        writer.add_outline_item(title=f"图 {i} {static_map.title}", page_number=number)
    writer.add_metadata({"/Title": "密云区高精尖产业规划图集 Atlas"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_atlas(maps: Sequence[StaticMap], out_dir: Path, generated: str) -> Path:
    """``atlas.pdf`` in ``out_dir``, written atomically, once every map's PDF is written."""
    data = atlas_pdf(maps, out_dir, generated)
    path = Path(out_dir) / ATLAS_NAME
    write_atomic(path, lambda target: Path(target).write_bytes(data))
    return path
