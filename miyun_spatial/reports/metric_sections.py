"""The sections drawn from the metric tables of ``metrics.compute_all``: mix, adjustments, yield.

The metrics are never recomputed here. Each metric table is shown whole, as ``compute_all``
returns it (index levels as leading columns, numbers untouched), with labelled headers; a few
compact views beside it (shares of each class per zone, yield against target, the Table 1-1
ranking) only select, pivot or sort its values, and feed the charts. A section whose tables
are absent says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from ..catalogue import CATALOGUE
from ..checks.recompute import PARK_LAYER, park_code
from ..metrics.adjustments import KIND_LABELS
from ..metrics.mix import UNCOVERED, UNCOVERED_LABEL, USE_LABELS
from ..metrics.yields import MIYUN_PARK_ZH
from ..palette import UNCOVERED_COLOR, grade_labels, land_use_colors
from ..store import PlanData
from .model import MISSING, Chart, Column, Section, Table, column_for, make_table

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
CHART_USES = ("current", "adjusted")  # the mix before and after the plan's changes
MAX_PARCEL_ROWS = 200  # parcels listed per report table; the CSVs list every parcel


def metric_table(key: str, zh: str, en: str, frame: pd.DataFrame, *, note: str = "") -> Table:
    """A metric table shown whole: index levels first, every column labelled."""
    flat = frame.reset_index()
    for name in flat.columns:
        if pd.api.types.is_bool_dtype(flat[name]):
            flat[name] = flat[name].map({True: "是 yes", False: "否 no"}).astype(object)
    columns = [column_for(str(name)) for name in flat.columns]
    return make_table(key, zh, en, flat, tuple(columns), note=note)


def _missing(tables: Mapping[str, pd.DataFrame], names: tuple[str, ...]) -> tuple[str, ...]:
    absent = [n for n in names if n not in tables]
    return (f"Not computed: {', '.join(absent)} (metrics unavailable).",) if absent else ()


def zone_names(plan: PlanData) -> dict[tuple[str, str], str]:
    """(layer, code) -> Chinese name of every plan feature."""
    names = {}
    for spec in CATALOGUE.plan_layers:
        frame = plan.layers.get(spec.name)
        if frame is not None and "name_zh" in frame.columns:
            for code, name in zip(frame[spec.id_field], frame["name_zh"], strict=True):
                names[(spec.name, str(code))] = "" if name is None else str(name)
    return names


# --- 用地结构 Land-use mix ------------------------------------------------------------------


def mix_section(tables: Mapping[str, pd.DataFrame], plan: PlanData) -> Section:
    notes = _missing(tables, ("mix", "mix_indices"))
    if notes:
        return Section("mix", "用地结构", "Land-use mix", "Not available.", notes=notes)
    mix, indices = tables["mix"], tables["mix_indices"]
    classes = plan.layers.get("land_use_classes")
    views, charts = [], []
    for use in CHART_USES:
        table = share_view(mix, indices, use, classes, zone_names(plan))
        views.append(table)
        series = tuple(c.key for c in table.columns[2:])
        colors = land_use_colors(classes) if classes is not None else {}
        colors[UNCOVERED] = UNCOVERED_COLOR
        colors = {k: v for k, v in colors.items() if _HEX.match(str(v))}  # edited in QGIS
        charts.append(
            Chart(
                f"mix_{use}",
                f"用地结构：{USE_LABELS[use].split(' ', 1)[0]}",
                f"Land-use mix, {USE_LABELS[use].split(' ', 1)[1]}",
                table.key,
                "label",
                series,
                kind="stacked",
                value_label="占分区面积 share of zone area",
                colors={k: v for k, v in colors.items() if k in series},
            )
        )
    tables_out = (
        *views,
        metric_table(
            "mix_indices",
            "用地混合度指数",
            "Mix indices: Shannon entropy normalised by ln K (K = all classes) and HHI",
            indices.reset_index()
            .assign(use=lambda f: f["use"].map(USE_LABELS))
            .set_index(["layer", "zone", "use"]),
        ),
        metric_table(
            "mix",
            "各分区各类用地面积",
            "Area of each class in each zone (current / planned / after re-designation)",
            _labelled_uses(mix),
            note=f"'{UNCOVERED}' = {UNCOVERED_LABEL}; shares are of the zone's area.",
        ),
    )
    return Section(
        "mix",
        "用地结构",
        "Land-use mix",
        "Zone × land-use class areas and shares (current, planned and after re-designation), "
        "with the entropy and HHI mix indices. Zones without parcels are listed in the indices "
        "with no entropy.",
        tables_out,
        tuple(charts),
    )


def _labelled_uses(mix: pd.DataFrame) -> pd.DataFrame:
    flat = mix.reset_index()
    flat["use"] = flat["use"].map(USE_LABELS).astype(object)
    return flat.set_index(list(mix.index.names))


def _class_names(classes: pd.DataFrame | None) -> dict[str, str]:
    """Land-use class code -> Chinese name, from the GeoPackage's class table."""
    if classes is None:
        return {}
    spec = CATALOGUE["land_use_classes"]
    names = classes[spec.field("name_zh").name].astype(object)
    return dict(zip(classes[spec.id_field].astype(str), names, strict=True))


