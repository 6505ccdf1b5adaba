"""The elements of a static planning map: layers drawn from EPSG:4548 frames, and the five
map elements (图名 title, 图例 legend, 比例尺 scale bar, 指北针 north arrow, source and date line).

Used by :mod:`miyun_spatial.render.static.maps`. Polygons are drawn as one collection per layer with
the map's extent set explicitly, so a district boundary of thousands of vertices costs little.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath
from matplotlib_scalebar.scalebar import ScaleBar

from ...core.catalogue import CATALOGUE
from ...core.citation import PLAN_CITATION, SCHEMATIC_MARK_EN, SCHEMATIC_MARK_ZH
from ...core.palette import SCHEMATIC_DASH, layer_style

DPI = 300  # print quality: a 7 in wide figure is 2100 px
LEGEND_IN = 2.3  # width of the legend column (north arrow and legend), inches
BOUNDARY_STYLE = {"color": "#444444", "linewidth": 1.2, "linestyle": (0, (8, 2, 1.5, 2))}
HIGHLIGHT = "#08306b"  # the feature a figure is about (navy: red means exit or conflict)
PLAN_LAYERS = ("clusters", "park_in_park", "support_nodes", "zgc_park", "other_sites")


@dataclass(frozen=True)
class MapData:
    """What the maps draw: the work layers, the metric tables, the sources and the date."""

    work: Mapping[str, gpd.GeoDataFrame]
    tables: Mapping[str, pd.DataFrame]
    classes: pd.DataFrame | None
    generated: datetime

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        frame = self.work.get(name)
        return None if frame is None or frame.empty else frame

    def source_lines(self) -> tuple[str, str]:
        """The data sources and the date, in two lines."""
        district = self.layer("district")
        boundary = ""
        if district is not None and {"source", "licence"} <= set(district.columns):
            row = district.iloc[0]
            source = str(row["source"]).split(",")[0].split(";")[0][:60]
            licence = str(row["licence"])
            shown = source if licence.split()[0] in source else f"{source}, {licence}"
            boundary = f"行政区界 boundary: {shown}；"
        return (
            f"数据来源 Source: {PLAN_CITATION}；{SCHEMATIC_MARK_ZH} {SCHEMATIC_MARK_EN}",
            f"{boundary}地名 places: GeoNames (CC BY 4.0)；EPSG:4548 CGCS2000 / 3-degree GK "
            f"CM 117E；制图 drawn by miyun-spatial {self.generated.strftime('%Y-%m-%d')}",
        )


# --- geometry -> matplotlib -----------------------------------------------------------------


CHUNK = 25_000  # geometries whose vertices are extracted at once (bounds the peak memory)


def polygon_paths(geoms, groups: np.ndarray | None = None) -> list[MplPath | None]:
    """One compound path (exteriors and holes) per (multi)polygon, or with ``groups`` (an
    integer code 0..k-1 per geometry, -1 for a geometry left out) one path per group; None
    where nothing is drawn (empty or non-polygon geometries).

    The paths are views into one array of vertices (and one of path codes) allocated once,
    filled CHUNK geometries at a time from ``shapely.get_coordinates`` on slices of
    ``geoms``: no Python object per part or ring, no reference taken to each geometry (a
    forked worker does not copy the pages of the parent's geometries). Only geometries of
    more than one ring go through ``shapely.to_ragged_array``.

    Holes are turned against their exterior where needed, so that the non-zero fill rule of
    Agg and SVG leaves them empty, also where many polygons share one path (a polygon without
    holes is filled whichever way it turns).
    """
    geoms = np.asarray(geoms, dtype=object)
    owners = np.arange(len(geoms)) if groups is None else np.asarray(groups, dtype=np.intp)
    size = len(geoms) if groups is None else int(owners.max(initial=-1)) + 1
    sizes = shapely.get_num_coordinates(geoms)
    counts = np.where(np.isin(shapely.get_type_id(geoms), (3, 6)) & (owners >= 0), sizes, 0)
    # where each geometry's vertices go: grouped by owner, in the order of ``geoms``
    order = slice(None) if groups is None else np.argsort(owners, kind="stable")
    starts = np.empty(len(geoms), dtype=np.intp)
    starts[order] = np.cumsum(counts[order]) - counts[order]
    drawn = counts > 0
    spans = np.bincount(owners[drawn], counts[drawn], minlength=size).astype(np.intp)
    ends = np.cumsum(spans)
    xy = np.empty((int(ends[-1]) if size else 0, 2))
    codes = np.empty(len(xy), dtype=MplPath.code_type)
    for chunk in range(0, len(geoms), CHUNK):
        part = slice(chunk, chunk + CHUNK)  # a view of the array: no reference taken
        some = np.flatnonzero(drawn[part])
        if len(some) < len(drawn[part]) // 2:  # mostly left out: only the drawn ones
            part = some + chunk
        if len(some):
            _fill(geoms[part], sizes[part], counts[part], starts[part], xy, codes)
    return [
        MplPath(xy[end - span : end], codes[end - span : end]) if span else None
        for span, end in zip(spans, ends, strict=True)
    ]


def _fill(geoms, sizes, counts, starts, xy: np.ndarray, codes: np.ndarray) -> None:
    """The vertices and path codes of ``geoms`` (``sizes`` vertices each; those with
    ``counts`` > 0 only) written at ``starts`` in ``xy`` and ``codes``."""
    coords, geom = shapely.get_coordinates(geoms, return_index=True)
    coords = np.ascontiguousarray(coords)
    first = np.cumsum(sizes) - sizes
    here = np.arange(len(coords)) - first[geom]  # each vertex's position in its geometry
    path_codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    path_codes[here == 0] = MplPath.MOVETO
    path_codes[here == sizes[geom] - 1] = MplPath.CLOSEPOLY
    # one ring when the first vertex comes back at the end only; other geometries (several
    # parts or holes, a ring touching its start) get their rings from shapely
    some = sizes > 0
    x0, y0 = np.zeros(len(sizes)), np.zeros(len(sizes))
    x0[some], y0[some] = coords[first[some]].T
    again = (coords[:, 0] == x0[geom]) & (coords[:, 1] == y0[geom])
    closed = np.zeros(len(sizes), dtype=bool)
    closed[some] = again[(first + sizes - 1)[some]]
    one_ring = (np.bincount(geom[again], minlength=len(sizes)) == 2) & closed
    several = np.flatnonzero((counts > 0) & ~one_ring)
    if len(several):
        rings = np.isin(geom, several)
        coords[rings], path_codes[rings], _ = _vertices(geoms[several], several)
    where = starts[geom] + here
    keep = counts[geom] > 0
    if not keep.all():
        where, coords, path_codes = where[keep], coords[keep], path_codes[keep]
    # one 16-byte item per vertex: a much faster scatter than rows of two floats
    xy.view(np.complex128)[:, 0][where] = coords.view(np.complex128)[:, 0]
    codes[where] = path_codes


def _vertices(geoms: np.ndarray, owners: np.ndarray):
    """The vertices of polygonal ``geoms``, their path codes and each vertex's owner."""
    if not len(geoms):
        return np.empty((0, 2)), np.empty(0, MplPath.code_type), np.empty(0, np.intp)
    kind, xy, offsets = shapely.to_ragged_array(geoms, include_z=False)
    if kind == shapely.GeometryType.POLYGON:
        ring_offsets, part_offsets = offsets  # one part per polygon: its rings
        geom_offsets = np.arange(len(part_offsets))
    else:
        ring_offsets, part_offsets, geom_offsets = offsets
    counts = np.diff(ring_offsets)
    ring_part = np.repeat(np.arange(len(part_offsets) - 1), np.diff(part_offsets))
    ring_geom = np.repeat(np.arange(len(geom_offsets) - 1), np.diff(geom_offsets))[ring_part]
    xy = _holes_against_exteriors(xy, ring_offsets, part_offsets, ring_part)
    starts = ring_offsets[:-1]
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[starts] = MplPath.MOVETO
    codes[starts + counts - 1] = MplPath.CLOSEPOLY
    return xy, codes, owners[np.repeat(ring_geom, counts)]


def _holes_against_exteriors(xy, ring_offsets, part_offsets, ring_part) -> np.ndarray:
    """``xy`` with each hole's vertices reversed where it turns the way of its exterior."""
    exterior = part_offsets[:-1][ring_part]  # the exterior ring of each ring's polygon
    hole = np.arange(len(ring_part)) != exterior
    if not hole.any():
        return xy
    starts, counts = ring_offsets[:-1], np.diff(ring_offsets)
    # twice the signed area of each ring (shoelace), its last vertex repeating the first
    cross = np.zeros(len(xy))
    cross[:-1] = xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]
    cross[starts + counts - 1] = 0.0
    signed = np.add.reduceat(cross, starts) if len(starts) else cross[:0]
    flip = hole & (np.sign(signed) == np.sign(signed[exterior]))
    if not flip.any():
        return xy
    order = np.arange(len(xy))
    ring_of = np.repeat(np.arange(len(counts)), counts)
    turned = flip[ring_of]
    r = ring_of[turned]
    order[turned] = 2 * starts[r] + counts[r] - 1 - order[turned]
    return xy[order]


