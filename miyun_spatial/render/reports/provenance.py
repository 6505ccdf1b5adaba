"""The report's data-provenance table: per layer, how many features are schematic, surveyed,
imported or synthetic (the honest-data statement every report carries)."""

from __future__ import annotations

import pandas as pd

from ...core.catalogue import CATALOGUE
from ...core.plan import PlanData
from .model import Column, Table, make_table


def provenance_table(plan: PlanData) -> Table:
    """Per layer: features, and how many are schematic/surveyed/imported or synthetic."""
    geom = CATALOGUE["clusters"].field("geom_source")
    basis = CATALOGUE["land_parcels"].field("data_basis")
    rows = []
    for spec in CATALOGUE.layers:
        frame = plan.layers.get(spec.name)
        if frame is None or spec.role == "attributes":
            continue
        row: dict[str, object] = {
            "layer": spec.name,
            "title": spec.title,
            "features": len(frame),
        }
        for v in geom.values:
            row[f"geom_{v.value}"] = (
                int((frame[geom.name] == v.value).sum()) if geom.name in frame.columns else None
            )
        for v in basis.values:
            row[f"basis_{v.value}"] = (
                int((frame[basis.name] == v.value).sum()) if basis.name in frame.columns else None
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    for column in table.columns[2:]:
        table[column] = table[column].astype("Int64")
    columns = (
        Column("layer", "图层", "Layer"),
        Column("title", "名称", "Title"),
        Column("features", "要素数", "Features", kind="int"),
        *(
            Column(f"geom_{v.value}", f"几何{v.label_zh}", f"geometry {v.label_en}", kind="int")
            for v in geom.values
        ),
        *(
            Column(f"basis_{v.value}", f"属性{v.label_zh}", f"attributes {v.label_en}", kind="int")
            for v in basis.values
        ),
    )
    return make_table(
        "provenance",
        "数据来源",
        "Data provenance",
        table,
        columns,
        note="示意 schematic: outlines drawn from the plan's text, not surveyed; "
        "合成 synthetic: invented parcel attributes that reproduce the plan's totals.",
    )
