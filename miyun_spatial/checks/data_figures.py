"""Consistency checks of the plan against the data: areas, the park's parcels, Annex 1, counts."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

import geopandas as gpd
import pandas as pd

from ..core.catalogue import CATALOGUE
from ..core.consistency import Consistency
from ..core.crs import require_projected
from ..core.measure import MU_PER_HA, planar_area_ha
from ..core.plan import PlanData
from ..core.vocabulary import VOCABULARY, role_code
from ..metrics.mix import class_flags
from . import plan_text
from .plan_text import Stated
from .recompute import (
    LAYERS,
    PARK_LAYER,
    WAN_PER_YI,
    compare,
    exact,
    keyed_table,
    land_facts,
    layer_table,
    not_checked,
    number,
    park_code,
    printed,
    relative,
)

_PROJECTS = LAYERS["projects"]
_TOTALS = LAYERS["project_stated_totals"]
_PARCELS = LAYERS["land_parcels"]
_TOTAL_INVESTMENT = re.compile(r"总投资约?([0-9.]+)亿元")
TOTAL_ROW_ZH = "合计"  # the total row of project_stated_totals


# --- areas ------------------------------------------------------------------------------

# Roles whose feature's stated area is also a land fact (the same figure transcribed twice).
STATED_AREA_FACTS = {"park": "park_area_ha", "adjustment": "adjustment_area_ha"}
PARK_PARTS = ("C2", "C3")  # clusters making up the park's current extent: Z1 = C2 + C3


def area_checks(
    plan: PlanData, areas: pd.DataFrame | None, tolerance: float
) -> Iterator[Consistency]:
    """Measured vs stated area of every feature, Z1 = C2 + C3, candidates = their sources."""
    if areas is None:
        yield not_checked("areas", "stated_area", "plan features", "", "ha", "areas not computed")
        return
    sections = _sections(plan)
    stated = areas[areas["stated_area_ha"].notna()]
    for (layer, code), row in stated.iterrows():
        yield relative(
            "areas",
            "stated_area",
            f"{code} {row['name_zh']}",
            sections.get((layer, code), ""),
            "ha",
            float(row["stated_area_ha"]),
            float(row["area_ha"]),
            tolerance,
            f"measured in EPSG:4548 ({layer}, {row['geom_source']}) vs the area the plan states",
        )
    yield from _park_union(park_code(plan), areas, sections, tolerance)
    yield from _candidates(plan, areas, tolerance)
    facts = land_facts(plan)
    for role_name, fact_name in STATED_AREA_FACTS.items():
        role, fact_code = VOCABULARY.roles[role_name], VOCABULARY.fact(fact_name)
        layer, code = role.layer, role_code(plan.layers.get(role.layer), role)
        if (layer, code) not in areas.index or fact_code not in facts:
            continue
        fact = facts[fact_code]
        value = number(areas.loc[(layer, code), "stated_area_ha"])
        if value is None:
            continue
        yield compare(
            "areas",
            "stated_area_transcription",
            f"{code} stated area = land_facts {fact_code}",
            fact.section,
            "ha",
            printed(fact.value),
            lambda v: v,
            (exact(value),),
            f"{layer}.{code}.stated_area_ha vs land_facts {fact_code} ({fact.label})",
        )


def _sections(plan: PlanData) -> dict[tuple[str, str], str]:
    out = {}
    for spec in CATALOGUE.plan_layers:
        frame = layer_table(plan, spec.name)
        if frame is None or "plan_section" not in frame.columns:
            continue
        for code, section in zip(frame[spec.id_field], frame["plan_section"], strict=True):
            out[(spec.name, str(code))] = "" if section is None else str(section)
    return out


def _park_union(
    code: str | None, areas: pd.DataFrame, sections, tolerance: float
) -> Iterator[Consistency]:
    key = (PARK_LAYER, code)
    parts = [("clusters", part) for part in PARK_PARTS]
    if key not in areas.index or not all(p in areas.index for p in parts):
        return
    stated = number(areas.loc[key, "stated_area_ha"])
    if stated is None:
        return
    total = float(sum(areas.loc[p, "area_ha"] for p in parts))
    yield relative(
        "areas",
        "park_equals_clusters",
        f"{code} = {' + '.join(PARK_PARTS)}",
        sections.get(key, ""),
        "ha",
        stated,
        total,
        tolerance,
        f"measured {' + '.join(PARK_PARTS)} vs the park's stated planned area",
    )


def _candidates(plan: PlanData, areas: pd.DataFrame, tolerance: float) -> Iterator[Consistency]:
    """Each expansion candidate copies a plan feature: same site, same area."""
    park = layer_table(plan, "zgc_park")
    source_field = LAYERS["zgc_park"].field("source_code").name
    if park is None or source_field not in park.columns:
        return
    by_code = {code: layer for layer, code in areas.index}
    for code, source, section in zip(
        park["code"], park[source_field], park["plan_section"], strict=True
    ):
        if source is None or pd.isna(source) or ("zgc_park", code) not in areas.index:
            continue
        source_layer = by_code.get(str(source))
        if source_layer is None:
            yield not_checked(
                "areas",
                "candidate_same_site",
                f"{code} = {source}",
                str(section or ""),
                "ha",
                f"source feature {source} not found",
            )
            continue
        yield relative(
            "areas",
            "candidate_same_site",
            f"{code} = {source}",
            str(section or ""),
            "ha",
            float(areas.loc[(source_layer, str(source)), "area_ha"]),
            float(areas.loc[("zgc_park", code), "area_ha"]),
            tolerance,
            f"measured area of expansion candidate {code} vs its source feature {source}",
            basis="data vs data",
        )


# --- the park's land and yield, recomputed from the parcels ----------------------------


def park_checks(plan: PlanData, tables: Mapping[str, pd.DataFrame]) -> Iterator[Consistency]:
    """The park's land figures and 2020 yields (一（二）6), recomputed from the parcels.

    Uses the metric tables (``mix``, ``mix_indices``, ``zone_yields``) of the park's current
    extent; nothing is recomputed here beyond summing the industrial classes of ``mix``.
    """
    code = park_code(plan)
    facts = land_facts(plan)
    needed = ("mix", "mix_indices", "zone_yields")
    absent = [name for name in needed if name not in tables]
    key = (PARK_LAYER, code)
    if code is None or absent or key not in tables["zone_yields"].index:
        why = f"metric tables {', '.join(absent)} not computed" if absent else "no park extent"
        yield not_checked("park", "park_from_parcels", "密云园 Miyun park", "一（二）6", "", why)
        return
    for fact_code, (value, unit, how) in _park_figures(plan, tables, code).items():
        fact = facts.get(fact_code)
        if fact is None or value is None:
            why = f"land_facts {fact_code} missing" if fact is None else how
            yield not_checked("park", "park_from_parcels", f"{code} {fact_code}", "", unit, why)
            continue
        yield compare(
            "park",
            "park_from_parcels",
            f"{code} {fact.label}",
            fact.section,
            fact.unit,
            printed(fact.value),
            lambda v: v,
            (exact(value),),
            how,
            basis="plan vs data",
        )


def _park_figures(
    plan: PlanData, tables: Mapping[str, pd.DataFrame], code: str
) -> dict[str, tuple[float | None, str, str]]:
    """land_facts code -> (value recomputed from the metric tables, unit, how)."""
    row = tables["zone_yields"].loc[(PARK_LAYER, code)]
    covered = _lookup(tables["mix_indices"], (PARK_LAYER, code, "planned"), "covered_ha")
    industrial = None
    classes = plan.layers.get(LAYERS["land_use_classes"].name)
    if classes is not None:
        flags = class_flags(classes)["industrial"]
        planned = tables["mix"].xs((PARK_LAYER, code, "planned"), level=(0, 1, 2), drop_level=True)
        is_industrial = planned.index.map(lambda c: bool(flags.get(c, False)))
        industrial = float(planned.loc[list(is_industrial), "area_ha"].sum())

    def amount(column: str) -> float | None:
        value = number(row[column])
        return None if value is None else value / WAN_PER_YI

    return {
        "F01": (covered, "ha", f"area of {code} covered by parcels with a planned use"),
        "F02": (industrial, "ha", f"planned industrial classes inside {code} (用地结构 mix)"),
        "F03": (number(row["built_construction_ha"]), "ha", "built urban-construction parcels"),
        "F04": (number(row["built_industrial_ha"]), "ha", "built industrial parcels"),
        "F05": (
            number(row["revenue_per_ha"]),
            "万元/公顷",
            "parcel revenue ÷ built urban-construction land",
        ),
        "F06": (
            number(row["output_per_ha"]),
            "万元/公顷",
            "parcel industrial output ÷ built industrial land",
        ),
        "F07": (amount("revenue_10k_cny"), "亿元", "sum of parcel revenue"),
        "F08": (amount("output_10k_cny"), "亿元", "sum of parcel industrial output"),
    }


def _lookup(frame: pd.DataFrame, key: tuple, column: str) -> float | None:
    return number(frame.loc[key, column]) if key in frame.index else None


# --- Annex 1 ----------------------------------------------------------------------------


AMOUNTS = (  # (projects field, project_stated_totals field)
    ("fixed_investment_10k_cny", "stated_fixed_investment_10k_cny"),
    ("construction_investment_10k_cny", "stated_construction_investment_10k_cny"),
)


def annex1_subtotals(plan: PlanData) -> pd.DataFrame:
    """Annex 1 per stage and in total: the items' sums beside the figures the plan prints.

    Index: the stage as the plan names it (``在谈项目`` …, and ``合计``). Columns: ``stage``
    (the projects.stage value, null for the total), ``items``, and for each amount
    ``<field>`` (sum of the items), ``<stated field>`` (as printed, null where not printed)
    and ``<field>_diff`` (sum − printed).
    """
    projects = layer_table(plan, _PROJECTS.name)
    stated = keyed_table(plan, _TOTALS.name)
    stage_field = _PROJECTS.field("stage")
    rows = {}
    groups = [(s.label_zh, s.value) for s in stage_field.values] + [(TOTAL_ROW_ZH, None)]
    for label, value in groups:
        if projects is None:
            items = pd.DataFrame(columns=[a for a, _s in AMOUNTS])
        elif value is None:
            items = projects
        else:
            items = projects[projects[stage_field.name] == value]
        row: dict[str, object] = {"stage": value, "items": len(items)}
        for amount, printed_field in AMOUNTS:
            total = float(pd.to_numeric(items[amount], errors="coerce").sum())
            shown = None
            if stated is not None and label in stated.index:
                shown = number(stated.loc[label, printed_field])
            row[amount] = total
            row[printed_field] = shown
            row[f"{amount}_diff"] = None if shown is None else total - shown
        rows[label] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "stage_zh"
    numeric = [c for c in frame.columns if c not in ("stage", "items")]
    frame[numeric] = frame[numeric].astype("float64")
    frame["items"] = frame["items"].astype("int64")
    return frame


def project_checks(
    plan: PlanData, parcels: gpd.GeoDataFrame | None, tolerance: float
) -> Iterator[Consistency]:
    """Annex 1: subtotals and total vs the items, numbering, investments, land areas.

    ``parcels`` is the parcel layer in EPSG:4548 (for the projects' land areas).
    """
    projects = layer_table(plan, _PROJECTS.name)
    if projects is None or layer_table(plan, _TOTALS.name) is None:
        yield not_checked("projects", "subtotal", "附件1 Annex 1", "附件1", "万元", "table missing")
        return
    subtotals = annex1_subtotals(plan)
    stage_field = _PROJECTS.field("stage")
    labels = {s.label_zh: s for s in stage_field.values}
    stage_rows = subtotals[subtotals["stage"].notna()]
    for label, row in subtotals.iterrows():
        stage = labels.get(str(label))
        name = f"{label} {stage.label_en}" if stage else f"{label} Total"
        check = "subtotal" if stage else "total"
        for amount, printed_field in AMOUNTS:
            subject = f"{name}: {_PROJECTS.field(amount).label}"
            shown = number(row[printed_field])
            if shown is None:
                yield not_checked("projects", check, subject, "附件1", "万元", "not printed")
                continue
            scope = f"the {row['items']} items of the stage" if stage else "all items"
            yield Consistency(
                "projects",
                check,
                subject,
                "附件1",
                shown,
                float(row[amount]),
                "万元",
                "consistent" if float(row[amount]) == shown else "mismatch",
                f"sum of {scope} vs the {'sub' if stage else ''}total the plan prints",
            )
            if stage is None and stage_rows[printed_field].notna().all():
                printed_sum = float(stage_rows[printed_field].sum())
                yield Consistency(
                    "projects",
                    "total_of_subtotals",
                    f"{label} Total = Σ subtotals: {_PROJECTS.field(amount).label}",
                    "附件1",
                    shown,
                    printed_sum,
                    "万元",
                    "consistent" if printed_sum == shown else "mismatch",
                    "sum of the printed subtotals vs the printed total",
                )
    for stage in stage_field.values:
        yield from _numbering(projects[projects[stage_field.name] == stage.value], stage)
    yield from _content_investment(projects)
    yield from _project_land(parcels, projects, tolerance)


def _numbering(items: pd.DataFrame, stage) -> Iterator[Consistency]:
    seq = pd.to_numeric(items["seq"], errors="coerce").dropna().astype(int).sort_values()
    expected = list(range(1, len(items) + 1))
    if seq.tolist() != expected:
        yield Consistency(
            "projects",
            "numbering",
            f"{stage.label_zh} {stage.label_en}: 序号 numbering",
            "附件1",
            float(len(items)),
            float(seq.max()) if len(seq) else None,
            "个",
            "mismatch",
            f"items are numbered {seq.tolist()}, expected 1..{len(items)}",
            "plan vs data",
        )


def _content_investment(projects: pd.DataFrame) -> Iterator[Consistency]:
    """'计划总投资约3.15亿元' in a project's description vs its fixed investment column."""
    for code, content, amount in zip(
        projects["code"], projects["content_zh"], projects["fixed_investment_10k_cny"], strict=True
    ):
        match = _TOTAL_INVESTMENT.search(str(content or ""))
        value = number(amount)
        if not match or value is None:
            continue
        text_value = float(match.group(1))
        yield compare(
            "projects",
            "content_vs_amount",
            f"{code} 总投资 total investment",
            "附件1",
            "亿元",
            printed(text_value),
            lambda v: v / WAN_PER_YI,
            (exact(value),),
            f"the description says {match.group(0)}; the fixed-investment column says "
            f"{value:,.0f} 万元",
        )


def _project_land(
    parcels: gpd.GeoDataFrame | None, projects: pd.DataFrame, tolerance: float
) -> Iterator[Consistency]:
    """A project's stated land area (亩) vs the area of its parcels (in EPSG:4548)."""
    ref = _PARCELS.field("project_code").name
    if parcels is None or ref not in parcels.columns or "stated_land_mu" not in projects:
        return
    require_projected(parcels, layer=_PARCELS.name)
    linked = parcels[parcels[ref].notna()]
    area_ha = planar_area_ha(linked).groupby(linked[ref].astype(str)).sum()
    measured_mu = area_ha * MU_PER_HA
    for code, stated_mu in zip(projects["code"], projects["stated_land_mu"], strict=True):
        value = number(stated_mu)
        if value is None or str(code) not in measured_mu.index:
            continue
        yield relative(
            "projects",
            "project_land",
            f"{code} 占地面积 land area",
            "附件1",
            "亩",
            value,
            float(measured_mu[str(code)]),
            tolerance,
            f"area of the parcels with project_code {code} (EPSG:4548) vs the stated 亩",
        )


# --- counts -----------------------------------------------------------------------------


def count_checks(plan: PlanData) -> Iterator[Consistency]:
    """The "3+3+6" layout, the 7 bases by category (5/1/1), the expansion candidates."""
    for layer, stated in plan_text.LAYOUT_COUNTS.items():
        frame = layer_table(plan, layer)
        spec = LAYERS[layer]
        yield _count(f"{spec.title_zh} {spec.title_en}", stated, None if frame is None else frame)
    yield from _value_counts("farmer_bases", "category", plan_text.BASE_CATEGORY_COUNTS, plan)
    yield from _value_counts("zgc_park", "expansion_status", plan_text.EXPANSION_COUNTS, plan)


def _count(subject: str, stated: Stated, frame: pd.DataFrame | None) -> Consistency:
    if frame is None:
        return not_checked(
            "counts", "feature_count", subject, stated.section, stated.unit, "no layer"
        )
    return Consistency(
        "counts",
        "feature_count",
        subject,
        stated.section,
        stated.value,
        float(len(frame)),
        stated.unit,
        "consistent" if len(frame) == stated.value else "mismatch",
        f"features in the layer vs the plan: “{stated.quote_zh}”",
        "plan vs data",
    )


def _value_counts(layer: str, field: str, stated: Mapping[str, Stated], plan: PlanData):
    frame = layer_table(plan, layer)
    spec = LAYERS[layer].field(field)
    for value, figure in stated.items():
        label = spec.value_spec(value)
        subject = f"{LAYERS[layer].title_zh}: {label.label if label else value}"
        if frame is None or field not in frame.columns:
            yield not_checked("counts", f"{field}_count", subject, figure.section, "个", "no layer")
            continue
        count = int((frame[field] == value).sum())
        yield Consistency(
            "counts",
            f"{field}_count",
            subject,
            figure.section,
            figure.value,
            float(count),
            figure.unit,
            "consistent" if count == figure.value else "mismatch",
            f"features with {field} = {value} vs the plan: “{figure.quote_zh}”",
            "plan vs data",
        )
