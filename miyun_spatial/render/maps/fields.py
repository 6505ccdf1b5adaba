"""Display text for tooltips, popups, legends and search: formatted, labelled and HTML-escaped.

Everything a page shows from the data passes through :func:`esc` here, in Python, before it
reaches the page (where popups, tooltips, labels, legends and the layer control put it into
``innerHTML``).
Labels are Chinese first with English alongside; areas in ha and 亩, money in 万元 and 亿元.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from ...core.catalogue import CATALOGUE, FieldSpec, LayerSpec
from .notes_zh import notes_zh

log = logging.getLogger(__name__)

MU_PER_HA = float(CATALOGUE.mu_per_ha)
MISSING = "—"
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def esc(value: object) -> str:
    """HTML-escaped text of a value; missing values (None, NaN, NA) become a dash.

    ``{`` and ``}`` become ``&#123;``/``&#125;`` too: folium/branca render every element's
    output a second time as a Jinja template, and data must never reach it as template
    source (``{{ 7*7 }}`` would show 49, ``{% ... %}`` would run). The browser shows them as
    typed.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return html.escape(str(value), quote=True).translate(_BRACES)


def safe_color(value: object, fallback: str = "#999999") -> str:
    """A ``#rrggbb`` colour, or ``fallback`` for anything else (colours come from edited data)."""
    if isinstance(value, str) and _HEX.match(value.strip()):
        return value.strip().lower()
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        log.warning("colour %r is not #rrggbb: drawn as %s", value, fallback)
    return fallback


def is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: object, digits: int = 2) -> str:
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"


def fmt_area(hectares: object) -> str:
    """'12.34 ha（185.1 亩）'."""
    if is_missing(hectares):
        return MISSING
    ha = float(hectares)
    return f"{ha:,.2f} ha（{ha * MU_PER_HA:,.1f} 亩）"


def fmt_money(ten_thousand_cny: object) -> str:
    """'35,000 万元（3.50 亿元）'."""
    if is_missing(ten_thousand_cny):
        return MISSING
    value = float(ten_thousand_cny)
    return f"{value:,.0f} 万元（{value / 10_000:,.2f} 亿元）"


def fmt_value(spec: FieldSpec, value: object) -> str:
    """A catalogue field's value as display text: allowed-value labels, units; escaped."""
    if is_missing(value):
        return MISSING
    allowed = spec.value_spec(str(value)) if spec.values else None
    if allowed is not None:
        return esc(allowed.label)
    if spec.unit == "万元":
        return fmt_money(value)
    if spec.unit == "ha":
        return fmt_area(value)
    if spec.type == "real":
        unit = f" {spec.unit}" if spec.unit else ""
        return f"{fmt_number(value)}{esc(unit)}"
    if spec.type == "integer":
        unit = f" {spec.unit}" if spec.unit else ""
        return f"{int(value):,}{esc(unit)}"
    return esc(value)


@dataclass(frozen=True)
class Column:
    """One display column: a short property key, its label (escaped) and escaped values."""

    key: str
    label: str
    values: pd.Series
    optional: bool = False  # rows left out of the popup where the value is missing


def field_columns(frame: pd.DataFrame, spec: LayerSpec, names: Iterable[str]) -> list[Column]:
    """Display columns for catalogue fields of ``spec`` present in ``frame``."""
    columns = []
    for name in names:
        if name not in frame.columns or not spec.has_field(name):
            continue
        field = spec.field(name)
        values = pd.Series(
            [fmt_value(field, v) for v in frame[name].tolist()], index=frame.index, dtype=object
        )
        columns.append(Column(name, esc(field.label), values))
    return columns


def area_column(area_ha: pd.Series, *, label: str = "面积 Area (EPSG:4548)") -> Column:
    return Column(
        "_area",
        esc(label),
        pd.Series([fmt_area(v) for v in area_ha.tolist()], index=area_ha.index, dtype=object),
    )


def text_column(key: str, label: str, values: pd.Series) -> Column:
    """A column of already formatted text, escaped here."""
    return Column(key, esc(label), values.map(esc).astype(object))


def provenance_column(frame: pd.DataFrame, spec: LayerSpec) -> Column:
    """'示意 schematic · 位置可信度 低 low · 面积依据 假定 assumed' for each feature."""
    parts = []
    for name in ("geom_source", "position_confidence", "area_basis", "data_basis"):
        if name in frame.columns and spec.has_field(name):
            field = spec.field(name)
            parts.append(
                [f"{esc(field.label_zh)} {fmt_value(field, v)}" for v in frame[name].tolist()]
            )
    text = [" · ".join(row) for row in zip(*parts, strict=True)] if parts else []
    return Column(
        "_prov",
        esc("数据来源 Provenance"),
        pd.Series(text or [MISSING] * len(frame), index=frame.index, dtype=object),
    )


def search_text(frame: pd.DataFrame, names: Sequence[str]) -> pd.Series:
    """Escaped 'code name_zh name_en' per feature, for the search box."""
    present = [n for n in names if n in frame.columns]
    rows = frame[present].astype(object).where(frame[present].notna(), None).itertuples(index=False)
    return pd.Series(
        [" ".join(esc(v) for v in row if v is not None) for row in rows],
        index=frame.index,
        dtype=object,
    )


def is_schematic(frame: pd.DataFrame) -> pd.Series:
    """True where a feature's geometry is schematic (dashed on maps), False where surveyed.

    Plan features say so in ``geom_source``; parcels, which have no geometry source, count as
    schematic unless their ``data_basis`` is surveyed.
    """
    if "geom_source" in frame.columns:
        return frame["geom_source"].astype(object).ne("surveyed").astype(bool)
    if "data_basis" in frame.columns:
        return frame["data_basis"].astype(object).ne("surveyed").astype(bool)
    return pd.Series(True, index=frame.index)


def notes_column(notes: pd.Series, *, label: str = "备注 Notes") -> Column:
    """备注: the Chinese rendering first (``notes_zh``), the original text below it."""
    values = []
    for text in notes.astype(object).tolist():
        if is_missing(text) or not str(text).strip():
            values.append(None)
            continue
        zh = notes_zh(str(text))
        original = f'<span class="miyun-notes-en">{esc(text)}</span>'
        values.append(f"{esc(zh)}<br>{original}" if zh else original)
    return Column("notes", esc(label), pd.Series(values, index=notes.index, dtype=object), True)
