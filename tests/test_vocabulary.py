"""The output vocabulary (vocabulary.json): every metric column has a label, roles resolve."""

from __future__ import annotations

import pytest
from gpkg_edit import overwrite, read

from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.core.vocabulary import VOCABULARY, role_code
from miyun_spatial.flow.build import park_key, work_layers
from miyun_spatial.io import geopackage as store
from miyun_spatial.metrics import compute_all
from miyun_spatial.render.reports.model import catalogue_field_labels


def test_every_metric_column_has_a_chinese_and_english_label(default_plan, default_work):
    tables = compute_all(default_work, default_plan)
    catalogue_fields = catalogue_field_labels()
    # the per-indicator columns of enterprise_evaluation take their labels from the preset's
    # indicators (evaluation_indicators.label_zh / label_en)
    indicators = tables["evaluation_indicators"]
    assert indicators[["label_zh", "label_en"]].notna().all().all()
    per_indicator = {
        f"{key}_{part}" for key in indicators.index for part in ("value", "benchmark", "score")
    }
    unlabelled = {
        (name, column)
        for name, table in tables.items()
        for column in [*table.columns, *(n for n in table.index.names if n)]
        if column not in VOCABULARY.columns
        and column not in catalogue_fields
        and column not in CATALOGUE.names  # zone-code columns take the layer's title
        and column not in per_indicator
    }
    assert unlabelled == set()
    for label in VOCABULARY.columns.values():
        assert label.zh and label.en and label.kind in VOCABULARY.kinds


def test_roles_point_at_catalogue_layers_and_resolve_on_the_default_data(default_plan):
    for role in VOCABULARY.roles.values():
        assert role.layer in CATALOGUE.names
        assert role_code(default_plan[role.layer], role) is not None
    facts = set(default_plan["land_facts"]["fact_code"])
    assert set(VOCABULARY.facts.values()) <= facts


def test_the_park_is_whichever_feature_has_the_current_status(gpkg_copy):
    """Re-coding the park's current extent moves the role with it: no code is hard-wired."""
    role = VOCABULARY.roles["park"]
    park = read(gpkg_copy, role.layer)
    current = park[role.field] == role.value
    assert current.sum() == 1
    park.loc[current, CATALOGUE[role.layer].id_field] = "Z9"
    overwrite(gpkg_copy, role.layer, park)
    work = work_layers(store.load(gpkg_copy))
    assert park_key(work) == (role.layer, "Z9")


def test_an_unknown_label_names_the_file_to_extend():
    with pytest.raises(KeyError, match=r"vocabulary\.json"):
        VOCABULARY.column("no_such_column")
