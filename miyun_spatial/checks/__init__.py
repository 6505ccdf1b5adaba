"""Plan-consistency checks: the plan's own figures recomputed from the data and its tables.

Validation (``validate.py``) says whether the data can be used; these checks say whether the
plan's stated figures agree with the data and with each other. Reports only render them.
"""

from .consistency import DEFAULT_AREA_TOLERANCE, check_consistency

__all__ = ["DEFAULT_AREA_TOLERANCE", "check_consistency"]
