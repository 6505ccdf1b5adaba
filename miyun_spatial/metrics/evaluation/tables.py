"""The evaluation's tables for one run, from the metrics' shared inputs (``metrics.prepare``).

``evaluation_tables(inputs, config)`` returns ``enterprise_evaluation`` (one row per parcel),
``evaluation_indicators`` (one row per indicator: computable or why not),
``low_efficiency_land`` (parcels meeting a 低效用地 reason) and ``low_efficiency_totals``
(by reason, zone and nearest town label).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from ...core.measure import M2_PER_HA, MU_PER_HA
from ..yields import PARCELS, parcel_flags, plan_fact
from .config import DEFAULT_PRESET, Config, load_preset
from .engine import enterprise_frame, evaluate, fact_lookup
from .low_land import identify, totals
from .monitoring import computed_values, indicator_monitoring

PLACES = "places"
TOWN_KINDS = ("town", "subdistrict")
EVALUATION_TABLES = (
    "enterprise_evaluation",
    "evaluation_indicators",
    "low_efficiency_land",
    "low_efficiency_totals",
    "evaluation_grades",
    "indicator_monitoring",
)


def parcel_table(parcels: gpd.GeoDataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """The enterprise table the formulas read: the parcels' fields with ``area_ha``,
    ``area_mu``, ``built_construction`` and ``built_industrial`` (0/1)."""
    frame = enterprise_frame(parcels, mu_per_ha=MU_PER_HA, m2_per_ha=M2_PER_HA)
    flags = parcel_flags(parcels, classes)
    frame["built_construction"] = flags["built_construction"]
    frame["built_industrial"] = flags["built_industrial"]
    return frame


def nearest_town(parcels: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None) -> pd.Series:
    """The name of the town or subdistrict label point nearest each parcel (EPSG:4548)."""
    if places is None or places.empty or "kind" not in places.columns:
        return pd.Series(None, index=parcels.index, dtype=object)
    towns = places[places["kind"].isin(TOWN_KINDS) & places.geometry.notna()]
    if towns.empty:
        return pd.Series(None, index=parcels.index, dtype=object)
    points = towns.geometry.to_crs(parcels.crs)
    centres = parcels.geometry.representative_point()
    tree = points.sindex
    _, nearest = tree.nearest(centres, return_all=False)
    names = towns["name_zh"].to_numpy(dtype=object)[nearest]
    return pd.Series(names, index=parcels.index, dtype=object)


def evaluation_tables(
    inputs,
    config: Config | None = None,
    *,
    places: gpd.GeoDataFrame | None = None,
    indicators: pd.DataFrame | None = None,
    computed: Mapping[str, pd.DataFrame] | None = None,
    park: tuple[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Every evaluation table for ``inputs`` (``metrics.MetricInputs``); ``indicators`` (the
    plan's table), ``computed`` (the tables so far: zone_yields) and ``park`` (its key) feed
    ``indicator_monitoring``."""
    config = config or load_preset(DEFAULT_PRESET)
    frame = parcel_table(inputs.parcels, inputs.classes)
    known = {f.name for f in PARCELS.fields}
    rows, summary = evaluate(
        frame,
        config,
        facts=fact_lookup(inputs.facts, plan_fact),
        known=known,
        table_name=f"layer '{PARCELS.name}'",
    )
    zones = inputs.zone_codes
    layer = config.low_efficiency.zone_layer
    zone = zones[layer] if layer in zones.columns else pd.Series(None, index=frame.index)
    town = nearest_town(inputs.parcels, places)
    head = pd.DataFrame({"zone": zone, "town_nearest": town}, index=frame.index)
    head.insert(0, "current_use", frame.get("current_use"))
    head.insert(1, "status", frame.get("status"))
    head["area_ha"] = frame["area_ha"]
    head["area_mu"] = frame["area_mu"]
    evaluation = pd.concat([head, rows], axis=1)
    evaluation.index.name = PARCELS.id_field
    evaluation.attrs["preset"] = config.name
    listed = identify(frame, rows, config)
    listed.insert(0, "zone", zone.reindex(listed.index))
    listed.insert(1, "town_nearest", town.reindex(listed.index))
    listed.index.name = PARCELS.id_field
    by = pd.DataFrame({"zone": zone, "town_nearest": town}, index=frame.index)
    summary.insert(0, "preset", config.name)
    summary.insert(1, "preset_source", config.source)
    summary.insert(2, "verified", config.verified)
    basis = frame.get("data_basis", pd.Series(dtype=object))
    monitoring = indicator_monitoring(
        indicators,
        computed_values(computed or {}, frame, park),
        config.monitoring,
        synthetic=bool((basis == "synthetic").any()),
    )
    return {
        "enterprise_evaluation": evaluation,
        "evaluation_indicators": summary,
        "low_efficiency_land": listed,
        "low_efficiency_totals": totals(listed, config, by),
        "evaluation_grades": grade_counts(evaluation, config),
        "indicator_monitoring": monitoring,
    }


def grade_counts(evaluation: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Parcels, ha and 亩 by group and grade (not graded: group ``—``, grade ``not_graded``),
    grades in configuration order."""
    group = evaluation["group"].astype(object).where(evaluation["group"].notna(), "—")
    frame = pd.DataFrame(
        {
            "group": group,
            "grade": evaluation["grade"],
            "parcels": 1,
            "area_ha": evaluation["area_ha"],
            "area_mu": evaluation["area_mu"],
        }
    )
    out = frame.groupby(["group", "grade"], sort=False).sum()
    order = {g: i for i, g in enumerate((*config.grades, config.not_graded))}
    keys = sorted(out.index, key=lambda k: (str(k[0]), order.get(k[1], len(order))))
    return out.loc[keys]


__all__ = ["EVALUATION_TABLES", "evaluation_tables", "nearest_town", "parcel_table"]
