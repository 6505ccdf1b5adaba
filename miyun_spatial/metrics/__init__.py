"""Spatial metrics: pure functions on GeoDataFrames, measured in EPSG:4548.

``compute_all(work, plan)`` computes every metric table of the plan at once, sharing one
zone x parcel overlay per zone layer. Its keys and their content (each module documents every
column):

- ``mix`` (``mix.land_use_mix``): index (layer, zone, use, class) -> area_ha, area_mu, share;
  ``use`` in current / planned / adjusted, one ``uncovered`` row per zone and use;
- ``mix_indices`` (``mix.mix_indices``): index (layer, zone, use) -> zone_ha, covered_ha,
  uncovered_ha, entropy (Shannon / ln K, K = all land_use_classes), hhi;
- ``zone_yields`` (``yields.zone_yields``): index (layer, zone) -> built land, revenue and
  output per built ha against the 2025 targets;
- ``parcel_yields`` (``yields.parcel_yields``): index parcel_code -> zone codes, yield,
  grade A/B/C/D/n/a, low_efficiency;
- ``benchmark`` (``yields.benchmark_table``): index park_zh -> Table 1-1 with implied land,
  ranks, Miyun's gap to its 2025 target;
- ``transitions`` (``adjustments.land_use_transitions``): index (layer, zone, from_use,
  to_use, kind) -> area_ha, area_mu;
- ``changing_parcels`` (``adjustments.changing_parcels``): index parcel_code;
- ``adjustment_totals`` (``adjustments.adjustment_totals``): index = land_adjustments code;
- ``base_land_changes`` (``adjustments.base_land_changes``): index (base, from_use, to_use);
- ``control_line_conflicts``, ``control_line_summary``, ``control_line_crossings``
  (``control_lines.control_line_analysis``): changing parcels and zones against the control
  lines (三区三线), empty when the GeoPackage has none.
- ``baselines`` (``baselines.baselines``): index (layer, zone, current_use, planned_use,
  adjusted_use) -> area_ha, area_mu, adjusted: a re-designation's states side by side
  (现状 / 批复规划 / 调整后), for the re-designations and the farmer bases.
- ``enterprise_evaluation``, ``evaluation_indicators``, ``low_efficiency_land``,
  ``low_efficiency_totals``, ``evaluation_grades``, ``indicator_monitoring``
  (``evaluation.evaluation_tables``): the configured 亩均效益评价, 规划实施监测预警
  (preset ``plan`` by default) and 低效用地 by reason, zone and town.

Zone layers are the catalogue's polygon plan layers (clusters, park_in_park, support_nodes,
farmer_bases, zgc_park, other_sites, land_adjustments); overlapping zones are each measured
in full.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from ..core.catalogue import CATALOGUE, ZONE_LAYERS
from ..core.errors import DataError
from ..core.landuse import UNCOVERED, USES, parcel_uses
from ..core.plan import PlanData
from .adjustments import (
    ADJUSTMENTS,
    BASES,
    KINDS,
    adjustment_totals,
    base_land_changes,
    changing_parcels,
    land_use_transitions,
)
from .baselines import baselines, stack_baselines
from .control_lines import LINES, PIECES_LAYER, control_line_analysis, line_zone_pieces
from .control_lines import TABLES as CONTROL_LINE_TABLES
from .mix import (
    CLASSES,
    PARCELS,
    check_classes,
    land_use_mix,
    mix_indices,
    order_index,
    source_class_mix,
)
from .overlay import overlay_pieces, parcel_zone_codes
from .reuse import outlines, reused
from .scenario_overlay import geometry_changes, updated_pieces
from .yields import (
    BENCHMARK,
    FACTS,
    Grading,
    Targets,
    benchmark_table,
    parcel_flags,
    parcel_money,
    parcel_yields,
    zone_yields,
)

log = logging.getLogger(__name__)

MIX_TABLES = ("mix", "mix_indices")
FLAGS, MONEY = ("parcel_flags",), ("parcel_money",)  # memo keys of yield_tables' parcel parts
YIELD_TABLES = ("zone_yields", "parcel_yields", "benchmark")
ADJUSTMENT_TABLES = ("transitions", "changing_parcels", "adjustment_totals", "base_land_changes")
EVALUATION_TABLES = (
    "enterprise_evaluation",
    "evaluation_indicators",
    "low_efficiency_land",
    "low_efficiency_totals",
    "evaluation_grades",
    "indicator_monitoring",
)
BASELINE_LAYERS = (ADJUSTMENTS.name, BASES.name)  # the zones whose states are shown side by side
TABLES = (
    MIX_TABLES
    + YIELD_TABLES
    + ADJUSTMENT_TABLES
    + ("baselines",)
    + CONTROL_LINE_TABLES
    + EVALUATION_TABLES
)


@dataclass(frozen=True)
class MetricInputs:
    """Everything the metrics share: zones and parcels indexed by code, and their overlays.

    ``zones``: zone layer -> GeoDataFrame indexed by ``code``; ``parcels``: indexed by
    ``parcel_code``; ``pieces``: zone layer -> ``overlay_pieces(zones, parcels)``;
    ``classes``, ``facts``, ``benchmark``: the attribute tables; ``uses``: ``parcel_uses``
    of the parcels as categoricals sharing one list of classes (integer codes for the
    group-bys); ``zone_codes``: per parcel, the zone of each layer holding most of it
    (``parcel_zone_codes``); ``lines``: the control lines. Made once, by ``prepare``; every
    table reads them from here.
    """

    zones: Mapping[str, gpd.GeoDataFrame]
    parcels: gpd.GeoDataFrame
    pieces: Mapping[str, pd.DataFrame]
    classes: pd.DataFrame
    facts: pd.DataFrame | None
    benchmark: pd.DataFrame | None
    uses: pd.DataFrame
    zone_codes: pd.DataFrame
    lines: gpd.GeoDataFrame | None = None  # the control_lines layer, if any
    # a scenario's: the base inputs, whose parts unchanged inputs reuse (``reuse.reused``)
    base: MetricInputs | None = field(default=None, compare=False, repr=False)
    memo: dict = field(default_factory=dict, compare=False, repr=False)


def coded_uses(uses: pd.DataFrame) -> pd.DataFrame:
    """``parcel_uses`` as categoricals sharing one list of classes (in order of appearance)."""
    # one dictionary over the three columns, in order of first appearance (as pd.factorize),
    # encoded by Arrow: no Python string per parcel
    columns = [pa.array(uses[c].array, type=pa.large_string(), from_pandas=True) for c in uses]
    text = pa.chunked_array(
        [chunk for c in columns for chunk in (c.chunks if isinstance(c, pa.ChunkedArray) else [c])],
        type=pa.large_string(),
    ).combine_chunks()
    encoded = text.dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    categories = pd.Index(np.asarray(encoded.dictionary.to_pylist(), dtype=object), dtype=object)
    n = len(uses)
    return pd.DataFrame(
        {
            column: pd.Categorical.from_codes(codes[i * n : (i + 1) * n], categories)
            for i, column in enumerate(uses.columns)
        },
        index=uses.index,
    )


def by_code(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """``frame`` indexed by its catalogue id field (the feature's code); DataError on gaps."""
    field = CATALOGUE[layer].id_field
    if field not in frame.columns:
        raise DataError(f"layer '{layer}' has no field '{field}'; add it (text, unique code)")
    empty = frame[field].isna()
    if empty.any():
        raise DataError(
            f"layer '{layer}' fid {frame.index[empty][0]}: '{field}' is empty; "
            "give every feature a code"
        )
    return frame.set_index(frame[field].astype(str).rename(field))


def prepare(
    work: Mapping[str, gpd.GeoDataFrame],
    plan: PlanData,
    *,
    layers: tuple[str, ...] = ZONE_LAYERS,
    base: MetricInputs | None = None,
) -> MetricInputs:
    """Index the zone layers and the parcels by code and overlay each zone layer once.

    With ``base`` (the inputs of the same features before a scenario's edits), only the zones
    and parcels whose geometry differs are overlaid again (``scenario_overlay``).

    Raises DataError (naming the layer, the feature and the fix) for a missing parcel layer,
    an empty or duplicate code, an empty or unknown land-use code, a missing geometry.
    """
    if PARCELS.name not in work:
        raise DataError(
            f"{plan.path}: layer '{PARCELS.name}' is missing; the metrics need land parcels"
        )
    parcels = by_code(work[PARCELS.name], PARCELS.name)
    classes = plan[CLASSES.name]
    uses = parcel_uses(parcels)
    for use in uses.columns:  # every table reads these codes: check them once, up front
        check_classes(uses[use], list(pd.unique(uses[use])), classes)
    zones = {name: by_code(work[name], name) for name in layers if name in work}
    pieces = {}
    moved = None if base is None else geometry_changes(base.parcels, parcels)
    for name, frame in zones.items():
        if base is not None and name in base.pieces:
            pieces[name] = updated_pieces(
                base.pieces[name], frame, parcels, zone_layer=name, parcel_layer=PARCELS.name,
                changed_zones=geometry_changes(base.zones[name], frame), changed_parcels=moved,
            )  # fmt: skip
            continue
        pieces[name] = overlay_pieces(frame, parcels, zone_layer=name, parcel_layer=PARCELS.name)
        log.info("%s: %d zones, %d parcel pieces", name, len(frame), len(pieces[name]))
    return MetricInputs(
        zones=zones,
        parcels=parcels,
        pieces=pieces,
        classes=classes,
        facts=plan.layers.get(FACTS.name),
        benchmark=plan.layers.get(BENCHMARK.name),
        uses=coded_uses(uses),
        zone_codes=parcel_zone_codes(parcels.index, pieces),
        lines=work.get(LINES.name),
        base=base,
    )


def _per_layer(parts: Mapping[str, pd.DataFrame], classes: pd.DataFrame) -> pd.DataFrame:
    """The per-layer tables stacked under a ``layer`` level, in catalogue and plan order."""
    table = pd.concat(dict(parts), names=["layer"])
    codes = list(classes[CLASSES.id_field].astype(str))
    return order_index(
        table,
        {
            "layer": list(ZONE_LAYERS),
            "use": list(USES),
            "class": [*codes, UNCOVERED],
            "from_use": codes,
            "to_use": codes,
            "kind": list(KINDS),
        },
    )


def _zone_reads(name: str) -> Callable[[MetricInputs], tuple]:
    """What a per-zone table of layer ``name`` reads: the zones' outlines, their overlay with
    the parcels, the parcels' uses and the classes (``reuse.reused``)."""
    return lambda i: (outlines(i.zones[name]), i.pieces[name], i.uses, i.classes)


def mix_tables(inputs: MetricInputs) -> dict[str, pd.DataFrame]:
    """``mix`` and ``mix_indices`` for every zone layer."""
    return stack_mix(
        {
            name: reused(
                inputs, ("mix", name), _zone_reads(name),
                lambda name=name, zones=zones: land_use_mix(
                    zones, inputs.parcels, classes=inputs.classes, pieces=inputs.pieces[name],
                    zone_layer=name, use_frame=inputs.uses,
                ),
            )
            for name, zones in inputs.zones.items()
        },
        inputs.classes,
    )  # fmt: skip


def stack_mix(parts: Mapping[str, pd.DataFrame], classes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``mix`` and ``mix_indices`` from each zone layer's ``land_use_mix`` table."""
    mix = _per_layer(parts, classes)
    k = classes[CLASSES.id_field].nunique()
    indices = order_index(mix_indices(mix, k), {"layer": list(ZONE_LAYERS), "use": list(USES)})
    return {"mix": mix, "mix_indices": indices}


def source_mix_table(inputs: MetricInputs, classification: str) -> pd.DataFrame:
    """The mix of every zone layer in the parcels' source classification (``source_code``)."""
    from ..io.importing.crosswalk import load_crosswalk

    parts = {
        name: source_class_mix(
            zones, inputs.parcels, classification, pieces=inputs.pieces[name], zone_layer=name
        )
        for name, zones in inputs.zones.items()
    }
    table = order_index(pd.concat(parts, names=["layer"]), {"layer": list(ZONE_LAYERS)})
    rows = load_crosswalk(classification, inputs.classes).rows
    codes = table.index.get_level_values("class")
    table.insert(0, "name_zh", [rows[c].name_zh if c in rows else None for c in codes])
    table.insert(1, "crosswalk_class", [rows[c].plan_class if c in rows else None for c in codes])
    return table


def _targets(inputs: MetricInputs) -> Targets:
    if inputs.facts is None:
        raise DataError(
            f"table '{FACTS.name}' is missing; restore it from geodata/miyun.gpkg (the targets "
            "F05, F06, F12 and F15 are read from it)"
        )
    return Targets.from_land_facts(inputs.facts)


def yield_tables(
    inputs: MetricInputs,
    *,
    grading: Grading | None = None,
) -> dict[str, pd.DataFrame]:
    """``zone_yields``, ``parcel_yields`` and ``benchmark``."""
    targets = _targets(inputs)
    # once for every zone layer, kept for a scenario to compare with (``reused``)
    flags = inputs.memo[FLAGS] = parcel_flags(inputs.parcels, inputs.classes)
    money = inputs.memo[MONEY] = parcel_money(inputs.parcels)
    zone = _per_layer(
        {
            name: reused(
                inputs, ("zone_yields", name),
                lambda i, name=name: (
                    outlines(i.zones[name]), i.pieces[name], i.memo[FLAGS], i.memo[MONEY], i.facts
                ),
                lambda name=name, zones=zones: zone_yields(
                    zones, inputs.parcels, inputs.classes, targets, pieces=inputs.pieces[name],
                    zone_layer=name, flags=flags, money=money,
                ),
            )
            for name, zones in inputs.zones.items()
        },
        inputs.classes,
    )  # fmt: skip
    parcel = parcel_yields(inputs.parcels, targets, zone_codes=inputs.zone_codes, grading=grading)
    if inputs.benchmark is None:
        raise DataError(f"table '{BENCHMARK.name}' (Table 1-1) is missing; restore it")
    return {
        "zone_yields": zone,
        "parcel_yields": parcel,
        "benchmark": benchmark_table(inputs.benchmark, targets),
    }


def adjustment_tables(inputs: MetricInputs) -> dict[str, pd.DataFrame]:
    """``transitions``, ``changing_parcels``, ``adjustment_totals``, ``base_land_changes``,
    ``baselines``."""
    transitions = _per_layer(
        {
            name: reused(
                inputs, ("transitions", name), _zone_reads(name),
                lambda name=name, zones=zones: land_use_transitions(
                    zones, inputs.parcels, pieces=inputs.pieces[name], use_frame=inputs.uses
                ),
            )
            for name, zones in inputs.zones.items()
        },
        inputs.classes,
    )  # fmt: skip
    tables = {
        "transitions": transitions,
        "changing_parcels": changing_parcels(inputs.parcels, zone_codes=inputs.zone_codes),
    }
    if ADJUSTMENTS.name in inputs.zones:
        tables["adjustment_totals"] = adjustment_totals(
            inputs.zones[ADJUSTMENTS.name],
            inputs.parcels,
            inputs.classes,
            pieces=inputs.pieces[ADJUSTMENTS.name],
        )
    if BASES.name in inputs.zones:
        tables["base_land_changes"] = base_land_changes(
            inputs.zones[BASES.name],
            inputs.parcels,
            inputs.classes,
            pieces=inputs.pieces[BASES.name],
            use_frame=inputs.uses,
        )
    tables["baselines"] = stack_baselines(
        {
            name: reused(
                inputs, ("baselines", name), _zone_reads(name),
                lambda name=name: baselines(
                    inputs.zones[name], inputs.parcels, pieces=inputs.pieces[name],
                    use_frame=inputs.uses,
                ),
            )
            for name in BASELINE_LAYERS
            if name in inputs.zones
        }
    )  # fmt: skip
    return tables


@dataclass(frozen=True)
class Metrics:
    """Every metric table (keys in ``TABLES``) and the layers the metrics make (the
    control-line overlap pieces, ``control_line_conflicts``, when there are control lines)."""

    tables: dict[str, pd.DataFrame]
    layers: dict[str, gpd.GeoDataFrame]


def compute_metrics(
    work: Mapping[str, gpd.GeoDataFrame],
    plan: PlanData,
    *,
    grading: Grading | None = None,
    evaluation=None,
    inputs: MetricInputs | None = None,
) -> Metrics:
    """Every metric table and derived layer for the work-CRS layers of ``plan``.

    ``work`` maps layer names to GeoDataFrames in EPSG:4548 (``pipeline.work_layers``);
    ``plan`` provides the attribute tables (land_use_classes, land_facts, zgc_benchmark).
    ``evaluation``: an ``evaluation.Config`` (default: the ``plan`` preset).
    Pure: nothing is printed or written.
    ``inputs``: ``prepare(work, plan)`` made already (e.g. a scenario's, sharing the base
    overlay).
    """
    inputs = prepare(work, plan) if inputs is None else inputs
    tables = mix_tables(inputs)
    tables.update(yield_tables(inputs, grading=grading))
    tables.update(adjustment_tables(inputs))
    lines = reused(
        inputs, ("control_lines",),
        lambda i: (
            i.lines, outlines(i.parcels), i.uses, i.classes,
            *(outlines(z) for z in i.zones.values()), *i.pieces.values(),
        ),
        lambda: control_line_analysis(
            inputs.lines, inputs.parcels, inputs.zones, inputs.classes, pieces=inputs.pieces,
            line_pieces=line_overlays(inputs),
        ),
    )  # fmt: skip
    tables.update(lines.tables)
    from ..core.vocabulary import park_key
    from .evaluation import evaluation_tables  # the evaluation engine and its presets

    tables.update(
        evaluation_tables(
            inputs,
            evaluation,
            places=work.get("places"),
            indicators=plan.layers.get("indicators"),
            computed=tables,
            park=park_key(work),
        )
    )
    layers = {} if lines.pieces is None else {PIECES_LAYER: lines.pieces}
    return Metrics(tables, layers)


def compute_all(
    work: Mapping[str, gpd.GeoDataFrame],
    plan: PlanData,
    *,
    grading: Grading | None = None,
    evaluation=None,
    inputs: MetricInputs | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of ``compute_metrics`` (same arguments), for callers that need no layer."""
    metrics = compute_metrics(work, plan, grading=grading, evaluation=evaluation, inputs=inputs)
    return metrics.tables


def line_overlays(inputs: MetricInputs) -> dict[str, pd.DataFrame]:
    """Per zone layer, the overlay of the control lines with its zones (the base's where both
    outlines are unchanged); empty without control lines."""
    lines = inputs.lines
    if lines is None or not len(lines):
        return {}
    return {
        name: reused(
            inputs, ("line_overlay", name),
            lambda i, name=name: (outlines(i.lines), outlines(i.zones[name])),
            lambda name=name, zones=zones: line_zone_pieces(lines, zones, zone_layer=name),
        )
        for name, zones in inputs.zones.items()
    }  # fmt: skip


__all__ = [
    "TABLES",
    "ZONE_LAYERS",
    "Grading",
    "MetricInputs",
    "Metrics",
    "adjustment_tables",
    "compute_all",
    "compute_metrics",
    "mix_tables",
    "parcel_zone_codes",
    "prepare",
    "yield_tables",
]
