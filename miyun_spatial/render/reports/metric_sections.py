"""The sections drawn from the metric tables of ``metrics.compute_all``: mix and adjustments
(the yield section is in :mod:`.yield_section`), and the key figures.

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

from ...core.catalogue import CATALOGUE
from ...core.landuse import KIND_LABELS, UNCOVERED, UNCOVERED_LABEL, USE_LABELS
from ...core.palette import UNCOVERED_COLOR, land_use_colors
from ...core.plan import PlanData
from ...core.vocabulary import VOCABULARY, park_code
from .metric_tables import cap_note, cap_rows, metric_table, missing, zone_names
from .model import Chart, Column, Section, Table, make_table

PARK_LAYER = VOCABULARY.roles["park"].layer

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
CHART_USES = ("current", "adjusted")  # the mix before and after the plan's changes

# --- 用地结构 Land-use mix ------------------------------------------------------------------


def mix_section(tables: Mapping[str, pd.DataFrame], plan: PlanData) -> Section:
    notes = missing(tables, ("mix", "mix_indices"))
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
    notes = missing(tables, names)
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
        shown, capped = cap_rows(changing, by=["area_ha"], ascending=[False])
        out.append(
            metric_table(
                "changing_parcels",
                "用地变化地块",
                f"Parcels whose use changes ({len(changing)})"
                + (f": the {len(shown)} largest" if capped else ""),
                shown,
                note=cap_note("changing_parcels.csv") if capped else "",
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
    zones = [(PARK_LAYER, park_code(plan.layers))]
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


# --- figures for the summary and the indicators -------------------------------------------


def key_figures(
    tables: Mapping[str, pd.DataFrame], plan: PlanData
) -> list[tuple[str, float, str, str]]:
    """(figure, value, unit, source) rows from the metric tables."""
    rows: list[tuple[str, float, str, str]] = []
    code = park_code(plan.layers)
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
    code = park_code(plan.layers)
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
