"""``diff``: features matched by code; changed attributes, geometry and area (EPSG:4548).

Expected areas come from the plan's stated areas (geodata/sources) or from shapely on the
layer as GDAL reads it, never from the diff module itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import fiona
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely import affinity

from miyun_spatial.analysis.diff import diff_plans
from miyun_spatial.core.errors import DataError
from miyun_spatial.io import geopackage as store

SOURCES = Path(__file__).resolve().parents[1] / "geodata" / "sources"
ENTITIES = pd.read_csv(SOURCES / "plan_entities.csv").set_index("id")
B2_HA = float(ENTITIES.loc["B2", "stated_area_ha"])  # 河南寨镇滨河基地: 120 ha in the plan
HA = 10_000.0


def read(path: Path, layer: str):
    return pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)


def overwrite(path: Path, layer: str, frame) -> None:
    pyogrio.write_dataframe(
        frame.reset_index(), path, layer=layer, layer_options={"OVERWRITE": "YES", "FID": "fid"}
    )


def edit(path: Path, layer: str, which: str, **changes) -> None:
    """Set attributes (or ``geometry`` to a function of the old one) of feature ``which``."""
    frame = read(path, layer)
    fid = frame.index[frame["code"] == which][0]
    for column, value in changes.items():
        if column == "geometry":
            frame.loc[fid, "geometry"] = value(frame.geometry[fid])
        else:
            frame.loc[fid, column] = value
    overwrite(path, layer, frame)


def area_ha(path: Path, layer: str, code: str) -> float:
    frame = read(path, layer)
    assert frame.crs.to_epsg() == 4548
    return float(shapely.area(frame.geometry[frame["code"] == code].item()) / HA)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def new_copy(tmp_path: Path, default_gpkg: Path) -> Path:
    target = tmp_path / "edited.gpkg"
    shutil.copyfile(default_gpkg, target)
    return target


def test_a_file_and_its_gdal_rewrite_have_no_differences(default_plan, new_copy):
    """Rewriting every feature layer in reverse order with reversed rings changes no feature."""
    assert diff_plans(default_plan, default_plan).is_empty
    for layer in ("farmer_bases", "land_parcels", "clusters"):
        frame = read(new_copy, layer).iloc[::-1]
        frame = frame.set_geometry(shapely.reverse(frame.geometry.values))
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")  # new fids
        overwrite(new_copy, layer, frame)
    result = diff_plans(default_plan, store.load(new_copy))
    assert result.changes.empty, result.changes
    assert result.is_empty


def test_category_and_geometry_edit_gives_fields_geometry_and_area(default_plan, new_copy):
    """B2 (120 ha in the plan) enlarged by 10 % each way and re-classified upgrade -> exit."""
    assert default_plan["farmer_bases"].set_index("code").loc["B2", "category"] == "upgrade"
    edit(
        new_copy,
        "farmer_bases",
        "B2",
        category="exit",
        geometry=lambda g: affinity.scale(g, 1.1, 1.1, origin="centroid"),
    )
    result = diff_plans(default_plan, store.load(new_copy))
    assert list(result.changes.index) == [("farmer_bases", "B2")]
    row = result.changes.loc[("farmer_bases", "B2")]
    assert row["change"] == "changed"
    assert row["fields"] == "category"
    assert row["values"] == {"category": ["upgrade", "exit"]}
    assert row["geometry_changed"]
    assert (row["category_old"], row["category_new"]) == ("upgrade", "exit")
    assert row["area_old_ha"] == pytest.approx(B2_HA, rel=0.01)
    assert row["area_change_ha"] == pytest.approx(B2_HA * 0.21, rel=0.01)
    assert row["area_new_ha"] == pytest.approx(area_ha(new_copy, "farmer_bases", "B2"), rel=1e-9)

    summary = result.summary.loc["farmer_bases"]
    old_bases = default_plan["farmer_bases"]
    upgrades = int((old_bases["category"] == "upgrade").sum())
    assert summary.loc["upgrade", ["count_old", "count_new"]].tolist() == [upgrades, upgrades - 1]
    assert summary.loc["upgrade", "area_change_ha"] == pytest.approx(-B2_HA, rel=0.01)
    assert summary.loc["exit", "area_change_ha"] == pytest.approx(B2_HA * 1.21, rel=0.01)
    assert summary.loc["exit", "changed"] == 1 and summary.loc["upgrade", "changed"] == 0
    assert summary["area_change_ha"].sum() == pytest.approx(row["area_change_ha"], rel=1e-9)


def test_added_removed_moved_and_attribute_only_changes(default_plan, new_copy):
    bases = read(new_copy, "farmer_bases")
    b7 = bases[bases["code"] == "B7"]
    b8 = b7.assign(code="B8", name_zh="新基地")
    b8["geometry"] = b8.geometry.translate(xoff=5000)
    b8.index = pd.Index([bases.index.max() + 1], name="fid")
    bases = pd.concat([bases[bases["code"] != "B6"], b8])
    bases.loc[bases["code"] == "B1", "name_zh"] = "穆家峪镇华云基地（更名）"
    moved = bases["code"] == "B4"
    bases.loc[moved, "geometry"] = bases.geometry[moved].translate(xoff=250, yoff=-100)
    overwrite(new_copy, "farmer_bases", bases)

    result = diff_plans(default_plan, store.load(new_copy))
    changes = result.changes.loc["farmer_bases"]
    assert dict(changes["change"]) == {
        "B1": "changed",
        "B4": "changed",
        "B6": "removed",
        "B8": "added",
    }
    b7_ha = area_ha(new_copy, "farmer_bases", "B7")
    assert changes.loc["B8", "area_change_ha"] == pytest.approx(b7_ha, rel=1e-9)
    b6_ha = float(default_plan["farmer_bases"].set_index("code").geometry["B6"].area / HA)
    assert changes.loc["B6", "area_change_ha"] == pytest.approx(-b6_ha, rel=1e-9)
    assert changes.loc["B1", "fields"] == "name_zh"
    assert not changes.loc["B1", "geometry_changed"]
    assert changes.loc["B1", "area_change_ha"] == 0
    assert changes.loc["B4", "fields"] == "" and changes.loc["B4", "geometry_changed"]
    assert changes.loc["B4", "area_change_ha"] == pytest.approx(0, abs=1e-6)
    layer = result.layers.loc["farmer_bases"]
    assert layer[["added", "removed", "changed"]].tolist() == [1, 1, 2]
    assert layer[["count_old", "count_new"]].tolist() == [7, 7]


def test_a_removed_layer_and_a_new_field_are_reported(default_plan, new_copy):
    pyogrio.write_dataframe(
        read(new_copy, "clusters").assign(remark="checked").reset_index(),
        new_copy,
        layer="clusters",
        layer_options={"OVERWRITE": "YES", "FID": "fid"},
    )
    fiona.remove(str(new_copy), layer="places")
    result = diff_plans(default_plan, store.load(new_copy))
    assert result.layers.loc["clusters", "fields_added"] == "remark"
    assert result.layers.loc["places", "layer_change"] == "removed"
    removed = result.changes.loc["places"]
    assert len(removed) == len(default_plan["places"]) and set(removed["change"]) == {"removed"}
    # Same values in the new field for every cluster: no feature counts as changed for it.
    assert "clusters" not in result.changes.index.get_level_values("layer")


def test_a_layer_stored_in_web_mercator_is_compared_in_4548(default_plan, new_copy):
    """3857 inflates areas ~1.7x at Miyun; compared in EPSG:4548 nothing changed."""
    overwrite(new_copy, "zgc_park", read(new_copy, "zgc_park").to_crs(3857))
    result = diff_plans(default_plan, store.load(new_copy))
    assert "zgc_park" not in result.changes.index.get_level_values("layer")
    summary = result.summary.loc["zgc_park"]
    assert summary["area_change_ha"].abs().max() < 1e-6


def test_duplicate_codes_cannot_be_matched(default_plan, new_copy):
    edit(new_copy, "clusters", "C3", code="C1")
    with pytest.raises(DataError, match=r"clusters.*'C1'.*fid 1.*fid 3"):
        diff_plans(default_plan, store.load(new_copy))


@pytest.mark.slow
def test_cli_diff_text_and_json(cli, default_gpkg, new_copy):
    edit(new_copy, "farmer_bases", "B2", category="exit")
    before = (sha(default_gpkg), sha(new_copy))
    text = cli("diff", default_gpkg, new_copy)
    assert text.returncode == 0, text.stderr
    assert (
        "farmer_bases B2" in text.stdout
        and "category 提质升级 upgrade → 逐步退出 exit" in text.stdout
    )
    result = cli("diff", default_gpkg, new_copy, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["changed_layers"] == ["farmer_bases"]
    [change] = payload["changes"]
    assert (change["layer"], change["code"], change["change"]) == ("farmer_bases", "B2", "changed")
    assert change["values"] == {"category": ["upgrade", "exit"]}
    assert change["geometry_changed"] is False and change["area_change_ha"] == 0
    rows = {(r["layer"], r["category"]): r for r in payload["summary"]}
    assert rows[("farmer_bases", "exit")]["area_change_ha"] == pytest.approx(B2_HA, rel=0.01)
    assert (sha(default_gpkg), sha(new_copy)) == before


def test_cli_diff_on_duplicate_codes_and_missing_file_is_one_line(cli, default_gpkg, new_copy):
    edit(new_copy, "clusters", "C3", code="C1")
    result = cli("diff", default_gpkg, new_copy)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "clusters" in result.stderr
    assert "own code" in result.stderr and "Traceback" not in result.stderr
    missing = cli("diff", default_gpkg, new_copy.with_name("nope.gpkg"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_diff_on_a_layer_without_crs_is_one_line(cli, default_gpkg, new_copy):
    with sqlite3.connect(new_copy) as con:
        for table in ("gpkg_geometry_columns", "gpkg_contents"):
            con.execute(f"UPDATE {table} SET srs_id = -1 WHERE table_name = 'farmer_bases'")
    con.close()
    result = cli("diff", default_gpkg, new_copy)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "farmer_bases" in line and "no CRS" in line and "Layer Properties" in line