def share_view(
    mix: pd.DataFrame,
    indices: pd.DataFrame,
    use: str,
    classes: pd.DataFrame | None,
    names: Mapping[tuple[str, str], str],
) -> Table:
    """Share of each class per zone for one use, zones with parcels only (a pivot of ``mix``)."""
    covered = indices.xs(use, level="use")["covered_ha"]
    zones = [key for key in covered.index if covered[key] > 0]
    part = mix.xs(use, level="use")["share"]
    wide = part.unstack("class").reindex(pd.MultiIndex.from_tuples(zones, names=["layer", "zone"]))
    order = list(_class_names(classes)) or sorted(wide.columns)
    keys = [c for c in order if c in wide.columns] + [UNCOVERED]
    wide = wide.reindex(columns=keys).fillna(0.0)
    frame = pd.DataFrame(
        {
            "label": [f"{code} {names.get((layer, code), '')}".strip() for layer, code in zones],
            "layer": [layer for layer, _code in zones],
        }
    )
    class_names = _class_names(classes)
    columns = [Column("label", "分区", "Zone"), Column("layer", "图层", "Layer")]
    for key in keys:
        frame[key] = wide[key].to_numpy()
        zh = UNCOVERED_LABEL.split(" ", 1)[0] if key == UNCOVERED else class_names.get(key, "")
        en = "not covered" if key == UNCOVERED else key
        columns.append(
            Column(key, f"{key if key != UNCOVERED else ''} {zh}".strip(), en, "", "share")
        )
    zh, en = USE_LABELS[use].split(" ", 1)
    return make_table(
        f"mix_shares_{use}",
        f"各类用地占比（{zh}）",
        f"Share of each class by zone ({en})",
        frame,
        tuple(columns),
        note="Zones with parcels only; a class absent from a zone shows 0.",
    )


# --- 用地调整 Adjustments ------------------------------------------------------------------


def adjustments_section(tables: Mapping[str, pd.DataFrame], plan: PlanData) -> Section:
    names = ("adjustment_totals", "transitions", "base_land_changes", "changing_parcels")
    notes = _missing(tables, names)
    out: list[Table] = []
    if "adjustment_totals" in tables:
        out.append(
            metric_table(
                "adjustment_totals",
                "用地性质调整合计",
                "Re-designations: what each changes",
                tables["adjustment_totals"],
            )
        )
    if "transitions" in tables:
        out.extend(matrix_views(tables["transitions"], plan))
        transitions = tables["transitions"].reset_index()
        transitions["kind"] = transitions["kind"].map(KIND_LABELS).astype(object)
        out.append(
            metric_table(
                "transitions",
                "各分区用地转换矩阵",
                "Transition matrices per zone (tidy: one row per from → to pair)",
                transitions.set_index(list(tables["transitions"].index.names)),
                note="Includes the unchanged diagonal (from = to), so a zone's rows of one "
                "kind sum to its area covered by parcels.",
            )
        )
    if "base_land_changes" in tables:
        changes = tables["base_land_changes"].reset_index()
        changes["category"] = (
            changes["category"]
            .map({v.value: v.label for v in CATALOGUE["farmer_bases"].field("category").values})
            .astype(object)
        )
        out.append(
            metric_table(
                "base_land_changes",
                "农民就业产业基地用地变化",
                "Farmer bases: current → planned use",
                changes.set_index(list(tables["base_land_changes"].index.names)),
            )
        )
    if "changing_parcels" in tables:
        changing = tables["changing_parcels"]
        total = pd.DataFrame(
            {"area_ha": [changing["area_ha"].sum()], "area_mu": [changing["area_mu"].sum()]},
            index=pd.Index(["合计 Total"], name="parcel_code"),
        )
        shown, capped = _capped(changing, by=["area_ha"], ascending=[False])
        out.append(
            metric_table(
                "changing_parcels",
                "用地变化地块",
                f"Parcels whose use changes ({len(changing)})"
                + (f": the {len(shown)} largest" if capped else ""),
                shown,
                note=_cap_note("changing_parcels.csv") if capped else "",
            )
        )
        out.append(metric_table("changing_total", "用地变化地块合计", "Total", total))
    return Section(
        "adjustments",
        "用地调整",
        "Adjustments",
        "Transition matrices per zone and the parcels that change, in ha and 亩, with totals.",
        tuple(out),
        notes=notes,
    )


