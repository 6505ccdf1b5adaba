"""Control lines (三区三线, issue 21): lines drawn here, in the test, written into a copy of the
default GeoPackage with pyogrio; ``build`` run as a user runs it; every overlap in
control_line_conflicts.csv checked against shapely directly (EPSG:4548), and every verdict
against the rules as the issue states them. Bad control-line data must be refused by
``validate`` and ``build`` with one line naming the layer, the feature and the fix."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import made_once, run_cli
from gpkg_edit import drop_layer

CRS = "EPSG:4548"
CONFLICT_COLUMNS = [
    "layer", "feature_code", "parcel_code", "line_type", "line_code",
    "current_use", "planned_use", "overlap_ha", "overlap_mu", "rule", "verdict",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "layer", "feature_code", "line_type", "overlap_ha", "overlap_mu", "conflicts", "conditionals"
]  # fmt: skip
CROSSING_COLUMNS = [
    "line_code_a", "line_code_b", "line_type_a", "line_type_b", "overlap_ha", "overlap_mu"
]  # fmt: skip
ALLOWED_OUTSIDE = {"S", "U", "G"}  # the issue: "unless the class is allowed there"


def read(path, layer):
    frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    return frame.to_crs(CRS) if isinstance(frame, gpd.GeoDataFrame) else frame


def write_lines(path, frame: gpd.GeoDataFrame) -> None:
    pyogrio.write_dataframe(
        frame, path, layer="control_lines", driver="GPKG", layer_options={"OVERWRITE": "YES"}
    )


def lines_frame(rows, geoms) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=["line_code", "line_type", "name", "grade"])
    frame["source"] = "test"
    frame["provenance"] = "drawn by tests/test_control_lines.py"
    frame["geom_source"] = "schematic"
    multi = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms]
    return gpd.GeoDataFrame(frame, geometry=multi, crs=CRS)


def draw_lines(gpkg) -> gpd.GeoDataFrame:
    """Four strips across the development zone C2 (farmland, red line, grade-1 and grade-2
    water protection) and an urban boundary over its southern half, crossing all four."""
    c2 = read(gpkg, "clusters").set_index("code").geometry["C2"]
    x0, y0, x1, y1 = c2.bounds
    w = (x1 - x0) / 4
    strips = [shapely.box(x0 + i * w, y0, x0 + (i + 1) * w, y1) for i in range(4)]
    urban = shapely.box(x0 - 200, y0 - 200, x1 + 200, (y0 + y1) / 2)
    rows = [
        ("T-PF", "permanent_farmland", "测试农田", None),
        ("T-ER", "ecological_redline", "测试红线", None),
        ("T-W1", "water_protection", "测试一级", "一级"),
        ("T-W2", "water_protection", "测试二级", "二级"),
        ("T-UB", "urban_boundary", "测试开发边界", None),
    ]
    return lines_frame(rows, [*strips, urban])


def expected_verdict(line_type, grade, outside, from_use, to_use, construction) -> str:
    """The rules of issue 21, written out independently of control_rules.json."""
    to_construction = to_use in construction
    if line_type == "water_protection" and grade == "一级":
        return "conflict"  # any use change in a grade-1 water protection zone
    if line_type in ("permanent_farmland", "ecological_redline") and to_construction:
        return "conflict"
    if outside and to_construction and to_use not in ALLOWED_OUTSIDE:
        return "conflict"
    if line_type == "water_protection":
        return "conditional"  # grade 2
    if from_use == "E2" and to_construction:
        return "conditional"  # farmland to construction: 耕地占补平衡
    return "compliant"


# whole builds of edited data: their tests are slow (conftest)
SLOW_FIXTURES = {"drawn", "hostile_lines"}


@pytest.fixture(scope="module")
def drawn(tmp_path_factory, default_gpkg):
    """Built once per test run, whichever xdist worker asks first (read only); the lines are
    drawn again here from the same clusters (the same lines)."""
    make = functools.partial(_drawn, default_gpkg=default_gpkg)
    root = made_once(tmp_path_factory, "control-lines", make)[0]
    lines = draw_lines(root / "plan.gpkg")
    return {"gpkg": root / "plan.gpkg", "out": root / "out", "lines": lines.set_index("line_code")}


def _drawn(root: Path, default_gpkg: Path) -> None:
    gpkg = root / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    write_lines(gpkg, draw_lines(gpkg))
    result = run_cli("build", gpkg, "--out", root / "out", "--offline")
    assert result.returncode == 0, result.stderr


def csv(out, name) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig", dtype={"grade": object})


def changing(gpkg) -> gpd.GeoDataFrame:
    parcels = read(gpkg, "land_parcels").set_index("parcel_code")
    adjusted = parcels["proposed_use"].fillna(parcels["planned_use"])
    moved = (parcels["current_use"] != parcels["planned_use"]) | (
        parcels["planned_use"] != adjusted
    )
    return parcels[moved].assign(adjusted=adjusted[moved])


def construction_classes(gpkg) -> set[str]:
    classes = read(gpkg, "land_use_classes")
    return set(classes.loc[classes["group"] == "construction", "code"])


def test_every_parcel_overlap_equals_shapely_and_follows_the_rules(drawn):
    table = csv(drawn["out"], "control_line_conflicts")
    assert list(table.columns) == CONFLICT_COLUMNS
    rows = table[table["layer"] == "parcels"].set_index(["parcel_code", "line_code"])
    parcels = changing(drawn["gpkg"])
    construction = construction_classes(drawn["gpkg"])
    lines = drawn["lines"]
    urban = lines.geometry["T-UB"]
    expected = {}
    for code, parcel in parcels.iterrows():
        for line_code, line in lines.iterrows():
            area = parcel.geometry.intersection(line.geometry).area
            if area >= 1.0:  # smaller overlaps are noise (no row)
                expected[code, line_code] = (area, line.line_type, line.grade, False)
        if parcel.adjusted in construction:
            area = parcel.geometry.difference(urban).area
            if area >= 1.0:  # smaller overlaps are noise (no row)
                expected[code, "outside"] = (area, "urban_boundary", None, True)
    assert len(expected) > 40
    assert set(expected) == set(rows.index)
    seen = set()
    for key, (area, line_type, grade, outside) in expected.items():
        row = rows.loc[key]
        assert row["overlap_ha"] == pytest.approx(area / 10_000, abs=0.01), key
        assert row["overlap_mu"] == pytest.approx(area / 10_000 * 15, abs=0.15), key
        assert row["line_type"] == line_type
        parcel = parcels.loc[key[0]]
        assert (row["current_use"], row["planned_use"]) == (parcel.current_use, parcel.adjusted)
        verdict = expected_verdict(
            line_type, grade, outside, parcel.current_use, parcel.adjusted, construction
        )
        assert row["verdict"] == verdict, (key, row["rule"])
        seen.add(verdict)
    assert seen == {"conflict", "conditional", "compliant"}
    rule_of = rows.groupby("line_code")["rule"].agg(set)
    assert rule_of["T-W1"] == {"water_grade1_change"}
    assert rule_of["T-W2"] == {"water_grade2_change"}


def test_zone_rows_are_the_zone_piece_of_each_parcel(drawn):
    table = csv(drawn["out"], "control_line_conflicts")
    parcels = changing(drawn["gpkg"])
    lines = drawn["lines"]
    for layer in ("clusters", "land_adjustments", "park_in_park"):
        zones = read(drawn["gpkg"], layer).set_index("code")
        rows = table[(table["layer"] == layer) & (table["line_code"] != "outside")]
        assert len(rows), layer
        for row in rows.itertuples():
            piece = (
                zones.geometry[row.feature_code]
                .intersection(parcels.geometry[row.parcel_code])
                .intersection(lines.geometry[row.line_code])
            )
            assert row.overlap_ha == pytest.approx(piece.area / 10_000, abs=0.01)
        # every zone x changing parcel x line piece with an area is listed
        found = set(zip(rows["feature_code"], rows["parcel_code"], rows["line_code"], strict=True))
        for zone_code, zone in zones.geometry.items():
            near = parcels[parcels.intersects(zone)]
            for parcel_code, parcel in near.geometry.items():
                for line_code, line in lines.geometry.items():
                    if zone.intersection(parcel).intersection(line).area > 2:
                        assert (zone_code, parcel_code, line_code) in found


def test_summary_and_crossings(drawn):
    summary = csv(drawn["out"], "control_line_summary")
    assert list(summary.columns) == SUMMARY_COLUMNS
    c2 = read(drawn["gpkg"], "clusters").set_index("code").geometry["C2"]
    lines = drawn["lines"]
    rows = summary[(summary["layer"] == "clusters") & (summary["feature_code"] == "C2")]
    by_type = rows.set_index("line_type")
    for line_type in ("permanent_farmland", "ecological_redline", "urban_boundary"):
        geom = shapely.union_all(lines.geometry[lines["line_type"] == line_type].values)
        assert by_type.loc[line_type, "overlap_ha"] == pytest.approx(
            c2.intersection(geom).area / 10_000, abs=0.01
        )
    table = csv(drawn["out"], "control_line_conflicts")
    c2_rows = table[(table["layer"] == "clusters") & (table["feature_code"] == "C2")]
    conflicts = c2_rows[c2_rows["verdict"] == "conflict"].groupby("line_type").size()
    for line_type, n in conflicts.items():
        assert by_type.loc[line_type, "conflicts"] == n
    crossings = csv(drawn["out"], "control_line_crossings")
    assert list(crossings.columns) == CROSSING_COLUMNS
    pairs = {frozenset(p): a for *p, a in crossings[["line_code_a", "line_code_b", "overlap_ha"]]
             .itertuples(index=False)}  # fmt: skip
    urban = lines.geometry["T-UB"]
    for code in ("T-PF", "T-ER", "T-W1", "T-W2"):  # each strip crosses the urban boundary
        area = lines.geometry[code].intersection(urban).area / 10_000
        assert pairs[frozenset((code, "T-UB"))] == pytest.approx(area, abs=0.01)
    assert frozenset(("T-W1", "T-W2")) not in pairs  # one type: not a 三线冲突
    assert len(pairs) == 4


def test_results_gpkg_has_the_lines_and_the_overlap_pieces(drawn):
    results = drawn["out"] / "results.gpkg"
    pieces = read(results, "control_line_conflicts")
    table = csv(drawn["out"], "control_line_conflicts")
    parcel_rows = table[table["layer"] == "parcels"]
    assert len(pieces) == len(parcel_rows)
    assert np.allclose(
        np.sort(pieces.geometry.area.to_numpy() / 10_000),
        np.sort(parcel_rows["overlap_ha"].to_numpy()),
        atol=0.01,
    )
    assert set(read(results, "control_lines")["line_code"]) == set(drawn["lines"].index)


@pytest.mark.slow
def test_without_the_layer_the_tables_exist_empty(tmp_path, default_gpkg):
    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    drop_layer(gpkg, "control_lines")
    assert run_cli("validate", gpkg).returncode == 0  # the layer is optional
    result = run_cli("build", gpkg, "--out", tmp_path / "out", "--offline")
    assert result.returncode == 0, result.stderr
    for name, columns in (
        ("control_line_conflicts", CONFLICT_COLUMNS),
        ("control_line_summary", SUMMARY_COLUMNS),
        ("control_line_crossings", CROSSING_COLUMNS),
    ):
        table = csv(tmp_path / "out", name)
        assert list(table.columns) == columns and table.empty


def test_the_default_lines_find_something(default_results):
    table = default_results.tables["control_line_conflicts"]
    verdicts = set(table.xs("parcels", level="layer")["verdict"])
    assert verdicts == {"conflict", "conditional", "compliant"}
    lines = default_results.work["control_lines"]
    assert set(lines["line_type"]) == {
        "permanent_farmland", "ecological_redline", "urban_boundary", "water_protection"
    }  # fmt: skip
    assert 10 <= len(lines) <= 15 and (lines["geom_source"] == "schematic").all()
    assert lines["provenance"].str.contains("schematic").all()


# -- bad control-line data ------------------------------------------------------------------


def _box_in_c2(gpkg):
    x0, y0, x1, y1 = read(gpkg, "clusters").set_index("code").geometry["C2"].bounds
    return shapely.box(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)


def _bad_points(gpkg):
    frame = lines_frame([("B-1", "urban_boundary", "点", None)], [_box_in_c2(gpkg)])
    return frame.set_geometry(frame.geometry.centroid)


def _bad_invalid(gpkg):
    x0, y0, x1, y1 = _box_in_c2(gpkg).bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    return lines_frame([("B-1", "urban_boundary", "自相交", None)], [bowtie])


def _bad_type(gpkg):
    return lines_frame([("B-1", "farmland", "类型错", None)], [_box_in_c2(gpkg)])


def _bad_outside(gpkg):
    far = shapely.affinity.translate(_box_in_c2(gpkg), 70_000, 0)
    return lines_frame([("B-1", "urban_boundary", "区外", None)], [far])


def _bad_name(gpkg):
    name = '<img src=x onerror="window.__pwned=1">开发边界'
    return lines_frame([("B-1", "urban_boundary", name, None)], [_box_in_c2(gpkg)])


def _bad_grade(gpkg):
    return lines_frame([("B-1", "water_protection", "无级别", None)], [_box_in_c2(gpkg)])


def _bad_overlap(gpkg):
    box = _box_in_c2(gpkg)
    return lines_frame(
        [("B-1", "permanent_farmland", "甲", None), ("B-2", "permanent_farmland", "乙", None)],
        [box, shapely.affinity.translate(box, 100, 0)],
    )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_bad_points, "feature is a Point in a polygon layer"),
        (_bad_invalid, "invalid geometry"),
        (_bad_type, "'line_type' has unknown value 'farmland'"),
        (_bad_outside, "lies outside the district"),
        (_bad_name, "'name' contains HTML or script markup"),
        (_bad_grade, "needs a grade"),
        (_bad_overlap, "another permanent_farmland line"),
    ],
)
def test_bad_lines_are_refused_in_one_line(make, expected, tmp_path, default_gpkg):
    gpkg = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    write_lines(gpkg, make(gpkg))
    for command in (("validate", gpkg), ("build", gpkg, "--out", tmp_path / "out")):
        result = run_cli(*command)
        assert result.returncode != 0, command
        assert "Traceback" not in result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, result.stderr
        assert "control_lines" in errors[0] and expected in errors[0], errors[0]
        assert "fix:" in errors[0]
        assert "fid 1 / B-1" in errors[0]


# -- maps -------------------------------------------------------------------------------------

HOSTILE_NAME = "ZQ{{ 7*7 }}QZ {% if 1 %}IF-RAN{% endif %} \"'& 农田"
HOSTILE_SOURCE = '<img src=x onerror="window.__pwned=2">一张图'
HOSTILE_PROVENANCE = "</script><script>window.__pwned=1</script>示意"
OPEN_LINE_JS = """
const hits = miyun.index.filter(h => h.q.indexOf(arguments[0].toLowerCase()) >= 0
                                     && h.layer._miyunGroup.getPopup());
