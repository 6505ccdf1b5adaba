"""Land-use mix (用地结构) of plan zones: class areas, shares, Shannon entropy and HHI.

For every zone, the area of each land-use class inside it is the sum of its parcel pieces
(``overlay.overlay_pieces``), for three uses of the parcels:

- ``current``: ``current_use`` (现状用地);
- ``planned``: ``planned_use`` (规划用地);
- ``adjusted``: the use after the proposed re-designations, ``proposed_use`` where it is set,
  else ``planned_use`` (调整后用地).

The part of a zone that no parcel covers is reported explicitly as the class ``uncovered``, so
that the class areas plus the uncovered area give the zone's area.

Mix indices, over the covered area only (the ``uncovered`` row is not a land use)::

    p_i     = a_i / sum_j a_j                 share of class i in the covered area
    entropy = -sum_i p_i ln(p_i) / ln(K)      Shannon entropy normalised to 0..1
    hhi     = sum_i p_i²                      Herfindahl-Hirschman index, 1/K..1

where K is the number of classes in the GeoPackage's ``land_use_classes`` table (all of them,
not only those present): entropy is 0 for a zone of one class and 1 when all K classes have
equal areas; HHI is 1 for one class and 1/K for an even mix.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.errors import DataError
from ..core.landuse import UNCOVERED, USES, parcel_uses
from ..core.measure import M2_PER_HA, MU_PER_HA
from .overlay import ZONE, class_areas, zone_area_m2

log = logging.getLogger(__name__)

PARCELS = CATALOGUE["land_parcels"]
CLASSES = CATALOGUE["land_use_classes"]
CURRENT_USE = PARCELS.field("current_use").name
PLANNED_USE = PARCELS.field("planned_use").name
PROPOSED_USE = PARCELS.field("proposed_use").name
STATUS = PARCELS.field("status").name
CLASS_CODE = CLASSES.id_field
CLASS_GROUP = CLASSES.field("group").name
CLASS_INDUSTRIAL = CLASSES.field("counts_as_industrial").name
CONSTRUCTION_GROUP = CLASSES.field("group").value_spec("construction").value
BUILT = PARCELS.field("status").value_spec("built").value

OVERLAP_TOLERANCE = 1e-4  # covered area may exceed the zone's area by this share (rounding)
UNCOVERED_NOISE = 1e-9  # an uncovered share below this is floating-point noise: reported as 0
MIX_COLUMNS = ("area_ha", "area_mu", "share")
INDEX_COLUMNS = ("zone_ha", "covered_ha", "uncovered_ha", "entropy", "hhi")


def zone_code_columns(
    index: pd.Index, zone_codes: pd.DataFrame | None, parcels: pd.Index, rows=None
) -> pd.DataFrame:
    """An empty frame on ``index`` (the parcel codes ``parcels[rows]``, all when ``rows`` is
    None) joined with ``zone_codes`` (indexed by parcel code), as ``DataFrame.join`` does; by
    position when ``zone_codes`` is indexed like ``parcels`` (no lookup of a million codes)."""
    out = pd.DataFrame(index=index)
    if zone_codes is None:
        return out
    if zone_codes.index.equals(parcels) and parcels.is_unique:
        taken = zone_codes if rows is None else zone_codes.iloc[rows]
        return taken.set_axis(index)
    return out.join(zone_codes)


def order_index(frame: pd.DataFrame, orders: Mapping[str, Sequence] | None = None):
    """``frame`` sorted by its MultiIndex, each level in a meaningful order.

    The values of a level named in ``orders`` come in that order (values not listed follow in
    order of appearance). The index is rebuilt with those levels and lexsorted codes, so that
    ``.loc`` on the leading levels works without pandas' "indexing past lexsort depth"
    PerformanceWarning, while tables still read zone by zone, class by class in plan order.
    Other indexes are returned unchanged.
    """
    index = frame.index
    if not isinstance(index, pd.MultiIndex) or not len(frame):
        return frame
    orders = orders or {}
    levels, codes = [], []
    for i, name in enumerate(index.names):
        values = index.get_level_values(i)
        present = list(pd.unique(values))
        known = set(present)
        wanted = [v for v in dict.fromkeys(orders.get(name, ())) if v in known]
        taken = set(wanted)
        level = pd.Index(wanted + [v for v in present if v not in taken], name=name)
        levels.append(level)
        codes.append(level.get_indexer(values))
    position = np.lexsort(codes[::-1])
    out = frame.iloc[position].copy()
    out.index = pd.MultiIndex(levels=levels, codes=[c[position] for c in codes], names=index.names)
    return out


def _as_bool(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.astype(object).map(lambda v: str(v).strip().lower())
    return text.isin(("1", "true", "yes", "y"))


def class_flags(classes: pd.DataFrame) -> pd.DataFrame:
    """Per class code: ``construction`` (group == construction) and ``industrial`` flags.

    Urban construction land (城镇建设用地) = classes whose ``group`` is ``construction``;
    industrial land (工业用地) = classes with ``counts_as_industrial``.
    """
    for field in (CLASS_CODE, CLASS_GROUP, CLASS_INDUSTRIAL):
        if field not in classes.columns:
            raise DataError(
                f"table '{CLASSES.name}' has no field '{field}'; restore the table from "
                "geodata/miyun.gpkg"
            )
    codes = classes[CLASS_CODE].astype(str)
    return pd.DataFrame(
        {
            "construction": (classes[CLASS_GROUP] == CONSTRUCTION_GROUP).to_numpy(),
            "industrial": _as_bool(classes[CLASS_INDUSTRIAL]).to_numpy(),
            "group": classes[CLASS_GROUP].astype(object).to_numpy(),
        },
        index=pd.Index(codes, name="class"),
    )


def check_classes(
    uses: pd.Series, present: Sequence[str], classes: pd.DataFrame, *, layer: str = PARCELS.name
) -> None:
    """Raise DataError, naming a parcel, when a class in ``present`` is not in ``classes``.

    ``uses`` maps parcels to one use (a column of ``parcel_uses``); ``present`` are the
    distinct values found (e.g. the columns of ``class_areas``), so the check costs nothing
    on large layers unless it fails.
    """
    known = set(classes[CLASS_CODE].astype(str))
    bad = [c for c in present if c not in known]
    if bad:
        field = {"current": CURRENT_USE, "planned": PLANNED_USE}.get(str(uses.name), PROPOSED_USE)
        parcel = uses.index[(uses == bad[0]).to_numpy()][0]
        raise DataError(
            f"layer '{layer}' feature {parcel}: '{field}' = '{bad[0]}' is not a code of "
            f"{CLASSES.name}; use one of {', '.join(sorted(known))} or add the class"
        )


def land_use_mix(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    uses: Sequence[str] = USES,
    classes: pd.DataFrame | None = None,
    pieces: pd.DataFrame,
    zone_layer: str = "zones",
    use_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Land-use mix of every zone: area of each class inside it, for each use.

    Parameters
    ----------
    zones
        Zone polygons in EPSG:4548, index = zone code.
    parcels
        Parcels in EPSG:4548, index = parcel code, with ``current_use``, ``planned_use`` and
        (optional) ``proposed_use``.
    uses
        Which uses to measure, among ``current``, ``planned``, ``adjusted``.
    classes
        The ``land_use_classes`` table: when given, unknown class codes raise DataError and
        classes are listed in its order (else alphabetically).
    pieces
        ``overlay_pieces(zones, parcels)``: the overlay is computed once, by the caller.
    use_frame
        ``parcel_uses(parcels)`` when already computed (e.g. as categoricals,
        ``metrics.coded_uses``).

    Returns
    -------
    pandas.DataFrame
        Index (``zone``, ``use``, ``class``); one row per class present in the zone, plus one
        ``uncovered`` row per zone and use (also when 0; below 1e-9 of the zone's area it is
        rounding noise and reported as 0). Columns: ``area_ha``, ``area_mu``
        (1 ha = 15 亩) and ``share`` (of the zone's area; the shares of a zone and use,
        ``uncovered`` included, sum to 1).
    """
    zone_m2 = zone_area_m2(zones, layer=zone_layer)
    if use_frame is None:
        use_frame = parcel_uses(parcels, uses)
    areas = {}
    for use in uses:
        areas[use] = class_areas(pieces, use_frame[use])
        if classes is not None:
            check_classes(use_frame[use], list(areas[use].columns), classes)
    return mix_from_class_areas(areas, zone_m2, classes=classes, zone_layer=zone_layer)


