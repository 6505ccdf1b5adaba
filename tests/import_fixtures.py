"""Deliveries built in code for the import tests: a 三调 Shapefile, a FileGDB, a DXF, GCJ-02 GeoJSON.

Parcels are a grid clipped to the default data's park-in-park zone P1, so that the mix per zone
of the imported data can be checked against an independent computation.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import prcoords
import pyogrio
import shapely

from miyun_spatial.io import geopackage as store

# (DLBM, DLMC, the plan class the crosswalk must give): GB/T 21010 codes and 三调 working classes
SURVEY_CODES = (
    ("0601", "工业用地", "M1"),
    ("05H1", "商业服务业设施用地", "B"),
    ("08H2", "科教文卫用地", "A"),
    ("0701", "城镇住宅用地", "R"),
    ("1003", "公路用地", "S"),
    ("0103", "旱地", "E2"),
    ("0810", "公园与绿地", "G"),
    ("0804", "科研用地", "A35"),
)
# 用地用海分类 2023 codes for the regulatory-plan FileGDB
YDYH_CODES = (
    ("100101", "一类工业用地", "M1"),
    ("100102", "二类工业用地", "M2"),
    ("0802", "科研用地", "A35"),
    ("1401", "公园绿地", "G"),
    ("1207", "城镇道路用地", "S"),
    ("16", "留白用地", "LB"),
)

# 用地用海 codes kept in the 三调 field names DLBM/DLMC: every code is also a GB/T 21010 code,
# with another meaning there (1001 铁路用地, 1101 河流水面, 1002 轨道交通用地, 0901 军事设施用地)
YDYH_IN_DLBM = (
    ("1001", "工业用地", "M1"),
    ("1101", "物流仓储用地", "W"),
    ("1002", "采矿用地", "M2"),
    ("0901", "商业用地", "B"),
    ("0701", "城镇住宅用地", "R"),
)
# the plan's own classes (land_use_classes), as a regulatory plan's GHYT field holds them
PLAN_CODES = ("M1", "F3", "B", "A35", "R", "G", "S")


def zone_p1() -> shapely.Polygon:
    plan = store.load(store.DEFAULT_GPKG)
    return plan["park_in_park"].set_index("code").geometry["P1"]


def grid_parcels(codes, n: int = 8) -> gpd.GeoDataFrame:
    """An n x n grid clipped to P1 in EPSG:4548, with DLBM/DLMC/class and 三调 fields."""
    zone = zone_p1()
    minx, miny, maxx, maxy = zone.bounds
    w, h = (maxx - minx) / n, (maxy - miny) / n
    cells = []
    for i in range(n):
        for j in range(n):
            cell = shapely.box(minx + i * w, miny + j * h, minx + (i + 1) * w, miny + (j + 1) * h)
            piece = cell.intersection(zone)
            if piece.area > 100 and isinstance(piece, shapely.Polygon):
                cells.append(piece)
    rows = []
    for k, geom in enumerate(cells):
        code, name, plan_class = codes[k % len(codes)]
        rows.append(
            {
                "BSM": f"1102280000{k:04d}",
                "TBBH": f"{k + 1:04d}",
                "DLBM": code,
                "DLMC": name,
                "QSDWMC": "密云镇檀营村民委员会",
                "TBMJ": round(geom.area, 2),
                "plan_class": plan_class,
            }
        )
    return gpd.GeoDataFrame(rows, geometry=cells, crs="EPSG:4548")


def survey_shapefile(
    folder: Path, parcels: gpd.GeoDataFrame, *, name: str = "DLTB", reproject: bool = True
) -> Path:
    """A 三调-style Shapefile: EPSG:4527 (zone-prefixed eastings), GBK .dbf, NO .cpg.

    ``reproject=False`` writes ``parcels`` in their own CRS (e.g. a deliberately wrong one).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.shp"
    data = parcels.drop(columns=["plan_class"])
    data = data.to_crs("EPSG:4527") if reproject else data
    pyogrio.write_dataframe(data, path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def filegdb(folder: Path, parcels: gpd.GeoDataFrame) -> Path:
    """A File Geodatabase (GDAL's OpenFileGDB driver): regulatory-plan layer YDGH, extent XZQ."""
    path = folder / "plan.gdb"
    data = parcels.drop(columns=["plan_class", "DLBM", "DLMC", "TBMJ"]).copy()
    data["YDYHDM"] = list(parcels["DLBM"])
    data["YDYHMC"] = list(parcels["DLMC"])
    data["DKBH"] = [f"GH-{i:03d}" for i in range(1, len(data) + 1)]
    pyogrio.write_dataframe(data, path, layer="YDGH", driver="OpenFileGDB")
    extent = gpd.GeoDataFrame({"XZQMC": ["密云区"]}, geometry=[zone_p1()], crs="EPSG:4548")
    pyogrio.write_dataframe(extent, path, layer="XZQ", driver="OpenFileGDB", append=True)
    return path


def dxf(folder: Path, parcels: gpd.GeoDataFrame) -> Path:
    """A CAD drawing in EPSG:4548 (no CRS in DXF) with the class in the layer name, plus a label."""
    path = folder / "parcels.dxf"
    data = gpd.GeoDataFrame(
        {"Layer": [f"{c} {n}" for c, n in zip(parcels["DLBM"], parcels["DLMC"], strict=True)]},
        geometry=list(parcels.geometry),
        crs=None,
    )
    label = gpd.GeoDataFrame(
        {"Layer": ["标注"]}, geometry=[parcels.geometry.iloc[0].representative_point()]
    )
    both = gpd.GeoDataFrame(pd.concat([data, label], ignore_index=True), geometry="geometry")
    with warnings.catch_warnings():  # DXF has no CRS: that is the point of this fixture
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        pyogrio.write_dataframe(both, path, driver="DXF", geometry_type="Unknown")
    return path


def gcj02_geojson(folder: Path, parcels: gpd.GeoDataFrame) -> Path:
    """GeoJSON digitized on Gaode: WGS 84 lon/lat shifted to GCJ-02."""
    path = folder / "gaode.geojson"
    wgs = parcels.to_crs("EPSG:4326")

    def shift(coords):
        out = coords.copy()
        for i, (lon, lat) in enumerate(coords):
            moved = prcoords.wgs_gcj((lat, lon))
            out[i] = (moved.lon, moved.lat)
        return out

    geoms = shapely.transform(wgs.geometry.values, shift)
    features = [
        {
            "type": "Feature",
            "properties": {"DLBM": code, "DLMC": name},
            "geometry": shapely.geometry.mapping(geom),
        }
        for code, name, geom in zip(wgs["DLBM"], wgs["DLMC"], geoms, strict=True)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def zip_shapefiles(archive: Path, *shps: Path, folder: str = "", cpg: str | None = None) -> Path:
    """``shps`` with every sidecar file in one zip (under ``folder``); ``cpg`` adds a .cpg text."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for shp in shps:
            for part in sorted(shp.parent.glob(f"{shp.stem}.*")):
                zf.write(part, f"{folder}{part.name}")
            if cpg is not None:
                zf.writestr(f"{folder}{shp.stem}.cpg", cpg)
    return archive
