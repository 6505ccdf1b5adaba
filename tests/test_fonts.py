"""The CJK font: found among the installed fonts, used without a single findfont warning."""

from __future__ import annotations

import logging
import subprocess

import pandas as pd
from conftest import need

from miyun_spatial.render import fonts
from miyun_spatial.render.reports import charts
from miyun_spatial.render.reports.model import Chart, Column, make_table


def _installed_cjk() -> bool:
    result = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return bool(result.stdout.strip())


def test_installed_cjk_font_is_found_and_used_quietly(caplog):
    need(_installed_cjk(), "no CJK font installed (apt-get install fonts-wqy-zenhei)")
    family = fonts.cjk_font()
    assert family is not None and family != fonts.FALLBACK_FONT
    frame = pd.DataFrame({"park": ["密云园", "海淀园"], "value": [8311.0, 21346.0]})
    table = make_table(
        "t", "表", "Table", frame, (Column("park", "园区", "Park"), Column("value", "收入", "R"))
    )
    chart = Chart("t", "排名 粗体", "Ranking", "t", "park", ("value",), kind="barh")
    with caplog.at_level(logging.DEBUG, logger="matplotlib.font_manager"):
        svg = charts.chart_svg(chart, table)
    assert "密云园" in svg
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []  # e.g. "findfont: Failed to find font weight normal for ..."


def test_control_characters_from_the_data_draw_without_a_warning(recwarn):
    """Hostile text (a terminal's CSI, 0x9b) in a label: drawn as nothing, no warning."""
    need(_installed_cjk(), "no CJK font installed (apt-get install fonts-wqy-zenhei)")
    frame = pd.DataFrame({"park": ["密云\x9b园", "A\x07"], "value": [1.0, 2.0]})
    table = make_table(
        "t", "表", "Table", frame, (Column("park", "园区", "Park"), Column("value", "收入", "R"))
    )
    chart = Chart("t", "排名", "Ranking", "t", "park", ("value",), kind="barh")
    charts.chart_svg(chart, table)
    assert [str(w.message) for w in recwarn] == []
