"""The names of the papers a static map is laid out on (no matplotlib: the CLI imports it).

A paper is named ``<size>-<orientation>``: ``a4-landscape`` (the default), ``a4-portrait``,
``a3-landscape``, ``a3-portrait`` (``build --paper``); :func:`.layout.paper_layout` turns a
name into its :class:`~.layout.Layout`.
"""

from __future__ import annotations

SIZES = ("a4", "a3")  # ISO 216
ORIENTATIONS = ("landscape", "portrait")
PAPER_NAMES = tuple(f"{s}-{o}" for s in SIZES for o in ORIENTATIONS)
DEFAULT_PAPER = "a4-landscape"


def split_paper(name: str) -> tuple[str, str]:
    """``("a3", "portrait")`` for ``a3-portrait``; ValueError naming the choices otherwise."""
    if name not in PAPER_NAMES:
        raise ValueError(f"paper {name!r}: use one of {', '.join(PAPER_NAMES)}")
    size, orientation = name.split("-")
    return size, orientation
