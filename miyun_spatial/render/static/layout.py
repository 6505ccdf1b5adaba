"""Static maps as document layouts: a sheet of paper (A4 or A3, landscape or portrait), a
map frame drawn at a fixed representative scale of the standard series, and a neat line with
EPSG:4548 coordinates at the frame.

The scale is the largest of :data:`SCALES` (China's basic scale series) at which the map's
extent fits the frame on the chosen paper; the axes' limits are then set so that one
centimetre of paper is exactly the scale's ground distance (equal aspect, EPSG:4548 metres).
The scale is printed as text (``比例尺 1:500 000``, SVG id ``scale-text``) and drawn as a bar
of a round length consistent with it. The neat line carries ticks at round kilometres on its
four sides, labelled in km (SVG ids ``neat-e-<metres>`` and ``neat-n-<metres>``).

Every static map is laid out on the paper of ``build --paper`` (``MapOptions.paper``,
:data:`DEFAULT_LAYOUT` A4 landscape by default); figures of several panels
(:func:`layout_panels`) have each panel at its own scale of the series.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory
from matplotlib_scalebar.scalebar import ScaleBar

from .elements import LEGEND_IN, MapData, finish_map, map_frame
from .paper import split_paper

PAPERS_MM = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}  # ISO 216, landscape (width, height)
ORIENTATIONS = ("landscape", "portrait")
# China's basic scale series (国家基本比例尺), largest first
SCALES = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)
M_PER_IN = 0.0254
# margins around the map frame, inches: the title above, the neat-line labels and the source
# line below, the northing labels at left, the legend column at right
MARGIN_IN = {"left": 0.62, "right": 0.12, "top": 0.78, "bottom": 0.62}
TICK_STEPS_KM = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
TICK_MIN_CM = 2.5  # ticks at least this far apart on paper
BAR_CM = 4.0  # the scale bar's length on paper


@dataclass(frozen=True)
class Layout:
    """A sheet of paper: ``a4`` or ``a3``, ``landscape`` or ``portrait``."""

    paper: str = "a4"
    orientation: str = "landscape"

    def __post_init__(self) -> None:
        if self.paper not in PAPERS_MM:
            raise ValueError(f"paper {self.paper!r}: use one of {', '.join(PAPERS_MM)}")
        if self.orientation not in ORIENTATIONS:
            raise ValueError(
                f"orientation {self.orientation!r}: use one of {', '.join(ORIENTATIONS)}"
            )

    @property
    def size_in(self) -> tuple[float, float]:
        width, height = (mm / 25.4 for mm in PAPERS_MM[self.paper])
        return (width, height) if self.orientation == "landscape" else (height, width)

    @property
    def frame_in(self) -> tuple[float, float]:
        """The map frame's width and height on paper, inches."""
        width, height = self.size_in
        return (
            width - MARGIN_IN["left"] - LEGEND_IN - MARGIN_IN["right"],
            height - MARGIN_IN["top"] - MARGIN_IN["bottom"],
        )

    @property
    def label(self) -> str:
        zh = "横向" if self.orientation == "landscape" else "纵向"
        return f"{self.paper.upper()} {zh} {self.orientation}"


DEFAULT_LAYOUT = Layout("a4", "landscape")


def paper_layout(name: str) -> Layout:
    """The layout of a paper name of :data:`.paper.PAPER_NAMES` (``a3-portrait``)."""
    return Layout(*split_paper(name))


def choose_scale(bounds, frame_in: tuple[float, float], pad: float = 0.03) -> int:
    """The largest scale of :data:`SCALES` at which ``bounds`` (padded) fits ``frame_in``.

    Returns the scale's denominator; the smallest scale of the series when nothing fits.
    """
    x0, y0, x1, y1 = bounds
    width, height = (x1 - x0) * (1 + 2 * pad), (y1 - y0) * (1 + 2 * pad)
    for scale in SCALES:
        if width <= frame_in[0] * M_PER_IN * scale and height <= frame_in[1] * M_PER_IN * scale:
            return scale
    return SCALES[-1]


def scale_text(scale: int) -> str:
    """``1:500 000``: the denominator grouped by thin spaces of three digits."""
    return "1:" + f"{scale:,}".replace(",", "\u2009")


