"""Compliance of land-use changes with the control lines (三区三线), measured in EPSG:4548.

For every parcel whose use changes (``adjustments.changing_parcels``: current → planned or
planned → re-designated) the overlap with every control line is measured, and each
(parcel, line) overlap gets the verdict of the first matching rule of
``core/control_rules.json`` (``core.control_rules``). The same pieces are then cut by every
plan zone (zone layers of the catalogue, the land adjustments included), so that a zone's rows
list the changing parcels inside it.

Tables (``metrics.compute_all`` registers them; empty, with the same columns, when the
GeoPackage has no ``control_lines`` layer):

- ``control_line_conflicts``: index (``layer``, ``feature_code``, ``parcel_code``,
  ``line_type``, ``line_code``); columns ``current_use``, ``planned_use`` (the use the plan
  leads to: ``proposed_use`` where set, else ``planned_use``), ``overlap_ha``, ``overlap_mu``,
  ``rule`` (a rule id of control_rules.json), ``verdict`` (conflict / conditional /
  compliant). ``layer`` = ``parcels`` for the parcels themselves (``feature_code`` = the
  parcel code), else a zone layer (``feature_code`` = the zone code, the overlap being that of
  the zone's piece of the parcel). For a change to construction, the part of the parcel outside
  every urban development boundary is a row of ``line_type`` urban_boundary with ``line_code``
  = ``outside`` (the rules' ``outside_code``), when the layer has any such boundary;
- ``control_line_summary``: index (``layer``, ``feature_code``, ``line_type``); columns
  ``overlap_ha``, ``overlap_mu`` (the whole feature's overlap with the lines of that type; for
  zones the whole zone, not only its changing parcels), ``conflicts``, ``conditionals`` (rows
  of ``control_line_conflicts`` with that verdict); and one row per line with ``layer`` =
  ``control_lines`` (``feature_code`` = the line code): its overlap with changing parcels and
  their conflicts and conditionals (the figures of the lines' map popups);
- ``control_line_crossings`` (三线冲突): index (``line_code_a``, ``line_code_b``); columns
  ``line_type_a``, ``line_type_b``, ``overlap_ha``, ``overlap_mu``: lines of different types
  that overlap.

Pairs come from the STRtree of ``overlay.overlay_pieces`` (a parcel a line covers takes its own
area; only boundary parcels are intersected exactly), so the cost grows with the number of
parcels near a line, not with parcels x lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..core.catalogue import CATALOGUE, ZONE_LAYERS
from ..core.control_rules import CONTROL_RULES, LINE_TYPES, ControlRules
from ..core.landuse import parcel_uses
from ..core.measure import M2_PER_HA, MU_PER_HA
from .control_zones import zone_pieces, zone_row_areas
from .overlay import overlay_pieces

LINES = CATALOGUE["control_lines"]
PARCELS = CATALOGUE["land_parcels"]
CLASSES = CATALOGUE["land_use_classes"]
PARCEL_LAYER = "parcels"
CONFLICT_LEVELS = ("layer", "feature_code", "parcel_code", "line_type", "line_code")
CONFLICT_COLUMNS = ("current_use", "planned_use", "overlap_ha", "overlap_mu", "rule", "verdict")
SUMMARY_LEVELS = ("layer", "feature_code", "line_type")
SUMMARY_COLUMNS = ("overlap_ha", "overlap_mu", "conflicts", "conditionals")
CROSSING_LEVELS = ("line_code_a", "line_code_b")
CROSSING_COLUMNS = ("line_type_a", "line_type_b", "overlap_ha", "overlap_mu")
TABLES = ("control_line_conflicts", "control_line_summary", "control_line_crossings")
PIECES_LAYER = "control_line_conflicts"  # the overlap pieces of the parcels, for results.gpkg
# overlaps below this are digitising noise (the validator's OVERLAP_MIN_M2): no row, no verdict
MIN_OVERLAP_M2 = 1.0


def _empty(levels, columns, dtypes) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([[]] * len(levels), names=list(levels))
    return pd.DataFrame(
        {c: pd.Series([], dtype=d) for c, d in zip(columns, dtypes, strict=True)}, index=index
    )


def empty_tables() -> dict[str, pd.DataFrame]:
    """The three tables with zero rows (no control lines)."""
    text, real, count = object, float, np.int64
    return {
        "control_line_conflicts": _empty(
            CONFLICT_LEVELS, CONFLICT_COLUMNS, (text, text, real, real, text, text)
        ),
        "control_line_summary": _empty(SUMMARY_LEVELS, SUMMARY_COLUMNS, (real, real, count, count)),
        "control_line_crossings": _empty(
            CROSSING_LEVELS, CROSSING_COLUMNS, (text, text, real, real)
        ),
    }


def _lines_by_code(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = lines.set_index(lines[LINES.id_field].astype(str).rename("line_code"))
    if "grade" not in frame.columns:
        frame = frame.assign(grade=None)
    return frame


def _categories(classes: pd.DataFrame, rules: ControlRules) -> tuple[set[str], set[str]]:
    codes = classes[CLASSES.id_field].astype(str)
    construction = set(codes[classes["group"].astype(str).isin(rules.construction_groups)])
    return construction, set(rules.farmland_classes)


def judge(
    line_type: np.ndarray,
    grade: np.ndarray,
    side: np.ndarray,
    from_use: np.ndarray,
    to_use: np.ndarray,
    classes: pd.DataFrame,
    rules: ControlRules = CONTROL_RULES,
) -> tuple[np.ndarray, np.ndarray]:
    """(rule id, verdict) of each overlap: the first rule of ``rules`` that matches it."""
    construction, farmland = _categories(classes, rules)
    category = {
        "any": lambda uses: np.ones(len(uses), dtype=bool),
        "construction": lambda uses: np.isin(uses, list(construction)),
        "farmland": lambda uses: np.isin(uses, list(farmland)),
    }
    rule_id = np.full(len(line_type), None, dtype=object)
    verdict = np.full(len(line_type), None, dtype=object)
    open_ = np.ones(len(line_type), dtype=bool)
    for rule in rules.rules:
        match = open_ & ((side == rule.side) | (rule.side == "any"))
        if rule.line_type != "any":
            match &= line_type == rule.line_type
        if rule.grades:
            match &= np.isin(grade.astype(object), list(rule.grades))
        match &= category[rule.from_](from_use) & category[rule.to](to_use)
        if rule.except_to:
            match &= ~np.isin(to_use, list(rule.except_to))
        rule_id[match], verdict[match] = rule.id, rule.verdict
        open_ &= ~match
    return rule_id, verdict


def _parcel_pieces(
    lines: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, rules: ControlRules, construction: set
):
    """One row per (changing parcel, line) overlap, plus the parts outside every urban
    boundary of changes to construction: parcel_code, line_code, line_type, grade, side,
    area_m2, geometry."""
    uses = parcel_uses(parcels)
    changing = (uses["current"] != uses["planned"]) | (uses["planned"] != uses["adjusted"])
    changing = changing.to_numpy(dtype=bool)
    sub = parcels[changing]
    sub_uses = uses[changing]
    pieces = overlay_pieces(lines, sub, zone_layer=LINES.name, parcel_layer=PARCELS.name)
    li, pi = pieces.index.codes[0], pieces.index.codes[1]
    line_geoms = np.asarray(lines.geometry.array, dtype=object)
    parcel_geoms = np.asarray(sub.geometry.array, dtype=object)
    whole = pieces["whole"].to_numpy()
    geoms = parcel_geoms[pi].copy()
    edge = np.flatnonzero(~whole)
    geoms[edge] = shapely.intersection(line_geoms[li[edge]], parcel_geoms[pi[edge]])
    rows = pd.DataFrame(
        {
            "parcel_pos": pi,
            "line_code": np.asarray(lines.index, dtype=object)[li],
            "line_type": lines["line_type"].to_numpy(dtype=object)[li],
            "grade": lines["grade"].to_numpy(dtype=object)[li],
            "side": "inside",
            "area_m2": pieces["area_m2"].to_numpy(),
            "whole": whole,
            "geometry": geoms,
        }
    )
    urban = lines["line_type"].to_numpy(dtype=object) == "urban_boundary"
    rows = rows[rows["area_m2"] >= MIN_OVERLAP_M2]
    if urban.any():
        outside = _outside(sub, sub_uses, rows, line_geoms[urban], rules, construction)
        rows = pd.concat([rows, outside])
    rows["parcel_full_pos"] = np.flatnonzero(changing)[rows["parcel_pos"].to_numpy()]
    rows["parcel_code"] = np.asarray(sub.index, dtype=object)[rows["parcel_pos"].to_numpy()]
    rows["current_use"] = sub_uses["current"].to_numpy(dtype=object)[rows["parcel_pos"]]
    rows["planned_use"] = sub_uses["adjusted"].to_numpy(dtype=object)[rows["parcel_pos"]]
    return rows.reset_index(drop=True)


def _outside(sub, sub_uses, rows, urban_geoms, rules: ControlRules, construction: set):
    """The parts of changes to construction outside every urban development boundary."""
    target = np.isin(sub_uses["adjusted"].to_numpy(dtype=object), list(construction))
    parcel_geoms = np.asarray(sub.geometry.array, dtype=object)
    inside = rows[rows["line_type"] == "urban_boundary"]
    inside_m2 = np.bincount(
        inside["parcel_pos"].to_numpy(dtype=np.int64),
        weights=inside["area_m2"].to_numpy(),
        minlength=len(sub),
    )
    area = shapely.area(parcel_geoms)
    positions = np.flatnonzero(target & (area - inside_m2 > MIN_OVERLAP_M2))
    geoms = parcel_geoms[positions].copy()
    touched = positions[inside_m2[positions] > 0]
    whole = inside_m2[positions] == 0
    if len(touched):
        tree = shapely.STRtree(urban_geoms)
        where = {p: i for i, p in enumerate(positions)}
        pair_parcel, pair_line = tree.query(parcel_geoms[touched], predicate="intersects")
        for k in np.unique(pair_parcel):
            near = shapely.union_all(urban_geoms[pair_line[pair_parcel == k]])
            geoms[where[touched[k]]] = shapely.difference(parcel_geoms[touched[k]], near)
    out_area = shapely.area(geoms)
    keep = out_area >= MIN_OVERLAP_M2
    return pd.DataFrame(
        {
            "parcel_pos": positions[keep],
            "line_code": rules.outside_code,
            "line_type": "urban_boundary",
            "grade": None,
            "side": "outside",
            "area_m2": out_area[keep],
            "whole": whole[keep],
            "geometry": geoms[keep],
        }
    )


def _table(frame: pd.DataFrame, levels, columns, orders: Mapping[str, list]) -> pd.DataFrame:
    """``frame`` sorted by ``levels`` (ranked by ``orders`` where given) and indexed by them."""
    keys = []
    for level in levels:
        if level in orders:
            rank = {v: i for i, v in enumerate(orders[level])}
            keys.append(frame[level].map(rank).fillna(len(rank)))
        else:
            keys.append(pd.Series(pd.factorize(frame[level].astype(str), sort=True)[0]))
    order = np.lexsort([k.to_numpy() for k in reversed(keys)])
    frame = frame.iloc[order]
    return frame.set_index(list(levels))[list(columns)]


@dataclass(frozen=True)
class ControlLineResult:
    """The three tables, and the parcels' overlap pieces as the layer ``PIECES_LAYER``
    (for results.gpkg and the maps; None without control lines)."""

    tables: dict[str, pd.DataFrame]
    pieces: gpd.GeoDataFrame | None


def control_line_analysis(
    lines: gpd.GeoDataFrame | None,
    parcels: gpd.GeoDataFrame,
    zones: Mapping[str, gpd.GeoDataFrame],
    classes: pd.DataFrame,
    *,
    rules: ControlRules = CONTROL_RULES,
    pieces: Mapping[str, pd.DataFrame] | None = None,
    line_pieces: Mapping[str, pd.DataFrame] | None = None,
) -> ControlLineResult:
    """The three control-line tables (module docstring) for ``lines`` (EPSG:4548, or None),
    and the parcels' overlap pieces.

    ``parcels`` indexed by parcel code, ``zones`` by zone code (``metrics.prepare``);
    ``pieces``, when given, the
    zone x parcel overlays of ``zones`` and ``parcels`` (``MetricInputs.pieces``), from which
    the zone rows are joined (``control_zones``) instead of overlaying again; ``line_pieces``,
    when given, the ``line_zone_pieces`` of each zone layer (the summary's whole-zone overlaps).
    """
    if lines is None or not len(lines):
        return ControlLineResult(empty_tables(), None)
    if line_pieces is None:  # the whole zones' overlaps, made here once per zone layer
        line_pieces = {
            name: line_zone_pieces(lines, frame, zone_layer=name) for name, frame in zones.items()
        }
    lines = _lines_by_code(lines)
    construction, _farmland = _categories(classes, rules)
    rows = _parcel_pieces(lines, parcels, rules, construction)
    rows["rule"], rows["verdict"] = judge(
        rows["line_type"].to_numpy(dtype=object),
        rows["grade"].to_numpy(dtype=object),
        rows["side"].to_numpy(dtype=object),
        rows["current_use"].to_numpy(dtype=object),
        rows["planned_use"].to_numpy(dtype=object),
        classes,
        rules,
    )
    rows["layer"], rows["feature_code"] = PARCEL_LAYER, rows["parcel_code"]
    parts = [rows]
    row_geoms = rows["geometry"].to_numpy(dtype=object)
    row_area = rows["area_m2"].to_numpy()
    row_whole = rows["whole"].to_numpy(dtype=bool)
    row_parcel = rows["parcel_full_pos"].to_numpy()
    for name, frame in zones.items():
        layer_pieces = zone_pieces(
            frame, parcels, (pieces or {}).get(name), zone_layer=name, parcel_layer=PARCELS.name
        )
        at, zone, area = zone_row_areas(
            frame, layer_pieces, row_parcel, row_area, row_whole, row_geoms
        )
        keep = area >= MIN_OVERLAP_M2
        of = rows.iloc[at[keep]].copy()
        of["layer"] = name
        of["feature_code"] = np.asarray(frame.index, dtype=object)[zone[keep]]
        of["area_m2"] = area[keep]
        parts.append(of)
    every = pd.concat(parts, ignore_index=True)
    every["overlap_ha"] = every["area_m2"] / M2_PER_HA
    every["overlap_mu"] = every["overlap_ha"] * MU_PER_HA
    orders = {"layer": [PARCEL_LAYER, *ZONE_LAYERS], "line_type": list(LINE_TYPES)}
    tables = {
        "control_line_conflicts": _table(every, CONFLICT_LEVELS, CONFLICT_COLUMNS, orders),
        "control_line_summary": _summary(every, lines, zones, orders, line_pieces),
        "control_line_crossings": _crossings(lines),
    }
    return ControlLineResult(tables, _pieces_layer(rows, lines, parcels.crs))


def line_zone_pieces(
    lines: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, zone_layer: str
) -> pd.DataFrame:
    """The overlay of the control ``lines`` (as read) with ``zones`` (indexed by code)."""
    return overlay_pieces(
        _lines_by_code(lines), zones, zone_layer=LINES.name, parcel_layer=zone_layer
    )


def _summary(every: pd.DataFrame, lines, zones, orders, line_pieces) -> pd.DataFrame:
    keys = list(SUMMARY_LEVELS)
    counted = every.assign(
        conflicts=(every["verdict"] == "conflict").astype(np.int64),
        conditionals=(every["verdict"] == "conditional").astype(np.int64),
        inside_m2=np.where(every["side"] == "inside", every["area_m2"], 0.0),
    )
    counts = counted.groupby(keys, sort=False)[["conflicts", "conditionals", "inside_m2"]].sum()
    parcels = counts[counts.index.get_level_values("layer") == PARCEL_LAYER]
    area = parcels["inside_m2"].rename("area_m2")
    parts = [area]
    for name, frame in zones.items():  # the whole zone's overlap, not only its parcels
        cut = line_pieces[name]
        line_type = lines["line_type"].to_numpy(dtype=object)[cut.index.codes[0]]
        code = np.asarray(frame.index, dtype=object)[cut.index.codes[1]]
        sums = pd.Series(cut["area_m2"].to_numpy()).groupby([code, line_type], sort=False).sum()
        sums.index = pd.MultiIndex.from_arrays(
            [[name] * len(sums), sums.index.get_level_values(0), sums.index.get_level_values(1)],
            names=keys,
        )
        parts.append(sums.rename("area_m2"))
    areas = pd.concat(parts)
    table = pd.concat([areas, counts[["conflicts", "conditionals"]]], axis=1).reset_index()
    table = table.fillna({"area_m2": 0.0, "conflicts": 0, "conditionals": 0})
    table = table[
        (table["area_m2"] >= MIN_OVERLAP_M2) | (table["conflicts"] + table["conditionals"] > 0)
    ]
    table = pd.concat([table, _per_line(every, lines)], ignore_index=True)
    table["overlap_ha"] = table["area_m2"] / M2_PER_HA
    table["overlap_mu"] = table["overlap_ha"] * MU_PER_HA
    table = table.astype({"conflicts": np.int64, "conditionals": np.int64})
    orders = {**orders, "layer": [*orders["layer"], LINES.name]}
    return _table(table, SUMMARY_LEVELS, SUMMARY_COLUMNS, orders)


def _per_line(every: pd.DataFrame, lines) -> pd.DataFrame:
    """One summary row per line (layer ``control_lines``): its overlap with changing parcels
    and their conflicts and conditionals (zeros for a line no changing parcel touches)."""
    own = every[(every["layer"] == PARCEL_LAYER) & (every["side"] == "inside")]
    grouped = own.groupby("line_code", sort=False)
    out = pd.DataFrame(
        {
            "layer": LINES.name,
            "feature_code": np.asarray(lines.index, dtype=object),
            "line_type": lines["line_type"].to_numpy(dtype=object),
        }
    )
    codes = out["feature_code"]
    out["area_m2"] = codes.map(grouped["area_m2"].sum()).fillna(0.0).to_numpy()
    for column, verdict in (("conflicts", "conflict"), ("conditionals", "conditional")):
        counts = (own["verdict"] == verdict).groupby(own["line_code"]).sum()
        out[column] = codes.map(counts).fillna(0).astype(np.int64).to_numpy()
    return out


def _crossings(lines: gpd.GeoDataFrame) -> pd.DataFrame:
    """Overlaps between lines of different types (三线冲突)."""
    geoms = np.asarray(lines.geometry.array, dtype=object)
    types = lines["line_type"].to_numpy(dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (left < right) & (types[left] != types[right])
    left, right = left[keep], right[keep]
    area = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    codes = np.asarray(lines.index, dtype=object)
    frame = pd.DataFrame(
        {
            "line_code_a": codes[left],
            "line_code_b": codes[right],
            "line_type_a": types[left],
            "line_type_b": types[right],
            "overlap_ha": area / M2_PER_HA,
        }
    )
    frame = frame[frame["overlap_ha"] * M2_PER_HA >= MIN_OVERLAP_M2]
    frame["overlap_mu"] = frame["overlap_ha"] * MU_PER_HA
    if not len(frame):
        return empty_tables()["control_line_crossings"]
    return frame.set_index(list(CROSSING_LEVELS))[list(CROSSING_COLUMNS)]


def _pieces_layer(rows: pd.DataFrame, lines: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """The parcels' overlap pieces with the line's name and the verdict (index = fid)."""
    names = lines["name"] if "name" in lines.columns else pd.Series(None, index=lines.index)
    name_of = dict(zip(lines.index, names, strict=True))
    frame = gpd.GeoDataFrame(
        {
            "parcel_code": rows["parcel_code"].to_numpy(dtype=object),
            "line_code": rows["line_code"].to_numpy(dtype=object),
            "line_type": rows["line_type"].to_numpy(dtype=object),
            "line_name": [name_of.get(c) for c in rows["line_code"]],
            "grade": rows["grade"].to_numpy(dtype=object),
            "current_use": rows["current_use"].to_numpy(dtype=object),
            "planned_use": rows["planned_use"].to_numpy(dtype=object),
            "overlap_ha": rows["area_m2"].to_numpy() / M2_PER_HA,
            "overlap_mu": rows["area_m2"].to_numpy() / M2_PER_HA * MU_PER_HA,
            "rule": rows["rule"].to_numpy(dtype=object),
            "verdict": rows["verdict"].to_numpy(dtype=object),
        },
        geometry=_multipolygons(rows["geometry"].to_numpy()),
        crs=crs,
    )
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")
    return frame


def _multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Each piece as a MultiPolygon of its polygon parts (lines and points an intersection
    leaves behind dropped), in one vectorised pass."""
    parts, owner = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    out = np.empty(len(geoms), dtype=object)
    out[:] = shapely.from_wkt("MULTIPOLYGON EMPTY")
    if keep.any():  # pieces without a polygon part stay empty
        shapely.multipolygons(parts[keep], indices=owner[keep], out=out)
    return out


__all__ = [
    "TABLES",
    "ControlLineResult",
    "control_line_analysis",
    "empty_tables",
    "judge",
    "line_zone_pieces",
]
