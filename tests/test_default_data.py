"""The embedded default GeoPackage meets the plan: counts, categories, areas, parcel totals, format.

Expected figures come from the plan text (via geodata/sources), never from the generator's code.
"""

from __future__ import annotations

import math
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod

from miyun_spatial.core.catalogue import CATALOGUE
from miyun_spatial.io.default_data.build import default_layers
from miyun_spatial.io.default_data.sources import DEFAULT_SOURCES

HA = 10_000.0
LAND_FACTS = pd.read_csv(DEFAULT_SOURCES / "land_facts.csv").set_index("fact_code")


def fact(code: str) -> float:
    return float(LAND_FACTS.loc[code, "value"])


@pytest.fixture(scope="module")
def layers(default_work, default_plan):
    return {**default_plan.layers, **default_work}


def by_code(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.set_index("code")


def test_every_catalogue_layer_is_present(default_plan):
    assert set(default_plan.layers) == set(CATALOGUE.names)


def test_feature_counts_match_the_plans_layout(layers):
    counts = {
        name: len(layers[name])
        for name in ("clusters", "park_in_park", "support_nodes", "farmer_bases", "projects")
    }
    assert counts == {
        "clusters": 3,
        "park_in_park": 3,
        "support_nodes": 6,
        "farmer_bases": 7,
        "projects": 16,
    }


def test_base_categories_are_five_one_one(layers):
    bases = by_code(layers["farmer_bases"])
    assert bases.category.value_counts().to_dict() == {"upgrade": 5, "transform": 1, "exit": 1}
    assert bases.loc[bases.category == "transform", "name_zh"].item().startswith("密云镇绿州")
    assert bases.loc[bases.category == "exit", "name_zh"].item().startswith("太师屯镇金湖")


# Stated areas from the plan text (section in brackets): acceptance within 0.5 %.
STATED = [
    ("support_nodes", "N1", 150.0),  # 一（二）3
    ("support_nodes", "N2", 60.0),
    ("other_sites", "X1", 50.0),
    ("farmer_bases", "B2", 120.0),
    ("farmer_bases", "B1", 15.0),
    ("land_adjustments", "A1", 108.0),  # 一（二）2: 约108公顷（1620亩）
    ("zgc_park", "Z1", fact("F01")),  # 一（二）6: 1000.84 公顷
]


@pytest.mark.parametrize(("layer", "code", "stated_ha"), STATED)
def test_stated_areas_within_half_a_percent(layers, layer, code, stated_ha):
    feature = by_code(layers[layer]).loc[code]
    assert feature.geometry.area / HA == pytest.approx(stated_ha, rel=0.005)
    assert feature.stated_area_ha == pytest.approx(stated_ha)


def test_planar_and_geodesic_areas_agree_within_a_tenth_of_a_percent(layers):
    geod = Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by 0.1 mm in b
    for spec in CATALOGUE.plan_layers:
        frame = layers[spec.name]
        geographic = frame.to_crs("EPSG:4490")
        for planar, geom in zip(frame.geometry.area, geographic.geometry, strict=True):
            geodesic = abs(geod.geometry_area_perimeter(geom)[0])
            assert planar == pytest.approx(geodesic, rel=0.001)


def test_outlines_are_irregular_not_circles_or_squares(layers):
    for name in ("clusters", "support_nodes", "farmer_bases", "other_sites"):
        for geom in layers[name].geometry:
            compactness = 4 * math.pi * geom.area / geom.length**2  # 1 for a circle
            rectangle = geom.area / geom.minimum_rotated_rectangle.area  # 1 for a rectangle
            assert compactness < 0.97 and rectangle < 0.97
            assert shapely.get_num_coordinates(geom) > 8


def test_plan_features_lie_inside_the_district(layers):
    district = shapely.union_all(layers["district"].geometry.values).buffer(1.0)
    for spec in CATALOGUE.plan_layers:
        assert layers[spec.name].geometry.within(district).all(), spec.name


def test_park_in_park_zones_lie_inside_c2_and_do_not_overlap(layers):
    c2 = by_code(layers["clusters"]).geometry["C2"]
    parks = layers["park_in_park"]
    assert (parks.cluster_code == "C2").all()
    assert parks.geometry.within(c2).all()
    geoms = list(parks.geometry)
    for i, a in enumerate(geoms):
        for b in geoms[i + 1 :]:
            assert a.intersection(b).area == 0


def test_support_nodes_n3_to_n6_are_their_bases(layers):
    nodes = by_code(layers["support_nodes"])
    bases = by_code(layers["farmer_bases"])
    linked = nodes[nodes.base_code.notna()]
    assert sorted(linked.index) == ["N3", "N4", "N5", "N6"]
    for code, node in linked.iterrows():
        assert node.geometry.equals(bases.geometry[node.base_code]), code


def test_z1_is_the_union_of_c2_and_c3(layers):
    clusters = by_code(layers["clusters"]).geometry
    z1 = by_code(layers["zgc_park"]).geometry["Z1"]
    union = clusters["C2"].union(clusters["C3"])
    assert z1.symmetric_difference(union).area < 1.0


def test_expansion_candidates_follow_plan_section_one_two_three(layers):
    park = by_code(layers["zgc_park"])
    status = dict(
        zip(park.source_code.dropna(), park.expansion_status[park.source_code.notna()], strict=True)
    )
    assert status == {
        "N1": "included",
        "N3": "proposed",
        "X1": "policy_only",
        "N2": "policy_only",
        "N4": "policy_only",
    }


def test_measured_areas_equal_their_target_within_one_percent(layers):
    guide = pd.read_csv(DEFAULT_SOURCES / "placement_guide.csv").set_index("code")
    for spec in CATALOGUE.plan_layers:
        for code, geom in zip(layers[spec.name].code, layers[spec.name].geometry, strict=True):
            if code in guide.index:
                target = float(guide.loc[code, "target_area_ha"])
                assert geom.area / HA == pytest.approx(target, rel=0.01), code


@pytest.fixture(scope="module")
def park(layers):
    """The parcels inside Z1, with their area (ha) and class flags."""
    parcels = layers["land_parcels"]
    z1 = by_code(layers["zgc_park"]).geometry["Z1"]
    inside = parcels[parcels.geometry.representative_point().within(z1)].copy()
    classes = layers["land_use_classes"].set_index("code")
    inside["ha"] = inside.geometry.area / HA
    inside["industrial"] = inside.current_use.map(classes.counts_as_industrial).astype(bool)
    inside["construction"] = inside.current_use.map(classes.group).eq("construction")
    inside["planned_industrial"] = inside.planned_use.map(classes.counts_as_industrial)
    return inside


class TestParcels:
    """Parcel totals inside Z1 reproduce the plan's figures (一（二）6, land_facts F01-F06)."""

    def test_parcels_tile_z1(self, park, layers):
        z1 = by_code(layers["zgc_park"]).geometry["Z1"]
        assert park.ha.sum() == pytest.approx(fact("F01"), abs=0.01)
        assert shapely.union_all(park.geometry.values).symmetric_difference(z1).area < 10.0

    def test_planned_industrial_land(self, park):
        assert park.ha[park.planned_industrial.astype(bool)].sum() == pytest.approx(
            fact("F02"), abs=0.01
        )

    def test_built_construction_and_industrial_land(self, park):
        built = park[(park.status == "built") & park.construction]
        assert built.ha.sum() == pytest.approx(fact("F03"), abs=0.01)
        assert built.ha[built.industrial].sum() == pytest.approx(fact("F04"), abs=0.01)

    def test_yields_reproduce_8311_and_5934(self, park):
        built = park[(park.status == "built") & park.construction]
        revenue_per_ha = built.revenue_10k_cny.sum() / built.ha.sum()
        output_per_ha = built.output_10k_cny.sum() / built.ha[built.industrial].sum()
        assert revenue_per_ha == pytest.approx(fact("F05"), abs=0.5)
        assert output_per_ha == pytest.approx(fact("F06"), abs=0.5)

    def test_a1_parcels_are_f3_proposed_research_or_industry(self, park, layers):
        a1 = by_code(layers["land_adjustments"]).geometry["A1"]
        mine = park[park.geometry.representative_point().within(a1)]
        assert mine.ha.sum() == pytest.approx(fact("F13"), rel=0.005)
        assert (mine.planned_use == "F3").all()
        assert set(mine.proposed_use) <= {"A35", "M1"}

    @pytest.mark.parametrize(
        ("owner", "mu"),
        [
            ("今麦郎", 203),
            ("康为", 150),
            ("方恒", 67),
            ("复星", 75),
            ("友康", 42.6),
            ("亨讯达", 49),
            ("坤德", 29),
            ("美中双和", 24.88),
        ],
    )
    def test_projects_with_a_stated_land_area_have_that_parcel(self, park, owner, mu):
        parcel = park[park.enterprise.fillna("").str.contains(owner)]
        assert len(parcel) == 1
        assert parcel.ha.iloc[0] * 15 == pytest.approx(mu, rel=0.005)

    def test_every_parcel_is_synthetic(self, layers):
        assert (layers["land_parcels"].data_basis == "synthetic").all()


def test_geopackage_is_version_1_2_with_contents_and_metadata(default_gpkg):
    with sqlite3.connect(f"file:{default_gpkg}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        contents = dict(con.execute("SELECT table_name, description FROM gpkg_contents"))
        metadata = " ".join(row[0] for row in con.execute("SELECT metadata FROM gpkg_metadata"))
        fids = [row[0] for row in con.execute("SELECT fid FROM farmer_bases ORDER BY fid")]
    for spec in CATALOGUE.layers:
        assert contents[spec.name] == spec.description
    assert "synthetic" in metadata.lower() and "schematic" in metadata.lower()
    assert fids == list(range(1, 8))


def test_plan_layers_are_stored_in_epsg_4548(default_plan):
    for spec in CATALOGUE.layers:
        if spec.is_spatial:
            assert default_plan.info[spec.name].crs.to_epsg() == 4548, spec.name


@pytest.mark.slow
def test_generator_is_deterministic():
    first, second = default_layers(), default_layers()
    for name, frame in first.items():
        if isinstance(frame, gpd.GeoDataFrame):
            assert_geodataframe_equal(frame, second[name])
        else:
            pd.testing.assert_frame_equal(frame, second[name])
