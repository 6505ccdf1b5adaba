"""A static map as files: :class:`StaticMap` (key, title, how to draw it), drawn once and
saved as PNG and SVG with the CJK font (:func:`render`), written atomically under static/."""

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


def render(static_map: StaticMap, formats: Sequence[str] = ("png", "svg")) -> dict[str, bytes]:
    """The map drawn once and saved in each format: PNG (300 dpi), SVG (text kept as text)."""
    font = cjk_font()
    rc = {"svg.fonttype": "none", "svg.hashsalt": f"miyun-{static_map.key}"}
    out = {}
    with font_context(font, **rc):
        figure = static_map.draw()
        for fmt in formats:
            buffer = io.BytesIO()
            metadata = (
                {"Date": None, "Creator": None, "Format": None, "Type": None}
                if fmt == "svg"
                else {"Software": None}
            )
            figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
            out[fmt] = buffer.getvalue()
    return out


def write_static_maps(maps: Sequence[StaticMap], out_dir: Path) -> dict[str, Path]:
    """Write each map as ``static/<key>.png`` and ``.svg`` under ``out_dir``; key -> PNG path.

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