def mix_from_class_areas(
    areas: Mapping[str, pd.DataFrame],
    zone_m2: pd.Series,
    *,
    classes: pd.DataFrame | None = None,
    zone_layer: str = "zones",
) -> pd.DataFrame:
    """The ``land_use_mix`` table from the class areas of every zone, for each use.

    ``areas``: use -> wide frame of m² (index = the zones of ``zone_m2``, one column per class
    present), as ``overlay.class_areas`` gives it or as SQL computes it in PostGIS;
    ``zone_m2``: every zone's area. The class codes must already be checked.
    """
    uses = list(areas)
    order = list(classes[CLASS_CODE].astype(str)) if classes is not None else None
    parts = []
    for use in uses:
        wide = areas[use]
        if order is not None:
            wide = wide.reindex(columns=[c for c in order if c in wide.columns])
        else:
            wide = wide[sorted(wide.columns)]
        covered = wide.sum(axis=1)
        over = covered > zone_m2 * (1 + OVERLAP_TOLERANCE)
        for zone in covered.index[over]:
            log.warning(
                "%s %s: parcels cover %.2f ha of a %.2f ha zone; overlapping parcels are "
                "counted twice (run 'miyun-spatial validate')",
                zone_layer,
                zone,
                covered[zone] / M2_PER_HA,
                zone_m2[zone] / M2_PER_HA,
            )
        uncovered = (zone_m2 - covered).clip(lower=0.0)
        wide[UNCOVERED] = uncovered.where(uncovered > zone_m2 * UNCOVERED_NOISE, 0.0)
        long = wide.stack()
        long = long[(long > 0) | (long.index.get_level_values(-1) == UNCOVERED)]
        area_ha = long / M2_PER_HA
        share = (long / zone_m2.reindex(long.index.get_level_values(ZONE)).to_numpy()).where(
            lambda s: np.isfinite(s), np.nan
        )
        part = pd.DataFrame({"area_ha": area_ha, "area_mu": area_ha * MU_PER_HA, "share": share})
        part.index = part.index.set_names([ZONE, "class"])
        parts.append(pd.concat({use: part}, names=["use"]))
    table = pd.concat(parts).reorder_levels([ZONE, "use", "class"])
    present = set(table.index.get_level_values("class")) - {UNCOVERED}
    class_order = [*(order or sorted(present)), UNCOVERED]
    return order_index(table, {ZONE: list(zone_m2.index), "use": list(uses), "class": class_order})


