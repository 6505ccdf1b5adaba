"""PostGIS as a shared source and destination: read a schema, publish to it, mix in SQL.

Needs psycopg (``pip install 'miyun-spatial[postgis]'``); the rest of the package does not.
"""

from __future__ import annotations

from .connect import DEFAULT_SCHEMA, Target, parse_dsn
from .source import PostGISSource

__all__ = ["DEFAULT_SCHEMA", "PostGISSource", "Target", "parse_dsn"]
