"""What changed between two versions of the plan data: per layer, per feature, per category.

Features are matched by their code (the catalogue's ``id_field``), not by fid, so that a layer
rewritten by QGIS or GDAL still matches. Pure functions on ``PlanData``; areas in EPSG:4548.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj.exceptions import ProjError

from ..core.catalogue import CATALOGUE, LayerSpec
from ..core.crs import WORK_CRS, to_work_crs
from ..core.errors import CRSError, DataError
from ..core.measure import planar_area_ha
from ..core.plan import PlanData

log = logging.getLogger(__name__)

GEOMETRY_TOLERANCE_M = 0.001  # vertices closer than 1 mm count as unchanged
REL_TOLERANCE = 1e-9  # numbers this close count as unchanged (float round trips)
ALL = "(all)"  # category of layers without a category field
CHANGES = ("added", "removed", "changed")
CHANGE_COLUMNS = [
    "change",
    "name",
    "category_old",
    "category_new",
    "fields",
    "values",
    "geometry_changed",
    "area_old_ha",
    "area_new_ha",
    "area_change_ha",
    "fid_old",
    "fid_new",
]


@dataclass(frozen=True)
class PlanDiff:
    """The differences between two plans.

    ``layers``: one row per layer (index ``layer``): feature counts, added / removed / changed
    counts, fields added or removed, and whether the layer itself appeared or disappeared.
    ``changes``: one row per added, removed or changed feature (index ``layer, code``):
    ``change``, ``fields`` (changed attributes, comma-separated), ``values`` (field ->
    [old, new]), ``geometry_changed``, areas before / after and the change in ha.
    ``summary``: one row per layer and category (index ``layer, category``): counts and areas
    in ha before and after, and the number of features added, removed and changed.
    """

    old: str
    new: str
    layers: pd.DataFrame
    changes: pd.DataFrame
    summary: pd.DataFrame

    @property
    def is_empty(self) -> bool:
        return self.changes.empty and not self.layers["layer_change"].astype(bool).any()


def diff_plans(old: PlanData, new: PlanData) -> PlanDiff:
    """Compare every catalogue layer of ``old`` and ``new`` (see PlanDiff)."""
    layer_rows, change_parts, summary_parts = [], [], []
    for spec in CATALOGUE.layers:
        if spec.name not in old and spec.name not in new:
            continue
        before, after = _prepared(old, spec), _prepared(new, spec)
        changes = diff_layer(before, after, spec)
        change_parts.append(changes.assign(layer=spec.name))
        summary_parts.append(summarize_layer(before, after, changes, spec).assign(layer=spec.name))
        layer_rows.append(_layer_row(before, after, changes, spec))
    found = [part.reset_index() for part in change_parts if len(part)]
    changes = pd.concat(found, ignore_index=True) if found else _empty_changes()
    changes = changes.set_index(["layer", "code"])[CHANGE_COLUMNS]
    changes = changes.astype({"fid_old": "Int64", "fid_new": "Int64"})
    summary = pd.concat(summary_parts).reset_index().set_index(["layer", "category"])
    layers = pd.DataFrame(layer_rows).set_index("layer")
    diff = PlanDiff(str(old.path), str(new.path), layers, changes, summary)
    log.info("diff: %d feature changes in %d layers", len(changes), len(changed_layers(diff)))
    return diff


def _prepared(plan: PlanData, spec: LayerSpec) -> pd.DataFrame | None:
    """The layer indexed by code, geometries in EPSG:4548; None when the layer is missing."""
    if spec.name not in plan:
        return None
    frame = plan[spec.name]
    if spec.is_spatial and isinstance(frame, gpd.GeoDataFrame):
        try:
            frame = to_work_crs(frame, layer=spec.name)
        except ProjError:
            raise CRSError(
                f"{plan.path}: layer '{spec.name}' is in {frame.crs.name}, which cannot be "
                f"converted to {WORK_CRS.to_string()}; assign the CRS its coordinates are "
                "really in (QGIS: Layer Properties > Source)"
            ) from None
    return keyed_by_code(frame, spec, source=str(plan.path))


def keyed_by_code(frame: pd.DataFrame, spec: LayerSpec, *, source: str = "") -> pd.DataFrame:
    """``frame`` re-indexed by its code (``fid N`` where the code is empty); fid kept as a column.

    Raises DataError when two features share a code: they could not be told apart.
    """
    fids = pd.Series(frame.index, index=frame.index)
    if spec.id_field in frame.columns:
        codes = frame[spec.id_field].astype(object)
        keys = codes.where(codes.notna(), "fid " + fids.astype(str)).astype(str)
    else:
        keys = "fid " + fids.astype(str)
    duplicated = keys[keys.duplicated(keep=False)]
    if len(duplicated):
        code = duplicated.iloc[0]
        where = ", ".join(f"fid {fid}" for fid in duplicated[duplicated == code].index)
        raise DataError(
            f"{source}: layer '{spec.name}': code '{code}' is used by {where}; give each "
            f"feature its own {spec.id_field} (features are matched by code)"
        )
    out = frame.assign(_fid=fids.to_numpy())
    out.index = pd.Index(keys.to_numpy(), name="code")
    return out


def _category(frame: pd.DataFrame | None, spec: LayerSpec) -> pd.Series:
    if frame is None:
        return pd.Series(dtype=object)
    field = spec.category_field
    if field and field in frame.columns:
        values = frame[field].astype(object)
        return values.where(values.notna(), "(none)")
    return pd.Series(ALL, index=frame.index, dtype=object)


def _areas(frame: pd.DataFrame | None) -> pd.Series:
    if frame is None:
        return pd.Series(dtype=float)
    if not isinstance(frame, gpd.GeoDataFrame):
        return pd.Series(np.nan, index=frame.index)
    return planar_area_ha(frame)


def _data_columns(frame: pd.DataFrame | None) -> list[str]:
    if frame is None:
        return []
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [c for c in frame.columns if c not in (geometry, "_fid")]


def same_values(old: pd.Series, new: pd.Series) -> pd.Series:
    """True where two aligned columns hold the same value (nulls equal, numbers within 1e-9)."""
    null_old, null_new = old.isna(), new.isna()
    if pd.api.types.is_numeric_dtype(old.dtype) and pd.api.types.is_numeric_dtype(new.dtype):
        a = old.to_numpy(dtype=float, na_value=np.nan)
        b = new.to_numpy(dtype=float, na_value=np.nan)
        equal = np.isclose(a, b, rtol=REL_TOLERANCE, atol=REL_TOLERANCE)
    else:
        equal = (old.astype(object).astype(str) == new.astype(object).astype(str)).to_numpy()
    return pd.Series(
        (null_old & null_new).to_numpy() | (~null_old & ~null_new).to_numpy() & equal,
        index=old.index,
    )


def same_geometries(old: gpd.GeoSeries, new: gpd.GeoSeries) -> pd.Series:
    """True where two aligned geometry columns hold the same shape (vertex order ignored)."""
    a, b = old.values, new.values
    null_a, null_b = pd.isna(a), pd.isna(b)
    equal = shapely.equals_exact(
        shapely.normalize(a), shapely.normalize(b), tolerance=GEOMETRY_TOLERANCE_M
    )
    return pd.Series((null_a & null_b) | (~null_a & ~null_b & equal), index=old.index)


def diff_layer(old: pd.DataFrame | None, new: pd.DataFrame | None, spec: LayerSpec) -> pd.DataFrame:
    """Added, removed and changed features of one layer; both frames indexed by code.

    Columns as CHANGE_COLUMNS; index ``code``. Unchanged features are left out.
    """
    old_keys = old.index if old is not None else pd.Index([], name="code")
    new_keys = new.index if new is not None else pd.Index([], name="code")
    added = new_keys.difference(old_keys, sort=False)
    removed = old_keys.difference(new_keys, sort=False)
    common = old_keys.intersection(new_keys, sort=False)
    area_old, area_new = _areas(old), _areas(new)
    cat_old, cat_new = _category(old, spec), _category(new, spec)
    context = (spec.is_spatial, cat_old, cat_new, area_old, area_new)
    rows = [_row(code, "added", None, new, *context) for code in added]
    rows += [_row(code, "removed", old, None, *context) for code in removed]
    if len(common):
        a, b = old.loc[common], new.loc[common]
        columns = [c for c in _data_columns(old) if c in set(_data_columns(new))]
        differs = {c: ~same_values(a[c], b[c]) for c in columns}
        geometry = (
            ~same_geometries(a.geometry, b.geometry)
            if isinstance(a, gpd.GeoDataFrame) and isinstance(b, gpd.GeoDataFrame)
            else pd.Series(False, index=common)
        )
        for code in common:
            fields = [c for c in columns if differs[c][code]]
            if not fields and not geometry[code]:
                continue
            row = _row(code, "changed", old, new, *context)
            row["fields"] = ", ".join(fields)
            row["values"] = {c: [_plain(a.at[code, c]), _plain(b.at[code, c])] for c in fields}
            row["geometry_changed"] = bool(geometry[code])
            rows.append(row)
    if not rows:
        return _empty_changes().drop(columns="layer").set_index("code")
    frame = pd.DataFrame(rows, columns=["code", *CHANGE_COLUMNS]).set_index("code")
    return frame.astype({"fid_old": "Int64", "fid_new": "Int64", "geometry_changed": bool})


def _row(code, change, old, new, spatial, cat_old, cat_new, area_old, area_new) -> dict:
    """One change row; ``old`` / ``new`` is None for an added / removed feature."""
    before = float(area_old[code]) if old is not None and spatial else np.nan
    after = float(area_new[code]) if new is not None and spatial else np.nan
    return {
        "code": code,
        "change": change,
        "name": _name(new if new is not None else old, code),
        "category_old": cat_old[code] if old is not None else None,
        "category_new": cat_new[code] if new is not None else None,
        "fields": "",
        "values": {},
        "geometry_changed": spatial and change != "changed",
        "area_old_ha": before,
        "area_new_ha": after,
        "area_change_ha": np.nan_to_num(after) - np.nan_to_num(before) if spatial else np.nan,
        "fid_old": int(old.at[code, "_fid"]) if old is not None else None,
        "fid_new": int(new.at[code, "_fid"]) if new is not None else None,
    }


def _name(frame: pd.DataFrame, code: str) -> str | None:
    for column in ("name_zh", "name_en"):
        if column in frame.columns and pd.notna(frame.at[code, column]):
            return str(frame.at[code, column])
    return None


def _plain(value):
    """A JSON-friendly scalar (None for nulls, Python numbers, text otherwise)."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def _empty_changes() -> pd.DataFrame:
    return pd.DataFrame(columns=["layer", "code", *CHANGE_COLUMNS])


