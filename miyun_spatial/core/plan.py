"""The plan model every layer reads: the catalogue layers of one source, read once.

``PlanData`` is built by a reader in ``io`` (GeoPackage or PostGIS) and read by everything
above; it knows nothing of where it came from beyond a printable name and a digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd
from pyproj import CRS

from .errors import InputError


@dataclass(frozen=True)
class Damage:
    """A stored value no reader can decode: text that is not UTF-8, a corrupt geometry blob.

    Found in the snapshot (never in the user's file) and read as null there, so that the rest
    of the layer is read; the validator reports each one (``validate._check_damage``).
    """

    kind: str  # "text_encoding" | "geometry_corrupt"
    layer: str
    fid: int
    field: str
    detail: str


@dataclass(frozen=True)
class LayerInfo:
    """What fiona reports about a layer: geometry type, CRS, field types, feature count."""

    name: str
    geometry_type: str | None
    crs: CRS | None
    fields: Mapping[str, str]
    count: int


@dataclass(frozen=True)
class BadCell:
    """A stored value that contradicts its column's declared type (e.g. text in a REAL column).

    SQLite accepts such values when a script writes them; GDAL then reads them as 0, so they
    are reported here and read as null instead.
    """

    layer: str
    fid: int
    field: str
    value: str
    declared: str


@dataclass(frozen=True)
class PlanData:
    """Every catalogue layer found in a source, read once; index = fid.

    ``path`` is the GeoPackage's path, or a ``SourceName`` (a DSN without password) for a
    database; ``sha256`` the file's digest, or the digest of the layers' content.
    """

    path: Path | SourceName
    sha256: str
    info: Mapping[str, LayerInfo]
    layers: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    bad_cells: tuple[BadCell, ...] = ()
    damaged: tuple[Damage, ...] = ()

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.layers[name]
        except KeyError:
            raise InputError(
                f"{self.path}: layer '{name}' is missing; restore it from geodata/miyun.gpkg "
                "or run 'miyun-spatial validate' for the full list of problems"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.layers

    def replace(self, **layers: pd.DataFrame) -> PlanData:
        """A copy with some layers replaced (the original is unchanged)."""
        merged = dict(self.layers)
        merged.update(layers)
        return PlanData(
            self.path,
            self.sha256,
            self.info,
            MappingProxyType(merged),
            self.bad_cells,
            self.damaged,
        )


class SourceName(str):
    """The display name of a source that is not a file (a DSN without its password).

    Has ``.name`` like a ``Path``, so footers and messages show it the same way.
    """

    __slots__ = ()

    @property
    def name(self) -> str:
        return str(self)