if (!hits.length) return null;
miyun.show(miyun.map, hits[0].layer);
const p = document.querySelector('.leaflet-popup-content');
return p && p.innerText;
"""


@pytest.fixture(scope="module")
def hostile_lines(tmp_path_factory, default_gpkg):
    """Built once per test run, whichever xdist worker asks first (read only)."""
    make = functools.partial(_hostile_lines, default_gpkg=default_gpkg)
    return made_once(tmp_path_factory, "control-lines-hostile", make)[0] / "out"


def _hostile_lines(root: Path, default_gpkg: Path) -> None:
    gpkg = root / "plan.gpkg"
    shutil.copyfile(default_gpkg, gpkg)
    lines = draw_lines(gpkg)
    first = lines.index[0]  # T-PF, over construction changes: it has conflicts
    lines.loc[first, ["name", "source", "provenance"]] = [
        HOSTILE_NAME, HOSTILE_SOURCE, HOSTILE_PROVENANCE
    ]  # fmt: skip
    write_lines(gpkg, lines)
    result = run_cli("build", gpkg, "--out", root / "out", "--offline")
    assert result.returncode == 0, result.stderr


@pytest.mark.browser
def test_maps_show_the_lines_with_their_overlap_and_run_no_text(hostile_lines, browser):
    from test_maps_browser import open_page

    summary = csv(hostile_lines, "control_line_summary")
    own = summary[(summary["layer"] == "control_lines") & (summary["feature_code"] == "T-PF")]
    overlap_ha, conflicts = float(own["overlap_ha"].iloc[0]), int(own["conflicts"].iloc[0])
    assert conflicts > 0
    for page in ("overview.html", "land_use.html", "base_B2.html"):
        source = (hostile_lines / page).read_text(encoding="utf-8")
        assert "<img src=x" not in source and "<script>window.__pwned" not in source
        _, errors = open_page(browser, hostile_lines / page)
        assert not errors, f"{page}: {errors}"
        layers = browser.execute_script("return Object.keys(miyun.layers)")
        assert {"control_lines", "control_line_conflicts"} <= set(layers), page
        browser.execute_script(
            "for (const k of ['control_lines', 'control_line_conflicts'])"
            "  miyun.map.addLayer(miyun.layers[k]);"
        )
        legend = " ".join(
            browser.execute_script(
                "return document.querySelector('.miyun-legend').innerText"
            ).split()
        )
        assert "管控线 Control lines（示意 schematic）" in legend, page
        assert "永久基本农田" in legend and "冲突 conflict" in legend, page
        popup = browser.execute_script(OPEN_LINE_JS, "T-PF")
        assert popup is not None, page
        text = " ".join(popup.split())
        assert " ".join(HOSTILE_NAME.split()) in text, text  # as typed, not rendered
        assert "ZQ49QZ" not in text and HOSTILE_SOURCE in text
        assert "示意" in text  # the line is marked schematic
        assert f"{overlap_ha:,.2f} ha" in text and f"{conflicts} 冲突 conflicts" in text, text
        assert browser.execute_script("return window.__pwned") is None, page
        count = browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length")
        assert count == 0


def test_static_map_draws_the_lines_marked_schematic(drawn):
    svg = (drawn["out"] / "static" / "control_lines.svg").read_text(encoding="utf-8")
    for text in (
        "管控线与用地变更示意图",
        "永久基本农田",
        "饮用水水源保护区",
        "（示意）",
        "冲突 conflict",
    ):
        assert text in svg, text
    assert (drawn["out"] / "static" / "control_lines.png").stat().st_size > 10_000


def test_import_brings_lines_from_another_system(tmp_path, default_gpkg):
    """Lines delivered as GeoJSON in WGS 84 with other field names (as a 一张图 export)."""
    lines = draw_lines(default_gpkg).to_crs("EPSG:4326")
    lines = lines.rename(columns={"line_type": "GKLX", "name": "MC"})
    source = tmp_path / "lines.geojson"
    lines.to_file(source, driver="GeoJSON")
    out = tmp_path / "plan.gpkg"
    result = run_cli(
        "import", source, "--layer", "control_lines", "--from", default_gpkg, "--out", out,
        "--field", "line_type=GKLX", "--field", "name=MC",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert run_cli("validate", out).returncode == 0
    back = read(out, "control_lines").set_index("line_code")
    assert set(back.index) == {"T-PF", "T-ER", "T-W1", "T-W2", "T-UB"}
    drawn = draw_lines(default_gpkg).set_index("line_code")
    for code, geom in back.geometry.items():  # EPSG:4548 again, within a few cm²
        assert geom.symmetric_difference(drawn.geometry[code]).area < 1.0
    assert back.loc["T-W1", "grade"] == "一级"