def draw_polygons(ax: Axes, frame: gpd.GeoDataFrame, **style):
    """Every polygon of ``frame`` as one collection (limits are set by the map, not the data).

    ``facecolors`` gives one fill per row. Returns the collection, None when nothing drew.
    """
    return draw_geometries(ax, frame.geometry.values, **style)


def draw_geometries(ax: Axes, geoms, **style):
    """Every polygon of ``geoms`` (an array of shapely geometries) as one collection; as
    :func:`draw_polygons`."""
    fills = style.pop("facecolors", None)
    face = style.pop("facecolor", "none")
    return _add_paths(ax, polygon_paths(geoms), fills if fills is not None else face, **style)


def draw_groups(ax: Axes, geoms, groups: np.ndarray, fills: Sequence[str], **style):
    """Polygons filled by group: ``groups`` holds each geometry's group (0..k-1), ``fills``
    each group's colour. One compound path per group, fast for 10^5-10^6 polygons; outlines
    look as drawn one by one (dashes would run on across polygons). Returns the collection,
    None when nothing drew."""
    return _add_paths(ax, polygon_paths(geoms, groups), fills, **style)


def _add_paths(ax: Axes, paths: Sequence[MplPath | None], fills: Sequence | str, **style):
    """The paths that are not None as one collection: ``fills`` one colour per path (or one
    for all); ``style`` values that are lists (e.g. ``linestyle``) hold one per path too."""
    drawn = [i for i, path in enumerate(paths) if path is not None]
    if not drawn:
        return None
    per_path = {k: [v[i] for i in drawn] for k, v in style.items() if isinstance(v, list)}
    faces = fills if isinstance(fills, str) else [fills[i] for i in drawn]
    collection = PathCollection([paths[i] for i in drawn], facecolors=faces)
    collection.set(**{**style, **per_path})
    ax.add_collection(collection, autolim=False)
    return collection


