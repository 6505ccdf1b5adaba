"""The record of one recomputed plan figure (:class:`Consistency`), its statuses and groups,
and the table of them: what ``checks`` produces and the reports show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

STATUSES: dict[str, tuple[str, str]] = {
    "mismatch": ("不一致", "mismatch"),
    "consistent": ("一致", "consistent"),
    "different_basis": ("口径不同", "different basis"),
    "not_checked": ("未核对", "not checked"),
}
GROUPS: dict[str, tuple[str, str]] = {
    "areas": ("面积", "Areas"),
    "park": ("密云园用地与产出", "Miyun park land and yield"),
    "benchmark": ("表1-1", "Table 1-1"),
    "projects": ("附件1项目", "Annex 1 projects"),
    "counts": ("数量", "Counts"),
    "units": ("单位换算", "Unit conversions"),
    "indicators": ("表2-1指标", "Table 2-1 indicators"),
    "text": ("正文数字", "Figures in the text"),
}


@dataclass(frozen=True)
class Consistency:
    """One stated figure, recomputed: both numbers, where the plan states it, and the verdict."""

    group: str
    check: str
    subject: str
    plan_section: str
    stated: float | None
    recomputed: float | None
    unit: str
    status: str
    detail: str
    basis: str = "plan vs plan"

    @property
    def difference(self) -> float | None:
        if self.stated is None or self.recomputed is None:
            return None
        return self.recomputed - self.stated

    @property
    def difference_pct(self) -> float | None:
        diff = self.difference
        if diff is None or not self.stated:
            return None
        return diff / abs(self.stated) * 100.0

    @property
    def message(self) -> str:
        """One line with both numbers: '[不一致 mismatch] 附件1 合计 …: stated 1,055,260 万元, recomputed 655,260 万元 (−400,000; −37.9 %)'."""
        zh, en = STATUSES[self.status]
        head = f"[{zh} {en}] {self.plan_section} {self.subject}".replace("  ", " ")
        if self.stated is None and self.recomputed is None:
            return f"{head}: {self.detail}"
        numbers = f"stated {_fmt(self.stated)} {self.unit}, recomputed {_fmt(self.recomputed)} {self.unit}"
        if self.difference is not None and abs(self.difference) > 1e-9 * max(
            1.0, abs(self.stated or 0)
        ):
            pct = f"; {self.difference_pct:+.1f} %" if self.difference_pct is not None else ""
            numbers += f" ({_fmt(self.difference, sign=True)}{pct})"
        return f"{head}: {numbers}. {self.detail}"

    def to_dict(self) -> dict:
        return asdict(self) | {"difference": self.difference, "difference_pct": self.difference_pct}


def _fmt(value: float | None, *, sign: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+,.2f}" if sign else f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


CONSISTENCY_COLUMNS = (
    "group",
    "check",
    "subject",
    "plan_section",
    "stated",
    "recomputed",
    "difference",
    "difference_pct",
    "unit",
    "status",
    "basis",
    "detail",
)


def consistency_frame(checks: Iterable[Consistency]) -> pd.DataFrame:
    """The checks as a table (mismatches first, then the plan's order)."""
    rows = [c.to_dict() for c in checks]
    frame = pd.DataFrame(rows, columns=list(CONSISTENCY_COLUMNS))
    for column in ("stated", "recomputed", "difference", "difference_pct"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    order = {status: i for i, status in enumerate(STATUSES)}
    return frame.sort_values("status", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True
    )
