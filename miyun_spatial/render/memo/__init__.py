"""The review memo (审查意见书): ``review.html`` and ``review.pdf``, from one run's Results.

:func:`memo` (in :mod:`.content`) assembles what the memo says from the Results and the
Conclusion the analysis decided (``analysis.conclusion.conclude``); :mod:`.html` lays it out
for screen and print and :mod:`.pdf` prints it with WeasyPrint. report.html stays the data
annex the memo refers to.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from ...io.outputs import write_csv, write_text
from .content import ANNEX, ISSUES_CSV, Memo, issue_table, memo
from .html import render_memo

HTML_NAME = "review.html"
PDF_NAME = "review.pdf"


def write_memo_html(memo_: Memo, out_dir: Path) -> Path:
    return write_text(Path(out_dir) / HTML_NAME, render_memo(memo_))


def write_memo_pdf(memo_: Memo, out_dir: Path) -> Path:
    from .pdf import write_memo_pdf as write_pdf  # WeasyPrint is imported where a PDF is made

    return write_pdf(memo_, Path(out_dir) / PDF_NAME)


def write_memo_issues(conclusion, out_dir: Path, files: Collection[str]) -> Path:
    """review_issues.csv: every issue of the memo's list (the memo shows the first of each kind)."""
    return write_csv(issue_table(conclusion, files), Path(out_dir) / ISSUES_CSV)


def output_files(out_dir: Path) -> set[str]:
    """The files in ``out_dir`` as relative POSIX paths (what an issue may link to)."""
    root = Path(out_dir)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def write_memo(
    results, conclusion, out_dir: Path, *, generated: datetime, files: Collection[str] | None = None
) -> list[Path]:
    """Write review_issues.csv, review.html and review.pdf of ``results`` into ``out_dir``."""
    files = {*(output_files(out_dir) if files is None else files), ISSUES_CSV}
    made = memo(results, conclusion, generated=generated, files=files)
    return [
        write_memo_issues(conclusion, out_dir, files),
        write_memo_html(made, out_dir),
        write_memo_pdf(made, out_dir),
    ]


__all__ = [
    "ANNEX",
    "HTML_NAME",
    "ISSUES_CSV",
    "PDF_NAME",
    "memo",
    "write_memo",
    "write_memo_html",
    "write_memo_issues",
    "write_memo_pdf",
]
