"""Offline assets: Leaflet's JS, CSS and images inlined from the installed xstatic-leaflet package.

Every page carries its own copy of Leaflet, so it works from a file share or an intranet with
no internet access; no JavaScript is copied into this repository. folium's CDN links are
removed from each map (:func:`strip_cdn_links`) and replaced by inline ``<script>``/``<style>``
elements (:func:`inline_assets`). jQuery, Bootstrap and Font Awesome are not needed by
anything these pages draw, so they are left out.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from functools import cache
from pathlib import Path

import folium
import xstatic.pkg.leaflet as xstatic_leaflet
from branca.element import Element

from ...core.errors import MiyunError

LEAFLET_VERSION = xstatic_leaflet.VERSION
_LEAFLET_DIR = Path(xstatic_leaflet.BASE_DIR)
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^'\")]+)\1\)")


class AssetError(MiyunError):
    """An installed asset package is missing or broken (reinstall the tool)."""

    exit_code = 4


def _read(name: str) -> str:
    path = _LEAFLET_DIR / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssetError(
            f"{path}: cannot be read ({exc.strerror}); reinstall xstatic-leaflet "
            "(pip install --force-reinstall xstatic-leaflet)"
        ) from None


def data_uri(path: Path) -> str:
    """A file as a ``data:`` URI (base64)."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def leaflet_js() -> str:
    """Leaflet's minified JS without its source-map comment (which would make DevTools fetch)."""
    return _SOURCE_MAP.sub("", _read("leaflet.js")).strip()


@cache
def leaflet_css() -> str:
    """Leaflet's CSS with its images (layer-control icon, default marker) as data: URIs."""
    return _CSS_URL.sub(
        lambda m: f'url("{data_uri(_LEAFLET_DIR / m.group(2))}")', _read("leaflet.css")
    )


_CLOSE_SCRIPT = re.compile(r"</(script)", re.IGNORECASE)
_CLOSE_STYLE = re.compile(r"</(style)", re.IGNORECASE)


def script_tag(code: str) -> str:
    """An inline ``<script>``; a ``</script`` inside a string cannot end the element early."""
    return "<script>" + _CLOSE_SCRIPT.sub(r"<\\/\1", code) + "</script>"


def style_tag(css: str) -> str:
    """An inline ``<style>``, guarded like :func:`script_tag`."""
    return "<style>" + _CLOSE_STYLE.sub(r"<\\/\1", css) + "</style>"


def strip_cdn_links(m: folium.Map) -> None:
    """Remove folium's default CDN ``<script src>``/``<link>`` entries from this map only."""
    m.default_js = []
    m.default_css = []


class Verbatim(Element):
    """An element whose text goes into the page as it is, never compiled as a template.

    branca compiles a plain ``Element``'s text as a Jinja template on every page (hundreds of
    kB for Leaflet, megabytes for a large layer's data); this renders what that would for text
    holding no template syntax (a single trailing newline dropped, as Jinja does), for free.
    """

    def __init__(self, text: str):
        super().__init__()
        self.text = text[:-1] if text.endswith("\n") else text

    def render(self, **kwargs) -> str:
        return self.text


@cache
def _head(extra_js: str, extra_css: str) -> tuple[str, str, str]:
    return (
        style_tag(leaflet_css() + "\n" + extra_css),
        script_tag(leaflet_js()),
        script_tag(extra_js) if extra_js else "",
    )


def inline_assets(m: folium.Map, *, extra_js: str = "", extra_css: str = "") -> None:
    """Put Leaflet (and the page's own client code) inline in the page's ``<head>``."""
    strip_cdn_links(m)
    header = m.get_root().header
    css, leaflet, extra = _head(extra_js, extra_css)
    header.add_child(Verbatim(css), name="miyun_css")
    header.add_child(Verbatim(leaflet), name="leaflet_js")
    if extra:
        header.add_child(Verbatim(extra), name="miyun_js")
