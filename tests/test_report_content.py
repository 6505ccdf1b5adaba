"""The report's content assembled once per build (issue 11) and what makes it cheap at scale.

A build assembles the report once (task ``reports: content``) and hands it, pickled, to the
tasks that draw its charts and write report.xlsx and report.html: the files must be the ones
``write_reports`` makes in one go, and the content must not grow with the number of parcels.
The helpers that keep it cheap on 10^6 parcels (capped listings sorted on their keys only,
the parcel summary grouped by value then by label, missing values found without touching each
Python object) must give what the plain pandas expressions give, on awkward data.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest

from miyun_spatial.core.palette import grade_labels
from miyun_spatial.flow.build import CHARTS, CONTENT, BuildContext, _tasks
from miyun_spatial.metrics import compute_all
from miyun_spatial.render.reports import (
    HTML_NAME,
    XLSX_NAME,
    report_charts,
    report_content,
    report_maps,
    write_html_report,
    write_reports,
    write_xlsx_report,
)
from miyun_spatial.render.reports import charts as report_chart_module
from miyun_spatial.render.reports.metric_tables import MAX_PARCEL_ROWS, cap_rows, present
from miyun_spatial.render.reports.model import MISSING, Chart, Column, make_table
from miyun_spatial.render.reports.review import local_time
from miyun_spatial.render.reports.yield_section import group_keys, parcel_summary
from miyun_spatial.render.static.maps import static_maps

GENERATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _fake_pngs(results) -> dict[str, bytes]:
    """A small stand-in PNG for every static map, each its own (the report embeds them)."""
    import io

    from PIL import Image

    maps = static_maps(
        results.work,
        results.tables,
        results.plan.layers.get("land_use_classes"),
        generated=local_time(GENERATED),
    )
    pngs = {}
    for i, m in enumerate(maps):
        out = io.BytesIO()
        Image.new("RGB", (40 + i, 30), (i * 16 % 256, 90, 160)).save(out, format="PNG")
        pngs[m.key] = out.getvalue()
    return pngs


def _cells(path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_build_assembles_the_report_once(tmp_path, default_results):
    tasks = {t.label: t for t in _tasks(BuildContext(default_results, tmp_path))}
    reports = {label: t for label, t in tasks.items() if label.startswith("reports: ")}
    assert set(reports) == {CONTENT, CHARTS, f"reports: {XLSX_NAME}", f"reports: {HTML_NAME}"}
    assert reports[CONTENT].after == () and not reports[CONTENT].writes
    for label in (CHARTS, f"reports: {XLSX_NAME}", f"reports: {HTML_NAME}"):
        assert CONTENT in reports[label].after, label
    assert CHARTS in reports[f"reports: {HTML_NAME}"].after


@pytest.mark.slow
def test_files_rendered_from_the_pickled_content_equal_the_one_go_reports(
    tmp_path, default_results
):
    """The build's way (content pickled to each task) writes what write_reports writes."""
    pngs = _fake_pngs(default_results)
    content = pickle.loads(pickle.dumps(report_content(default_results, generated=GENERATED)))
    charts = pickle.loads(pickle.dumps(report_charts(content)))
    split, whole = tmp_path / "split", tmp_path / "whole"
    write_xlsx_report(content, split)
    write_html_report(
        content, default_results, split, generated=GENERATED, rendered=pngs, charts=charts
    )
    maps = report_maps(
        default_results.plan,
        default_results.work,
        default_results.tables,
        generated=GENERATED,
        rendered=pngs,
    )
    write_reports(default_results, whole, generated=GENERATED, maps=maps)
    html = (split / HTML_NAME).read_text(encoding="utf-8")
    assert html == (whole / HTML_NAME).read_text(encoding="utf-8")
    assert html.count('<figure class="chart"') == 4 and html.count('<figure class="map') == len(
        pngs
    )
    assert _cells(split / XLSX_NAME) == _cells(whole / XLSX_NAME)


def _grown(tables, copies: int) -> dict[str, pd.DataFrame]:
    out = dict(tables)
    for key in ("parcel_yields", "changing_parcels"):
        parts = []
        for i in range(copies):
            part = tables[key].copy()
            part.index = part.index.astype(str) + f"-{i:03d}"
            parts.append(part)
        out[key] = pd.concat(parts).rename_axis(tables[key].index.name)
    return out


