"""metrics.reuse: a base part is reused only when every input it reads is equal."""

import geopandas as gpd
import pandas as pd
import shapely

from miyun_spatial.metrics.reuse import outlines, same_frame


def _zones(width: float = 100.0, name: str = "a") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [name, "b"]},
        geometry=[shapely.box(0, 0, width, 100), shapely.box(200, 0, 300, 100)],
        index=pd.Index(["Z1", "Z2"], name="code"),
        crs="EPSG:4548",
    )


def test_equal_copies_are_the_same():
    assert same_frame(_zones(), _zones())
    assert same_frame(_zones().copy(), _zones())


def test_a_moved_outline_a_value_a_crs_or_a_dtype_differs():
    assert not same_frame(_zones(), _zones(width=99.0))
    assert not same_frame(_zones(), _zones(name="x"))
    assert not same_frame(_zones(), _zones().set_crs("EPSG:4326", allow_override=True))
    table = pd.DataFrame({"v": [1, 2]})
    assert not same_frame(table, table.astype(float))
    assert not same_frame(table, table.iloc[::-1])
    assert not same_frame(table, None)


def test_outlines_ignore_attributes_but_not_geometry():
    assert same_frame(outlines(_zones()), outlines(_zones(name="x")))
    assert not same_frame(outlines(_zones()), outlines(_zones(width=99.0)))


def test_outlines_differ_in_index_or_crs():
    assert not same_frame(outlines(_zones()), outlines(_zones().rename(index={"Z2": "Z3"})))
    moved = _zones().set_crs("EPSG:4326", allow_override=True)
    assert not same_frame(outlines(_zones()), outlines(moved))
    assert not same_frame(outlines(_zones()), _zones())  # an outline is not a whole frame
