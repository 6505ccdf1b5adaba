"""Area reports for land-use adjustment reviews: report.xlsx and a printable report.html.

:func:`write_reports` takes what ``build`` already has (the plan, its work-CRS layers, the metric
tables and the validation findings), checks the plan's own figures
(:func:`~miyun_spatial.checks.consistency.check_consistency`), assembles one
:class:`~miyun_spatial.reports.model.Report` and renders it twice, each file written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..catalogue import CATALOGUE
from ..checks.consistency import DEFAULT_AREA_TOLERANCE, check_consistency
from ..metrics.areas import feature_areas
from ..store import PlanData
from ..validate import Finding, validate
from .content import ReportInputs, assemble_report
from .html import write_html
from .model import Report
from .review import MapFigure, local_time
from .xlsx import write_xlsx

log = logging.getLogger(__name__)

XLSX_NAME = "report.xlsx"
HTML_NAME = "report.html"


def gather_inputs(
    plan: PlanData,
    work: Mapping[str, gpd.GeoDataFrame],
    *,
    tables: Mapping[str, pd.DataFrame] | None = None,
    findings: Sequence[Finding] | None = None,
    areas: pd.DataFrame | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    generated: datetime | None = None,
    maps: Sequence[MapFigure] | None = None,
) -> ReportInputs:
    """Everything the report shows, with the plan's own figures checked.

    ``work`` is every spatial layer in EPSG:4548 (``pipeline.work_layers``); ``tables`` the
    metric tables of ``metrics.compute_all`` (sections without them say so); ``findings``
    the validation findings (validated here when not given); ``areas`` the feature areas
    (measured here when not given).
    """
    tables = dict(tables or {})
    if areas is None:
        areas = feature_areas(
            {s.name: work[s.name] for s in CATALOGUE.plan_layers if s.name in work}
        )
    if findings is None:
        findings = validate(plan, area_tolerance=area_tolerance)
    checks = check_consistency(
        plan, areas=areas, tables=tables, work=work, area_tolerance=area_tolerance
    )
    generated = generated or datetime.now().astimezone()
    if maps is None:
        maps = report_maps(plan, work, tables, generated=generated)
    return ReportInputs(
        plan=plan,
        areas=areas,
        tables=tables,
        findings=tuple(findings),
        checks=tuple(checks),
        generated=generated,
        maps=tuple(maps),
        area_tolerance=area_tolerance,
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
    from ..static_maps import render, static_maps

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
    paths = [write_xlsx(report, out_dir / XLSX_NAME), write_html(report, out_dir / HTML_NAME)]
    log.info("wrote %s", ", ".join(str(p) for p in paths))
    return paths


def write_reports(
    plan: PlanData,
    work: Mapping[str, gpd.GeoDataFrame],
    out_dir: Path,
    *,
    tables: Mapping[str, pd.DataFrame] | None = None,
    findings: Sequence[Finding] | None = None,
    areas: pd.DataFrame | None = None,
    area_tolerance: float = DEFAULT_AREA_TOLERANCE,
    generated: datetime | None = None,
    maps: Sequence[MapFigure] | None = None,
) -> list[Path]:
    """Write ``report.xlsx`` and ``report.html`` of ``plan`` into ``out_dir``; return their paths.

    Arguments as for :func:`gather_inputs`.
    """
    inputs = gather_inputs(
        plan,
        work,
        tables=tables,
        findings=findings,
        areas=areas,
        area_tolerance=area_tolerance,
        generated=generated,
        maps=maps,
    )
    return write_report_files(assemble_report(inputs), out_dir)


__all__ = [
    "HTML_NAME",
    "XLSX_NAME",
    "MapFigure",
    "Report",
    "ReportInputs",
    "assemble_report",
    "gather_inputs",
    "report_maps",
    "write_report_files",
    "write_reports",
]
