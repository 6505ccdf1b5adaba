"""Land-use adjustments (用地调整): transition matrices, changing parcels, re-designations, bases.

Two transitions are measured per zone, from the parcel pieces (``overlay.overlay_pieces``):

- ``current_to_planned``: ``current_use`` → ``planned_use`` (现状 → 规划);
- ``planned_to_adjusted``: ``planned_use`` → the use after re-designation (``proposed_use``
  where set, else ``planned_use``; 规划 → 调整后).

Both include the unchanged diagonal (from == to), so that a zone's transitions sum to its
covered area. Areas are planar, in EPSG:4548, in hectares and 亩 (1 ha = 15 亩).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.crs import require_projected
from ..core.landuse import parcel_uses
from ..core.measure import M2_PER_HA, MU_PER_HA
from .mix import PARCELS, class_flags, order_index, zone_code_columns
from .overlay import ZONE, piece_values, zone_area_m2

ADJUSTMENTS = CATALOGUE["land_adjustments"]
BASES = CATALOGUE["farmer_bases"]
KINDS = {
    "current_to_planned": ("current", "planned"),
    "planned_to_adjusted": ("planned", "adjusted"),
}
TRANSITION_LEVELS = (ZONE, "from_use", "to_use", "kind")


def land_use_transitions(
    zones: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    pieces: pd.DataFrame,
    use_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Transition matrices per zone, in tidy form.

    ``pieces``: ``overlay.overlay_pieces(zones, parcels)`` (``MetricInputs.pieces``).
    ``use_frame``: the parcels' uses when already computed (``mix.parcel_uses``, e.g. as
    the categoricals of ``metrics.coded_uses``).

    Returns
    -------
    pandas.DataFrame
        Index (``zone``, ``from_use``, ``to_use``, ``kind``), ``kind`` in
        ``current_to_planned`` and ``planned_to_adjusted``; one row per pair with a positive
        area (the diagonal from == to included). Columns ``area_ha``, ``area_mu``.
    """
    uses = parcel_uses(parcels) if use_frame is None else use_frame
    codes, classes = _use_codes(uses)
    parcel = pieces.index.codes[1]
    zone = pieces.index.codes[0].astype(np.int64)
    zone_codes = np.asarray(pieces.index.levels[0], dtype=object)
    area = pd.Series(pieces["area_m2"].to_numpy())
    k = np.int64(len(classes) + 1)  # + 1: code -1 (no class) never occurs, but keeps keys apart
    parts = []
    for kind, (source, target) in KINDS.items():
        # one integer per (zone, from, to): pandas sums each group in row order, as it did
        # grouping by the text labels (the order of the groups is set by order_index below)
        key = (zone * k + (codes[source][parcel] + 1)) * k + (codes[target][parcel] + 1)
        summed = area.groupby(key, sort=False).sum()
        group = summed.index.to_numpy()
        index = pd.MultiIndex.from_arrays(
            [
                zone_codes[group // (k * k)],
                classes[(group // k) % k - 1],
                classes[group % k - 1],
                np.full(len(group), kind, dtype=object),
            ],
            names=list(TRANSITION_LEVELS),
        )
        parts.append(pd.Series(summed.to_numpy(), index=index))
    if not parts or not sum(len(p) for p in parts):
        empty = pd.MultiIndex.from_arrays([[]] * 4, names=list(TRANSITION_LEVELS))
        return pd.DataFrame({"area_ha": [], "area_mu": []}, index=empty)
    area_m2 = pd.concat(parts)
    area_ha = area_m2[area_m2 > 0] / M2_PER_HA
    table = pd.DataFrame({"area_ha": area_ha, "area_mu": area_ha * MU_PER_HA})
    seen = np.zeros(len(classes) + 1, dtype=bool)  # the classes of all parcels
    for c in codes.values():
        seen[c + 1] = True
    used = sorted(set(classes[seen[1:]]))
    return order_index(
        table,
        {ZONE: list(zones.index), "from_use": used, "to_use": used, "kind": list(KINDS)},
    )


def _use_codes(uses: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Integer codes of the current, planned and adjusted use of every parcel, sharing one
    array of classes (the categoricals' own codes when ``uses`` holds categoricals)."""
    columns = ("current", "planned", "adjusted")
    dtypes = [uses[c].dtype for c in columns]
    if all(isinstance(d, pd.CategoricalDtype) for d in dtypes) and all(
        d.categories.equals(dtypes[0].categories) for d in dtypes
    ):
        classes = np.asarray(dtypes[0].categories, dtype=object)
        return {c: uses[c].cat.codes.to_numpy().astype(np.int64) for c in columns}, classes
    values = np.concatenate([uses[c].to_numpy(dtype=object) for c in columns])
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    n = len(uses)
    split = {c: codes[i * n : (i + 1) * n].astype(np.int64) for i, c in enumerate(columns)}
    return split, np.asarray(uniques, dtype=object)


def changing_parcels(
    parcels: gpd.GeoDataFrame, *, zone_codes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Parcels whose use changes, current → planned or planned → re-designated.

    Returns
    -------
    pandas.DataFrame
        Index = parcel code. Columns: the ``zone_codes`` columns (e.g. the cluster and zone of
        each parcel) when given, ``current_use``, ``planned_use``, ``adjusted_use``,
        ``current_to_planned`` and ``planned_to_adjusted`` (bool: which change applies),
        ``area_ha``, ``area_mu``.
    """
    require_projected(parcels, layer=PARCELS.name)
    uses = parcel_uses(parcels)
    first = uses["current"] != uses["planned"]
    second = uses["planned"] != uses["adjusted"]
    changes = (first | second).to_numpy(dtype=bool)
    rows = np.flatnonzero(changes)
    index = pd.Index(parcels.index[changes], name=PARCELS.id_field)
    out = zone_code_columns(index, zone_codes, parcels.index, rows)
    out["current_use"] = uses.loc[changes, "current"].astype(object).to_numpy()
    out["planned_use"] = uses.loc[changes, "planned"].astype(object).to_numpy()
    out["adjusted_use"] = uses.loc[changes, "adjusted"].astype(object).to_numpy()
    out["current_to_planned"] = first.to_numpy(dtype=bool)[changes]
    out["planned_to_adjusted"] = second.to_numpy(dtype=bool)[changes]
    area_ha = parcels.geometry.area.to_numpy()[changes] / M2_PER_HA
    out["area_ha"] = area_ha
    out["area_mu"] = area_ha * MU_PER_HA
    return out


def adjustment_totals(
    adjustments: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    classes: pd.DataFrame,
    *,
    pieces: pd.DataFrame,
) -> pd.DataFrame:
    """What each re-designation (``land_adjustments`` feature, e.g. A1) changes, in ha and 亩.

    Parameters
    ----------
    adjustments
        The ``land_adjustments`` layer in EPSG:4548, index = code.
    parcels
        Parcels in EPSG:4548, index = parcel code.
    classes
        The ``land_use_classes`` table (for the industrial flag).
    pieces
        ``overlay.overlay_pieces(adjustments, parcels)`` (``MetricInputs.pieces``).

    Returns
    -------
    pandas.DataFrame
        Index = adjustment code. Columns: ``name_zh``, ``area_ha`` / ``area_mu`` (the
        feature's area), ``stated_area_ha``, ``from_use`` and ``to_use_zh`` (as declared),
        ``changed_ha`` / ``changed_mu`` (parcel area inside whose planned use is
        re-designated), ``changed_from_declared_ha`` (of which planned as the declared
        ``from_use``), ``remaining_declared_ha`` (still planned as ``from_use``, unchanged),
        ``to_industrial_ha`` (changed to industrial land), ``to_uses`` (target classes by
        decreasing area, e.g. ``M1/A35``) and ``stated_diff_pct`` (changed vs stated area, %).
    """
    uses = piece_values(pieces, parcel_uses(parcels, ("planned", "adjusted")))
    industrial = uses["adjusted"].astype(object).map(class_flags(classes)["industrial"])
    area = pieces["area_m2"] / M2_PER_HA
    zone = pieces.index.get_level_values(ZONE)
    declared = pd.Series(
        adjustments[ADJUSTMENTS.field("from_use").name].astype(object).to_numpy(),
        index=adjustments.index,
    )
    from_declared = uses["planned"].to_numpy(dtype=object) == declared.reindex(zone).to_numpy()
    changed = (uses["planned"] != uses["adjusted"]).to_numpy(dtype=bool)

    def per_zone(mask: np.ndarray) -> pd.Series:
        return area[mask].groupby(zone[mask]).sum().reindex(adjustments.index, fill_value=0.0)

    to_uses = (
        pd.DataFrame({ZONE: zone[changed], "to": uses["adjusted"][changed].to_numpy(dtype=object)})
        .assign(area=area[changed].to_numpy())
        .groupby([ZONE, "to"])["area"]
        .sum()
        .sort_values(ascending=False)
    )
    out = pd.DataFrame(index=pd.Index(adjustments.index, name="code"))
    out["name_zh"] = adjustments[ADJUSTMENTS.field("name_zh").name].astype(object)
    out["area_ha"] = zone_area_m2(adjustments, layer=ADJUSTMENTS.name) / M2_PER_HA
    out["area_mu"] = out["area_ha"] * MU_PER_HA
    out["stated_area_ha"] = pd.to_numeric(
        adjustments[ADJUSTMENTS.field("stated_area_ha").name], errors="coerce"
    )
    out["from_use"] = declared
    out["to_use_zh"] = adjustments[ADJUSTMENTS.field("to_use_zh").name].astype(object)
    out["changed_ha"] = per_zone(changed)
    out["changed_mu"] = out["changed_ha"] * MU_PER_HA
    out["changed_from_declared_ha"] = per_zone(changed & from_declared)
    out["remaining_declared_ha"] = per_zone(~changed & from_declared)
    out["to_industrial_ha"] = per_zone(changed & industrial.fillna(False).to_numpy(dtype=bool))
    out["to_uses"] = [
        "/".join(to_uses.xs(code, level=ZONE).index) if code in to_uses.index else ""
        for code in out.index
    ]
    out["stated_diff_pct"] = (
        (out["changed_ha"] - out["stated_area_ha"]) / out["stated_area_ha"] * 100
    )
    return out


def base_land_changes(
    bases: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    classes: pd.DataFrame,
    *,
    pieces: pd.DataFrame,
    use_frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The farmer bases' land change as areas: current → planned use inside each base.

    The plan states the change for three bases (``land_change_zh``): 溪翁庄华都 → F3
    multi-function land, 密云镇绿州 → all urban construction land, 太师屯金湖 → strategic
    reserve land (LB); these areas show how far the parcels follow it.

    ``pieces``: ``overlay.overlay_pieces(bases, parcels)``; ``use_frame``: the parcels' uses
    when already computed, as for ``land_use_transitions``.

    Returns
    -------
    pandas.DataFrame
        Index (``base``, ``from_use``, ``to_use``). Columns: ``name_zh``, ``category``
        (upgrade / transform / exit), ``land_change_zh`` (the plan's statement), ``to_group``
        (the planned class's group: construction / reserve / non_construction), ``area_ha``,
        ``area_mu`` and ``share`` (of the base's area).
    """
    transitions = land_use_transitions(bases, parcels, pieces=pieces, use_frame=use_frame)
    # no parcel in any base (e.g. imported parcels that cover one zone only): an empty table
    kinds = transitions.index.get_level_values("kind")
    moves = transitions[kinds == "current_to_planned"].droplevel("kind")
    moves.index = moves.index.set_names(["base", "from_use", "to_use"])
    base = moves.index.get_level_values("base")
    base_ha = zone_area_m2(bases, layer=BASES.name) / M2_PER_HA
    out = pd.DataFrame(index=moves.index)
    for field in ("name_zh", "category", "land_change_zh"):
        name = BASES.field(field).name
        values = bases[name].astype(object) if name in bases.columns else None
        out[field] = values.reindex(base).to_numpy() if values is not None else None
    groups = class_flags(classes)["group"]
    out["to_group"] = moves.index.get_level_values("to_use").map(groups).to_numpy(dtype=object)
    out["area_ha"] = moves["area_ha"]
    out["area_mu"] = moves["area_mu"]
    out["share"] = moves["area_ha"].to_numpy() / base_ha.reindex(base).to_numpy()
    return order_index(out, {"base": list(bases.index)})


__all__ = [
    "KINDS",
    "adjustment_totals",
    "base_land_changes",
    "changing_parcels",
    "land_use_transitions",
]
