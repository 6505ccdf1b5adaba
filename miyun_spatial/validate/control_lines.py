"""Checks particular to the control lines (三区三线): the catalogue's ``control_lines`` rules.

Part of :func:`validate.validate`; the generic checks (field types, geometry type and validity,
unknown ``line_type`` or ``grade``, inside the district) run as for every layer. Here:

- ``no_overlap_within``: lines of ONE type must not overlap (two farmland patches drawn over
  each other count the land twice); lines of different types may, and are reported by the
  metrics as 三线冲突 (``control_line_crossings``);
- ``grade_required_for``: a water-protection zone needs its grade (一级 / 二级 / 准保护区), the
  other line types take none;
- ``markup_error_fields``: markup in a line's name or code is an error (the lines come from
  the 一张图 system, whose names never hold markup), not only the usual warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from ..core.catalogue import CATALOGUE, LayerSpec
from ..core.plan import PlanData
from .common import OVERLAP_MIN_M2, Finding, _is_null, _label
from .overlap import overlapping_pairs
from .rules import _usable

CONTROL_LAYERS = tuple(s.name for s in CATALOGUE.by_role("controls"))
MARKUP_FIELDS = ("line_code", "name")


def control_line_findings(
    plan: PlanData, with_markup: Callable[[pd.Series], pd.Index]
) -> Iterator[Finding]:
    """Findings of the control-line rules for every ``controls`` layer present in ``plan``.

    ``with_markup(text)`` gives the labels of the values holding markup (``text.with_markup``).
    """
    for name in CONTROL_LAYERS:
        spec = CATALOGUE[name]
        frame = plan.layers.get(name)
        if frame is None:
            continue
        yield from _markup_errors(frame, spec, with_markup)
        yield from _grades(frame, spec)
        usable = _usable(plan, name)
        within = spec.rules.get("no_overlap_within")
        if usable is not None and len(usable) and within and within in usable.columns:
            yield from _overlaps_within(usable, spec, within)


def _markup_errors(frame, spec: LayerSpec, with_markup) -> Iterator[Finding]:
    for field in MARKUP_FIELDS:
        if field not in frame.columns:
            continue
        values = frame[field]
        text = values[values.notna()].astype(str)
        for fid in with_markup(text):
            yield Finding(
                "error",
                "markup_in_name",
                spec.name,
                f"'{field}' contains HTML or script markup",
                f"retype the {field} as plain text (as in the 一张图 release)",
                int(fid),
                _label(frame, spec, fid),
            )


def _grades(frame, spec: LayerSpec) -> Iterator[Finding]:
    graded = tuple(spec.rules.get("grade_required_for", ()))
    if "grade" not in frame.columns or "line_type" not in frame.columns:
        return
    allowed = ", ".join(spec.field("grade").allowed)
    for fid, line_type, grade in zip(frame.index, frame["line_type"], frame["grade"], strict=True):
        if _is_null(line_type):
            continue
        if line_type in graded and _is_null(grade):
            yield Finding(
                "error",
                "grade_missing",
                spec.name,
                f"a {line_type} line needs a grade",
                f"set 'grade' to one of: {allowed}",
                int(fid),
                _label(frame, spec, fid),
            )
        elif line_type not in graded and not _is_null(grade):
            yield Finding(
                "warning",
                "grade_ignored",
                spec.name,
                f"'grade' = '{grade}' is set on a {line_type} line, which has no grades",
                "leave 'grade' empty (only water-protection zones have grades)",
                int(fid),
                _label(frame, spec, fid),
            )


def _overlaps_within(frame, spec: LayerSpec, field: str) -> Iterator[Finding]:
    """Overlaps between features sharing the value of ``field`` (one line type)."""
    for value, group in frame.groupby(field, sort=False):
        if len(group) < 2:
            continue
        geoms = np.asarray(group.geometry.values)
        for i, j, area in overlapping_pairs(geoms, OVERLAP_MIN_M2):
            fid_i, fid_j = group.index[i], group.index[j]
            other = _label(group, spec, fid_j) or f"fid {fid_j}"
            yield Finding(
                "error",
                "overlap_same_type",
                spec.name,
                f"overlaps {other}, another {value} line, by {area / 10_000:.4f} ha",
                "merge the two lines or remove the overlap (QGIS: Vector > Geoprocessing "
                "Tools > Dissolve / Difference); the land would be counted twice",
                int(fid_i),
                _label(group, spec, fid_i),
            )
