"""低效用地 identification: every parcel meeting a configured reason, with totals.

Each ``[[low_efficiency.reasons]]`` rule is a condition over the parcel's fields, the
evaluation's ``score`` and ``grade``, the parcel class's ``far_standard`` (from
``[low_efficiency.far_standard]``, NaN for a class without one) and the ``[constants]``. A
parcel is listed once with every reason it meets (codes joined by ``;``); totals count a parcel
under each reason it meets, so the per-reason sums over zones or towns equal the reason's total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import Config
from .engine import _condition

OUTSIDE = "—"


def identify(
    frame: pd.DataFrame,
    evaluation: pd.DataFrame,
    config: Config,
    *,
    use_field: str = "current_use",
) -> pd.DataFrame:
    """One row per parcel meeting at least one reason (index = parcel code).

    ``frame``: the enterprise table (``engine.enterprise_frame``, with area_ha, area_mu);
    ``evaluation``: ``engine.evaluate``'s rows. Columns: ``reasons`` (codes, ``;``-joined, in
    configuration order), ``reason`` (the first), ``reasons_zh``, one 0/1 column per reason
    code, ``area_ha``, ``area_mu``, ``score``, ``grade``.
    """
    rules = config.low_efficiency.reasons
    table = frame.copy()
    table["score"] = evaluation["score"]
    table["grade"] = evaluation["grade"]
    standard = config.low_efficiency.far_standard
    uses = table[use_field] if use_field in table.columns else pd.Series(None, index=table.index)
    table["far_standard"] = uses.map(standard).astype(float)
    for name in sorted(config.names()):
        if name not in table.columns:
            table[name] = np.nan
    hits = pd.DataFrame(
        {rule.name: _condition(rule, table, config.constants) for rule in rules},
        index=table.index,
        dtype=bool,
    )
    any_hit = hits.any(axis=1) if rules else pd.Series(False, index=table.index)
    listed = hits[any_hit]
    labels = {rule.name: rule.label_zh or rule.name for rule in rules}
    out = pd.DataFrame(index=listed.index)
    names = np.asarray([rule.name for rule in rules], dtype=object)
    out["reasons"] = [";".join(names[row]) for row in listed.to_numpy(dtype=bool)]
    out["reason"] = [names[row][0] for row in listed.to_numpy(dtype=bool)]
    out["reasons_zh"] = [
        "；".join(labels[n] for n in names[row]) for row in listed.to_numpy(dtype=bool)
    ]
    for name in names:
        out[name] = listed[name].astype(int)
    out["area_ha"] = table.loc[listed.index, "area_ha"].astype(float)
    out["area_mu"] = table.loc[listed.index, "area_mu"].astype(float)
    out["score"] = table.loc[listed.index, "score"]
    out["grade"] = table.loc[listed.index, "grade"]
    return out


def totals(listed: pd.DataFrame, config: Config, places: pd.DataFrame) -> pd.DataFrame:
    """Parcels, ha and 亩 by reason: overall (``by = all``) and per key of every column of
    ``places`` (e.g. ``zone``, ``town``; None = outside, shown as ``—``).

    Index (by, key, reason); a parcel with two reasons counts under each, so the row ``any``
    (every listed parcel once) can be less than the sum of the reasons.
    """
    rows = []
    codes = [rule.name for rule in config.low_efficiency.reasons]
    labels = {rule.name: rule.label_zh for rule in config.low_efficiency.reasons}
    keys = {"all": pd.Series("all", index=listed.index, dtype=object)}
    for column in places.columns:
        keys[column] = places[column].reindex(listed.index).fillna(OUTSIDE).astype(str)
    for by, key in keys.items():
        for reason in [*codes, "any"]:
            mask = (
                listed[reason].astype(bool)
                if reason != "any"
                else pd.Series(True, index=listed.index)
            )
            grouped = listed[mask].groupby(key[mask])
            for value, part in grouped:
                rows.append(
                    {
                        "by": by,
                        "key": value,
                        "reason": reason,
                        "reason_zh": labels.get(reason, "合计"),
                        "parcels": len(part),
                        "area_ha": float(part["area_ha"].sum()),
                        "area_mu": float(part["area_mu"].sum()),
                    }
                )
    columns = ["by", "key", "reason", "reason_zh", "parcels", "area_ha", "area_mu"]
    return pd.DataFrame(rows, columns=columns).set_index(["by", "key", "reason"])


__all__ = ["OUTSIDE", "identify", "totals"]
