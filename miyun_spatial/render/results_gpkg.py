"""``results.gpkg``: the plan's zone layers and parcels carrying their metrics as attributes.

GIS staff open it in QGIS and symbolise the metrics directly (entropy, % of target, grade...).
Each zone layer keeps its own name, fields and geometry (EPSG:4548) and gains:

- ``zone_ha``, ``covered_ha``, ``uncovered_ha``: zone area and its part (not) covered by parcels;
- ``{use}_entropy``, ``{use}_hhi``: mix indices for ``use`` in current / planned / adjusted;
- ``{use}_main_class``, ``{use}_main_share``: the largest class and its share of the zone;
- ``{use}_{class}_ha``: area of each class present in the layer (e.g. ``planned_M1_ha``);
- every column of ``zone_yields`` (built land, revenue / output per ha, % of target...).

``land_parcels`` gains the ``parcel_yields`` columns (``grade``, ``low_efficiency``,
``revenue_per_ha``...), ``adjusted_use`` and the change flags ``current_to_planned`` /
``planned_to_adjusted``. ``low_efficiency_land`` holds the parcels meeting a 低效用地 reason
(``low_efficiency_land`` table: reasons, area). The other spatial layers of the plan (projects, the district, places)
follow as they are, for reference. The file is written atomically through ``store.write_gpkg``; a
``finish(tmp_path)`` callable may add tables (e.g. QGIS layer styles) before it is renamed
into place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import __version__
from ..core.catalogue import CATALOGUE, ZONE_LAYERS
from ..core.landuse import UNCOVERED, USES, parcel_uses
from ..io import geopackage as store

RESULTS_NAME = "results.gpkg"
LOW_EFFICIENCY = "low_efficiency_land"  # parcels meeting a 低效用地 reason (evaluation preset)
PARCELS = CATALOGUE["land_parcels"]
CLASSES = CATALOGUE["land_use_classes"]
# the parcels' change flags: name -> (use before, use after)
CHANGES = {
    "current_to_planned": ("current", "planned"),
    "planned_to_adjusted": ("planned", "adjusted"),
}


def _zone_metrics(
    layer: str, tables: Mapping[str, pd.DataFrame], class_order: list[str]
) -> pd.DataFrame:
    """One row per zone code of ``layer``: the metric columns listed in the module docstring."""
    parts = []
    indices = tables.get("mix_indices")
    if indices is not None and layer in indices.index.get_level_values("layer"):
        own = indices.xs(layer, level="layer")
        first = own.groupby(level="zone", sort=False).first()
        parts.append(first[["zone_ha", "covered_ha", "uncovered_ha"]])
        wide = own[["entropy", "hhi"]].unstack("use")
        wide.columns = [f"{use}_{name}" for name, use in wide.columns]
        parts.append(
            wide[[f"{u}_{n}" for u in USES for n in ("entropy", "hhi") if f"{u}_{n}" in wide]]
        )
    mix = tables.get("mix")
    if mix is not None and layer in mix.index.get_level_values("layer"):
        own = mix.xs(layer, level="layer")
        classes = own[own.index.get_level_values("class") != UNCOVERED]
        main = classes.sort_values("share", ascending=False, kind="stable")
        main = main[~main.index.droplevel("class").duplicated()]
        for use in USES:
            if use not in main.index.get_level_values("use"):
                continue
            top = main.xs(use, level="use")
            parts.append(
                pd.DataFrame(
                    {
                        f"{use}_main_class": top.index.get_level_values("class"),
                        f"{use}_main_share": top["share"].to_numpy(),
                    },
                    index=top.index.get_level_values("zone"),
                )
            )
        areas = classes["area_ha"].unstack(["use", "class"], fill_value=0.0)
        rank = {c: i for i, c in enumerate(class_order)}
        columns = sorted(
            areas.columns, key=lambda uc: (USES.index(uc[0]), rank.get(uc[1], len(rank)), uc[1])
        )
        areas = areas[columns]
        areas.columns = [f"{use}_{cls}_ha" for use, cls in columns]
        parts.append(areas)
    yields = tables.get("zone_yields")
    if yields is not None and layer in yields.index.get_level_values("layer"):
        parts.append(yields.xs(layer, level="layer"))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, axis=1)


def _join_on_code(frame: gpd.GeoDataFrame, code_field: str, metrics: pd.DataFrame):
    """``frame`` (index = fid) with the metric columns joined on its code; fid kept.

    Assembled column by column (``copy=False``): the frame's and the metrics' arrays are
    shared, never copied, so a forked writer reads the parent's pages without touching them.
    """
    if metrics.empty:
        return frame
    codes = pd.Index(frame[code_field].astype(str))
    # the parcels' metrics come in the parcels' order: no lookup of a million codes then
    joined = metrics if metrics.index.equals(codes) else metrics.reindex(codes)
    geometry = frame.geometry.name
    columns = {name: frame[name] for name in frame.columns if name != geometry}
    for name in joined.columns:
        if name not in frame.columns:
            columns[name] = joined[name].set_axis(frame.index)
    columns[geometry] = frame.geometry
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=frame.crs, copy=False)


def _parcel_metrics(parcels: gpd.GeoDataFrame, tables: Mapping[str, pd.DataFrame]):
    """The parcels' metric columns (index = parcel code), sharing the tables' arrays."""
    codes = pd.Index(parcels[PARCELS.id_field].astype(str))
    columns: dict[str, pd.Series] = {}
    yields = tables.get("parcel_yields")
    if yields is not None:
        for name in yields.columns:
            if name not in ZONE_LAYERS:
                columns[name] = yields[name]
    uses = parcel_uses(parcels.set_axis(codes))
    columns["adjusted_use"] = uses["adjusted"]
    for name, (before, after) in CHANGES.items():
        changed = (uses[before] != uses[after]).to_numpy(dtype=bool)
        columns[name] = pd.Series(changed, index=codes)
    if yields is not None and not yields.index.equals(codes):  # not in the parcels' order
        columns = {name: column.reindex(codes) for name, column in columns.items()}
    columns = {name: column.set_axis(codes) for name, column in columns.items()}
    return pd.DataFrame(columns, index=codes, copy=False)


def results_layers(
    work: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame],
    *,
    classes: pd.DataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``results.gpkg``: each zone layer and the parcels, with their metrics.

    ``work``: the plan's layers in EPSG:4548 (index = fid); ``tables``: ``compute_all``'s
    result; ``classes``: the ``land_use_classes`` table, whose order the per-class columns
    follow (alphabetical without it). Zone layers come in catalogue order, then
    ``land_parcels``, then the other layers of ``work`` (projects, district, places) as they are.
    """
    class_order = [] if classes is None else list(classes[CLASSES.id_field].astype(str))
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in ZONE_LAYERS:
        if name in work:
            metrics = _zone_metrics(name, tables, class_order)
            layers[name] = _join_on_code(work[name], CATALOGUE[name].id_field, metrics)
    if PARCELS.name in work:
        parcels = work[PARCELS.name]
        layers[PARCELS.name] = _join_on_code(
            parcels, PARCELS.id_field, _parcel_metrics(parcels, tables)
        )
    listed = tables.get(LOW_EFFICIENCY)
    if PARCELS.name in work and listed is not None and len(listed):
        layers[LOW_EFFICIENCY] = _low_efficiency_layer(work[PARCELS.name], listed)
    for name, frame in work.items():
        layers.setdefault(name, frame)  # reference layers, as they are
    return layers