SOURCE_CODE = "source_code"
SOURCE_CLASSIFICATION = "source_classification"
OTHER_SOURCE = "other"  # parcels coded in another classification than the one asked


def source_class_mix(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    classification: str,
    *,
    pieces: pd.DataFrame,
    zone_layer: str = "zones",
) -> pd.DataFrame:
    """Mix of every zone in the parcels' SOURCE classification (``source_code``, e.g. 三调 DLBM).

    Only parcels whose ``source_classification`` is ``classification`` count by their code;
    other parcels are the class ``other``, the area no parcel covers is ``uncovered``.

    Returns
    -------
    pandas.DataFrame
        Index (``zone``, ``class``); columns ``area_ha``, ``area_mu``, ``share`` (of the zone).
    """
    for field in (SOURCE_CODE, SOURCE_CLASSIFICATION):
        if field not in parcels.columns:
            raise DataError(
                f"layer '{PARCELS.name}' has no field '{field}': bring the parcels in with "
                "'miyun-spatial import ... --layer land_parcels' to keep their source codes"
            )
    coded = (parcels[SOURCE_CLASSIFICATION] == classification) & parcels[SOURCE_CODE].notna()
    if not coded.any():
        found = sorted(set(parcels[SOURCE_CLASSIFICATION].dropna().astype(str)))
        raise DataError(
            f"layer '{PARCELS.name}': no parcel has source_classification '{classification}' "
            f"(found: {', '.join(found) or 'none'}); import data coded in it first"
        )
    labels = parcels[SOURCE_CODE].astype(object).where(coded, OTHER_SOURCE)
    zone_m2 = zone_area_m2(zones, layer=zone_layer)
    wide = class_areas(pieces, labels)
    wide = wide[
        sorted(c for c in wide.columns if c != OTHER_SOURCE)
        + ([OTHER_SOURCE] if OTHER_SOURCE in wide.columns else [])
    ]
    uncovered = (zone_m2 - wide.sum(axis=1)).clip(lower=0.0)
    wide[UNCOVERED] = uncovered.where(uncovered > zone_m2 * UNCOVERED_NOISE, 0.0)
    long = wide.stack()
    long = long[(long > 0) | (long.index.get_level_values(-1) == UNCOVERED)]
    area_ha = long / M2_PER_HA
    share = long / zone_m2.reindex(long.index.get_level_values(0)).to_numpy()
    out = pd.DataFrame({"area_ha": area_ha, "area_mu": area_ha * MU_PER_HA, "share": share})
    out.index = out.index.set_names([ZONE, "class"])
    return out