def summarize_layer(
    old: pd.DataFrame | None, new: pd.DataFrame | None, changes: pd.DataFrame, spec: LayerSpec
) -> pd.DataFrame:
    """Per category: features and area (ha) before and after, and the counts of each change.

    A feature whose category changed counts as changed under its new category, and its area
    moves from the old category to the new one.
    """
    cat_old, cat_new = _category(old, spec), _category(new, spec)
    area_old, area_new = _areas(old), _areas(new)
    frame = pd.DataFrame(
        {
            "count_old": cat_old.value_counts(),
            "count_new": cat_new.value_counts(),
            "area_old_ha": area_old.groupby(cat_old).sum(min_count=1),
            "area_new_ha": area_new.groupby(cat_new).sum(min_count=1),
        }
    )
    frame[["count_old", "count_new"]] = frame[["count_old", "count_new"]].fillna(0).astype(int)
    if spec.is_spatial:
        frame[["area_old_ha", "area_new_ha"]] = frame[["area_old_ha", "area_new_ha"]].fillna(0.0)
    frame["area_change_ha"] = frame["area_new_ha"] - frame["area_old_ha"]
    category = changes["category_new"].where(
        changes["change"] != "removed", changes["category_old"]
    )
    for change in CHANGES:
        counts = category[changes["change"] == change].value_counts()
        frame[change] = counts.reindex(frame.index, fill_value=0).astype(int)
    frame.index.name = "category"
    order = list(spec.field(spec.category_field).allowed) if spec.category_field else []
    rank = {value: i for i, value in enumerate(order)}
    return frame.loc[sorted(frame.index, key=lambda c: (rank.get(c, len(rank)), str(c)))]