def test_the_content_does_not_grow_with_the_parcels(default_results, default_plan, default_work):
    tables = compute_all(default_work, default_plan)
    sizes = {}
    for copies in (12, 60):
        results = replace(default_results, tables=_grown(tables, copies))
        content = report_content(results, generated=GENERATED)
        listed = content.section("yield").table("parcel_yields")
        assert len(listed.frame) == MAX_PARCEL_ROWS
        sizes[copies] = len(pickle.dumps(content))
    # five times the parcels: the same content but for a few counts and the codes listed
    assert abs(sizes[60] - sizes[12]) < 0.01 * sizes[12], sizes
    assert sizes[60] < 1_000_000


def _reference_cap(frame, where, by, ascending):
    rows = frame if where is None else frame[where]
    order = rows.sort_values(by, ascending=ascending, kind="stable", na_position="last")
    return order.head(MAX_PARCEL_ROWS)


@pytest.mark.parametrize(
    ("by", "ascending"),
    [
        (["low", "pct"], [False, True]),  # numbers and flags: the numpy sort
        (["area"], [False]),
        (["pct", "area"], [True, False]),
        (["name", "pct"], [True, True]),  # text: the pandas sort
    ],
)
@pytest.mark.parametrize("masked", [False, True])
def test_capped_listing_is_the_head_of_a_stable_sort(by, ascending, masked):
    rng = np.random.default_rng(7)
    n = 3 * MAX_PARCEL_ROWS + 17
    pct = rng.choice([np.nan, 0.0, -0.0, 12.5, 50.0, 99.9, 150.0], n)  # ties, NaN, -0.0
    frame = pd.DataFrame(
        {
            "low": rng.random(n) < 0.3,
            "pct": pct,
            "area": rng.choice([np.nan, 0.5, 1.0, 2.0], n),
            "name": rng.choice(["甲", "乙", "b", "a"], n).astype(object),
        },
        index=pd.Index([f"P{i:05d}" for i in range(n)], name="parcel_code"),
    )
    where = pd.Series(rng.random(n) < 0.6, index=frame.index) if masked else None
    shown, capped = cap_rows(frame, by=by, ascending=ascending, where=where)
    assert capped
    pd.testing.assert_frame_equal(shown, _reference_cap(frame, where, by, ascending))


def test_short_listing_is_shown_whole():
    frame = pd.DataFrame({"pct": [3.0, 1.0, np.nan]}, index=["a", "b", "c"])
    where = pd.Series([True, False, True], index=frame.index)
    shown, capped = cap_rows(frame, by=["pct"], ascending=[True], where=where)
    assert not capped and list(shown.index) == ["a", "c"]  # in the table's order, unsorted


def test_present_is_notna_for_every_kind_of_missing_value():
    values = ["x", None, np.nan, pd.NaT, "", 0, float("nan"), "企业", np.float64("nan")]
    column = pd.Series(values, dtype=object, index=[f"p{i}" for i in range(len(values))])
    pd.testing.assert_series_equal(present(column), column.notna())
    with_na = pd.Series([*values, pd.NA], dtype=object)  # pd.NA: the ordinary test
    pd.testing.assert_series_equal(present(with_na), with_na.notna())
    numbers = pd.Series([1.0, np.nan, 3.0])
    pd.testing.assert_series_equal(present(numbers), numbers.notna())


def _reference_summary(parcels: pd.DataFrame) -> pd.DataFrame:
    """Every parcel labelled, then grouped (what parcel_summary did, one row at a time)."""
    keys = ["clusters", "current_use", "grade"]
    frame = parcels[keys].astype(object).fillna(MISSING)
    labels = grade_labels()
    frame["grade"] = frame["grade"].map(lambda g: labels.get(g, g))
    frame["parcels"] = 1
    frame["low_efficiency_parcels"] = parcels["low_efficiency"].astype(bool).astype(int)
    for column in ("area_ha", "area_mu", "revenue_10k_cny"):
        frame[column] = pd.to_numeric(parcels[column], errors="coerce")
    summary = frame.groupby(keys, sort=True).sum(min_count=1).reset_index()
    summary["low_efficiency_parcels"] = summary["low_efficiency_parcels"].fillna(0)
    return summary


