"""The 地均产出 yield section: zones against the 2025 targets, the Table 1-1 benchmark, parcel
grades (their summary whole, the parcel lists capped)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from ...core.palette import grade_labels
from ...core.plan import PlanData
from ...core.vocabulary import MIYUN_PARK_ZH
from .metric_tables import cap_note, cap_rows, metric_table, missing, present, zone_names
from .model import MISSING, Chart, Column, Section, Table, column_for, make_table


def yield_section(tables: Mapping[str, pd.DataFrame], plan: PlanData) -> Section:
    notes = missing(tables, ("zone_yields", "parcel_yields", "benchmark"))
    out: list[Table] = []
    charts: list[Chart] = []
    if "zone_yields" in tables:
        view = yield_view(tables["zone_yields"], zone_names(plan))
        out.append(view)
        charts.append(
            Chart(
                "yield_vs_target",
                "地均收入与2025年目标",
                "Revenue per built ha vs the 2025 target",
                view.key,
                "label",
                ("revenue_per_ha", "target_revenue_per_ha"),
                kind="bar",
                value_label="万元/公顷",
                colors={"revenue_per_ha": "#4c78a8", "target_revenue_per_ha": "#bbbbbb"},
            )
        )
        out.append(
            metric_table(
                "zone_yields", "各分区地均产出", "Yield per zone (all zones)", tables["zone_yields"]
            )
        )
    if "benchmark" in tables:
        bench = tables["benchmark"].sort_values("revenue_rank", kind="stable")
        miyun = bench.index[bench["is_miyun"]]
        out.append(
            metric_table(
                "benchmark",
                "中关村各分园单位土地产出（表1-1，按单位面积收入排序）",
                "Table 1-1, 2020, ranked by revenue per ha",
                bench,
            )
        )
        charts.append(
            Chart(
                "benchmark_rank",
                "中关村各分园单位面积收入排名（2020）",
                "Zhongguancun sub-parks ranked by revenue per ha, 2020",
                "benchmark",
                "park_zh",
                ("revenue_per_ha_10k_cny",),
                kind="barh",
                value_label="万元/公顷",
                highlight=str(miyun[0]) if len(miyun) else MIYUN_PARK_ZH,
            )
        )
    if "parcel_yields" in tables:
        parcels = tables["parcel_yields"]
        enterprise = present(parcels["enterprise"]) | present(parcels["revenue_10k_cny"])
        listed = int(enterprise.sum())
        shown, capped = cap_rows(
            parcels,
            by=["low_efficiency", "pct_of_target"],
            ascending=[False, True],
            where=enterprise,
        )
        shown = shown.copy()
        labels = grade_labels()
        shown["grade"] = shown["grade"].map(lambda g: labels.get(g, g)).astype(object)
        out.append(parcel_summary(parcels))
        out.append(
            metric_table(
                "parcel_yields",
                "企业地块地均产出与亩均等级",
                f"Enterprise parcels: yield and grade ({listed} of {len(parcels)} parcels)"
                + (f": the {len(shown)} lowest-yielding" if capped else ""),
                shown,
                note="Grades on revenue per ha of parcel area against the 2025 target; "
                "低效用地 low-efficiency = built and below the threshold (腾退 candidates)."
                + (" " + cap_note("parcel_yields.csv") if capped else ""),
            )
        )
    return Section(
        "yield",
        "地均产出",
        "Yield",
        "Yield per zone and per enterprise parcel against the targets, the revenue each zone "
        "needs to reach them, and the Table 1-1 benchmark with Miyun's rank.",
        tuple(out),
        tuple(charts),
        notes=notes,
    )


SUMMARY_KEYS = ("clusters", "current_use", "grade")


def parcel_summary(parcels: pd.DataFrame) -> Table:
    """Parcels by cluster, current land-use class and grade: counts, area, revenue.

    A fixed-size digest of ``parcel_yields`` whatever the number of parcels (sums of its
    columns, nothing recomputed).
    """
    keys = [k for k in SUMMARY_KEYS if k in parcels.columns]
    values = pd.DataFrame(
        {
            "parcels": np.ones(len(parcels), dtype="int64"),
            "low_efficiency_parcels": parcels["low_efficiency"].astype(bool).astype(int),
            **{
                column: pd.to_numeric(parcels[column], errors="coerce")
                for column in ("area_ha", "area_mu", "revenue_10k_cny")
            },
        },
        index=parcels.index,
    )
    # Summed by the values as they are (one row per parcel), then by their labels (one row per
    # group): the labels are put on the groups, not on every parcel.
    groups = [group_keys(parcels[k]).rename(k) for k in keys]
    by_value = values.groupby(groups, sort=False, dropna=False).sum(min_count=1).reset_index()
    labels = grade_labels()
    for key in keys:
        labelled = by_value[key].astype(object).where(by_value[key].notna(), MISSING)
        if key == "grade":
            labelled = labelled.map(lambda g: labels.get(g, g))
        by_value[key] = labelled.astype(object)
    summary = by_value.groupby(keys, sort=True).sum(min_count=1).reset_index()
    summary["low_efficiency_parcels"] = summary["low_efficiency_parcels"].fillna(0)
    columns = (
        *(column_for(k) for k in keys),
        Column("parcels", "地块数", "Parcels", "", "int"),
        column_for("area_ha"),
        column_for("area_mu"),
        column_for("revenue_10k_cny", kind="money"),
        Column("low_efficiency_parcels", "低效用地地块", "Low-efficiency parcels", "", "int"),
    )
    return make_table(
        "parcel_summary",
        "地块汇总（按组团、现状用地、亩均等级）",
        f"Parcels by cluster, current use and grade ({len(parcels)} parcels)",
        summary,
        columns,
    )


def group_keys(column: pd.Series) -> pd.Series:
    """``column`` to group by: a column of Python strings is read into Arrow text first, which
    takes no reference to each of them (grouping by the objects touches every one, and a
    forked worker then copies every memory page they sit on: ~60 MB per column of 10^6
    distinct strings). Any other column is returned as it is."""
    if column.dtype != object:
        return column
    try:
        text = pa.array(column.to_numpy(), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only text: the objects themselves
        return column
    return pd.Series(pd.arrays.ArrowStringArray(text), index=column.index, name=column.name)


def yield_view(zone_yields: pd.DataFrame, names: Mapping[tuple[str, str], str]) -> Table:
    """Zones with built land and revenue: revenue per ha beside the target (chart data)."""
    rows = zone_yields[zone_yields["revenue_per_ha"].notna()]
    frame = pd.DataFrame(
        {
            "label": [
                f"{code} {names.get((layer, code), '')}".strip() for layer, code in rows.index
            ],
            "layer": rows.index.get_level_values(0),
            "revenue_per_ha": rows["revenue_per_ha"].to_numpy(),
            "target_revenue_per_ha": rows["target_revenue_per_ha"].to_numpy(),
            "pct_of_target": rows["pct_of_target"].to_numpy(),
            "revenue_needed_10k_cny": rows["revenue_needed_10k_cny"].to_numpy(),
        }
    )
    columns = (
        Column("label", "分区", "Zone"),
        Column("layer", "图层", "Layer"),
        *(column_for(c) for c in frame.columns[2:]),
    )
    return make_table(
        "yield_vs_target",
        "地均收入与目标",
        "Revenue per built ha against the 2025 target (zones with revenue)",
        frame,
        columns,
    )
