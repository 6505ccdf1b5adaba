"""Base pages stay small at any size, and layers are serialised once (issue 11).

Around a base, at most ``MAX_BASE_PARCELS`` parcels are drawn one by one (those nearest the
base); the others are summarised as grid squares cut around them, with a note in the legend.
The limit is lowered here so that the default data cross it. Layers are serialised to safe
GeoJSON text once (``layers.feature_texts``) and reused across pages: the text must be what
``to_json`` writes for the whole collection, and as inert to a template engine.
"""

from __future__ import annotations

import json
import re
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from branca.element import Element
from conftest import load_page

from miyun_spatial.metrics import compute_all
from miyun_spatial.render.maps import MapInputs, MapOptions, aggregate
from miyun_spatial.render.maps.aggregate import grid_layer_data
from miyun_spatial.render.maps.fields import esc
from miyun_spatial.render.maps.layers import LayerStyle, feature_texts, to_json
from miyun_spatial.render.maps.pages import base_detail, land_use
from miyun_spatial.render.maps.pages.base_detail import REST_KEY, nearest_parcels, outline

LIMIT = 25
NOTE = f"the {LIMIT:,} nearest the base are drawn one by one"
TEXTS = (
    "plain 密云",
    "ZQ{{ 7*7 }}QZ",
    "{% if 1 %}IF-RAN{% endif %}",
    "</script><script>window.__pwned=1</script>",
    "a'b&c\"d\\e",
    "line\u2028separator\u2029and\nnewline",
)


def folium_map():
    import folium

    return folium.Map(location=None, tiles=None)


def _collection(geometry: gpd.GeoSeries, props: pd.DataFrame) -> str:
    return (
        '{"type":"FeatureCollection","features":[' + ",".join(feature_texts(geometry, props)) + "]}"
    )


@pytest.mark.parametrize("text", TEXTS)
def test_feature_texts_are_the_collection_to_json_writes(text):
    geometry = gpd.GeoSeries(
        [
            shapely.box(116.8, 40.3, 116.81, 40.31),
            shapely.Point(116.84619000000001, 40.1),  # GEOS writes 17 digits
            None,  # no geometry: left out
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        ],
        index=[10, 11, 12, 13],
    )
    props = pd.DataFrame(
        {"k": [text, "b", "c", None], "c0": [1, 2, 3, np.nan], "_a": [[40.3, 116.8]] * 4},
        index=geometry.index,
    )
    text_out = _collection(geometry, props)
    kept = geometry.index.drop(12)
    expected = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geometry[i])),
                "properties": {
                    k: (None if not isinstance(v, list) and pd.isna(v) else v)
                    for k, v in props.loc[i].items()
                },
            }
            for i in kept
        ],
    }
    assert text_out == to_json(expected)  # byte for byte what the whole collection gives
    assert json.loads(text_out)["features"][0]["properties"]["k"] == text
    for opener in ("{{", "{%", "{#", "</"):
        assert opener not in text_out
    assert Element(text_out).render() == text_out  # inert to branca's second Jinja pass
    assert feature_texts(geometry, props).index.tolist() == kept.tolist()


def test_nearest_parcels_are_the_nearest_by_centre():
    boxes = [shapely.box(x, y, x + 9, y + 9) for x in range(0, 600, 10) for y in range(0, 600, 10)]
    parcels = gpd.GeoDataFrame({"n": range(len(boxes))}, geometry=boxes, crs=4548)
    # a thin diagonal: its bounding box is a loose bound, so the search has to widen
    base = shapely.LineString([(0, 0), (600, 600)]).buffer(3)
    near, rest = nearest_parcels(parcels, base, 100)
    assert len(near) == 100 and len(rest) == len(parcels) - 100
    assert near.index.union(rest.index).equals(parcels.index)
    centres = shapely.centroid(np.asarray(parcels.geometry.array))
    distance = pd.Series(shapely.distance(centres, base), index=parcels.index)
    assert distance[near.index].max() <= distance[rest.index].min()
    assert near.index.is_monotonic_increasing  # in the input's order
    whole, none = nearest_parcels(parcels.iloc[:50], base, 100)
    assert len(whole) == 50 and none.empty


