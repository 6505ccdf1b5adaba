"""The report as data: sections of labelled tables and chart specs, rendered by xlsx.py and html.py.

Both renderers draw the same :class:`Report`, so the workbook and the printable page cannot
drift apart. A table's frame holds the numbers at full precision (index reset, one column per
:class:`Column`); number formats and units live in the column specs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from ...core.catalogue import CATALOGUE
from ...core.vocabulary import VOCABULARY

# kind -> (Excel number format, Python format for the HTML page)
KINDS: dict[str, tuple[str, str]] = {
    "text": ("@", "{}"),
    "int": ("#,##0", "{:,.0f}"),
    "ha": ("#,##0.00", "{:,.2f}"),
    "mu": ("#,##0.0", "{:,.1f}"),
    "pct": ("0.0", "{:,.1f}"),  # a value already in per cent
    "share": ("0.0%", "{:.1%}"),  # a fraction shown as per cent
    "index": ("0.000", "{:.3f}"),  # entropy, HHI
    "money": ("#,##0", "{:,.0f}"),  # 万元
    "yield": ("#,##0", "{:,.0f}"),  # 万元/公顷, 元/平方米
    "real": ("#,##0.00", "{:,.2f}"),
    "date": ("yyyy-mm-dd hh:mm", "{}"),
    "auto": ("General", "{:,.4g}"),
}
NUMERIC_KINDS = frozenset(KINDS) - {"text", "date"}
MISSING = "—"
_NEGATIVE_ZERO = re.compile(r"^-((?:0[.,]?)+%?)$")  # "-0.00" from a tiny negative: show "0.00"


@dataclass(frozen=True)
class Column:
    key: str
    label_zh: str
    label_en: str
    unit: str = ""
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column '{self.key}': unknown kind '{self.kind}'")

    @property
    def header(self) -> str:
        """'面积 Area (ha)': Chinese first, English alongside, unit in brackets."""
        label = f"{self.label_zh} {self.label_en}".strip()
        return f"{label} ({self.unit})" if self.unit else label

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def excel_format(self) -> str:
        return KINDS[self.kind][0]

    def display(self, value) -> str:
        """The value as the HTML page shows it."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return MISSING
        if self.numeric and isinstance(value, int | float) and not isinstance(value, bool):
            text = _auto(value) if self.kind == "auto" else KINDS[self.kind][1].format(value)
            return _NEGATIVE_ZERO.sub(r"\1", text)
        if isinstance(value, bool):
            return "是 yes" if value else "否 no"
        return str(value)


@dataclass(frozen=True)
class Table:
    """One table of a section: a flat frame and the spec of each of its columns."""

    key: str
    title_zh: str
    title_en: str
    frame: pd.DataFrame
    columns: tuple[Column, ...]
    note: str = ""
    flag: tuple[str, object] | None = None  # (column, value): rows to highlight
    levels: str | None = None  # a column of warnings ("… green/amber/red"): rows coloured by it

    def __post_init__(self) -> None:
        keys = [c.key for c in self.columns]
        if list(self.frame.columns) != keys:
            raise ValueError(
                f"table '{self.key}': frame columns {list(self.frame.columns)} != {keys}"
            )

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def cell_values(self) -> list[list]:
        """Rows of plain Python values (None for missing), ready for a renderer."""
        rows = []
        for record in self.frame.itertuples(index=False, name=None):
            rows.append([_plain(v) for v in record])
        return rows


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn from columns of one table of the same section.

    ``kind``: ``bar`` (clustered columns), ``barh`` (horizontal bars, for rankings) or
    ``stacked`` (100 % stacked horizontal bars, for shares). ``highlight`` marks one category
    (e.g. Miyun in the Table 1-1 ranking).
    """

    key: str
    title_zh: str
    title_en: str
    table: str
    category: str
    series: tuple[str, ...]
    kind: str = "bar"
    value_label: str = ""
    colors: Mapping[str, str] = field(default_factory=dict)
    highlight: str | None = None

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"


@dataclass(frozen=True)
class Section:
    key: str
    name_zh: str  # the sheet name
    name_en: str
    subtitle: str
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.name_zh} {self.name_en}"

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


@dataclass(frozen=True)
class Front:
    """What the printable review document shows before the tables (report.html only).

    ``findings`` are :class:`~miyun_spatial.render.reports.review.FindingGroup`, ``figures``
    :class:`~miyun_spatial.render.reports.review.MapFigure`; ``listings`` maps the key of a long
    table (parcel listings, tidy matrices) to where its full version is: report.html shows
    such a table in the appendix, capped at ``listing_rows`` rows.
    """

    citation: tuple[str, str]
    mark: str | None
    mark_detail: str
    run: tuple[tuple[str, str], ...]
    findings: tuple = ()
    figures: tuple = ()
    listings: Mapping[str, str] = field(default_factory=dict)
    listing_rows: int = 12


@dataclass(frozen=True)
class Report:
    title_zh: str
    title_en: str
    sections: tuple[Section, ...]
    front: Front | None = None

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def _auto(value: float) -> str:
    """A number of unknown scale: no decimals when whole, two from 100 up, else 4 digits."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _plain(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN, and ±inf which a workbook cannot hold
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


