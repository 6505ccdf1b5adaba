"""Findings on the data: the catalogue's schema, the input's sanity, the plan's rules and
overlaps. Reads a :class:`~miyun_spatial.io.geopackage.PlanData`; computes no metric."""

from .layers import Finding, findings_frame, has_errors, summary_counts, validate

__all__ = ["Finding", "findings_frame", "has_errors", "summary_counts", "validate"]
