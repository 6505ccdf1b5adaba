"""The map builders in-process: escaping, display geometry, options, aggregation, determinism."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from miyun_spatial.core.errors import InputError
from miyun_spatial.metrics import compute_all
from miyun_spatial.render.maps import MapInputs, MapOptions, build_pages
from miyun_spatial.render.maps.aggregate import aggregate_parcels
from miyun_spatial.render.maps.basemaps import tile_layers
from miyun_spatial.render.maps.layers import display_geometry, to_json
from miyun_spatial.render.maps.pages import land_use
from miyun_spatial.render.maps.pages.common import plan_columns
from miyun_spatial.render.maps.pages.projects import marker_radius
from miyun_spatial.render.maps.pages.yields import ratio_class

BUDGET_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def metrics(default_work, default_plan):
    return compute_all(default_work, default_plan)


@pytest.fixture(scope="module")
def offline_pages(default_plan, default_work, metrics):
    inputs = MapInputs(default_plan, default_work, metrics, MapOptions(offline=True))
    return build_pages(inputs)


def test_script_json_cannot_close_the_script_element():
    value = {"name": "</script><script>window.__pwned=1</script>", "q": "a'b&c", "zh": "密云"}
    text = to_json(value)
    assert "</" not in text and "'" not in text and "&" not in text
    assert "密云" in text  # UTF-8, not \\u escapes: smaller pages
    assert json.loads(text) == value


def test_display_geometry_is_rounded_and_close_to_the_exact_transform(default_work):
    bases = default_work["farmer_bases"]
    before = bases.geometry.copy()
    shown = display_geometry(bases.geometry)
    coords = shapely.get_coordinates(shown.values)
    assert np.allclose(coords, np.round(coords, 6), atol=1e-12, rtol=0)
    exact = Transformer.from_crs(4548, 4326, always_xy=True)
    lon, lat = exact.transform(*shapely.get_coordinates(bases.geometry.values).T)
    # each displayed vertex lies on the exact outline, within a metre (simplified 0.5 m, rounded)
    outline = gpd.GeoSeries(shown.values, crs=4326).to_crs(4548).boundary.union_all()
    exact_pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4548)
    assert exact_pts.distance(outline).max() < 1.0
    assert before.equals(bases.geometry)  # display work never touches the work layer


def test_popup_areas_are_planar_epsg4548_areas(default_work):
    bases = default_work["farmer_bases"]
    area = next(c for c in plan_columns(bases, "farmer_bases") if c.key == "_area")
    for geometry, text in zip(bases.geometry, area.values, strict=True):
        hectares = shapely.area(geometry) / 10_000
        assert text == f"{hectares:,.2f} ha（{hectares * 15:,.1f} 亩）"


def test_options_refuse_unknown_basemaps_and_tianditu_without_key():
    with pytest.raises(InputError, match="unknown basemap"):
        MapOptions(basemap="bing")
    with pytest.raises(InputError, match="--tianditu-key"):
        MapOptions(basemap="tianditu")
    assert MapOptions(basemap="gaode").datum == "GCJ-02"
    assert MapOptions(basemap="gaode", offline=True).datum == "WGS84"


def test_tile_layers_by_mode():
    assert tile_layers(MapOptions(offline=True)) == []
    assert tile_layers(MapOptions(basemap="none")) == []
    osm = tile_layers(MapOptions())
    assert [layer.show for layer in osm] == [True, False, False]
    assert all(layer.options["attribution"] for layer in osm)
    gaode = tile_layers(MapOptions(basemap="gaode"))
    assert all("autonavi.com" in layer.tiles for layer in gaode)
    keyed = tile_layers(MapOptions(basemap="tianditu", tianditu_key="k&<"))
    tianditu = [layer for layer in keyed if "tianditu" in layer.tiles]
    assert len(tianditu) == 4 and all("tk=k%26%3C" in layer.tiles for layer in tianditu)
    assert [layer.show for layer in keyed if "openstreetmap" in layer.tiles] == [False]


def test_marker_area_is_proportional_to_investment():
    investment = pd.Series([100.0, 25.0, 400.0])
    radius = marker_radius(investment, 400.0, largest=20)
    assert radius.iloc[2] == 20
    assert (radius**2 / investment).round(6).nunique() == 1


def test_ratio_classes_follow_the_bins():
    ratios = pd.Series([0.1, 0.4, 0.59, 0.7, 0.95, 1.0, 1.7, np.nan])
    assert ratio_class(ratios).tolist() == ["r0", "r1", "r1", "r2", "r3", "r4", "r4", "n/a"]


def test_aggregation_keeps_count_and_area():
    cells = [
        shapely.box(x, y, x + 90, y + 90) for x in range(0, 3000, 100) for y in range(0, 2000, 100)
    ]
    parcels = gpd.GeoDataFrame(
        {"use": [("M1", "R", "G")[i % 3] for i in range(len(cells))]},
        geometry=cells,
        crs=4548,
    )
    groups = aggregate_parcels(parcels, parcels[["use"]], cell_m=1000)
    assert groups["parcels"].sum() == len(parcels)
    assert groups["area_ha"].sum() == pytest.approx(len(cells) * 90 * 90 / 10_000)
    assert len(groups) == 3 * 3 * 2  # three uses in 3 x 2 one-kilometre cells
    assert groups.geometry.area.sum() == pytest.approx(len(cells) * 90 * 90)


def test_large_parcel_layers_are_aggregated(default_plan, default_work, metrics, monkeypatch):
    monkeypatch.setattr(land_use, "MAX_EMBEDDED", 100)
    inputs = MapInputs(default_plan, default_work, metrics, MapOptions(offline=True))
    page = land_use.build(inputs)
    parcels = len(default_work["land_parcels"])
    assert 0 < page.features["land_parcels"] < parcels
    assert "aggregated" in page.html


def test_pages_fit_the_budget_and_are_reproducible(
    offline_pages, default_plan, default_work, metrics
):
    names = [p.filename for p in offline_pages]
    assert names[:3] == ["overview.html", "bases.html", "base_B1.html"]
    assert len(names) == len(set(names)) == 12
    for page in offline_pages:
        assert len(page.html.encode()) < BUDGET_BYTES, page.filename
        assert "<script src" not in page.html and "<link" not in page.html, page.filename
    again = build_pages(MapInputs(default_plan, default_work, metrics, MapOptions(offline=True)))
    assert [p.html for p in again] == [p.html for p in offline_pages]


def test_mix_index_reaches_the_land_use_popups(offline_pages, metrics):
    page = next(p for p in offline_pages if p.filename == "land_use.html")
    mix = metrics["mix_indices"]
    entropy = mix.loc[("clusters", "C2", "planned"), "entropy"]
    assert f"熵 entropy {entropy:,.3f}" in page.html


def test_notes_are_rendered_in_chinese_clause_by_clause():
    from miyun_spatial.render.maps.notes_zh import notes_zh

    text = (
        "schematic outline digitized from the plan text near 穆家峪镇 (next to the airfield): "
        "near the town point; area calibrated to 15 ha (stated); same site as N4; free text"
    )
    assert notes_zh(text) == (
        "示意轮廓，据规划文本数字化，位于穆家峪镇附近；面积按 15 公顷校准（规划明确）；与 N4 同址；…"
    )
    assert notes_zh("free text only") == ""
    assert notes_zh("address: 开发区科技路75号") == "地址：开发区科技路75号"


def test_repeated_popup_rows_are_left_out(default_work):
    bases = default_work["farmer_bases"]
    columns = {c.key: c for c in plan_columns(bases, "farmer_bases")}
    same = bases["direction_zh"] == bases["focus_zh"]
    assert same.any()
    assert columns["focus_zh"].optional
    assert columns["focus_zh"].values[same].isna().all()
    assert columns["direction_zh"].values.notna().all()
