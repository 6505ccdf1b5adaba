"""Large parcel layers as an XYZ pyramid of PNG tiles: cost bounded by the output, not the data.

Beyond ``MapOptions.tiles_above`` parcels the land-use page draws its parcels as raster tiles
``tiles/<use>/{z}/{x}/{y}.png`` (Web Mercator, the XYZ scheme Leaflet and every web GIS read,
from ``file://`` and from a web server alike) instead of embedding them, plus a click lookup
``tiles/lookup/{z}/{x}/{y}.js`` at the top zoom (:mod:`.tile_lookup`).

- **Zooms from the extent**: the top zoom is the largest (at most ``MAX_ZOOM``) at which the
  parcels' bounding box needs at most ``MAX_TOP_TILES`` tiles; ``LEVELS`` zooms below it are
  made too. The tile count depends on the extent only, never on how the parcels look.
- **Streaming, per metatile** of ``META`` x ``META`` top-zoom tiles: the parcels meeting it
  (STRtree query) are projected (EPSG:4548 -> lon/lat -> the display datum -> Mercator pixels;
  display only, no area is measured here) and rasterized once with
  ``rasterio.features.rasterize`` as parcel numbers; each use's tiles are a lookup of the
  parcels' class in that raster, and lower zooms are its subsamples (nearest, as a pyramid
  of class maps should be). Below the metatiles' zoom, tiles are assembled from the
  metatiles' own coarsest tiles. Metatiles are independent (``part`` / ``parts``): several
  processes can write one pyramid.
- Every parcel keeps its class at the top zoom (one pixel is 1-2 m at z17); tiles without a
  parcel are not written (Leaflet shows nothing there).
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ...core.crs import WORK_CRS
from .tile_lookup import lookup_text

TILE = 256
MAX_ZOOM = 17  # ~1.2 m pixels at Miyun's latitude: a parcel of 10 m is 8 pixels wide
MAX_TOP_TILES = (
    4096  # top-zoom tiles over the parcels' bounding box at most (empty ones are not written)
)
LEVELS = 6  # zooms below the top one
META = 4  # a metatile: 4 x 4 top-zoom tiles (1024 px, 4 MB of parcel numbers)
META_COST = 6_000  # a metatile's ~21 tiles x 3 uses: about 6,000 parcels' rasterizing
META_LEVELS = 2  # log2(META): the zooms a metatile makes below the top one
USES = ("current", "planned", "adjusted")  # folder per use: tiles/<use>/{z}/{x}/{y}.png
FOLDER = "tiles"


@dataclass(frozen=True)
class TileGrid:
    """The pyramid: zooms ``min_zoom``..``max_zoom``; top-zoom tiles x0..x1, y0..y1."""

    min_zoom: int
    max_zoom: int
    x0: int
    y0: int
    x1: int
    y1: int
    bounds: tuple[float, float, float, float]  # west, south, east, north (display lon/lat)

    def metatiles(self) -> list[tuple[int, int]]:
        """Top-left top-zoom tile of every metatile, in order."""
        return [
            (mx, my)
            for my in range(self.y0 // META * META, self.y1 + 1, META)
            for mx in range(self.x0 // META * META, self.x1 + 1, META)
        ]


def lonlat_to_pixel(lon: np.ndarray, lat: np.ndarray, zoom: int) -> tuple[np.ndarray, np.ndarray]:
    """Global Web Mercator pixel coordinates at ``zoom`` (256-pixel tiles)."""
    size = TILE * 2.0**zoom
    phi = np.radians(np.clip(lat, -85.05112878, 85.05112878))
    x = (np.asarray(lon) + 180.0) / 360.0 * size
    y = (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0 * size
    return x, y


def _to_lonlat(xy: np.ndarray, shift) -> np.ndarray:
    lon, lat = _TRANSFORMER().transform(xy[:, 0], xy[:, 1])
    out = np.column_stack([lon, lat])
    return shift(out) if shift is not None and len(out) else out


def _transformer_once(source, target):
    cache: dict[str, Transformer] = {}

    def get() -> Transformer:
        if "t" not in cache:  # made once per process: 80 ms each
            cache["t"] = Transformer.from_crs(source, target, always_xy=True)
        return cache["t"]

    return get


_TRANSFORMER = _transformer_once(WORK_CRS, "EPSG:4326")
_INVERSE = _transformer_once("EPSG:4326", WORK_CRS)


def tile_grid(total_bounds, shift=None) -> TileGrid:
    """The pyramid for parcels whose EPSG:4548 bounding box is ``total_bounds``."""
    minx, miny, maxx, maxy = total_bounds
    xs = np.linspace(minx, maxx, 9)
    ys = np.linspace(miny, maxy, 9)
    edge = np.array([(x, y) for x in xs for y in ys])
    lonlat = _to_lonlat(edge, shift)
    west, south = lonlat.min(axis=0)
    east, north = lonlat.max(axis=0)
    zoom = MAX_ZOOM
    while zoom > 0:
        x0, y1, x1, y0 = _tile_range(west, south, east, north, zoom)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= MAX_TOP_TILES:
            break
        zoom -= 1
    return TileGrid(max(zoom - LEVELS, 0), zoom, x0, y0, x1, y1, (west, south, east, north))


def _tile_range(west, south, east, north, zoom):
    px, py = lonlat_to_pixel(np.array([west, east]), np.array([south, north]), zoom)
    return (
        int(px[0] // TILE),
        int(py[0] // TILE),
        int(px[1] // TILE),
        int(py[1] // TILE),
    )


@dataclass(frozen=True)
class TileData:
    """What tiles are drawn from: parcel geometries (EPSG:4548) and per use a palette index
    (uint8, 0 = no parcel) for every parcel, the palette (RGB per index) and the lookup's
    per-parcel text (code, class per use, area)."""

    geometry: np.ndarray
    classes: dict[str, np.ndarray]  # use -> uint8 per parcel, 1..len(palette)-1
    palette: list[tuple[int, int, int]]
    lookup: dict[str, np.ndarray]  # code, current, planned, adjusted, ha: one per parcel
    shift: object = None


def palette_codes(views: dict[str, pd.Series], colors: dict[str, str], fallback: str):
    """Per use, the palette index of each parcel's class; the palette (index 0 unused,
    1 = ``fallback`` for a class without a colour or a parcel without a use)."""
    codes = list(colors)
    position = {c: i + 2 for i, c in enumerate(codes)}
    palette = [(0, 0, 0), _rgb(fallback), *(_rgb(colors[c]) for c in codes)]
    out = {}
    for use, values in views.items():
        cat = values.astype("category")
        table = np.array([position.get(str(c), 1) for c in cat.cat.categories] + [1], np.uint8)
        out[use] = table[cat.cat.codes.to_numpy()]  # code -1 (missing) -> the last: fallback
    return out, palette


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))


def _rasterize_meta(data: TileData, tree: shapely.STRtree, grid: TileGrid, mx: int, my: int):
    """Parcel numbers (position + 1, int32; 0 = none) of one metatile at the top zoom."""
    from rasterio.features import rasterize
    from rasterio.transform import Affine

    zoom, side = grid.max_zoom, META * TILE
    ox, oy = mx * TILE, my * TILE
    box = _meta_box_4548(*_meta_lonlat(grid, mx, my), data.shift)
    hits = np.sort(tree.query(box))
    if not len(hits):
        return None
    parts, owner = shapely.get_parts(data.geometry[hits], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    lonlat = _to_lonlat(coords, data.shift)
    px, py = lonlat_to_pixel(lonlat[:, 0], lonlat[:, 1], zoom)
    pixel = np.column_stack([px - ox, py - oy])
    ring_start = np.searchsorted(ring_of, np.arange(len(rings) + 1))
    part_start = np.searchsorted(ring_part, np.arange(len(parts) + 1))
    values = (hits[owner] + 1).tolist()
    shapes = (
        (
            {
                "type": "Polygon",
                "coordinates": [
                    pixel[ring_start[r] : ring_start[r + 1]].tolist()
                    for r in range(part_start[p], part_start[p + 1])
                ],
            },
            values[p],
        )
        for p in range(len(parts))
    )
    return rasterize(
        shapes, out_shape=(side, side), transform=Affine.identity(), fill=0, dtype="int32"
    )


def _meta_box_4548(lon, lat, shift):
    """The metatile's outline in EPSG:4548 (its edges sampled; for the tree query)."""
    t = np.linspace(0, 1, 9)
    ring = np.concatenate(
        [
            np.column_stack([lon[0] + (lon[1] - lon[0]) * t, np.full(9, lat[0])]),
            np.column_stack([np.full(9, lon[1]), lat[0] + (lat[1] - lat[0]) * t]),
            np.column_stack([lon[1] - (lon[1] - lon[0]) * t, np.full(9, lat[1])]),
            np.column_stack([np.full(9, lon[0]), lat[1] - (lat[1] - lat[0]) * t]),
        ]
    )
    if shift is not None:  # display datum -> WGS84: undo the shift at these points (~1 m)
        ring = ring - (shift(ring) - ring)
    x, y = _INVERSE().transform(ring[:, 0], ring[:, 1])
    return shapely.buffer(shapely.box(x.min(), y.min(), x.max(), y.max()), 5.0)