def test_grid_squares_count_the_other_parcels_and_avoid_those_drawn(default_plan, default_work):
    x0, y0 = 486_000.0, 4_467_000.0  # Miyun development zone, EPSG:4548
    boxes = [
        shapely.box(x0 + x, y0 + y, x0 + x + 45, y0 + y + 45)
        for x in range(0, 1500, 50)
        for y in range(0, 1000, 50)
    ]
    parcels = gpd.GeoDataFrame(
        {"use": [("M1", "R2")[i % 2] for i in range(len(boxes))]}, geometry=boxes, crs=4548
    )
    drawn = parcels.cx[: x0 + 230, : y0 + 230]
    rest = parcels.drop(index=drawn.index)
    inputs = MapInputs(default_plan, default_work, {}, MapOptions(offline=True))
    data, cell_m = grid_layer_data(
        inputs,
        rest,
        rest["use"],
        key="rest",
        name="rest",
        style=LayerStyle(colors={"M1": "#ff0000", "R2": "#00ff00"}),
        labels={"M1": "M1 工业", "R2": "R2 居住"},
        order=["M1", "R2"],
        main_label="main",
        counts_label="by use",
        max_cells=40,
        cut=outline(drawn),
    )
    assert cell_m == 200 and 0 < data.feature_count <= 40  # 100 m doubled until they fit
    spec = data.spec["details"]
    features = [json.loads(t) for t in data.features]
    key = next(c["key"] for c in spec["columns"] if c["name"] == "_n")
    lookup = spec["lookups"].get(key)
    counts = [f["properties"][key] for f in features]
    counts = [int(lookup[c] if lookup else c) for c in counts]
    assert sum(counts) == len(rest)
    squares = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in features])
    web = gpd.GeoSeries([outline(drawn)], crs=4548).to_crs(4326).iloc[0]
    assert squares.intersection(web).area < 1e-3 * web.area  # cut around (display rounding)


def test_grid_squares_keep_class_codes_and_labels_as_data(default_plan, default_work):
    x0, y0 = 486_000.0, 4_467_000.0
    boxes = [shapely.box(x0 + x, y0, x0 + x + 45, y0 + 45) for x in range(0, 2000, 50)]
    codes = ["ZQ{{ 7*7 }}QZ", "</script><b>"]
    parcels = gpd.GeoDataFrame(
        {"use": [codes[i * 2 // len(boxes)] for i in range(len(boxes))]}, geometry=boxes, crs=4548
    )
    labels = {code: f"{code} {{% if 1 %}}IF-RAN{{% endif %}}" for code in codes}
    inputs = MapInputs(default_plan, default_work, {}, MapOptions(offline=True))
    data, _ = grid_layer_data(
        inputs,
        parcels,
        parcels["use"],
        key="rest",
        name="rest",
        style=LayerStyle(colors=dict.fromkeys(codes, "#ff0000")),
        labels=labels,
        order=codes,
        main_label="main",
        counts_label="by use",
    )
    m = folium_map()
    data.add_to(m)
    html = m.get_root().render()
    assert "ZQ49QZ" not in html  # Jinja never ran on the data
    assert html.count("IF-RAN") == html.count("#125;IF-RAN") > 0  # only as escaped text
    assert "</script><b>" not in html
    texts = [json.loads(t)["properties"] for t in data.features]
    lookups = data.spec["details"]["lookups"]
    shown = {lookups["c0"][p["c0"]] if "c0" in lookups else p["c0"] for p in texts}
    assert shown == {esc(labels[c]) for c in codes}  # escaped once, as typed in the browser


def test_dissolved_outlines_stay_within_the_vertex_budget():
    rng = np.random.default_rng(11)
    points = shapely.multipoints(rng.uniform(0, 3000, (3000, 2)))
    box = shapely.box(0, 0, 3000, 3000)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(points)), box)
    parcels = gpd.GeoDataFrame(
        {"use": rng.choice(["M1", "R2", "G1"], len(cells))}, geometry=cells, crs=4548
    )
    groups = aggregate.aggregate_parcels(parcels, parcels[["use"]], cell_m=1000)
    before = int(shapely.get_num_coordinates(np.asarray(groups.geometry.array)).sum())
    outlines, tolerance = aggregate.simplified_outlines(groups.geometry, max_coordinates=8000)
    after = shapely.get_num_coordinates(np.asarray(outlines.array))
    assert before > 8000 >= after.sum() and tolerance > 0
    assert (after >= 4).all()  # every group keeps a polygon
    # a coverage still: no overlaps, no holes opened between neighbours
    assert outlines.area.sum() == pytest.approx(shapely.union_all(outlines).area, rel=1e-6)
    assert outlines.area.sum() == pytest.approx(box.area, rel=1e-3)  # the edge is simplified too
    same, zero = aggregate.simplified_outlines(groups.geometry, max_coordinates=before)
    assert zero == 0 and same.geom_equals(groups.geometry).all()


@pytest.fixture(scope="module")
def land_use_pages(default_plan, default_work):
    inputs = MapInputs(default_plan, default_work, {}, MapOptions(offline=True))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(land_use, "MAX_EMBEDDED", 100)
        free = land_use.build(inputs)
        patch.setattr(aggregate, "MAX_GROUPS", 70)
        page = land_use.build(inputs)
    return free, page


def test_land_use_page_bounds_its_polygons_and_says_so(land_use_pages, default_work):
    free, page = land_use_pages
    assert free.features["land_parcels"] > 70  # 1 km cells give more polygons
    assert 0 < page.features["land_parcels"] <= 70
    assert "km cells for display" in page.html and "changing_parcels.csv" in page.html
    cell = re.search(r"merged within ([0-9.]+) km cells", page.html)
    assert cell and float(cell.group(1)) >= 2  # grown from 1 km until the polygons fit
    parcels = len(default_work["land_parcels"])
    assert f"{parcels} 个地块" in page.figures[0]


@pytest.fixture(scope="module")
def bounded_pages(default_plan, default_work):
    metrics = compute_all(default_work, default_plan)
    inputs = MapInputs(default_plan, default_work, metrics, MapOptions(offline=True))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base_detail, "MAX_BASE_PARCELS", LIMIT)
        pages = base_detail.build(inputs)
    parcels = default_work["land_parcels"]
    bases = default_work["farmer_bases"]
    around = {}
    for fid, page in zip(bases.index, pages, strict=True):
        window = bases.geometry[fid].buffer(base_detail.SURROUNDINGS_M)
        around[page.filename] = int(parcels.intersects(window).sum())
    return pages, around