def _layer_row(
    old: pd.DataFrame | None, new: pd.DataFrame | None, changes: pd.DataFrame, spec: LayerSpec
) -> dict:
    old_columns, new_columns = set(_data_columns(old)), set(_data_columns(new))
    counts = changes["change"].value_counts()
    layer_change = "added" if old is None else "removed" if new is None else ""
    return {
        "layer": spec.name,
        "layer_change": layer_change,
        "count_old": 0 if old is None else len(old),
        "count_new": 0 if new is None else len(new),
        **{change: int(counts.get(change, 0)) for change in CHANGES},
        "fields_added": ", ".join(sorted(new_columns - old_columns)) if old is not None else "",
        "fields_removed": ", ".join(sorted(old_columns - new_columns)) if new is not None else "",
    }


def changed_layers(diff: PlanDiff) -> list[str]:
    """Names of the layers with any difference."""
    rows = diff.layers
    touched = (rows[list(CHANGES)].sum(axis=1) > 0) | rows["layer_change"].astype(bool)
    touched |= rows["fields_added"].astype(bool) | rows["fields_removed"].astype(bool)
    return list(rows.index[touched])


def describe_change(row: Mapping[str, object]) -> str:
    """One line for a feature change: 'changed: category upgrade → exit; geometry; +0.52 ha'."""
    parts = [str(row["change"])]
    values = row.get("values") or {}
    for field, (before, after) in values.items():
        parts.append(f"{field} {_short(before)} → {_short(after)}")
    if row["change"] == "changed" and row.get("geometry_changed"):
        parts.append("geometry")
    delta = row.get("area_change_ha")
    shown = isinstance(delta, float) and not np.isnan(delta)
    if shown and (row["change"] != "changed" or abs(delta) >= 0.00005):
        parts.append(f"{delta:+.4f} ha")
    return "; ".join(parts)


def _short(value, limit: int = 30) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "PlanDiff",
    "changed_layers",
    "describe_change",
    "diff_layer",
    "diff_plans",
    "keyed_by_code",
    "same_geometries",
    "same_values",
    "summarize_layer",
]
