"""The speed-ups of issue 11 change no figure on the default data.

``compute_all`` now finds each parcel's zones once for two tables; every table must equal the
one computed table by table as before. The validator's fast paths are compared with the exact
computations in tests/test_validate_scale.py.
"""

from __future__ import annotations

import pandas as pd

from miyun_spatial.metrics import (
    TABLES,
    adjustment_tables,
    compute_all,
    mix_tables,
    prepare,
    yield_tables,
)


def test_compute_all_equals_the_tables_one_by_one(default_plan, default_work):
    together = compute_all(default_work, default_plan)
    inputs = prepare(default_work, default_plan)
    apart = {**mix_tables(inputs), **yield_tables(inputs), **adjustment_tables(inputs)}
    assert set(together) == set(apart) == set(TABLES)
    for key in TABLES:
        pd.testing.assert_frame_equal(together[key], apart[key], check_exact=True, obj=key)
    assert len(together["parcel_yields"]) == len(default_work["land_parcels"])