def png_bytes(index: np.ndarray, palette) -> bytes:
    """A paletted PNG (index 0 transparent) of a 256 x 256 array of palette indices."""
    from PIL import Image

    image = Image.fromarray(index, mode="P")
    image.putpalette([c for rgb in palette for c in rgb])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0, compress_level=1)
    return buffer.getvalue()


def write_metatiles(data: TileData, grid: TileGrid, out_dir: Path, *, part=0, parts=1) -> int:
    """Write the tiles (and top-zoom lookups) of metatiles ``part``, ``part + parts``, ...
    at every zoom down to the metatiles' own; return the number of files written."""
    tree = shapely.STRtree(data.geometry)
    files = 0
    for mx, my in share(data, tree, grid, part, parts):
        numbers = _rasterize_meta(data, tree, grid, mx, my)
        if numbers is None or not numbers.any():
            continue
        files += _write_lookups(data, grid, numbers, mx, my, out_dir)
        for level in range(META_LEVELS + 1):
            zoom = grid.max_zoom - level
            if zoom < grid.min_zoom:
                break
            step = 2**level
            sub = numbers[::step, ::step]
            n = META // step
            for j in range(n):
                for i in range(n):
                    tile = sub[j * TILE : (j + 1) * TILE, i * TILE : (i + 1) * TILE]
                    files += _write_tile(data, tile, zoom, mx // step + i, my // step + j, out_dir)
    return files


def share(data: TileData, tree, grid: TileGrid, part: int, parts: int) -> list:
    """The metatiles of ``part`` of ``parts``: balanced by the parcels each meets and its tiles,
    the largest first to the least loaded part; the same split in every process."""
    metas = grid.metatiles()
    if parts == 1:
        return metas
    boxes = [_meta_box_4548(*_meta_lonlat(grid, mx, my), data.shift) for mx, my in metas]
    counts = np.bincount(tree.query(np.array(boxes))[0], minlength=len(metas))
    counts = counts + META_COST * (counts > 0)  # its tiles to encode and write
    load, mine = [0] * parts, []
    for k in np.argsort(-counts, kind="stable"):
        least = int(np.argmin(load))
        load[least] += int(counts[k]) + 1
        if least == part:
            mine.append(metas[k])
    return mine


def _meta_lonlat(grid: TileGrid, mx: int, my: int):
    """West/east longitudes and north/south latitudes of a metatile."""
    side, size = META * TILE, TILE * 2.0**grid.max_zoom
    ox, oy = mx * TILE, my * TILE
    lon = np.array([ox, ox + side]) / size * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1 - 2 * np.array([oy, oy + side]) / size))))
    return lon, lat


