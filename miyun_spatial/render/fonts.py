"""Fonts for matplotlib output (report charts, static maps): an installed CJK font, never fetched.

:func:`cjk_font` looks for an installed font with Chinese glyphs (fonts-wqy-zenhei,
fonts-noto-cjk, the fonts of Windows or macOS); :func:`font_rc` gives the rc settings that use
it first, with DejaVu Sans (shipped with matplotlib) for the rest. Without any CJK font the
output is laid out with DejaVu Sans, said once in the log (info), and matplotlib's "Glyph
missing" warnings are silenced by :func:`quiet_fonts`: no warning spam on a font-less machine.

A font whose only face is not of weight 400 (WenQuanYi Zen Hei declares 500) is registered
once more as the regular face, so matplotlib matches it exactly and prints no ``findfont``
warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from collections.abc import Iterator
from functools import cache

import matplotlib
from matplotlib import font_manager

log = logging.getLogger(__name__)

FALLBACK_FONT = "DejaVu Sans"  # ships with matplotlib
CJK_PROBE = "密云园"
# Families tried first; any other installed font that covers CJK_PROBE also qualifies.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
NOT_CJK = ("Last Resort",)  # matplotlib's own fallback maps every code point to a box
REGULAR, BOLD = 400, 700


@cache
def cjk_font() -> str | None:
    """The family name of an installed font that has Chinese glyphs, or None.

    Looks at the fonts matplotlib knows and at the system's font folders (matplotlib's font
    cache may predate a font installed later); a system font found only there is registered
    with matplotlib for this process.
    """
    manager = font_manager.fontManager
    known = {f.name: f.fname for f in manager.ttflist}
    for family in CJK_FAMILIES:
        if family in known and _covers_probe(known[family]):
            return _regular(family)
    registered = set(known.values())
    candidates: list[tuple[str | None, str]] = list(known.items())
    candidates += [
        (None, path) for path in font_manager.findSystemFonts() if path not in registered
    ]
    for name, path in candidates:
        if name is not None and name.startswith(NOT_CJK):
            continue
        family = _covers_probe(path)
        if family is None or family.startswith(NOT_CJK):
            continue
        if name is None:
            manager.addfont(path)
        return _regular(family)
    log.info(
        "no installed font has Chinese glyphs: charts and maps are laid out with %s "
        "(install fonts-wqy-zenhei or fonts-noto-cjk for Chinese text in PNG maps)",
        FALLBACK_FONT,
    )
    return None


def _regular(family: str) -> str:
    """Make sure ``family`` has faces of weight 400 and 700 that matplotlib can match.

    A family with one face (WenQuanYi Zen Hei is "Medium" only) lends it to the missing
    weights, which is what fontconfig does for the browser too.
    """
    manager = font_manager.fontManager
    normalize = getattr(font_manager, "_normalize_weight", None)  # matplotlib >= 3.6
    if normalize is None:
        return family
    faces = [f for f in manager.ttflist if f.name == family]
    weights = {normalize(f.weight) for f in faces}
    added = False
    for weight in (REGULAR, BOLD):
        if faces and weight not in weights:
            nearest = min(faces, key=lambda f, w=weight: abs(normalize(f.weight) - w))
            manager.ttflist.append(dataclasses.replace(nearest, weight=weight))
            added = True
    cache = getattr(manager, "_findfont_cached", None)
    if added and cache is not None:
        cache.cache_clear()
    return family


def _covers_probe(path: str) -> str | None:
    """The family name of the font file at ``path`` if it has every glyph of CJK_PROBE."""
    try:
        font = font_manager.get_font(path)
        charmap = font.get_charmap()
    except (OSError, RuntimeError, ValueError):
        return None
    return font.family_name if all(ord(ch) in charmap for ch in CJK_PROBE) else None


def font_families(font: str | None) -> list[str]:
    """The font.family list: the CJK font first when there is one, then DejaVu Sans."""
    return [font, FALLBACK_FONT] if font else [FALLBACK_FONT]


# matplotlib's warning for a C0 or C1 control character (0-31, 127-159) no font has
CONTROL_GLYPH_MISSING = r"Glyph ([0-9]|[12][0-9]|3[01]|12[7-9]|1[3-5][0-9]) \(.*missing from font"


@contextlib.contextmanager
def quiet_fonts(font: str | None) -> Iterator[None]:
    """Without a CJK font: no per-glyph "missing from font" warnings (logged once instead).
    With one: none for control characters from the data either (no font draws them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=CONTROL_GLYPH_MISSING)
        if font is None:
            warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
            warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        yield


@contextlib.contextmanager
def font_context(font: str | None, **rc: object) -> Iterator[None]:
    """matplotlib rc with ``font`` first (see :func:`font_families`), warnings kept quiet."""
    # text from the data is text: "$...$" in a name must never be parsed as mathtext
    settings = {"font.family": font_families(font), "text.parse_math": False, **rc}
    with matplotlib.rc_context(settings), quiet_fonts(font):
        yield
