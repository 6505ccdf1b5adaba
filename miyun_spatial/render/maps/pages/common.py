"""Building blocks shared by the pages: plan-feature layers with their popups, category legends."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import pandas as pd

from ....core.catalogue import CATALOGUE
from ....core.palette import category_colors, category_labels, land_use_labels
from ....core.vocabulary import VOCABULARY, role_members
from ....core.vocabulary import park_code as vocabulary_park_code
from ..controls import LegendEntry, LegendSection
from ..fields import (
    MISSING,
    Column,
    area_column,
    esc,
    field_columns,
    is_schematic,
    notes_column,
    provenance_column,
    search_text,
    text_column,
)
from ..layers import LayerData, LayerStyle, StyledGeoJson, catalogue_style, layer_data
from ..page import MapInputs, feature_areas_ha

HEAD_FIELDS = ("code", "name_zh", "name_en")
TAIL_FIELDS = ("location_zh", "focus_zh", "plan_section", "notes")
PROVENANCE_FIELDS = ("geom_source", "position_confidence", "area_basis", "data_basis")
PARK_ROLE = VOCABULARY.roles["park"]
PARK = CATALOGUE[PARK_ROLE.layer]
PARK_STATUS = PARK.category_field  # expansion_status: how the park layer is coloured
# the fields every plan layer has (code, names, geometry source, stated area, notes...)
SHARED_FIELDS = set.intersection(*(set(s.field_names) for s in CATALOGUE.plan_layers))


def plan_columns(frame: gpd.GeoDataFrame, layer: str) -> list[Column]:
    """Popup columns of a plan layer: code and names, category, areas, own fields, provenance."""
    spec = CATALOGUE[layer]
    category = spec.category_field
    own = [
        f.name
        for f in spec.fields
        if f.name not in SHARED_FIELDS and f.name != category and f.name not in PROVENANCE_FIELDS
    ]
    columns = field_columns(frame, spec, HEAD_FIELDS)
    if category:
        columns += field_columns(frame, spec, [category])
    columns.append(area_column(feature_areas_ha(frame)))
    columns += field_columns(frame, spec, ["stated_area_ha", *own, *TAIL_FIELDS[:-1]])
    columns = without_repeats(columns)
    if "notes" in frame.columns and spec.has_field("notes"):
        columns.append(notes_column(frame["notes"], label=spec.field("notes").label))
    columns.append(provenance_column(frame, spec))
    return columns


def without_repeats(columns: list[Column]) -> list[Column]:
    """Text columns that repeat an earlier column's value (发展方向 = 产业方向) leave the
    popup for that feature; area columns are kept (their values are distinct measures)."""
    out: list[Column] = []
    for column in columns:
        if column.key.endswith("_zh") and out:
            earlier = [c.values for c in out if c.key.endswith("_zh")]
            repeat = pd.Series(False, index=column.values.index)
            for values in earlier:
                repeat |= column.values.eq(values) & column.values.ne(MISSING)
            if repeat.any():
                column = Column(
                    column.key, column.label, column.values.where(~repeat, None), optional=True
                )
        out.append(column)
    return out


def plan_labels(frame: pd.DataFrame, id_field: str) -> tuple[pd.Series, pd.Series]:
    """Map labels: 'B7 太师屯镇基地' (code and Chinese name), and the code alone (escaped)."""
    codes = frame[id_field].map(esc)
    if "name_zh" not in frame:
        return codes, codes
    names = frame["name_zh"].astype(object)
    long = [
        c if n is None or pd.isna(n) or not str(n).strip() else f"{c} {esc(n)}"
        for c, n in zip(codes, names, strict=True)
    ]
    return pd.Series(long, index=frame.index, dtype=object), codes


def add_plan_layer(target, inputs: MapInputs, layer: str, **kwargs) -> StyledGeoJson | None:
    """:func:`plan_layer_data` (same keywords) drawn on ``target``; None without the layer."""
    data = plan_layer_data(inputs, layer, **kwargs)
    return None if data is None else data.add_to(target)


def plan_layer_data(
    inputs: MapInputs,
    layer: str,
    *,
    frame: gpd.GeoDataFrame | None = None,
    key: str | None = None,
    name: str | None = None,
    style: LayerStyle | None = None,
    show: bool = True,
    label: bool = True,
    tooltip: int | None = None,
    extra_columns: list[Column] | None = None,
    classes: pd.Series | None = None,
    labels: tuple[pd.Series, pd.Series] | None = None,
) -> LayerData | None:
    """A plan layer (or ``frame``, a subset of it) with catalogue colours and full popups.

    ``extra_columns`` (e.g. metrics) go into the popup after the feature's own fields;
    ``classes`` replaces the category field as the value ``style.colors`` looks up;
    ``labels`` (full, short; escaped) replace the code-and-name labels.
    """
    frame = inputs.layer(layer) if frame is None else frame
    if frame is None:
        return None
    spec = CATALOGUE[layer]
    category = spec.category_field
    if style is None:
        colors = category_colors(layer, category) if category else {}
        style = catalogue_style(layer, colors=colors, label=label)
    elif label and not style.label:
        style = replace(style, label=True)
    columns = plan_columns(frame, layer)
    if extra_columns:
        columns[-1:-1] = extra_columns
    id_field = spec.id_field
    if labels is None:
        labels = plan_labels(frame, id_field) if id_field in frame else (None, None)
    long, short = labels
    return layer_data(
        key=key or layer,
        name=name or spec.title,
        geometry=inputs.display(frame.geometry),
        style=style,
        classes=classes if classes is not None else _categories(frame, category),
        schematic=is_schematic(frame),
        columns=columns,
        tooltip=tooltip if tooltip is not None else (4 if category else 3),
        search=search_text(frame, (id_field, "name_zh", "name_en")),
        label=long if style.label else None,
        short_label=short if style.label else None,
        show=show,
    )


def _categories(frame: gpd.GeoDataFrame, category: str | None) -> pd.Series | None:
    return frame[category] if category and category in frame else None


def category_legend(
    frame: gpd.GeoDataFrame | None, layer: str, *, title: str | None = None, areas: bool = True
) -> LegendSection:
    """Legend rows for every allowed value of the layer's category field, with count and area."""
    spec = CATALOGUE[layer]
    field = spec.category_field
    colors = category_colors(layer, field)
    labels = category_labels(layer, field)
    values = frame[field].astype(object) if frame is not None else pd.Series(dtype=object)
    area = feature_areas_ha(frame) if frame is not None and areas else None
    entries = []
    for value, label in labels.items():
        mask = values == value
        entries.append(
            LegendEntry(
                value=value,
                label=label,
                color=colors.get(value, "#999999"),
                count=int(mask.sum()),
                area_ha=float(area[mask].sum()) if area is not None else None,
            )
        )
    return LegendSection(title or spec.title, tuple(entries))


