"""Area reports for land-use adjustment reviews: report.xlsx and a printable report.html.

:func:`write_reports` takes one run's :class:`~miyun_spatial.analysis.Results` (the plan, the
areas, the metric tables, the validation findings and the plan-consistency checks), assembles one
:class:`~miyun_spatial.reports.model.Report` and renders it twice, each file written atomically.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .content import ReportInputs, assemble_report
from .html import write_html
from .model import Report
from .xlsx import write_xlsx

if TYPE_CHECKING:
    from ..analysis import Results

log = logging.getLogger(__name__)

XLSX_NAME = "report.xlsx"
HTML_NAME = "report.html"


def gather_inputs(results: Results, *, generated: datetime | None = None) -> ReportInputs:
    """What the report shows, taken from one run's results (nothing is computed here)."""
    return ReportInputs(
        plan=results.plan,
        areas=results.areas,
        tables=dict(results.tables),
        findings=results.findings,
        checks=results.checks,
        generated=generated or datetime.now().astimezone(),
    )


def write_report_files(report: Report, out_dir: Path) -> list[Path]:
    """Render ``report`` to ``report.xlsx`` and ``report.html`` in ``out_dir`` (atomically)."""
    out_dir = Path(out_dir)
    paths = [write_xlsx(report, out_dir / XLSX_NAME), write_html(report, out_dir / HTML_NAME)]
    log.info("wrote %s", ", ".join(str(p) for p in paths))
    return paths


def write_reports(
    results: Results, out_dir: Path, *, generated: datetime | None = None
) -> list[Path]:
    """Write ``report.xlsx`` and ``report.html`` of one run's ``results`` into ``out_dir``."""
    return write_report_files(assemble_report(gather_inputs(results, generated=generated)), out_dir)


__all__ = [
    "HTML_NAME",
    "XLSX_NAME",
    "Report",
    "ReportInputs",
    "assemble_report",
    "gather_inputs",
    "write_report_files",
    "write_reports",
]
