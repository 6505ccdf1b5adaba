"""Pages that stay small at any size (issue 11): the yield page aggregates parcels as well.

Beyond ``MAX_EMBEDDED`` parcels the yield page shows a grid of squares coloured by the grade
covering most parcel area in each, says so in its legend and still counts grades per parcel. The
limit is lowered here so that the default data cross it; the page is then loaded in headless
Chromium and every aggregated polygon must be drawn.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from conftest import load_page

from miyun_spatial.metrics import compute_all
from miyun_spatial.render.maps import MapInputs, MapOptions, aggregate
from miyun_spatial.render.maps.aggregate import aggregate_parcels
from miyun_spatial.render.maps.pages import yields

LIMIT = 100


@pytest.fixture(scope="module")
def aggregated_page(default_plan, default_work):
    metrics = compute_all(default_work, default_plan)
    inputs = MapInputs(default_plan, default_work, metrics, MapOptions(offline=True))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yields, "MAX_EMBEDDED", LIMIT)
        return yields.build(inputs), metrics


def test_yield_page_aggregates_parcels_beyond_the_limit(aggregated_page, default_work):
    page, metrics = aggregated_page
    parcels = default_work["land_parcels"]
    assert 0 < page.features["yield_parcels"] < len(parcels)
    assert "parcel_yields.csv" in page.html and "aggregated" in page.html
    grades = metrics["parcel_yields"]["grade"].astype(object).value_counts()
    for grade, count in grades.items():  # the legend still counts parcels, not polygons
        assert f"{count}" in page.html, grade


def test_aggregation_falls_back_when_parcels_are_no_clean_coverage():
    boxes = [shapely.box(0, 0, 10, 10), shapely.box(5, 5, 15, 15), shapely.box(10, 0, 20, 4)]
    parcels = gpd.GeoDataFrame({"k": ["A", "A", "A"]}, geometry=boxes, crs=4548)
    groups = aggregate_parcels(parcels, parcels[["k"]])
    assert groups["parcels"].tolist() == [3]
    assert groups["area_ha"].sum() == pytest.approx((100 + 100 + 40) / 10_000)
    assert groups.geometry.area.sum() == pytest.approx(shapely.union_all(boxes).area)


@pytest.mark.browser
def test_aggregated_yield_page_draws_in_chromium(browser, aggregated_page, tmp_path):
    page, _metrics = aggregated_page
    path = tmp_path / page.filename
    path.write_text(page.html, encoding="utf-8")
    load_page(browser, path)
    drawn = browser.execute_script(
        "const g = miyun.layers['yield_parcels']; miyun.map.addLayer(g);"
        "miyun.map.fitBounds(g.getBounds(), {animate: false});"
        "let n = 0, d = 0; g.eachLayer(l => { n++; if (l._parts && l._parts.length) d++; });"
        "return [n, d];"
    )
    assert drawn[0] == page.features["yield_parcels"]
    assert drawn[1] >= 1
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    legend = browser.execute_script("return document.body.innerText")
    assert "parcel_yields.csv" in legend


def test_grid_view_counts_every_parcel_and_its_area():
    cells = [shapely.box(x, y, x + 9, y + 9) for x in range(0, 300, 10) for y in range(0, 200, 10)]
    grades = ["A", "B", "B", "n/a"] * (len(cells) // 4)
    parcels = gpd.GeoDataFrame({"g": grades}, geometry=cells, crs=4548)
    grid, cell_m = aggregate.grid_view(parcels, parcels["g"], cell_m=100)
    assert cell_m == 100 and len(grid) == 3 * 2
    assert grid["parcels"].sum() == len(parcels)
    assert grid["area_ha"].sum() == pytest.approx(len(cells) * 81 / 10_000)
    assert (grid[["n_A", "n_B", "n_n/a"]].sum(axis=1) == grid["parcels"]).all()
    assert set(grid["k"]) == {"B"}  # the grade with the most parcel area in every cell
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aggregate, "MAX_GRID_CELLS", 4)
        coarse, coarse_m = aggregate.grid_view(parcels, parcels["g"], cell_m=100)
    assert coarse_m == 200 and len(coarse) <= 4  # grown until the cells fit the bound
    assert coarse["parcels"].sum() == len(parcels)
