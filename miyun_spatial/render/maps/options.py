"""How maps are drawn (basemap, offline, Tianditu key): light enough for the CLI to import."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ...core.errors import InputError

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

    def __post_init__(self) -> None:
        if self.basemap not in BASEMAPS:
            raise InputError(
                f"unknown basemap '{self.basemap}': choose one of {', '.join(BASEMAPS)}"
            )
        if self.basemap == "tianditu" and not self.tianditu_key and not self.offline:
            raise InputError(
                "the Tianditu basemap needs a key: pass --tianditu-key KEY or set "
                f"{TIANDITU_ENV} (a free key from https://console.tianditu.gov.cn/)"
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
