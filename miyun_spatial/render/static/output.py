"""A static map as files: :class:`StaticMap` (key, title, how to draw it), drawn once and
saved as PNG, SVG and PDF (vector, fonts embedded) with the CJK font (:func:`render`), written atomically under static/."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from ...io.outputs import write_atomic
from ..fonts import cjk_font, font_context
from .elements import DPI

STATIC_DIR = "static"


@dataclass(frozen=True)
class StaticMap:
    """One thematic map: a file key, its title and how to draw it."""

    key: str
    title_zh: str
    title_en: str
    draw: Callable[[], Figure]

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"


FORMATS = ("png", "svg", "pdf")
METADATA = {
    "svg": {"Date": None, "Creator": None, "Format": None, "Type": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "png": {"Software": None},
}


def render(static_map: StaticMap, formats: Sequence[str] = FORMATS) -> dict[str, bytes]:
    """The map drawn once and saved in each format: PNG (300 dpi), SVG (text kept as text),
    PDF (vector, the CJK font embedded as TrueType subsets)."""
    font = cjk_font()
    rc = {"svg.fonttype": "none", "svg.hashsalt": f"miyun-{static_map.key}", "pdf.fonttype": 42}
    out = {}
    with font_context(font, **rc):
        figure = static_map.draw()
        for fmt in formats:
            buffer = io.BytesIO()
            figure.savefig(buffer, format=fmt, dpi=DPI, metadata=METADATA.get(fmt))
            out[fmt] = buffer.getvalue()
    return out


def write_static_maps(maps: Sequence[StaticMap], out_dir: Path) -> dict[str, Path]:
    """Write each map as ``static/<key>.png``, ``.svg`` and ``.pdf`` under ``out_dir``.

    Returns the paths of every file written, PNG first for each map.
    """
    folder = Path(out_dir) / STATIC_DIR
    written: dict[str, Path] = {}
    for static_map in maps:
        for fmt, data in render(static_map).items():
            path = folder / f"{static_map.key}.{fmt}"
            write_atomic(path, lambda target, data=data: Path(target).write_bytes(data))
            written[f"{static_map.key}.{fmt}"] = path
    return written
