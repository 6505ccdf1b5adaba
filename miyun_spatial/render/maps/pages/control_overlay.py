"""Control lines (三区三线) on a page: the lines by type, and the overlap pieces of changing
parcels coloured by verdict, with legend sections and popups giving the overlap.

Made once per run (:func:`control_overlay`) and drawn on the overview, land-use and base pages
(:func:`add_control_overlay`), off at first so
the plan stays readable; nothing is drawn when the GeoPackage has no control lines. The lines
are marked 示意 schematic while their ``geom_source`` is not surveyed. Colours come from the
catalogue (``line_type`` values; palette ``control_verdict``): red only for conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import folium
import geopandas as gpd
import pandas as pd
import shapely

from ....core.catalogue import CATALOGUE
from ....core.control_rules import CONTROL_RULES
from ....core.palette import category_colors, category_labels
from ..controls import LegendEntry, LegendSection
from ..fields import (
    Column,
    area_column,
    esc,
    field_columns,
    fmt_area,
    is_schematic,
    provenance_column,
    search_text,
    text_column,
)
from ..layers import LayerData, catalogue_style, layer_data
from ..page import MapInputs, feature_areas_ha

LINES = CATALOGUE["control_lines"]
LINES_KEY = "control_lines"
PIECES_KEY = "control_line_conflicts"
VERDICT_COLORS = CATALOGUE.palettes["control_verdict"]
VERDICT_LABELS = CATALOGUE.palettes["control_verdict_labels"]
SHOWN_VERDICTS = ("conflict", "conditional")  # compliant overlaps stay in the tables
SCHEMATIC_NOTE = "示意线，非“一张图”正式管控线 schematic lines, not the official 一张图 lines"


def _line_figures(inputs: MapInputs, lines: pd.DataFrame) -> list[Column]:
    summary = inputs.metrics.get("control_line_summary")
    codes = lines[LINES.id_field].astype(str)
    if summary is None or LINES.name not in summary.index.get_level_values("layer"):
        return []
    own = summary.xs(LINES.name, level="layer").droplevel("line_type")
    own = own[~own.index.duplicated()]
    taken = own.reindex(codes.to_numpy())
    taken.index = lines.index
    overlap = [
        f"{fmt_area(ha)} ({esc(int(c))} 冲突 conflicts, {esc(int(k))} 有条件 conditional)"
        for ha, c, k in zip(
            taken["overlap_ha"].fillna(0.0),
            taken["conflicts"].fillna(0),
            taken["conditionals"].fillna(0),
            strict=True,
        )
    ]
    return [
        Column(
            "_overlap",
            esc("与用地变更地块重叠 Overlap with changing parcels"),
            pd.Series(overlap, index=lines.index, dtype=object),
        )
    ]


def _lines_layer(inputs: MapInputs, lines):
    field = LINES.category_field
    style = catalogue_style(
        LINES.name, colors=category_colors(LINES.name, field), outline_by_class=True, label=True
    )
    columns = field_columns(lines, LINES, (LINES.id_field, "name", "line_type", "grade"))
    columns += [area_column(feature_areas_ha(lines)), *_line_figures(inputs, lines)]
    columns += field_columns(lines, LINES, ("source", "provenance"))
    columns.append(provenance_column(lines, LINES))
    label = lines[LINES.id_field].astype(object).map(esc)
    return layer_data(
        key=LINES_KEY,
        name=f"{LINES.title_zh}（示意）{LINES.title_en} (schematic)",
        geometry=inputs.display(lines.geometry),
        style=style,
        classes=lines[field],
        schematic=is_schematic(lines),
        columns=columns,
        tooltip=3,
        search=search_text(lines, (LINES.id_field, "name")),
        label=label,
        short_label=label,
        show=False,
    )


GROUP = ["line_code", "line_name", "line_type", "verdict", "rule"]


def _by_line(pieces):
    """The pieces merged per line, verdict and rule: a bounded page whatever the parcel count.

    Used when the pieces exceed the vector budget (``MapOptions.tiles_above``, the parcels'
    tiling threshold); the parcel codes stay in the CSV and workbook.
    """
    keyed = pieces.assign(line_name=pieces["line_name"].astype(object).fillna(""))
    groups = keyed.groupby(GROUP, sort=True, dropna=False)
    merged = groups.agg(
        parcel_code=("parcel_code", "size"),
        current_use=("current_use", lambda u: ", ".join(sorted(set(map(str, u)))[:6])),
        planned_use=("planned_use", lambda u: ", ".join(sorted(set(map(str, u)))[:6])),
        overlap_ha=("overlap_ha", "sum"),
    ).reset_index()
    shapes = groups.apply(lambda g: shapely.union_all(g.geometry.values), include_groups=False)
    merged["parcel_code"] = [
        f"{n} 块 parcels (control_line_conflicts.csv)" for n in merged["parcel_code"]
    ]
    return gpd.GeoDataFrame(merged, geometry=list(shapes.to_numpy()), crs=pieces.crs)


def _pieces_layer(inputs: MapInputs, pieces):
    pieces = pieces[pieces["verdict"].isin(SHOWN_VERDICTS)]
    if not len(pieces):
        return None
    if len(pieces) > inputs.options.tiles_above:
        pieces = _by_line(pieces)
    style = catalogue_style(
        LINES.name, colors=dict(VERDICT_COLORS), fill_opacity=0.55, weight=1.0, dash=""
    )
    # hatched in the verdict's colour: told apart from the land-use fills below (B is red too)
    style = replace(style, color="#7f0000", solid_dash=None, hatch=SHOWN_VERDICTS)
    type_labels = category_labels(LINES.name, "line_type")
    rule_labels = {r.id: f"{r.label_zh} {r.label_en}" for r in CONTROL_RULES.rules}
    columns = [
        text_column("parcel", "地块 Parcel", pieces["parcel_code"].astype(object)),
        text_column("verdict", "结论 Verdict", pieces["verdict"].map(VERDICT_LABELS)),
        text_column("rule", "规则 Rule", pieces["rule"].astype(str).map(rule_labels)),
        text_column(
            "line",
            "管控线 Control line",
            pieces["line_code"].astype(str)
            + " "
            + pieces["line_name"].astype(object).fillna("").astype(str),
        ),
        text_column("type", "类型 Line type", pieces["line_type"].map(type_labels)),
        text_column(
            "uses",
            "用地变化 Use change",
            pieces["current_use"].astype(str) + " → " + pieces["planned_use"].astype(str),
        ),
        area_column(pieces["overlap_ha"], label="重叠面积 Overlap (EPSG:4548)"),
    ]
    return layer_data(
        key=PIECES_KEY,
        name="管控线冲突与有条件 Control-line conflicts and conditionals",
        geometry=inputs.display(pieces.geometry, simplify_m=0),
        style=style,
        classes=pieces["verdict"],
        schematic=pd.Series(False, index=pieces.index),
        columns=columns,
        tooltip=3,
        search=search_text(pieces, ("parcel_code", "line_code")),
        show=False,
    )


@dataclass(frozen=True)
class ControlOverlay:
    """The control lines and the conflict pieces as page layers, with their legend sections:
    made once (:func:`control_overlay`) and drawn on any number of pages."""

    layers: tuple[LayerData, ...] = ()
    legend: tuple[LegendSection, ...] = ()


def control_overlay(inputs: MapInputs) -> ControlOverlay:
    """The overlay of ``inputs``'s control lines (empty without a ``control_lines`` layer)."""
    lines = inputs.layer(LINES.name)
    if lines is None or not len(lines):
        return ControlOverlay()
    layers, legend = [_lines_layer(inputs, lines)], []
    field = LINES.category_field
    colors, labels = category_colors(LINES.name, field), category_labels(LINES.name, field)
    areas = feature_areas_ha(lines)
    entries = tuple(
        LegendEntry(
            value=value,
            label=label,
            color=colors[value],
            count=int((lines[field] == value).sum()),
            area_ha=float(areas[lines[field] == value].sum()),
            shape="dashdot",
        )
        for value, label in labels.items()
    )
    legend.append(
        LegendSection(
            "管控线 Control lines（示意 schematic）",
            entries,
            note=SCHEMATIC_NOTE,
            layers=(LINES_KEY,),
        )
    )
    pieces = inputs.layer(PIECES_KEY)
    layer = _pieces_layer(inputs, pieces) if pieces is not None and len(pieces) else None
    if layer is not None:
        layers.append(layer)
        shown = pieces[pieces["verdict"].isin(SHOWN_VERDICTS)]
        legend.append(
            LegendSection(
                "用地变更与管控线 Changing parcels on control lines",
                tuple(
                    LegendEntry(
                        value=v,
                        label=VERDICT_LABELS[v],
                        color=VERDICT_COLORS[v],
                        count=int((shown["verdict"] == v).sum()),
                        area_ha=float(shown.loc[shown["verdict"] == v, "overlap_ha"].sum()),
                        shape="hatch",
                    )
                    for v in SHOWN_VERDICTS
                ),
                note="重叠面积按 EPSG:4548 计 overlaps measured in EPSG:4548",
                layers=(PIECES_KEY,),
            )
        )
    return ControlOverlay(tuple(layers), tuple(legend))


def add_control_overlay(
    m: folium.Map, overlay: ControlOverlay
) -> tuple[dict[str, int], list[LegendSection]]:
    """Draw ``overlay`` (the control lines and the conflict pieces, both off at first) on
    ``m``; returns the features drawn per layer key and the legend sections (shown while
    their layer is on)."""
    drawn = {data.key: data.add_to(m).feature_count for data in overlay.layers}
    return drawn, list(overlay.legend)