def write_overviews(grid: TileGrid, uses, out_dir: Path) -> int:
    """Zooms below the metatiles': per use, 2 x 2 tiles of the zoom above subsampled into one
    (the palette indices, read back from the PNGs written by :func:`write_metatiles`)."""
    from PIL import Image

    files = 0
    for use in uses:
        zoom = grid.max_zoom - META_LEVELS
        while zoom > grid.min_zoom:
            parents: dict = {}
            palette = None
            for path in sorted((Path(out_dir) / FOLDER / use / str(zoom)).glob("*/*.png")):
                x, y = int(path.parent.name), int(path.stem)
                with Image.open(path) as image:
                    palette = image.getpalette()
                    tile = np.asarray(image)
                block = parents.setdefault(
                    (x // 2, y // 2), np.zeros((2 * TILE, 2 * TILE), np.uint8)
                )
                dx, dy = (x % 2) * TILE, (y % 2) * TILE
                block[dy : dy + TILE, dx : dx + TILE] = tile
            zoom -= 1
            for (x, y), block in parents.items():
                rgb = [tuple(palette[i : i + 3]) for i in range(0, len(palette), 3)]
                png = png_bytes(np.ascontiguousarray(block[::2, ::2]), rgb)
                _write(tile_path(out_dir, use, zoom, x, y, "png"), png)
                files += 1
    return files


def write_index(out_dir: Path, use: str = USES[0]) -> int:
    """``tiles/index.js``: every tile written (all uses have the same), so that the page
    requests no tile that is not there (a missing file is an error in the console)."""
    root = Path(out_dir) / FOLDER / use
    keys = sorted(str(p.relative_to(root).with_suffix("")) for p in root.glob("*/*/*.png"))
    text = f"window.miyunTileIndex = {json.dumps(dict.fromkeys(keys, 1), separators=(',', ':'))};\n"
    _write(Path(out_dir) / FOLDER / "index.js", text.encode("ascii"))
    return 1


def _write_tile(data: TileData, numbers: np.ndarray, zoom: int, x: int, y: int, out_dir):
    if not numbers.any():
        return 0
    inside = numbers > 0
    position = numbers[inside] - 1
    for use, classes in data.classes.items():
        index = np.zeros(numbers.shape, np.uint8)
        index[inside] = classes[position]
        _write(tile_path(out_dir, use, zoom, x, y, "png"), png_bytes(index, data.palette))
    return len(data.classes)


def _write_lookups(data: TileData, grid: TileGrid, numbers, mx: int, my: int, out_dir) -> int:
    files = 0
    for j in range(META):
        for i in range(META):
            tile = numbers[j * TILE : (j + 1) * TILE, i * TILE : (i + 1) * TILE]
            text = lookup_text(tile, data.lookup, grid.max_zoom, mx + i, my + j)
            if text is not None:
                _write(
                    tile_path(out_dir, "lookup", grid.max_zoom, mx + i, my + j, "js"),
                    text.encode("utf-8"),
                )
                files += 1
    return files


def _write(path: Path, content: bytes) -> None:
    """Tiles go straight into the run's staging folder (``io.staging``): the whole run,
    tiles included, is swapped in at once, so a tile needs no rename of its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def tile_path(out_dir: Path, use: str, zoom: int, x: int, y: int, ext: str) -> Path:
    return Path(out_dir) / FOLDER / use / str(zoom) / str(x) / f"{y}.{ext}"


def grid_json(grid: TileGrid) -> str:
    """What the page needs to know of the pyramid (zooms, bounds)."""
    west, south, east, north = grid.bounds
    return json.dumps(
        {
            "minZoom": grid.min_zoom,
            "maxZoom": grid.max_zoom,
            "bounds": [[south, west], [north, east]],
        }
    )
