"""The catalogue is data, checked at load; geodata/README.md shows the current layer dictionary."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from miyun_spatial.core.catalogue import CATALOGUE, CatalogueError, load_catalogue
from miyun_spatial.core.paths import DEFAULT_GPKG
from miyun_spatial.render.catalogue_doc import layer_dictionary

RAW = json.loads(files("miyun_spatial.core").joinpath("catalogue.json").read_text("utf-8"))


def test_fixed_layer_names_of_the_data_contract():
    assert {
        "clusters",
        "park_in_park",
        "support_nodes",
        "farmer_bases",
        "zgc_park",
        "other_sites",
        "land_adjustments",
        "land_parcels",
        "projects",
        "land_use_classes",
        "indicators",
        "zgc_benchmark",
        "land_facts",
        "project_stated_totals",
        "district",
        "places",
        "control_lines",
        "scenarios",
        "scenario_edits",
    } == set(CATALOGUE.names)


def test_every_plan_layer_has_the_common_fields():
    common = {
        "code",
        "name_zh",
        "name_en",
        "plan_section",
        "geom_source",
        "position_confidence",
        "stated_area_ha",
        "area_basis",
        "notes",
    }
    for spec in CATALOGUE.plan_layers:
        assert common <= set(spec.field_names), spec.name


def test_base_categories_carry_chinese_and_english_labels():
    values = CATALOGUE["farmer_bases"].field("category").values
    assert [(v.value, v.label_zh) for v in values] == [
        ("upgrade", "提质升级"),
        ("transform", "转型调整"),
        ("exit", "逐步退出"),
    ]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw["layers"][1]["fields"][0].update(ref="nowhere.code"),
        lambda raw: raw["layers"][0].update(id_field="no_such_field"),
        lambda raw: raw["layers"][0].update(geometry="hexagon"),
        lambda raw: raw["layers"].append(raw["layers"][0]),
    ],
)
def test_an_inconsistent_catalogue_is_refused_at_load(damage):
    raw = json.loads(json.dumps(RAW))
    damage(raw)
    with pytest.raises(CatalogueError):
        load_catalogue(json.dumps(raw))


def test_geodata_readme_shows_the_current_layer_dictionary():
    readme = (DEFAULT_GPKG.parent / "README.md").read_text(encoding="utf-8")
    assert layer_dictionary() in readme, (
        "run: miyun-spatial catalogue --update-readme geodata/README.md"
    )