def layer_entry(frame: gpd.GeoDataFrame | None, layer: str, *, area: bool = True) -> LegendEntry:
    """One legend row for a whole layer: its catalogue colour, feature count and total area."""
    style = CATALOGUE[layer].style
    count = 0 if frame is None else len(frame)
    total = float(feature_areas_ha(frame).sum()) if frame is not None and area else None
    return LegendEntry(
        value=layer,
        label=CATALOGUE[layer].title,
        color=style.get("fill", style.get("color", "#999999")),
        count=count,
        area_ha=total,
        shape="box" if CATALOGUE[layer].geometry == "polygon" else "dot",
    )


def class_label_column(
    key: str, label: str, codes: pd.Series, classes: pd.DataFrame | None
) -> Column:
    """Land-use class codes as 'M1 一类工业用地 Industrial (class 1...)' text."""
    names = land_use_labels(classes) if classes is not None else {}
    text = codes.astype(object).map(lambda c: None if pd.isna(c) else names.get(str(c), str(c)))
    return text_column(key, label, text)


def park_extent(inputs: MapInputs) -> gpd.GeoDataFrame | None:
    """The Zhongguancun park's current extent (the vocabulary's ``park`` role, i.e. Z1)."""
    return role_members(inputs.layer(PARK.name), PARK_ROLE)


def park_code(inputs: MapInputs) -> str | None:
    """The code of the park's current extent (Z1 in the default data; ``park_key``)."""
    return vocabulary_park_code(inputs.work)
