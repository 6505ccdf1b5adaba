"""review.pdf: the memo's HTML laid out by WeasyPrint, with the CJK font embedded.

The font is the installed CJK family :func:`miyun_spatial.render.fonts.cjk_font` finds
(WenQuanYi Zen Hei on Debian, fonts-wqy-zenhei); WeasyPrint embeds the glyphs it uses (a
subset). Links stay relative, so review.pdf beside report.html opens the annex.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ...io.outputs import write_atomic
from ..fonts import cjk_font
from .content import Memo
from .html import render_memo

log = logging.getLogger(__name__)


def memo_pdf(memo: Memo, *, base_url: Path | None = None) -> bytes:
    """The memo as PDF bytes (``base_url``: the folder its relative links point into)."""
    import weasyprint  # imported where a PDF is written (Pango is loaded with it)

    for name in ("weasyprint", "fontTools"):  # per-glyph and CSS notes are not the user's
        logging.getLogger(name).setLevel(logging.ERROR)
    html = render_memo(memo, font=cjk_font())
    document = weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None)
    return document.write_pdf()


def write_memo_pdf(memo: Memo, path: Path) -> Path:
    data = memo_pdf(memo, base_url=Path(path).parent)
    return write_atomic(Path(path), lambda tmp: tmp.write_bytes(data))


__all__ = ["memo_pdf", "write_memo_pdf"]