# Labels of report and metric columns that are not catalogue fields: name -> (zh, en, unit, kind),
# from the output vocabulary (vocabulary.json).
COLUMN_LABELS: dict[str, tuple[str, str, str, str]] = {
    key: (label.zh, label.en, label.unit, label.kind) for key, label in VOCABULARY.columns.items()
}


@cache
def catalogue_field_labels() -> dict[str, tuple[str, str, str, str]]:
    """Labels of every catalogue field by name (first layer that defines it wins)."""
    kinds = {"real": "real", "integer": "int", "text": "text", "boolean": "text", "date": "date"}
    out: dict[str, tuple[str, str, str, str]] = {}
    for layer in CATALOGUE.layers:
        for f in layer.fields:
            out.setdefault(f.name, (f.label_zh, f.label_en, f.unit or "", kinds[f.type]))
    return out


def column_for(name: str, *, kind: str | None = None, **override: str) -> Column:
    """The column spec for a column ``name``: own labels, else the catalogue's, else the name.

    A column named after a layer (``clusters`` in the parcel tables) holds that layer's zone
    codes and takes the layer's title.
    """
    if name not in COLUMN_LABELS and name in CATALOGUE.names:
        return Column(name, CATALOGUE[name].title_zh, "zone code")
    zh, en, unit, default_kind = COLUMN_LABELS.get(name) or catalogue_field_labels().get(
        name, ("", name, "", "auto")
    )
    spec = {"label_zh": zh, "label_en": en, "unit": unit, "kind": kind or default_kind}
    spec.update(override)
    return Column(name, **spec)


def make_table(
    key: str,
    title_zh: str,
    title_en: str,
    frame: pd.DataFrame,
    columns: tuple[Column, ...] | None = None,
    *,
    note: str = "",
    flag: tuple[str, object] | None = None,
    levels: str | None = None,
) -> Table:
    """A Table from ``frame`` (its index becomes ordinary columns); columns default to labels."""
    flat = frame.reset_index() if _has_named_index(frame) else frame.reset_index(drop=True)
    flat.columns = [_flat_name(c) for c in flat.columns]
    if columns is None:
        columns = tuple(column_for(str(c), kind=_guess_kind(flat[c])) for c in flat.columns)
    else:
        flat = flat[[c.key for c in columns]]
    return Table(key, title_zh, title_en, flat, tuple(columns), note, flag, levels)


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _flat_name(column) -> str:
    if isinstance(column, tuple):
        return " ".join(str(part) for part in column if str(part))
    return str(column)


def _guess_kind(series: pd.Series) -> str | None:
    """None (use the label registry) unless the column's dtype says otherwise."""
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_numeric_dtype(series):
        name = str(series.name)
        if name in COLUMN_LABELS or name in catalogue_field_labels():
            return None
        return "int" if pd.api.types.is_integer_dtype(series) else "auto"
    return "text"