def test_base_pages_embed_at_most_the_limit_and_say_so(bounded_pages):
    pages, around = bounded_pages
    bounded = [p for p in pages if around[p.filename] > LIMIT]
    assert bounded, "no base has more than the limit of parcels around it"
    for page in pages:
        n = around[page.filename]
        if n > LIMIT:
            assert page.features["land_parcels"] == LIMIT, page.filename
            assert 0 < page.features[REST_KEY] <= base_detail.MAX_REST_CELLS
            assert NOTE in page.html and f"{n:,} parcels around" in page.html
        else:
            assert page.features.get("land_parcels", 0) == n, page.filename
            assert REST_KEY not in page.features and NOTE not in page.html


@pytest.mark.browser
def test_bounded_base_page_draws_and_shows_the_note_in_chromium(browser, bounded_pages, tmp_path):
    pages, around = bounded_pages
    page = max(pages, key=lambda p: around[p.filename])
    path = tmp_path / page.filename
    path.write_text(page.html, encoding="utf-8")
    load_page(browser, path)
    legend = browser.execute_script("return document.body.innerText")
    assert NOTE not in legend  # the parcel layers start hidden, and their legend with them
    drawn = browser.execute_script(
        "const out = {};"
        "for (const key of ['land_parcels', arguments[0]]) {"
        "  const g = miyun.layers[key]; miyun.map.addLayer(g);"
        "  let n = 0; g.eachLayer(() => { n++; });"
        "  out[key] = n;"
        "}"
        "miyun.map.fitBounds(miyun.layers[arguments[0]].getBounds(), {animate: false});"
        "return out;",
        REST_KEY,
    )
    assert drawn == {"land_parcels": LIMIT, REST_KEY: page.features[REST_KEY]}
    time.sleep(0.2)
    legend = browser.execute_script("return document.body.innerText")
    assert NOTE in legend
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.mark.browser
def test_aggregated_land_use_page_draws_and_shows_the_note_in_chromium(
    browser, land_use_pages, tmp_path
):
    _, page = land_use_pages
    path = tmp_path / page.filename
    path.write_text(page.html, encoding="utf-8")
    load_page(browser, path)
    drawn = browser.execute_script(
        "const g = miyun.layers['land_parcels']; let n = 0; g.eachLayer(() => { n++; });"
        "return [miyun.map.hasLayer(g), n];"
    )
    assert drawn == [True, page.features["land_parcels"]]
    legend = browser.execute_script("return document.body.innerText")
    assert "km cells for display" in legend and "changing_parcels.csv" in legend
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
