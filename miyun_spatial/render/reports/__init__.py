"""Area reports for land-use adjustment reviews: report.xlsx and a printable report.html.

:func:`write_reports` takes one run's :class:`~miyun_spatial.analysis.run.Results` (the plan, the
areas, the metric tables, the validation findings and the plan-consistency checks), assembles one
:class:`~miyun_spatial.render.reports.model.Report` and renders it twice, each file written atomically.

A build does the same in tasks side by side: :func:`report_content` assembles the report once
(a summary of bounded size whatever the number of parcels), and :func:`report_charts`,
:func:`write_xlsx_report` and :func:`write_html_report` each render that content, handed to
them pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .content import ReportInputs, assemble_report
from .html import chart_svgs, write_html
from .model import Report
from .review import MapFigure, local_time

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ...analysis.run import Results
    from ...core.plan import PlanData

log = logging.getLogger(__name__)

XLSX_NAME = "report.xlsx"
HTML_NAME = "report.html"


def gather_inputs(
    results: Results,
    *,
    generated: datetime | None = None,
    maps: Sequence[MapFigure] | None = None,
) -> ReportInputs:
    """What the report shows, taken from one run's results (nothing is computed here).

    ``maps``: the static maps as PNG (``report_maps``), drawn here when not given.
    """
    generated = generated or datetime.now().astimezone()
    if maps is None:
        maps = report_maps(results.plan, results.work, results.tables, generated=generated)
    return ReportInputs(
        plan=results.plan,
        areas=results.areas,
        tables=dict(results.tables),
        findings=results.findings,
        checks=results.checks,
        generated=generated,
        maps=tuple(maps),
        area_tolerance=results.area_tolerance,
        annex1=results.annex1,
    )


def report_maps(
    plan: PlanData,
    work: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame],
    *,
    generated: datetime,
    rendered: Mapping[str, bytes] | None = None,
) -> list[MapFigure]:
    """The static maps report.html shows, as PNG: ``rendered`` (key -> PNG bytes, from the
    build's static-map step) where given, else drawn here."""
    from ..static.maps import render, static_maps

    figures = []
    for static_map in static_maps(
        work, tables, plan.layers.get("land_use_classes"), generated=local_time(generated)
    ):
        png = (rendered or {}).get(static_map.key) or render(static_map, ("png",))["png"]
        wide = not static_map.key.startswith(("area_", "base_"))
        figures.append(MapFigure(static_map.key, static_map.title, png, wide))
    return figures


def write_report_files(report: Report, out_dir: Path) -> list[Path]:
    """Render ``report`` to ``report.xlsx`` and ``report.html`` in ``out_dir`` (atomically)."""
    out_dir = Path(out_dir)
    from .xlsx import write_xlsx  # openpyxl is imported where a workbook is written

    paths = [write_xlsx(report, out_dir / XLSX_NAME), write_html(report, out_dir / HTML_NAME)]
    log.info("wrote %s", ", ".join(str(p) for p in paths))
    return paths


def write_reports(
    results: Results,
    out_dir: Path,
    *,
    generated: datetime | None = None,
    maps: Sequence[MapFigure] | None = None,
) -> list[Path]:
    """Write ``report.xlsx`` and ``report.html`` of one run's ``results`` into ``out_dir``."""
    inputs = gather_inputs(results, generated=generated, maps=maps)
    return write_report_files(assemble_report(inputs), out_dir)


def report_content(results: Results, *, generated: datetime | None = None) -> Report:
    """What report.xlsx and report.html show, assembled once: every section and the front
    matter, without the static maps (report.html adds them, :func:`write_html_report`).

    Its size is bounded whatever the number of parcels (summaries and capped listings), so a
    build assembles it in one task and hands it, pickled, to the tasks that render it.
    """
    return assemble_report(gather_inputs(results, generated=generated, maps=()))


def write_xlsx_report(report: Report, out_dir: Path) -> Path:
    """Write ``report`` (:func:`report_content`) as ``report.xlsx`` (it shows no maps)."""
    from .xlsx import write_xlsx  # openpyxl is imported where a workbook is written

    return write_xlsx(report, Path(out_dir) / XLSX_NAME)


def write_html_report(
    report: Report,
    results: Results,
    out_dir: Path,
    *,
    generated: datetime | None = None,
    rendered: Mapping[str, bytes] | None = None,
    charts: Mapping[str, str] | None = None,
) -> Path:
    """Write ``report`` (:func:`report_content` of ``results``) as ``report.html``, with the
    static maps ``rendered`` (key -> PNG bytes) and the ``charts`` (key -> SVG,
    :func:`report_charts`) where given (a build draws them first, side by side), else drawn
    here."""
    generated = generated or datetime.now().astimezone()
    maps = report_maps(
        results.plan, results.work, results.tables, generated=generated, rendered=rendered
    )
    front = replace(report.front, figures=tuple(maps)) if report.front is not None else None
    return write_html(replace(report, front=front), Path(out_dir) / HTML_NAME, charts)


def report_charts(report: Report) -> dict[str, str]:
    """The charts of report.html (``report``: :func:`report_content`) as inline SVG, by key."""
    return chart_svgs(report)


__all__ = [
    "HTML_NAME",
    "XLSX_NAME",
    "MapFigure",
    "Report",
    "ReportInputs",
    "assemble_report",
    "gather_inputs",
    "report_charts",
    "report_content",
    "report_maps",
    "write_html_report",
    "write_report_files",
    "write_reports",
    "write_xlsx_report",
]
