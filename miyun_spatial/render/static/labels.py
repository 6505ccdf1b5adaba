"""Labels of the static maps: collected while a map is drawn, placed once its extent is set.

A label gets a white halo (a stroke around the glyphs, ``patheffects.withStroke``) instead of a
box, so that it never cuts the letters of another label. Labels are placed by priority (plan
codes before town names); each tries a few positions around its anchor and takes the first
that stays inside the map frame and overlaps no label placed before it, nor another feature's
marker. A town name that finds no place is left out; a plan code is always placed (at its
least crowded position), since a feature without its code cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

HALO = [patheffects.withStroke(linewidth=1.8, foreground="white")]


def _ring(r: float) -> list[tuple[float, float, str, str]]:
    """Eight positions at distance ``r`` (points): right, left, above, below, diagonals."""
    return [
        (r, 0, "left", "center"),
        (-r, 0, "right", "center"),
        (0, r, "center", "bottom"),
        (0, -r, "center", "top"),
        (r, r, "left", "bottom"),
        (-r, r, "right", "bottom"),
        (r, -r, "left", "top"),
        (-r, -r, "right", "top"),
    ]


# offsets in points, with alignment: beside a point, nearest first
BESIDE = tuple(p for r in (4, 10, 17, 25) for p in _ring(r))
# centred on an area, then moved off it step by step
CENTRED = ((0, 0, "center", "center"), *(p for r in (7, 14, 21, 28) for p in _ring(r)))


@dataclass(frozen=True)
class Label:
    text: str
    x: float
    y: float
    size: float
    color: str = "#222222"
    bold: bool = False
    priority: int = 0
    beside: bool = False  # a point label: beside its anchor, never on it
    required: bool = False  # placed even where every position is crowded
    marker_pt: float = 3.0  # half the anchor marker's size (points): an obstacle to others


def pending(ax: Axes) -> list[Label]:
    """The labels waiting to be placed on ``ax``."""
    return ax.__dict__.setdefault("_miyun_labels", [])


def code_labels(
    ax: Axes, frame: gpd.GeoDataFrame, field: str = "code", *, size: float = 6.5, beside=False
) -> None:
    """Each feature's code at its representative point (``beside``: next to a point marker)."""
    points = frame.geometry.representative_point()
    for text, point in zip(frame[field].astype(str), points, strict=True):
        pending(ax).append(
            Label(text, point.x, point.y, size, bold=True, priority=2, beside=beside, required=True)
        )


def town_labels(ax: Axes, data, bounds) -> None:
    """Town points inside ``bounds`` (drawn now) and their names (placed with the others)."""
    places = data.layer("places")
    if places is None:
        return
    x0, y0, x1, y1 = bounds
    inside = places.cx[x0:x1, y0:y1]
    inside = inside[inside.geometry.geom_type == "Point"]
    if "kind" in inside.columns:
        towns = inside["kind"].astype(str).str.contains("town", na=False)
        inside = inside[towns] if towns.any() else inside
    ax.scatter(inside.geometry.x, inside.geometry.y, s=4, color="#555555", zorder=6)
    for name, point in zip(inside["name_zh"].astype(str), inside.geometry, strict=True):
        pending(ax).append(
            Label(name, point.x, point.y, 5.5, color="#444444", beside=True, marker_pt=1.5)
        )


def _overlaps(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def place_labels(ax: Axes) -> int:
    """Place the pending labels of ``ax`` (its extent set); returns how many were left out."""
    labels = sorted(pending(ax), key=lambda lab: -lab.priority)
    if not labels:
        return 0
    figure = ax.figure
    canvas = figure.canvas if hasattr(figure.canvas, "get_renderer") else FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    px = figure.dpi / 72
    markers = []
    for lab in labels:
        x, y = ax.transData.transform((lab.x, lab.y))
        r = lab.marker_pt * px
        markers.append((lab, Bbox.from_extents(x - r, y - r, x + r, y + r)))
    placed: list[Bbox] = []
    left_out = 0
    for lab in labels:
        best = None
        for dx, dy, ha, va in BESIDE if lab.beside else CENTRED:
            text = ax.annotate(
                lab.text,
                (lab.x, lab.y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=lab.size,
                fontweight="bold" if lab.bold else "normal",
                color=lab.color,
                zorder=8 + lab.priority,
                path_effects=HALO,
                annotation_clip=False,
            )
            box = text.get_window_extent(renderer).expanded(1.04, 1.1)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            crowd = sum(_overlaps(box, o) for o in placed) + sum(
                _overlaps(box, m) for other, m in markers if other is not lab
            )
            if inside and crowd == 0:
                if best is not None:
                    best[0].remove()
                best = (text, box, 0)
                break
            if best is None or (inside and crowd < best[2]):
                if best is not None:
                    best[0].remove()
                best = (text, box, crowd if inside else 10**6)
            else:
                text.remove()
        if best is not None and (best[2] == 0 or lab.required):
            placed.append(best[1])
        else:
            if best is not None:
                best[0].remove()
            left_out += 1
    pending(ax).clear()
    return left_out
