"""The memo's content as plain records (text and tables of text), and its number formats."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

MU_PER_HA = 15.0
ANNEX = "report.html"  # the data annex the memo refers to
STATES = {
    "current": "现状 current",
    "planned": "批复规划 approved plan",
    "adjusted": "调整后 adjusted",
}


@dataclass(frozen=True)
class Cell:
    text: str
    num: bool = False
    href: str | None = None


@dataclass(frozen=True)
class MemoTable:
    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    widths: tuple[int, ...] = ()  # column widths in % (fixed layout), or the browser's


@dataclass(frozen=True)
class Part:
    """One numbered part of a section: a heading, paragraphs and tables."""

    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[MemoTable, ...] = ()


@dataclass(frozen=True)
class MemoSection:
    key: str
    title_zh: str
    title_en: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Memo:
    title_zh: str
    title_en: str
    mark: str | None
    mark_detail: str
    run: tuple[tuple[str, str], ...]
    sections: tuple[MemoSection, ...]
    verdict_key: str
    verdict_text: str
    sign_off: tuple[tuple[str, str], ...]
    date: str
    run_id: str
    footer: str
    annex: str = ANNEX
    reasons: tuple[str, ...] = field(default_factory=tuple)


def ha(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.2f}"


def mu(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value) * MU_PER_HA:,.1f}"


def text_of(value) -> str:
    return "—" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
