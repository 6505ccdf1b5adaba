"""The default GeoPackage's illustrative scenarios, taken from the plan's own alternatives.

Each is a set of edits on the default layers (``core.scenario``), provenance 'illustrative':
what-ifs to show the comparison, not proposals of the plan. Outlines are the default's
schematic ones.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import shapely

from ...core.scenario import EDITS, SCENARIOS

B7_TEXT = "五（六）7：基地被规划为战略留白用地，基地将逐步退出"
EXPANSION_TEXT = "附表任务26：积极推进1300亩土地纳入密云园的扩区工作"
A1_TEXT = "一（二）2：约108公顷（1620亩）F3多功能用地调整为科研及工业用地"


def default_scenarios(layers: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``scenarios`` and ``scenario_edits`` for the default layers (geometries normalised)."""
    parcels = layers["land_parcels"]
    zgc = layers["zgc_park"].set_index("code")
    b7 = sorted(parcels.loc[parcels["parcel_code"].str.startswith("B7-"), "parcel_code"])
    a1 = sorted(
        parcels.loc[
            parcels["parcel_code"].str.startswith("A1-") & parcels["proposed_use"].notna(),
            "parcel_code",
        ]
    )
    park = shapely.normalize(shapely.union_all([zgc.geometry["Z1"], zgc.geometry["Z3"]]))
    scenarios = [
        (
            "B7-upgrade",
            "B7 金湖基地提质升级 B7 upgraded instead of exited",
            f"规划：{B7_TEXT}。情景：太师屯镇金湖基地不退出，按提质升级类处理，其地块规划为一类工业用地"
            "（M1）。What if 太师屯镇金湖 (B7) is upgraded like B1-B5 instead of exited: its "
            "parcels planned M1 instead of strategic reserve (LB).",
            [("farmer_bases", "B7", "category", "upgrade", None)]
            + [("land_parcels", code, "planned_use", "M1", None) for code in b7],
        ),
        (
            "park-expansion",
            "密云园扩区：纳入候选Z3 The park takes in candidate Z3",
            f"规划：{EXPANSION_TEXT}。情景：拟纳入的扩区候选Z3（河南寨镇农民就业产业基地，示意范围120公顷，"
            "多于1300亩即86.7公顷）纳入密云园，Z1范围扩至Z1∪Z3。What if the proposed expansion "
            "candidate Z3 is taken into the park (schematic outline; the plan names 1300 亩 in all).",
            [
                ("zgc_park", "Z3", "expansion_status", "included", None),
                ("zgc_park", "Z1", "geometry", None, shapely.to_wkt(park, rounding_precision=-1)),
            ],
        ),
        (
            "A1-kept",
            "A1 F3用地不调整 A1 F3 land not re-designated",
            f"规划：{A1_TEXT}。情景：A1不调整，地块保持规划用途F3。What if the 108 ha of F3 "
            "multi-function land in zone A keep their planned use.",
            [("land_parcels", code, "proposed_use", None, None) for code in a1],
        ),
    ]
    scenario_rows, edit_rows = [], []
    for code, name, description, edits in scenarios:
        scenario_rows.append(
            {"scenario_code": code, "name": name, "description": description,
             "provenance": "illustrative"}
        )  # fmt: skip
        for i, (layer, feature, field, value, wkt) in enumerate(edits, 1):
            edit_rows.append(
                {"scenario_code": code, "edit_code": f"{code}-{i:02d}", "layer": layer,
                 "feature_code": feature, "field": field, "value": value, "geometry_wkt": wkt}
            )  # fmt: skip
    return {
        SCENARIOS.name: pd.DataFrame(scenario_rows, columns=list(SCENARIOS.field_names)),
        EDITS.name: pd.DataFrame(edit_rows, columns=list(EDITS.field_names)).astype(object),
    }
