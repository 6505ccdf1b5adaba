"""scenarios.html: the scenarios, their edits and the indicator x scenario matrix, with
plain HTML bars for each change against the base. Every text from the data is escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ...analysis.scenarios import DELTA, ScenarioRun
from ...core.citation import PLAN_CITATION, SCHEMATIC_MARK_EN, SCHEMATIC_MARK_ZH
from ...core.scenario import BASE
from ...io.outputs import write_text
from .tables import edits_frame, scenarios_frame

CHANGED = 1e-9  # a change smaller than this is rounding
STYLE = """
body{font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:2px 6px;
font-size:13px;vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;white-space:nowrap}
.mark{color:#b2182b;font-weight:bold}.bar{display:inline-block;height:9px;vertical-align:middle}
.up{background:#1a9850}.down{background:#d73027}.bars{width:130px}
"""


def write_scenarios_html(run: ScenarioRun, path: Path, *, pages: Sequence[str] = ()) -> Path:
    return write_text(Path(path), scenarios_page(run, pages=pages))


def scenarios_page(run: ScenarioRun, *, pages: Sequence[str] = ()) -> str:
    e = html.escape
    scenarios = [s for s, _ in run.scenarios]
    links = {p.removeprefix("scenario_").removesuffix(".html"): p for p in pages}
    listing = scenarios_frame(scenarios).reset_index()
    listing["map"] = [links.get(code, "") for code in listing["scenario_code"]]
    matrix = run.matrix
    deltas = [c for c in matrix.columns if c.endswith(f" {DELTA}")]
    changed = matrix[(matrix[deltas].abs() > CHANGED).any(axis=1)] if deltas else matrix.iloc[:0]
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<title>情景比较 Scenario comparison</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>情景比较 Scenario comparison</h1>",
        f"<p class='mark'>{e(SCHEMATIC_MARK_ZH)} {e(SCHEMATIC_MARK_EN)}</p>",
        f"<p>数据 Data: {e(str(run.base.plan.path))} · 规划 Plan: {e(PLAN_CITATION)}</p>",
        "<h2>情景方案 Scenarios</h2>",
        _list_table(listing),
        "<h2>变化的指标 Indicators that change</h2>",
        _matrix_table(changed, scenarios_codes(matrix)),
        "<h2>情景修改 Edits</h2>",
        _plain_table(edits_frame(scenarios).reset_index()),
        "<details><summary>全部指标 All indicators</summary>",
        _matrix_table(matrix, scenarios_codes(matrix)),
        "</details></body></html>",
    ]
    return "\n".join(parts)


def scenarios_codes(matrix: pd.DataFrame) -> list[str]:
    return [c.removesuffix(f" {DELTA}") for c in matrix.columns if c.endswith(f" {DELTA}")]


def number(value: object, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if unit == "个":
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"


def _list_table(listing: pd.DataFrame) -> str:
    e = html.escape
    rows = [
        "<table><tr><th>编码 Code</th><th>名称 Name</th><th>说明 Description</th>"
        "<th>来源 Provenance</th><th>修改 Edits</th><th>地图 Map</th></tr>"
    ]
    for r in listing.itertuples(index=False):
        link = f"<a href='{e(r.map)}'>{e(r.map)}</a>" if r.map else ""
        rows.append(
            f"<tr><td>{e(str(r.scenario_code))}</td><td>{e(str(r.name))}</td>"
            f"<td>{e(str(r.description))}</td><td>{e(str(r.provenance))}</td>"
            f"<td class='n'>{int(r.edits)}</td><td>{link}</td></tr>"
        )
    return "".join(rows) + "</table>"


def _matrix_table(matrix: pd.DataFrame, codes: list[str]) -> str:
    e = html.escape
    if not len(matrix):
        return "<p>无 none</p>"
    head = "".join(f"<th>{e(c)}</th><th>{e(c)} {DELTA}</th><th></th>" for c in codes)
    rows = [f"<table><tr><th>类别 Group</th><th>指标 Indicator</th><th>单位 Unit</th>"
            f"<th>基准 Base</th>{head}</tr>"]  # fmt: skip
    for _key, r in matrix.iterrows():
        unit = str(r["unit"])
        cells = []
        for code in codes:
            delta = r[f"{code} {DELTA}"]
            cells.append(
                f"<td class='n'>{number(r[code], unit)}</td>"
                f"<td class='n'>{_signed(delta, unit)}</td><td class='bars'>{_bar(delta, r)}</td>"
            )
        rows.append(
            f"<tr><td>{e(str(r['group']))}</td><td>{e(str(r['indicator']))}</td>"
            f"<td>{e(unit)}</td><td class='n'>{number(r[BASE], unit)}</td>{''.join(cells)}</tr>"
        )
    return "".join(rows) + "</table>"


def _signed(value: object, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(float(value)) <= CHANGED:
        return "0"
    text = number(value, unit)
    return text if text.startswith("-") else "+" + text


def _bar(delta: object, row: pd.Series) -> str:
    """A bar of the change, as a share of the larger of base and scenario (0-100 %)."""
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return ""
    delta = float(delta)
    if abs(delta) <= CHANGED:
        return ""
    base = row[BASE]
    scale = max(abs(float(base)) if pd.notna(base) else 0.0, abs(delta))
    width = max(2, round(120 * abs(delta) / scale)) if scale else 0
    kind = "up" if delta > 0 else "down"
    return f"<span class='bar {kind}' style='width:{width}px'></span>"


def _plain_table(frame: pd.DataFrame) -> str:
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"
