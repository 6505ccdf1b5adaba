"""How maps are drawn (basemap, offline, Tianditu key): light enough for the CLI to import."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from ...core.errors import InputError
from ..static.paper import DEFAULT_PAPER, PAPER_NAMES

TIANDITU_ENV = "MIYUN_TIANDITU_KEY"
BASEMAPS = ("osm", "light", "imagery", "tianditu", "gaode", "none")
DEFAULT_BASEMAP = "osm"


@dataclass(frozen=True)
class MapOptions:
    """How pages are drawn: offline (no tiles, nothing requested), basemap, Tianditu key."""

    offline: bool = False
    basemap: str = DEFAULT_BASEMAP
    tianditu_key: str | None = None
    # the land-use page draws more parcels than this as raster tiles (render/maps/tiles.py);
    # at most this many one by one. Equal to aggregate.MAX_EMBEDDED: the dissolved view between
    # the two (cells and tolerances grown until a budget is met) is no longer reached
    tiles_above: int = 10_000
    # a local or intranet XYZ tile source (--basemap-tiles): URL template and its attribution
    tiles_url: str | None = None
    tiles_attribution: str | None = None
    # the paper of the static maps and atlas.pdf (build --paper): render/static/paper.py
    paper: str = DEFAULT_PAPER

    def __post_init__(self) -> None:
        if self.paper not in PAPER_NAMES:
            raise InputError(
                f"unknown paper '{self.paper}': choose one of {', '.join(PAPER_NAMES)}"
            )
        if self.basemap not in BASEMAPS:
            raise InputError(
                f"unknown basemap '{self.basemap}': choose one of {', '.join(BASEMAPS)}"
            )
        if self.basemap == "tianditu" and not self.tianditu_key and not self.offline:
            raise InputError(
                "the Tianditu basemap needs a key: pass --tianditu-key KEY or set "
                f"{TIANDITU_ENV} (a free key from https://console.tianditu.gov.cn/)"
            )

        if self.tiles_url is not None:
            check_tiles_url(self.tiles_url)
            if not (self.tiles_attribution or "").strip():
                raise InputError(
                    "--basemap-tiles needs --basemap-attribution TEXT: name the tiles' source "
                    "and licence (e.g. '天地图 © 国家地理信息公共服务平台'), it is shown on every map"
                )

    @property
    def datum(self) -> str:
        """The datum the page's coordinates are drawn in: 'WGS84' or 'GCJ-02'."""
        return "GCJ-02" if self.basemap == "gaode" and not self.offline else "WGS84"

    @property
    def draws_tiles(self) -> bool:
        return not self.offline and self.basemap != "none"


def tianditu_key_from_env() -> str | None:
    """The Tianditu key from the environment (MIYUN_TIANDITU_KEY), if set and not blank."""
    key = os.environ.get(TIANDITU_ENV, "").strip()
    return key or None


TILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
_TEMPLATE_TOKEN = re.compile(r"\{[^{}]*\}")
_ALLOWED_TOKENS = {"{z}", "{x}", "{y}", "{-y}", "{s}", "{r}"}


def check_tiles_url(url: str) -> None:
    """Refuse a tile URL template that is not http(s) or relative, lacks {z}/{x}/{y}, or carries
    anything a page could run ('javascript:', template tags, quotes, angle brackets)."""
    scheme = urlsplit(url).scheme.lower()
    tokens = set(_TEMPLATE_TOKEN.findall(url))
    bad = (
        scheme not in ("", "http", "https", "file")
        or re.search(r"[\s\"'<>\\`]|\{\{|\}\}|\{%|\{#", url)
        or not {"{z}", "{x}"} <= tokens
        or not tokens & {"{y}", "{-y}"}
        or tokens - _ALLOWED_TOKENS
    )
    if bad:
        raise InputError(
            f"--basemap-tiles '{url[:120]}' is not an XYZ tile source: give an http(s) URL "
            "template with {z}, {x} and {y} (e.g. http://tiles.intranet/{z}/{x}/{y}.png) or a "
            "folder of tiles laid out as z/x/y.png"
        )


def tile_source(value: str, out_dir: Path) -> str:
    """The URL template of ``--basemap-tiles``: a URL as given, or a folder of z/x/y tiles as
    a template relative to the pages in ``out_dir`` (so the folder and the maps can be copied
    together)."""
    folder = Path(value).expanduser()
    if "{" in value or urlsplit(value).scheme in ("http", "https", "file"):
        check_tiles_url(value)
        return value
    if not folder.is_dir():
        raise InputError(
            f"--basemap-tiles '{value}' is neither a tile URL template nor a folder: give "
            "http(s)://host/{z}/{x}/{y}.png or a folder holding z/x/y.png tiles"
        )
    suffix = next(
        (
            path.suffix.lower()
            for path in sorted(folder.glob("*/*/*"))
            if path.suffix.lower() in TILE_SUFFIXES and path.parts[-3].isdigit()
        ),
        None,
    )
    if suffix is None:
        raise InputError(
            f"--basemap-tiles folder '{folder}' holds no tiles laid out as z/x/y.png (or .jpg, "
            ".webp): point it at the folder whose sub-folders are the zoom levels"
        )
    relative = os.path.relpath(folder.resolve(), Path(out_dir).resolve())
    template = quote(Path(relative).as_posix(), safe="/._-~") + "/{z}/{x}/{y}" + suffix
    check_tiles_url(template)
    return template
