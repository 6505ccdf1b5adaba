"""What every part of the validator shares: the Finding, its levels and tolerances, helpers.

``validate`` (catalogue and value checks), ``validate_rules`` (the plan's spatial rules) and
``validate_input`` (broken input) build on it; ``validate`` re-exports its public names.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from ..core.catalogue import LayerSpec
from ..core.crs import WORK_CRS

LEVELS = ("error", "warning", "info")
DEFAULT_AREA_TOLERANCE = 0.05
OVERLAP_MIN_M2 = 1.0  # overlaps smaller than this are snapping noise
OUTSIDE_TOLERANCE = 0.001  # share of a feature's area allowed outside its container
PARALLEL_FEATURES = 50_000  # features beyond which per-feature GEOS tests run in threads


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    layer: str | None
    message: str
    hint: str = ""
    fid: int | None = None
    code: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def where(self) -> str:
        parts = [self.layer or "(file)"]
        if self.fid is not None:
            parts.append(f"fid {self.fid}")
        if self.code:
            parts.append(str(self.code))
        return " / ".join(parts)


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    columns = ["level", "check", "layer", "fid", "code", "message", "hint"]
    frame = pd.DataFrame([f.to_dict() for f in findings], columns=columns)
    frame["fid"] = pd.array(frame["fid"].tolist(), dtype="Int64")  # 3, not 3.0, beside blanks
    return frame


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level == "error" for f in findings)


@functools.cache
def convertible(crs: CRS | None) -> bool:
    """True when coordinates in ``crs`` can be converted to the work CRS (EPSG:4548)."""
    if crs is None:
        return False
    try:
        Transformer.from_crs(crs, WORK_CRS, always_xy=True)
    except ProjError:
        return False
    return True


def _label(frame: pd.DataFrame, spec: LayerSpec, fid) -> str | None:
    if spec.id_field in frame.columns:
        value = frame.at[fid, spec.id_field]
        return None if _is_null(value) else str(value)
    return None


def _is_null(value) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def summary_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(LEVELS, 0)
    for f in findings:
        counts[f.level] += 1
    return counts


def first_error(findings: Iterable[Finding]) -> str | None:
    """The first error as one line naming the layer, the feature and the fix, or None.

    E.g. "farmer_bases / fid 5 / B5: 'category' has unknown value 'upgarde' (fix: use one of:
    upgrade (提质升级), ...)".
    """
    error = next((f for f in findings if f.level == "error"), None)
    if error is None:
        return None
    fix = f" (fix: {error.hint})" if error.hint else ""
    return f"{error.where}: {error.message}{fix}"


__all__ = [
    "DEFAULT_AREA_TOLERANCE",
    "LEVELS",
    "Finding",
    "convertible",
    "findings_frame",
    "first_error",
    "has_errors",
    "summary_counts",
]