def district_boundary(ax: Axes, data: MapData) -> None:
    district = data.layer("district")
    if district is not None:
        draw_polygons(ax, district, facecolor="#fbfbf8", edgecolor="none", zorder=0)
        draw_polygons(ax, district, facecolor="none", zorder=5, **_line(BOUNDARY_STYLE))


def _line(style: Mapping) -> dict:
    return {
        "edgecolor": style["color"],
        "linewidth": style["linewidth"],
        "linestyle": style["linestyle"],
    }


def _dash(frame: gpd.GeoDataFrame) -> list:
    """Dashed outline for schematic features (as the interactive maps), solid otherwise."""
    on, off = (float(v) for v in str(SCHEMATIC_DASH).split()[:2])
    schematic = frame.get("geom_source", pd.Series("schematic", index=frame.index))
    return [(0, (on / 2, off / 2)) if s == "schematic" else "solid" for s in schematic]


def draw_plan_layer(ax: Axes, frame: gpd.GeoDataFrame, layer: str, *, colors=None, zorder=3):
    """A plan layer in its catalogue colours: fill at the layer's opacity, outline dashed if
    schematic."""
    style = layer_style(layer)
    opacity = float(style.get("fill_opacity", 0.35)) + 0.15
    fill = str(style.get("fill", "#cccccc"))
    fills = colors if colors is not None else [fill] * len(frame)
    _add_paths(
        ax,
        polygon_paths(frame.geometry.values),
        [rgba(f, opacity) for f in fills],
        zorder=zorder,
        edgecolor=str(style.get("color", "#333333")),
        linewidth=min(1.6, float(style.get("weight", 1)) * 0.5),
        linestyle=_dash(frame),
    )


def rgba(color: str, alpha: float) -> tuple[float, float, float, float]:
    return to_rgba(color, min(1.0, alpha))


# --- the five map elements -----------------------------------------------------------------


def map_frame(data: MapData, title_zh: str, title_en: str, size=(7.0, 4.1), panels: int = 1):
    """A figure with its title, source line, ``panels`` map axes and a legend area at right.

    Positions are in inches from the edges, so the title, the maps and the source line
    never overlap whatever the figure's height.
    """
    width, height = size
    figure = Figure(figsize=size, dpi=DPI)
    figure.text(
        0.5,
        1 - 0.06 / height,
        title_zh,
        ha="center",
        va="top",
        fontsize=12,
        fontweight="bold",
        gid="map-title",
    )
    figure.text(
        0.5, 1 - 0.34 / height, title_en, ha="center", va="top", fontsize=7.5, color="#444444"
    )
    figure.text(
        0.01,
        0.04 / height,
        "\n".join(data.source_lines()),
        ha="left",
        va="bottom",
        fontsize=5,
        color="#444444",
        gid="source-line",
        linespacing=1.3,
    )
    # panels carry titles of their own: they start lower, below the English title
    bottom, top = 0.36 / height, 1 - (0.56 if panels == 1 else 0.74) / height
    legend_w = LEGEND_IN / width
    step = (1 - legend_w - 0.02) / panels
    axes = []
    for i in range(panels):
        ax = figure.add_axes((0.01 + i * step, bottom, step - 0.012, top - bottom))
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_linewidth(0.6)
        axes.append(ax)
    legend_ax = figure.add_axes((1 - legend_w, bottom, legend_w - 0.01, top - bottom))
    legend_ax.set_axis_off()
    return figure, axes, legend_ax