def shannon_entropy(shares: Sequence[float] | np.ndarray, k: int) -> float:
    """-sum p ln p / ln k over the positive shares (normalised to sum 1); NaN when all are 0.

    ``k`` is the number of possible classes (k <= 1 gives 0).
    """
    p = np.asarray(shares, dtype=float)
    p = p[p > 0]
    if not len(p):
        return float("nan")
    p = p / p.sum()
    if k <= 1:
        return 0.0
    value = float(-(p * np.log(p)).sum() / np.log(k))
    return max(0.0, value)


def herfindahl(shares: Sequence[float] | np.ndarray) -> float:
    """Sum of squared shares (normalised to sum 1); NaN when all are 0."""
    p = np.asarray(shares, dtype=float)
    p = p[p > 0]
    if not len(p):
        return float("nan")
    p = p / p.sum()
    return float((p * p).sum())


def mix_indices(mix: pd.DataFrame, k: int) -> pd.DataFrame:
    """Mix indices per zone and use, from a ``land_use_mix`` table (any leading index levels).

    Parameters
    ----------
    mix
        A table from ``land_use_mix`` (index ``..., zone, use, class``).
    k
        Number of classes in ``land_use_classes`` (the full list, not only those present).

    Returns
    -------
    pandas.DataFrame
        Index: the levels of ``mix`` without ``class``. Columns: ``zone_ha`` (zone area),
        ``covered_ha`` (area covered by parcels), ``uncovered_ha``, ``entropy`` (Shannon,
        normalised by ln K; NaN when nothing is covered) and ``hhi`` (Herfindahl-Hirschman,
        NaN when nothing is covered).
    """
    levels = [name for name in mix.index.names if name != "class"]
    is_uncovered = mix.index.get_level_values("class") == UNCOVERED
    zone_ha = mix.groupby(level=levels, sort=False)["area_ha"].sum()
    uncovered = mix.loc[is_uncovered, "area_ha"].droplevel("class")
    classes = mix.loc[~is_uncovered, "area_ha"]
    grouped = classes.groupby(level=levels, sort=False)
    entropy = grouped.agg(lambda a: shannon_entropy(a.to_numpy(), k))
    hhi = grouped.agg(lambda a: herfindahl(a.to_numpy()))
    out = pd.DataFrame({"zone_ha": zone_ha})
    out["uncovered_ha"] = uncovered.reindex(out.index).fillna(0.0)
    out["covered_ha"] = out["zone_ha"] - out["uncovered_ha"]
    out["entropy"] = entropy.reindex(out.index)
    out["hhi"] = hhi.reindex(out.index)
    return order_index(out[list(INDEX_COLUMNS)], {"use": list(USES)})


__all__ = [
    "UNCOVERED",
    "USES",
    "class_flags",
    "herfindahl",
    "land_use_mix",
    "mix_from_class_areas",
    "mix_indices",
    "order_index",
    "parcel_uses",
    "shannon_entropy",
    "source_class_mix",
    "zone_code_columns",
]