def matrix_views(transitions: pd.DataFrame, plan: PlanData) -> list[Table]:
    """From × to matrices (ha) of the park's current extent and of every re-designation.

    A pivot of ``transitions``: rows = from class, columns = to class, with row and column
    totals; the tidy table beside it holds every zone.
    """
    zones = [(PARK_LAYER, park_code(plan))]
    adjustments = plan.layers.get(CATALOGUE["land_adjustments"].name)
    if adjustments is not None:
        id_field = CATALOGUE["land_adjustments"].id_field
        zones += [(CATALOGUE["land_adjustments"].name, str(c)) for c in adjustments[id_field]]
    classes = plan.layers.get(CATALOGUE["land_use_classes"].name)
    order = (
        list(classes[CATALOGUE["land_use_classes"].id_field].astype(str))
        if classes is not None
        else []
    )
    class_names = _class_names(classes)
    views = []
    for layer, zone in zones:
        for kind, label in KIND_LABELS.items():
            key = (layer, zone)
            if (
                zone is None
                or key not in transitions.droplevel(["from_use", "to_use", "kind"]).index
            ):
                continue
            part = transitions.xs((layer, zone, kind), level=("layer", "zone", "kind"))["area_ha"]
            if part.empty:
                continue
            matrix = part.unstack("to_use", fill_value=0.0)
            rows = [c for c in order if c in matrix.index] + sorted(set(matrix.index) - set(order))
            cols = [c for c in order if c in matrix.columns] + sorted(
                set(matrix.columns) - set(order)
            )
            matrix = matrix.reindex(index=rows, columns=cols, fill_value=0.0)
            matrix["total"] = matrix.sum(axis=1)
            matrix.loc["total"] = matrix.sum(axis=0)
            frame = matrix.reset_index().rename(columns={"from_use": "from"})
            frame["from"] = frame["from"].replace({"total": "合计 total"})
            columns = (
                Column("from", "原用地 → 新用地", "from → to"),
                *(
                    Column(
                        c,
                        "合计" if c == "total" else f"{c} {class_names.get(c, '')}".strip(),
                        "total" if c == "total" else "",
                        "ha",
                        "ha",
                    )
                    for c in matrix.columns
                ),
            )
            zh, en = label.split(" ", 1)
            views.append(
                make_table(
                    f"matrix_{zone}_{kind}",
                    f"{zone} 用地转换矩阵（{zh}）",
                    f"{zone} transition matrix ({en}), ha",
                    frame,
                    columns,
                )
            )
    return views


# --- 地均产出 Yield -----------------------------------------------------------------------


