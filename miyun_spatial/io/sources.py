"""Where the catalogue layers come from: one small interface, a GeoPackage or a database.

``Source`` is what every command reads: ``load()`` (every catalogue layer, from one consistent
snapshot), ``layer_digests()`` (content hashes, for ``watch``), ``signature()`` (a cheap "look
again" marker) and a ``name`` that is safe to print. ``open_source`` gives a
``GeoPackageSource`` for a path (reading through ``store``) and a ``PostGISSource``
(``miyun_spatial.io.postgis``) for a ``postgresql://...`` or ``PG:...`` string.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..core.paths import DEFAULT_GPKG
from ..core.plan import PlanData
from . import geopackage as store

_DSN_PREFIXES = ("postgresql://", "postgres://", "pg:")


@runtime_checkable
class Source(Protocol):
    """Where the catalogue layers are read from; ``str(source)`` is safe to print."""

    @property
    def name(self) -> str: ...

    def load(self) -> PlanData:
        """Every catalogue layer, read from one consistent snapshot."""
        ...

    def layer_digests(self) -> dict[str, str]:
        """SHA-256 of each catalogue layer's content (schema, CRS, rows), from one snapshot."""
        ...

    def signature(self) -> tuple:
        """A cheap marker that changes whenever the content may have changed."""
        ...


@dataclass(frozen=True)
class GeoPackageSource:
    """A GeoPackage file: the first ``Source``."""

    path: Path = DEFAULT_GPKG

    @property
    def name(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def load(self) -> PlanData:
        return store.load(self.path)

    def layer_digests(self) -> dict[str, str]:
        return store.layer_digests(self.path)

    def signature(self) -> tuple:
        """(inode, size, mtime) of the file and of its -wal."""
        parts = []
        for candidate in (self.path, Path(f"{self.path}-wal")):
            try:
                st = os.stat(candidate)
                parts.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                parts.append(None)
        return tuple(parts)


def is_database(spec: object) -> bool:
    """True for a database source: a ``postgresql://`` / ``PG:`` string or a non-file Source."""
    if isinstance(spec, str):
        return spec.strip().lower().startswith(_DSN_PREFIXES)
    return isinstance(spec, Source) and not isinstance(spec, GeoPackageSource)


def open_source(spec: str | Path | Source | None = None) -> Source:
    """The ``Source`` for ``spec``: a GeoPackage path (default: the embedded one) or a DSN.

    DSNs are ``postgresql://user@host:port/db?schema=NAME`` or ``PG:dbname=... schema=NAME``;
    the password comes from PGPASSWORD or ~/.pgpass (libpq) and is never shown.
    """
    if isinstance(spec, Source):
        return spec
    if isinstance(spec, str) and is_database(spec):
        from .postgis import PostGISSource

        return PostGISSource.from_dsn(spec)
    return GeoPackageSource(Path(spec) if spec is not None else DEFAULT_GPKG)


def load(spec: str | Path | Source | None = None) -> PlanData:
    """Every catalogue layer of ``spec`` (a GeoPackage path, a DSN or a ``Source``)."""
    return open_source(spec).load()


def layer_digests(spec: str | Path | Source | None = None) -> dict[str, str]:
    """SHA-256 of each catalogue layer's content of ``spec``, from one snapshot."""
    return open_source(spec).layer_digests()