def layout_frame(data: MapData, title_zh: str, title_en: str, layout: Layout = DEFAULT_LAYOUT):
    """A figure of the paper's size with its title, source line, one map frame placed inside
    the margins (room for the neat-line labels) and the legend column at right."""
    width, height = layout.size_in
    figure, (ax,), legend_ax = map_frame(data, title_zh, title_en, size=(width, height))
    frame_w, frame_h = layout.frame_in
    left, bottom = MARGIN_IN["left"], MARGIN_IN["bottom"]
    ax.set_position((left / width, bottom / height, frame_w / width, frame_h / height))
    legend_left = left + frame_w + 0.1
    legend_ax.set_position(
        (
            legend_left / width,
            bottom / height,
            (width - legend_left - 0.05) / width,
            frame_h / height,
        )
    )
    return figure, (ax,), legend_ax


def set_scale(
    ax: Axes,
    bounds,
    layout: Layout = DEFAULT_LAYOUT,
    pad: float = 0.03,
    *,
    prefix: str = "",
    note: bool = True,
) -> int:
    """The axes' limits centred on ``bounds`` at the largest scale of the series that fits:
    the axes' size on paper (the layout's frame, or a panel of it) times the scale. Draws
    the neat line (its SVG ids prefixed by ``prefix``); returns the scale."""
    frame_w, frame_h = axes_in(ax)
    scale = choose_scale(bounds, (frame_w, frame_h), pad)
    x0, y0, x1, y1 = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = frame_w * M_PER_IN * scale / 2, frame_h * M_PER_IN * scale / 2
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal", adjustable="box")
    neat_line(ax, scale, prefix=prefix, note=note)
    return scale


def view_bounds(ax: Axes) -> tuple[float, float, float, float]:
    """What the axes show, EPSG:4548 metres: the parcels to draw are those inside."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return x0, y0, x1, y1


def axes_in(ax: Axes) -> tuple[float, float]:
    """The axes' width and height on paper, inches (as placed, before any aspect shrink)."""
    box = ax.get_position(original=True)
    fig_w, fig_h = ax.figure.get_size_inches()
    return box.width * fig_w, box.height * fig_h


def tick_step_m(scale: int) -> float:
    """The ground distance between neat-line ticks: the first round step at least
    :data:`TICK_MIN_CM` apart on paper."""
    least = TICK_MIN_CM / 100 * scale
    return next((km * 1000 for km in TICK_STEPS_KM if km * 1000 >= least), least)