def _low_efficiency_layer(parcels: gpd.GeoDataFrame, listed: pd.DataFrame) -> gpd.GeoDataFrame:
    """The parcels of ``low_efficiency_land`` (低效用地) with their reasons, in table order."""
    codes = parcels[PARCELS.id_field].astype(str)
    geometry = parcels.geometry.set_axis(codes.to_numpy()).reindex(listed.index)
    frame = pd.DataFrame(listed).reset_index()
    return gpd.GeoDataFrame(frame, geometry=geometry.to_numpy(), crs=parcels.crs)


def write_results(
    path: Path,
    work: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame],
    *,
    source: store.PlanData | None = None,
    finish: Callable[[Path], object] | None = None,
) -> Path:
    """Write ``results.gpkg`` at ``path`` (GeoPackage 1.2, atomic) and return the path.

    ``source`` (the plan the metrics come from) adds the input file and its SHA-256 to the
    metadata and orders the class columns as its ``land_use_classes`` table;
    ``finish(tmp_path)`` is called on the complete temporary file before it is renamed into
    place (e.g. to add QGIS layer styles).
    """
    metadata = {"generator": f"miyun-spatial {__version__}", "crs": CATALOGUE.crs}
    classes = None
    if source is not None:
        metadata.update({"source": str(source.path), "source_sha256": source.sha256})
        classes = source.layers.get(CLASSES.name)
    layers = results_layers(work, tables, classes=classes)
    return store.write_gpkg(Path(path), layers, metadata=metadata, finish=finish)


__all__ = ["RESULTS_NAME", "results_layers", "write_results"]