@pytest.mark.parametrize("odd", [None, 7], ids=["text", "a-number-among-text"])
def test_parcel_summary_groups_every_parcel_by_its_labels(odd):
    labels = grade_labels()
    grade, label = next(iter(labels.items()))
    rows = [  # clusters, current_use, grade, low, area, revenue
        ("C1", "M1", grade, True, 1.5, 10.0),
        ("C1", "M1", label, False, 2.25, np.nan),  # the grade's label as a raw value: merged
        ("C1", "M1", grade, False, 0.75, 5.0),
        (None, "M1", grade, False, 1.0, np.nan),  # no cluster: 'MISSING'
        (np.nan, "M1", grade, True, 0.5, np.nan),  # NaN and None are one group
        ("C2", None, None, False, 3.0, np.nan),  # a group whose revenue is all missing
        ("C2", "B", "unknown", False, 0.125, 7.0),  # a grade without a label stays as it is
        ("C2", odd, "unknown", False, 0.5, 1.0),  # a number: grouped as the objects are
    ]
    parcels = pd.DataFrame(
        rows,
        columns=["clusters", "current_use", "grade", "low_efficiency", "area_ha", "revenue"],
        index=pd.Index([f"P{i}" for i in range(len(rows))], name="parcel_code"),
    ).rename(columns={"revenue": "revenue_10k_cny"})
    parcels["area_mu"] = parcels["area_ha"] * 15
    for key in ("clusters", "current_use", "grade"):
        parcels[key] = parcels[key].astype(object)
    table = parcel_summary(parcels)
    expected = _reference_summary(parcels)[[c.key for c in table.columns]]
    pd.testing.assert_frame_equal(table.frame, expected, check_dtype=False)
    merged = table.frame[(table.frame["clusters"] == "C1") & (table.frame["grade"] == label)]
    assert merged["parcels"].tolist() == [3] and merged["revenue_10k_cny"].tolist() == [15.0]
    assert table.frame["parcels"].sum() == len(parcels)


def test_group_keys_read_text_into_arrow_and_leave_other_columns():
    text = pd.Series(["M1", None, np.nan, "甲"], dtype=object, index=list("abcd"), name="use")
    keys = group_keys(text)
    assert keys.dtype != object and list(keys.index) == list("abcd") and keys.name == "use"
    assert keys.isna().tolist() == [False, True, True, False]
    assert keys.dropna().tolist() == ["M1", "甲"]
    mixed = pd.Series(["M1", 7], dtype=object)
    assert group_keys(mixed) is mixed
    numbers = pd.Series([1.0, 2.0])
    assert group_keys(numbers) is numbers


def _segments(svg: str) -> dict[str, list[float]]:
    """Widths (SVG units) of the filled rectangles clipped to the axes (not the legend's), by
    fill colour, in the order drawn."""
    out: dict[str, list[float]] = {}
    for d, style in re.findall(r'<path d="([^"]+)" clip-path="[^"]+" style="([^"]*)"', svg):
        fill = re.search(r"fill: (#[0-9a-f]{6})", style)
        if fill is None or "stroke: #555555" not in style:
            continue
        xs = [float(x) for x in re.findall(r"[ML] ?(-?[\d.]+) -?[\d.]+", d)]
        out.setdefault(fill[1], []).append(max(xs) - min(xs))
    return out


def test_stacked_shares_are_drawn_segment_by_segment():
    frame = pd.DataFrame(
        {"label": ["Z1", "Z2"], "a": [0.5, 1.0], "b": [0.25, 0.0], "c": [0.25, np.nan]}
    )
    table = make_table(
        "shares",
        "占比",
        "Shares",
        frame,
        (
            Column("label", "分区", "Zone"),
            *(Column(k, f"类{k}", k, "", "share") for k in "abc"),
        ),
    )
    colors = {"a": "#111111", "b": "#222222", "c": "#333333"}
    chart = Chart("s", "占比", "Shares", "shares", "label", ("a", "b", "c"), "stacked", "", colors)
    svg = report_chart_module.chart_svg(chart, table)
    widths = _segments(svg)
    assert set(widths) == set(colors.values())
    full = widths["#111111"][1]  # Z2 is all 'a': the full width of the axes
    assert full > 300
    assert widths["#111111"] == pytest.approx([full / 2, full], abs=0.01)
    assert widths["#222222"] == pytest.approx([full / 4, 0.0], abs=0.01)
    assert widths["#333333"] == pytest.approx([full / 4, 0.0], abs=0.01)  # missing: 0
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"类a", "类b", "类c", "Z1", "Z2"} <= set(texts)  # legend entries and zones
