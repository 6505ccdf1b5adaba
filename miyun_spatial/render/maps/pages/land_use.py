"""land_use.html: parcels by land-use class, switchable current / planned / post-adjustment.

Colours come from the GeoPackage's own ``land_use_classes`` table. Zone outlines carry the
land-use mix index per zone (Shannon entropy normalised by ln K, and HHI) from the metrics
(``metrics["mix_indices"]``); nothing is measured here.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import pandas as pd

from ....core.catalogue import CATALOGUE
from ....core.landuse import parcel_uses
from ....core.palette import UNCOVERED_COLOR, hatched_land_uses, land_use_colors, land_use_labels
from ..aggregate import (
    MAX_EMBEDDED,
    aggregate_parcels,
    aggregated_note,
    aggregation_cell,
    simplified_outlines,
)
from ..controls import LegendEntry, LegendSection, add_view_switch
from ..fields import (
    Column,
    area_column,
    esc,
    field_columns,
    fmt_number,
    is_schematic,
    provenance_column,
    search_text,
    text_column,
)
from ..layers import LayerStyle, StyledGeoJson, add_layer
from ..page import MapInputs, Page, add_context, bounds_of, feature_areas_ha, finish, new_map
from .common import PARK, add_plan_layer, class_label_column, park_code, park_extent
from .control_overlay import add_control_overlay, control_overlay

FILENAME = "land_use.html"
TITLE_ZH = "用地结构"
TITLE_EN = "Land use: current, planned, post-adjustment"
PARCELS = CATALOGUE["land_parcels"]
CODE = PARCELS.id_field
# property key, metrics' use name, label
VIEWS = (
    ("cu", "current", "现状用地 Current use"),
    ("pl", "planned", "批复规划用地 Approved-plan use"),
    ("po", "adjusted", "调整后用地 Post-adjustment use"),
)
INITIAL_VIEW = "pl"
# the legend's parcel-count columns, one per view
VIEW_HEADINGS = ("地块 现状 parcels, current", "规划 planned", "调整后 adjusted")
PARCEL_DECIMALS = 5  # ~1 m: parcels are many, and drawn at parcel scale at most
ZONE_LAYERS = ("clusters", "park_in_park", "zgc_park", "land_adjustments", "farmer_bases")
PANEL_LAYERS = ("clusters", "park_in_park", "zgc_park", "land_adjustments")
PARCEL_FIELDS = (
    "status",
    "enterprise",
    "sector",
    "revenue_10k_cny",
    "output_10k_cny",
    "employees",
    "project_code",
    "source_code",  # present in imported parcels only (miyun-spatial import)
    "source_name",
)


def view_classes(parcels: pd.DataFrame) -> dict[str, pd.Series]:
    """Class code per parcel for each view (the metrics' current / planned / adjusted uses),
    categorical: a dozen codes shared by every parcel, not a text per parcel (1M parcels)."""
    uses = parcel_uses(parcels)
    return {key: uses[use].astype("category") for key, use, _ in VIEWS}


def parcel_columns(parcels: gpd.GeoDataFrame, classes: pd.DataFrame | None) -> list[Column]:
    views = view_classes(parcels)
    columns = field_columns(parcels, PARCELS, [CODE])
    columns += [
        class_label_column(f"{key}_label", label, views[key], classes) for key, _, label in VIEWS
    ]
    columns.append(area_column(feature_areas_ha(parcels)))
    columns += field_columns(parcels, PARCELS, PARCEL_FIELDS)
    columns.append(provenance_column(parcels, PARCELS))
    return columns


def add_parcels(
    target,
    inputs: MapInputs,
    parcels: gpd.GeoDataFrame,
    classes: pd.DataFrame | None,
    *,
    show: bool = True,
    views: dict[str, pd.Series] | None = None,
) -> StyledGeoJson:
    """Parcels coloured by land-use class; ``miyun.setView`` switches the use shown.

    More than ``MAX_EMBEDDED`` parcels are aggregated (dissolved by their three uses within
    grid cells) so the page stays small; popups then give parcel counts instead of codes.
    """
    views = view_classes(parcels) if views is None else views
    if len(parcels) > MAX_EMBEDDED:
        return add_parcel_groups(target, inputs, parcels, classes, show=show, views=views)[0]
    return add_layer(
        target,
        key="land_parcels",
        name=PARCELS.title,
        geometry=inputs.display(parcels.geometry, decimals=PARCEL_DECIMALS),
        style=parcel_style(classes),
        extra_classes=views,
        schematic=is_schematic(parcels),
        columns=parcel_columns(parcels, classes),
        tooltip=4,
        search=search_text(parcels, (CODE, "enterprise")),
        show=show,
    )


def parcel_style(classes: pd.DataFrame | None) -> LayerStyle:
    """Parcels filled by land-use class (the initial view's), thin grey outlines."""
    return LayerStyle(
        color="#555555",
        weight=0.5,
        fill_opacity=0.75,
        colors=land_use_colors(classes) if classes is not None else {},
        fill=UNCOVERED_COLOR,
        field=INITIAL_VIEW,
        hatch=hatched_land_uses(classes) if classes is not None else (),
        hatch_tint=True,
    )


def add_parcel_groups(
    target,
    inputs: MapInputs,
    parcels: gpd.GeoDataFrame,
    classes: pd.DataFrame | None,
    *,
    key: str = "land_parcels",
    name: str = f"{PARCELS.title}（按用地聚合 aggregated）",
    show: bool = True,
    views: dict[str, pd.Series] | None = None,
) -> tuple[StyledGeoJson, float]:
    """Parcels dissolved by their three uses within grid cells (``aggregate``).

    Popups give the three uses, the number of parcels and their area. A bounded page whatever
    the number of parcels: cells of 1 km, larger if needed for at most ``MAX_GROUPS``
    polygons, whose outlines are simplified for display beyond ``MAX_COORDINATES`` vertices.
    ``views``: :func:`view_classes` of ``parcels``. Returns the layer and the cell size.
    """
    views = view_classes(parcels) if views is None else views
    keys = pd.DataFrame(views)
    cell_m = aggregation_cell(parcels, keys)
    groups = aggregate_parcels(parcels, keys, cell_m=cell_m)
    outlines, _ = simplified_outlines(groups.geometry)
    columns = [
        class_label_column(f"{view}_label", label, groups[view], classes)
        for view, _, label in VIEWS
    ]
    columns.append(text_column("_n", "地块数 Parcels", groups["parcels"].map(str)))
    columns.append(area_column(groups["area_ha"]))
    return add_layer(
        target,
        key=key,
        name=name,
        geometry=inputs.display(outlines, decimals=PARCEL_DECIMALS),
        style=parcel_style(classes),
        extra_classes={view: groups[view] for view, _, _ in VIEWS},
        schematic=pd.Series(True, index=groups.index),
        columns=columns,
        tooltip=4,
        show=show,
    ), cell_m


TILES_NOTE = (
    "地块较多：以栅格瓦片显示（tiles/ 文件夹，与本页一起复制），放大后点击地块查看编码与用地；"
    "面积在 EPSG:4548 中量算，逐地块数据见 results.gpkg。 Many parcels: drawn as raster tiles "
    "(folder tiles/, keep it beside this page); zoom in and click a parcel for its code and "
    "uses; areas measured in EPSG:4548, every parcel in results.gpkg."
)


def add_parcel_tiles(target, inputs: MapInputs):
    """Parcels as raster tiles per use (``tile_layer``), registered as 'land_parcels'."""
    from ..tile_layer import ParcelTiles

    layer = ParcelTiles(
        inputs,
        key="land_parcels",
        name=f"{PARCELS.title}（栅格瓦片 tiles）",
        views=VIEWS,
        initial=INITIAL_VIEW,
    )
    layer.key = "land_parcels"
    layer.add_to(target)
    return layer


def class_legend(
    parcels: pd.DataFrame,
    classes: pd.DataFrame | None,
    *,
    title: str | None = None,
    views: dict[str, pd.Series] | None = None,
) -> LegendSection:
    """Every class used by a parcel in any view, with parcel counts per view.

    ``views``: :func:`view_classes` of ``parcels``, when the caller has them already.
    """
    views = view_classes(parcels) if views is None else views
    colors = land_use_colors(classes) if classes is not None else {}
    labels = land_use_labels(classes) if classes is not None else {}
    hatched = set(hatched_land_uses(classes)) if classes is not None else set()
    counts = {k: v.value_counts() for k, v in views.items()}
    used = set().union(*(set(c.index) for c in counts.values()))
    order = [c for c in labels if c in used] + sorted(used - set(labels))
    entries = tuple(
        LegendEntry(
            value=str(code),
            label=labels.get(code, str(code)),
            color=colors.get(code, UNCOVERED_COLOR),
            shape="hatch_tint" if code in hatched else "box",
            views=tuple((k, str(int(counts[k].get(code, 0)))) for k, _, _ in VIEWS),
        )
        for code in order
    )
    return LegendSection(
        title or "用地分类 Land-use classes",
        entries,
        "地块数：现状 / 批复规划 / 调整后（加底色列 = 当前显示）"
        "Parcels: current / planned / post-adjustment (highlighted column = shown)",
        layers=("land_parcels",),
        view_layer="land_parcels",
        view_mark=view_mark_html("land_parcels", INITIAL_VIEW),
        view_labels=VIEW_HEADINGS,
    )


def view_mark_html(layer: str, initial: str) -> str:
    """'：规划用地 Planned use' after the legend title, updated when the view is switched."""
    labels = "".join(f' data-{key}="{esc(label)}"' for key, _, label in VIEWS)
    current = next(label for key, _, label in VIEWS if key == initial)
    return (
        f' · 当前显示 Showing: <span class="miyun-view-mark" data-layer="{esc(layer)}"{labels}>'
        f"{esc(current)}</span>"
    )


def mix_lookup(metrics: dict) -> pd.DataFrame | None:
    """``metrics["mix_indices"]`` as a frame indexed (layer, zone, use), or None."""
    table = metrics.get("mix_indices")
    if table is None or not len(table):
        return None
    frame = table.reset_index()
    if "layer" not in frame.columns or "zone" not in frame.columns or "use" not in frame:
        return None
    return frame.set_index(["layer", "zone", "use"])


def mix_columns(layer: str, zones: gpd.GeoDataFrame, mix: pd.DataFrame | None) -> list[Column]:
    """Entropy and HHI per use for each zone of ``layer`` (— where the metrics have none)."""
    if mix is None:
        return []
    codes = zones[CATALOGUE[layer].id_field].astype(str)
    columns = []
    for key, use, label in VIEWS:
        values = []
        for code in codes:
            row = (layer, code, use)
            if row in mix.index:
                entropy, hhi = mix.loc[row, "entropy"], mix.loc[row, "hhi"]
                values.append(f"熵 entropy {fmt_number(entropy, 3)} · HHI {fmt_number(hhi, 3)}")
            else:
                values.append(None)
        columns.append(
            text_column(
                f"_mix_{key}", f"混合度 Mix index, {label}", pd.Series(values, index=zones.index)
            )
        )
    return columns


def mix_panel_html(inputs: MapInputs, mix: pd.DataFrame) -> str:
    """A table of the mix index (entropy; HHI) per zone and view, for the main zone layers."""
    head = "".join(f"<th>{esc(label.split(' ')[0])}</th>" for _, _, label in VIEWS)
    rows = []
    for name in PANEL_LAYERS:
        zones = inputs.layer(name)
        if zones is None:
            continue
        for code in zones[CATALOGUE[name].id_field].astype(str):
            cells = []
            for _, use, _ in VIEWS:
                key = (name, code, use)
                if key in mix.index:
                    row = mix.loc[key]
                    cells.append(
                        f"<td>{fmt_number(row['entropy'], 2)}"
                        f'<span class="sub"> / {fmt_number(row["hhi"], 2)}</span></td>'
                    )
                else:
                    cells.append("<td>—</td>")
            rows.append(f"<tr><th>{esc(code)}</th>{''.join(cells)}</tr>")
    return (
        "<details><summary>用地混合度 Mix index (熵 entropy / HHI)</summary>"
        f'<table class="miyun-facts"><tr><th></th>{head}</tr>{"".join(rows)}</table>'
        '<div class="sub">熵按 ln K 归一化（K = 全部用地分类）Shannon entropy / ln K</div></details>'
    )


def focus_bounds(inputs: MapInputs) -> list[list[float]] | None:
    """The park's current extent (where the parcels are), else all parcels."""
    current = park_extent(inputs)
    if current is not None:
        return bounds_of([inputs.display(current.geometry, simplify_m=5)])
    parcels = inputs.layer("land_parcels")
    if parcels is None:
        return None
    return bounds_of([inputs.display(parcels.geometry, simplify_m=5)])


def build(inputs: MapInputs) -> Page:
    parcels = inputs.layer("land_parcels")
    classes = inputs.table("land_use_classes")
    m = new_map(
        inputs,
        title_zh=TITLE_ZH,
        title_en=TITLE_EN,
        subtitle="地块按用地分类着色，可切换现状 / 批复规划 / 调整后；分区轮廓显示用地混合度",
    )
    drawn = {layer.key: layer.feature_count for layer in add_context(m, inputs)}
    mix = mix_lookup(inputs.metrics)
    # zones first: drawn under the parcels, so a click on a parcel reaches the parcel
    for name in ZONE_LAYERS:
        zones = inputs.layer(name)
        if zones is None:
            continue
        layer = add_plan_layer(
            m,
            inputs,
            name,
            key=f"zones_{name}",
            style=_outline(name),
            show=name in ("clusters", "park_in_park"),
            extra_columns=mix_columns(name, zones, mix),
        )
        drawn[layer.key] = layer.feature_count
    legend = []
    if parcels is not None and len(parcels):
        views = view_classes(parcels)  # once: 1M parcels take a while
        section = class_legend(parcels, classes, views=views)
        if len(parcels) > inputs.options.tiles_above:
            layer = add_parcel_tiles(m, inputs)
            section = replace(section, note=f"{section.note} {TILES_NOTE}")
        elif len(parcels) > MAX_EMBEDDED:
            layer, cell_m = add_parcel_groups(m, inputs, parcels, classes, views=views)
            note = aggregated_note("changing_parcels.csv", cell_m=cell_m)
            section = replace(section, note=f"{section.note} {note}")
        else:
            layer = add_parcels(m, inputs, parcels, classes, views=views)
        drawn[layer.key] = getattr(layer, "feature_count", 0)
        legend.append(section)
        add_view_switch(
            m,
            layer=layer.key,
            title="显示 Show",
            views=[(key, label) for key, _, label in VIEWS],
            initial=INITIAL_VIEW,
        )
    control_drawn, control_legend = add_control_overlay(m, control_overlay(inputs))
    drawn.update(control_drawn)
    legend.extend(control_legend)
    panels = [(mix_panel_html(inputs, mix), "miyun-mix")] if mix is not None else []
    bounds = focus_bounds(inputs)
    html = finish(m, inputs, legend=legend, bounds=bounds, panels=panels)
    return Page(
        FILENAME,
        TITLE_ZH,
        TITLE_EN,
        "地块用地分类（现状、规划、调整后可切换），分区轮廓及用地混合度指数 "
        "Parcels by land-use class with current / planned / post-adjustment views; mix index per zone",
        _figures(parcels, mix, park_code(inputs)),
        html,
        drawn,
    )


def _outline(layer: str) -> LayerStyle:
    style = CATALOGUE[layer].style
    return LayerStyle(color=style.get("color", "#333333"), weight=2, fill_opacity=0.0)


def _figures(
    parcels: pd.DataFrame | None, mix: pd.DataFrame | None, park: str | None
) -> tuple[str, ...]:
    if parcels is None:
        return ()
    views = view_classes(parcels)
    changed = int(views["po"].ne(views["pl"]).sum())
    figures = [f"{len(parcels)} 个地块 parcels，{changed} 个拟调整用地 with a proposed change"]
    if mix is not None and (PARK.name, park, "planned") in mix.index:
        row = mix.loc[(PARK.name, park, "planned")]
        figures.append(f"{park} 规划用地混合度 planned mix entropy {fmt_number(row['entropy'], 3)}")
    return tuple(figures)