def set_extent(ax: Axes, bounds, pad: float = 0.06, min_size: float = 1500.0) -> None:
    """Show ``bounds`` (padded), widened to the shape of the axes so the map fills its frame."""
    x0, y0, x1, y1 = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = max(x1 - x0, min_size) * (1 + 2 * pad), max(y1 - y0, min_size) * (1 + 2 * pad)
    box = ax.get_position(original=True)  # not the box an equal aspect has shrunk already
    fig_w, fig_h = ax.figure.get_size_inches()
    shape = (box.width * fig_w) / (box.height * fig_h)
    if w / h < shape:
        w = h * shape
    else:
        h = w / shape
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)


def north_arrow(ax: Axes) -> None:
    """The north arrow inside the map frame, at its top right corner, on a white ground."""
    arrow = ax.annotate(
        "北\nN",
        xy=(0.95, 0.975),
        xytext=(0, -34),
        xycoords="axes fraction",
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=6.5,
        fontweight="bold",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 2.2, "headwidth": 7},
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#999999", "lw": 0.4},
        zorder=12,
    )
    arrow.set_gid("north-arrow")
    arrow.arrow_patch.set_gid("north-arrow-symbol")


class _ScaleBar(ScaleBar):
    """matplotlib-scalebar's bar, drawn inside an SVG group named by its gid."""

    def draw(self, renderer, *args, **kwargs):
        renderer.open_group("scale-bar", gid=self.get_gid())
        super().draw(renderer, *args, **kwargs)
        renderer.close_group("scale-bar")


def scale_bar(ax: Axes, gid: str = "scale-bar") -> None:
    bar = _ScaleBar(
        1,
        "m",
        dimension="si-length",
        location="lower left",
        length_fraction=0.3,
        box_alpha=0.75,
        font_properties={"size": 6.5},
        scale_loc="top",
    )
    bar.set_gid(gid)
    ax.add_artist(bar)


def _wrap(label: str, width: int = 27) -> str:
    """Long legend lines wrapped (at spaces) so the legend stays inside its column."""
    return "\n".join(
        "\n".join(textwrap.wrap(line, width)) if len(line) > width else line
        for line in label.split("\n")
    )


def map_legend(legend_ax: Axes, entries: Sequence[tuple[str, object]], title: str = "图例 Legend"):
    handles = [handle for _label, handle in entries]
    labels = [_wrap(label) for label, _handle in entries]
    legend = legend_ax.legend(
        handles,
        labels,
        title=title,
        loc="upper left",
        bbox_to_anchor=(0.16, 1.0),
        fontsize=6.2,
        title_fontsize=7.5,
        frameon=True,
        borderaxespad=0.0,
        handlelength=1.8,
        alignment="left",
    )
    legend.set_gid("legend")


def legend_patch(
    color: str, *, edge: str = "#555555", dash="solid", alpha: float = 1.0, hatch: str | None = None
) -> Patch:
    return Patch(
        facecolor=rgba(color, alpha), edgecolor=edge, linestyle=dash, linewidth=0.7, hatch=hatch
    )


HATCH = "////"  # strategic reserve land: tinted and hatched (core.palette.hatched_land_uses)
HATCH_COLOR = "#3c5a1e"


def boundary_entry() -> tuple[str, object]:
    return (
        "密云区行政区界\nDistrict boundary",
        Line2D([], [], color=BOUNDARY_STYLE["color"], linestyle=BOUNDARY_STYLE["linestyle"]),
    )


def layer_entry(layer: str) -> tuple[str, object]:
    style = layer_style(layer)
    spec = CATALOGUE[layer]
    return (
        f"{spec.title_zh}\n{spec.title_en}",
        legend_patch(
            str(style.get("fill", "#ccc")),
            edge=str(style.get("color", "#333")),
            dash=(0, (3, 1.5)),
            alpha=0.5,
        ),
    )


def finish_map(figure: Figure, axes: Sequence[Axes], legend_ax: Axes, entries) -> Figure:
    from .labels import place_labels

    north_arrow(axes[0])
    for i, ax in enumerate(axes):
        place_labels(ax)
        scale_bar(ax, "scale-bar" if i == 0 else f"scale-bar-{i + 1}")
    entries = [
        *entries,
        (
            "虚线轮廓 = 示意\ndashed outline = schematic",
            Line2D([], [], color="#333333", linestyle=(0, (3, 1.5))),
        ),
    ]
    map_legend(legend_ax, entries)
    return figure