def _ticks(lo: float, hi: float, step: float) -> list[float]:
    first = -(-lo // step) * step
    return [first + i * step for i in range(int((hi - first) // step) + 1)]


def neat_line(ax: Axes, scale: int, *, prefix: str = "", note: bool = True) -> None:
    """The frame as a neat line: ticks inward on its four sides at round kilometres of
    EPSG:4548, eastings labelled below and above, northings at left and right, in km."""
    step = tick_step_m(scale)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    east, north = _ticks(x0, x1, step), _ticks(y0, y1, step)
    ax.set_xticks(east, [""] * len(east))
    ax.set_yticks(north, [""] * len(north))
    ax.tick_params(
        direction="in", length=4, width=0.6, top=True, right=True, bottom=True, left=True
    )
    for spine in ax.spines.values():
        spine.set_linewidth(0.9)
    ax.patch.set_gid(f"{prefix}neat-line")
    digits = 0 if step >= 1000 else 1
    style = {"fontsize": 5.5, "color": "#222222", "clip_on": False}
    below = blended_transform_factory(ax.transData, ax.transAxes)
    beside = blended_transform_factory(ax.transAxes, ax.transData)
    for e in east:
        text = f"{e / 1000:.{digits}f}"
        ax.text(e, -0.008, text, transform=below, ha="center", va="top", gid=f"{prefix}neat-e-{e:.0f}",
                **style)  # fmt: skip
        ax.text(e, 1.008, text, transform=below, ha="center", va="bottom", **style)
    for n in north:
        text = f"{n / 1000:.{digits}f}"
        # anchored at the tick along the text (rotated), so the label's middle is the tick
        turned = {"rotation": 90, "rotation_mode": "anchor", "ha": "center", **style}
        ax.text(
            -0.008, n, text, transform=beside, va="bottom", gid=f"{prefix}neat-n-{n:.0f}", **turned
        )
        ax.text(1.008, n, text, transform=beside, va="top", **turned)
    if note:
        crs_note(ax.figure, ax)


CRS_NOTE = "EPSG:4548 CGCS2000 / 3-degree GK CM 117E；坐标 km：东 E（下、上）北 N（左、右）"


def crs_note(figure: Figure, ax: Axes | None = None) -> None:
    """What the neat-line labels are: below the frame ``ax``, or above the source line."""
    if ax is None:
        figure.text(MARGIN_IN["left"] / figure.get_figwidth(), 0.3 / figure.get_figheight(),
                    CRS_NOTE, ha="left", va="bottom", fontsize=5, color="#444444",
                    gid="neat-line-crs")  # fmt: skip
        return
    ax.text(
        0.0,
        -0.05,
        CRS_NOTE,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=5,
        color="#444444",
        clip_on=False,
        gid="neat-line-crs",
    )


def fix_bars(ax: Axes, scale: int, bar_cm: float = BAR_CM) -> None:
    """The axes' scale bars set to ``bar_cm`` of paper: a round length at every scale of
    the series (4 cm: 400 m at 1:10 000 ... 40 km at 1:1 000 000; 2 cm: half of it)."""
    ground = bar_cm / 100 * scale  # metres
    for bar in (a for a in ax.artists if isinstance(a, ScaleBar)):
        bar.fixed_value, bar.fixed_units = (
            (ground / 1000, "km") if ground >= 1000 else (ground, "m")
        )
        bar.length_fraction = None


def finish_layout(figure: Figure, ax: Axes, legend_ax: Axes, entries, scale: int, layout: Layout):
    """The map elements (:func:`finish_map`), the bar set to a round length consistent with
    the scale, and the scale printed as text under the legend."""
    finish_map(figure, [ax], legend_ax, entries)
    fix_bars(ax, scale)
    scale_legend(legend_ax, f"比例尺 Scale {scale_text(scale)}", layout)
    return figure


def scale_legend(legend_ax: Axes, text: str, layout: Layout) -> None:
    """The scale(s) as text at the foot of the legend column, with the paper."""
    legend_ax.text(
        0.16,
        0.0,
        f"{text}\n{layout.label}",
        transform=legend_ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=7.5,
        fontweight="bold",
        gid="scale-text",
    )


# --- figures of several panels ---------------------------------------------------------------

PANEL_GAP_IN = (0.4, 0.9)  # between panels: room for neat-line labels, titles, area lines


def panel_grid(layout: Layout, panels: int) -> tuple[int, int]:
    """(rows, columns) of ``panels`` in the layout's frame giving the largest panels (their
    shorter side), so each shows as much as possible at a scale of the series."""

    def side(rows: int) -> float:
        cols = -(-panels // rows)
        w, h = _panel_in(layout, rows, cols)
        return min(w, h)

    rows = max(range(1, panels + 1), key=side)
    return rows, -(-panels // rows)


def _panel_in(layout: Layout, rows: int, cols: int) -> tuple[float, float]:
    frame_w, frame_h = layout.frame_in
    top = 0.2  # the panels' titles below the figure's
    return (
        (frame_w - (cols - 1) * PANEL_GAP_IN[0]) / cols,
        (frame_h - top - (rows - 1) * PANEL_GAP_IN[1]) / rows,
    )


def layout_panels(
    data: MapData, title_zh: str, title_en: str, layout: Layout, panels: int
) -> tuple[Figure, list[Axes], Axes]:
    """As :func:`layout_frame`, the frame split into a grid of ``panels`` map axes (row by
    row), each to be set at its own scale (:func:`set_scale` with a prefix)."""
    figure, (first,), legend_ax = layout_frame(data, title_zh, title_en, layout)
    figure.delaxes(first)
    figure.delaxes(legend_ax)  # added again after the panels: the map axes come first
    width, height = layout.size_in
    rows, cols = panel_grid(layout, panels)
    panel_w, panel_h = _panel_in(layout, rows, cols)
    left, bottom = MARGIN_IN["left"], MARGIN_IN["bottom"]
    axes = []
    for i in range(panels):
        row, col = divmod(i, cols)
        x = left + col * (panel_w + PANEL_GAP_IN[0])
        y = bottom + (rows - 1 - row) * (panel_h + PANEL_GAP_IN[1])
        ax = figure.add_axes((x / width, y / height, panel_w / width, panel_h / height))
        ax.set_aspect("equal")
        axes.append(ax)
    figure.add_axes(legend_ax)
    crs_note(figure)
    return figure, axes, legend_ax


def panel_prefix(i: int) -> str:
    """The SVG id prefix of panel ``i``'s neat line: none for the first (as single maps)."""
    return "" if i == 0 else f"p{i + 1}-"