def yield_section(tables: Mapping[str, pd.DataFrame], plan: PlanData) -> Section:
    notes = _missing(tables, ("zone_yields", "parcel_yields", "benchmark"))
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
        enterprise = parcels["enterprise"].notna() | parcels["revenue_10k_cny"].notna()
        listed = parcels[enterprise]
        shown, capped = _capped(
            listed, by=["low_efficiency", "pct_of_target"], ascending=[False, True]
        )
        shown = shown.copy()
        labels = grade_labels()
        shown["grade"] = shown["grade"].map(lambda g: labels.get(g, g)).astype(object)
        out.append(parcel_summary(parcels))
        out.append(
            metric_table(
                "parcel_yields",
                "企业地块地均产出与亩均等级",
                f"Enterprise parcels: yield and grade ({len(listed)} of {len(parcels)} parcels)"
                + (f": the {len(shown)} lowest-yielding" if capped else ""),
                shown,
                note="Grades on revenue per ha of parcel area against the 2025 target; "
                "低效用地 low-efficiency = built and below the threshold (腾退 candidates)."
                + (" " + _cap_note("parcel_yields.csv") if capped else ""),
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


def _capped(
    frame: pd.DataFrame, *, by: list[str], ascending: list[bool]
) -> tuple[pd.DataFrame, bool]:
    """``frame`` whole when it has at most MAX_PARCEL_ROWS rows, else its first rows by ``by``."""
    if len(frame) <= MAX_PARCEL_ROWS:
        return frame, False
    order = frame.sort_values(by, ascending=ascending, kind="stable", na_position="last")
    return order.head(MAX_PARCEL_ROWS), True


def _cap_note(csv_name: str) -> str:
    return (
        f"仅列出前 {MAX_PARCEL_ROWS} 个地块，完整列表见 {csv_name}。 Only {MAX_PARCEL_ROWS} "
        f"parcels are listed here; {csv_name} beside this report lists every one."
    )


SUMMARY_KEYS = ("clusters", "current_use", "grade")


def parcel_summary(parcels: pd.DataFrame) -> Table:
    """Parcels by cluster, current land-use class and grade: counts, area, revenue.

    A fixed-size digest of ``parcel_yields`` whatever the number of parcels (sums of its
    columns, nothing recomputed).
    """
    keys = [k for k in SUMMARY_KEYS if k in parcels.columns]
    frame = parcels[keys].astype(object).fillna(MISSING)
    labels = grade_labels()
    if "grade" in frame.columns:
        frame["grade"] = frame["grade"].map(lambda g: labels.get(g, g))
    frame["parcels"] = 1
    frame["low_efficiency_parcels"] = parcels["low_efficiency"].astype(bool).astype(int)
    for column in ("area_ha", "area_mu", "revenue_10k_cny"):
        frame[column] = pd.to_numeric(parcels[column], errors="coerce")
    summary = frame.groupby(keys, sort=True).sum(min_count=1).reset_index()
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


# --- figures for the summary and the indicators -------------------------------------------


def key_figures(
    tables: Mapping[str, pd.DataFrame], plan: PlanData
) -> list[tuple[str, float, str, str]]:
    """(figure, value, unit, source) rows from the metric tables."""
    rows: list[tuple[str, float, str, str]] = []
    code = park_code(plan)
    yields = tables.get("zone_yields")
    if yields is not None and code and (PARK_LAYER, code) in yields.index:
        row = yields.loc[(PARK_LAYER, code)]
        src = "地均产出 Yield"
        rows += [
            (
                f"{code} 已建成城镇建设用地 built urban-construction land",
                row["built_construction_ha"],
                "ha",
                src,
            ),
            (f"{code} 地均收入 revenue per built ha", row["revenue_per_ha"], "万元/公顷", src),
            (f"{code} 2025年目标 target", row["target_revenue_per_ha"], "万元/公顷", src),
            (f"{code} 达标尚需收入 revenue needed", row["revenue_needed_10k_cny"], "万元", src),
            (
                f"{code} 地均产值 output per built industrial ha",
                row["output_per_ha"],
                "万元/公顷",
                src,
            ),
        ]
    bench = tables.get("benchmark")
    if bench is not None and bench["is_miyun"].any():
        miyun = bench[bench["is_miyun"]].iloc[0]
        rows.append(
            (
                f"表1-1 密云园单位面积收入排名 Miyun's rank of {len(bench)}",
                float(miyun["revenue_rank"]),
                "名",
                "地均产出 Yield",
            )
        )
    totals = tables.get("adjustment_totals")
    if totals is not None:
        for code_, row in totals.iterrows():
            rows.append(
                (f"{code_} 调整面积 re-designated", row["changed_ha"], "ha", "用地调整 Adjustments")
            )
    parcels = tables.get("parcel_yields")
    if parcels is not None:
        rows.append(
            (
                "低效用地地块 Low-efficiency parcels",
                float(parcels["low_efficiency"].sum()),
                "个",
                "地均产出 Yield",
            )
        )
    return rows


def computed_indicators(
    tables: Mapping[str, pd.DataFrame], plan: PlanData
) -> dict[str, tuple[float | None, str]]:
    """Table 2-1 indicators the data can give: code -> (value, how it is computed)."""
    out: dict[str, tuple[float | None, str]] = {}
    code = park_code(plan)
    yields = tables.get("zone_yields")
    if yields is not None and code and (PARK_LAYER, code) in yields.index:
        row = yields.loc[(PARK_LAYER, code)]
        out["I06"] = (
            float(row["revenue_per_ha"]),
            f"{code}: parcel revenue ÷ built urban-construction land (地均产出 Yield)",
        )
        out["I07"] = (
            float(row["output_yuan_per_m2"]),
            f"{code}: industrial output ÷ built industrial land of all manufacturers, "
            "not only high-tech ones",
        )
    parcels = plan.layers.get("land_parcels")
    output, employees = "output_10k_cny", "employees"
    if parcels is not None and {output, employees} <= set(parcels.columns):
        values = pd.to_numeric(parcels[output], errors="coerce")
        staff = pd.to_numeric(parcels[employees], errors="coerce")
        both = values.notna() & staff.notna() & (staff > 0)
        if both.any():
            out["I05"] = (
                float(values[both].sum() / staff[both].sum()),
                f"industrial output ÷ employees of the {int(both.sum())} parcels reporting both",
            )
    return out
