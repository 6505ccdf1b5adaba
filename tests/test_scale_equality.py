"""The speed-ups of issue 11 change no figure on the default data.

``compute_all`` now finds each parcel's zones once for two tables; every table must equal the
one computed table by table as before. The validator's fast paths are compared with the exact
computations in tests/test_validate_scale.py.
"""

from __future__ import annotations

import pandas as pd

from miyun_spatial.core.vocabulary import park_key
from miyun_spatial.metrics import (
    TABLES,
    adjustment_tables,
    compute_all,
    mix_tables,
    prepare,
    yield_tables,
)
from miyun_spatial.metrics.control_lines import control_line_analysis
from miyun_spatial.metrics.evaluation import evaluation_tables


def test_compute_all_equals_the_tables_one_by_one(default_plan, default_work):
    together = compute_all(default_work, default_plan)
    inputs = prepare(default_work, default_plan)
    apart = {**mix_tables(inputs), **yield_tables(inputs), **adjustment_tables(inputs)}
    apart.update(
        evaluation_tables(
            inputs,
            places=default_work.get("places"),
            indicators=default_plan.layers.get("indicators"),
            computed=apart,
            park=park_key(default_work),
        )
    )
    apart.update(
        control_line_analysis(
            default_work.get("control_lines"), inputs.parcels, inputs.zones, inputs.classes
        ).tables
    )  # without pieces: the zone x parcel overlays computed again, to the same figures
    assert set(together) == set(apart) == set(TABLES)
    for key in TABLES:
        pd.testing.assert_frame_equal(together[key], apart[key], check_exact=True, obj=key)
    assert len(together["parcel_yields"]) == len(default_work["land_parcels"])


# --- the integer-coded paths against the text-keyed computations they replaced -------------


def _old_zone_codes(inputs):
    from miyun_spatial.metrics.overlay import main_zone

    out = pd.DataFrame(index=pd.Index(inputs.parcels.index, name="parcel_code"))
    for name, pieces in inputs.pieces.items():
        out[name] = main_zone(pieces).reindex(out.index).astype(object)
    return out.astype(object).where(out.notna(), None)


def _old_transitions(zones, parcels, pieces):
    from miyun_spatial.core.landuse import parcel_uses
    from miyun_spatial.metrics.adjustments import KINDS, TRANSITION_LEVELS
    from miyun_spatial.metrics.mix import order_index
    from miyun_spatial.metrics.overlay import ZONE, piece_values

    uses = piece_values(pieces, parcel_uses(parcels))
    zone = pieces.index.get_level_values(ZONE)
    parts = []
    for kind, (source, target) in KINDS.items():
        frame = pd.DataFrame(
            {
                ZONE: zone,
                "from_use": uses[source].to_numpy(dtype=object),
                "to_use": uses[target].to_numpy(dtype=object),
                "kind": kind,
                "area_m2": pieces["area_m2"].to_numpy(),
            }
        )
        parts.append(frame.groupby(list(TRANSITION_LEVELS), sort=False)["area_m2"].sum())
    if not sum(len(p) for p in parts):
        empty = pd.MultiIndex.from_arrays([[]] * 4, names=list(TRANSITION_LEVELS))
        return pd.DataFrame({"area_ha": [], "area_mu": []}, index=empty)
    area_m2 = pd.concat(parts)
    area_ha = area_m2[area_m2 > 0] / 10_000
    table = pd.DataFrame({"area_ha": area_ha, "area_mu": area_ha * 15})
    classes = sorted(set().union(*(uses[u].unique() for u in ("current", "planned", "adjusted"))))
    orders = {ZONE: list(zones.index), "from_use": classes, "to_use": classes}
    return order_index(table, {**orders, "kind": list(KINDS)})


def test_zone_codes_by_position_equal_main_zone(default_plan, default_work):
    inputs = prepare(default_work, default_plan)
    pd.testing.assert_frame_equal(inputs.zone_codes, _old_zone_codes(inputs))


def test_main_zone_ties_go_to_the_first_piece():
    import numpy as np

    from miyun_spatial.metrics.overlay import main_zone, main_zone_positions

    index = pd.MultiIndex(
        levels=[pd.Index(["Z1", "Z2", "Z3"]), pd.Index(["p1", "p2", "p3", "p4"])],
        codes=[[0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 1, 2]],
        names=["zone", "parcel"],
    )
    pieces = pd.DataFrame({"area_m2": [5.0, 2.0, 5.0, 3.0, 3.0, 1.0]}, index=index)
    positions = main_zone_positions(pieces)
    expected = main_zone(pieces).reindex(index.levels[1])
    got = [None if p < 0 else index.levels[0][p] for p in positions]
    assert got == [None if pd.isna(v) else v for v in expected.tolist()] == ["Z1", "Z2", "Z3", None]
    assert np.array_equal(positions, [0, 1, 2, -1])


def test_transitions_by_codes_equal_the_text_group_by(default_plan, default_work):
    from miyun_spatial.metrics.adjustments import land_use_transitions

    inputs = prepare(default_work, default_plan)
    for name, zones in inputs.zones.items():
        pieces = inputs.pieces[name]
        old = _old_transitions(zones, inputs.parcels, pieces)
        for uses in (None, inputs.uses):  # text uses (factorized) and the shared categoricals
            new = land_use_transitions(zones, inputs.parcels, pieces=pieces, use_frame=uses)
            pd.testing.assert_frame_equal(new, old, check_exact=True, obj=name)


def test_class_areas_from_codes_equal_the_text_path(default_plan, default_work):
    from miyun_spatial.metrics.overlay import class_areas

    inputs = prepare(default_work, default_plan)
    for name, pieces in inputs.pieces.items():
        for use in ("current", "planned", "adjusted"):
            coded = inputs.uses[use]
            text = coded.astype(object)
            by_label = text.set_axis(text.index.astype(object))  # not the pieces' index: labels
            expected = class_areas(pieces, by_label)
            for classes in (coded, text):
                pd.testing.assert_frame_equal(
                    class_areas(pieces, classes), expected, check_exact=True, obj=f"{name} {use}"
                )


def test_parcel_flags_equal_the_mapped_text(default_plan, default_work):
    from miyun_spatial.core.landuse import parcel_uses
    from miyun_spatial.metrics.mix import class_flags
    from miyun_spatial.metrics.yields import parcel_flags

    inputs = prepare(default_work, default_plan)
    flags = class_flags(inputs.classes)
    current = parcel_uses(inputs.parcels, ("current",))["current"].astype(object)
    built = (inputs.parcels["status"] == "built").fillna(False).to_numpy(dtype=bool)
    for column, name in (
        ("construction", "built_construction"),
        ("industrial", "built_industrial"),
    ):
        mapped = current.map(flags[column]).fillna(False).to_numpy(dtype=bool)
        expected = (built & mapped).astype(float)
        assert (parcel_flags(inputs.parcels, inputs.classes)[name].to_numpy() == expected).all()
