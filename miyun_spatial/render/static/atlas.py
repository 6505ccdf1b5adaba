"""The atlas: every static map in one PDF (``atlas.pdf`` in the output folder), for a document.

On the paper of the maps (``build --paper``). A contents page first (图集目录: each figure's number, title and page), then each map's own
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
from .layout import DEFAULT_LAYOUT, Layout
from .output import METADATA, STATIC_DIR, StaticMap

ATLAS_NAME = "atlas.pdf"
PER_PAGE = 40  # contents lines on one page


def contents_pdf(
    maps: Sequence[StaticMap], generated: str, layout: Layout = DEFAULT_LAYOUT
) -> bytes:
    """The contents page(s) on the paper of ``layout``: the atlas title, and each figure's
    number, title and page."""
    per_page = _per_page(layout)
    pages = max(1, -(-len(maps) // per_page))
    buffer = io.BytesIO()
    with font_context(cjk_font(), **{"pdf.fonttype": 42}):
        from matplotlib.backends.backend_pdf import PdfPages

        with PdfPages(buffer, metadata=METADATA["pdf"]) as pdf:
            for page in range(pages):
                pdf.savefig(_contents_page(maps, page, pages, generated, layout))
    return buffer.getvalue()


def _per_page(layout: Layout) -> int:
    """Contents lines on one page: :data:`PER_PAGE` on A4 portrait, as many as fit otherwise."""
    return max(10, int(PER_PAGE * (layout.size_in[1] - 2.2) / (297 / 25.4 - 2.2)))


def _contents_page(
    maps: Sequence[StaticMap], page: int, pages: int, generated: str, layout: Layout
) -> Figure:
    width, height = layout.size_in
    per_page = _per_page(layout)
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
    first = page * per_page
    for i, static_map in enumerate(maps[first : first + per_page], start=first):
        y = top - 0.4 / height - (i - first) * line
        figure.text(0.1, y, f"图 {i + 1}", ha="left", va="top", fontsize=8)
        figure.text(0.2, y, static_map.title, ha="left", va="top", fontsize=8)
        figure.text(0.9, y, str(pages + i + 1), ha="right", va="top", fontsize=8)
    return figure


def atlas_pdf(
    maps: Sequence[StaticMap], out_dir: Path, generated: str, layout: Layout = DEFAULT_LAYOUT
) -> bytes:
    """The contents pages, then ``static/<key>.pdf`` of each map (one page each), all on
    the paper of ``layout`` (the maps' own)."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(contents_pdf(maps, generated, layout))).pages:
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


def write_atlas(
    maps: Sequence[StaticMap], out_dir: Path, generated: str, layout: Layout = DEFAULT_LAYOUT
) -> Path:
    """``atlas.pdf`` in ``out_dir``, written atomically, once every map's PDF is written."""
    data = atlas_pdf(maps, out_dir, generated, layout)
    path = Path(out_dir) / ATLAS_NAME
    write_atomic(path, lambda target: Path(target).write_bytes(data))
    return path
