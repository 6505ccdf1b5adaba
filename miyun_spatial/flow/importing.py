"""``import``: one delivery -> one catalogue layer of a NEW GeoPackage, with a full report.

read (encoding) -> coordinates (CRS decisions, EPSG:4548) -> geometries -> fields ->
classification (crosswalk) -> the base GeoPackage with that layer replaced, written atomically
(QGIS styles regenerated) -> validate the result. Neither the source nor the base is modified;
``dry_run`` writes to a temporary folder only, to validate, and deletes it.
"""

from __future__ import annotations

import contextlib
import ctypes
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from .. import __version__
from ..core.catalogue import CATALOGUE
from ..core.errors import DataError, InputError
from ..io import geopackage as store
from ..io.importing.coordinates import GCJ02, parse_source_crs, to_work
from ..io.importing.crosswalk import (
    CLASSIFICATIONS,
    load_crosswalk,
    read_classification,
    read_mapping,
)
from ..io.importing.detect import ALL_FIELDS, parse_choices
from ..io.importing.fields import aliases, cast, defaults, find_column, resolve_fields
from ..io.importing.geometry import conform_geometries, gaps
from ..io.importing.landuse import alias_target, class_fields, classify_field
from ..io.importing.report import ImportReport
from ..io.importing.source import read_source
from ..io.outputs import release_arrow_memory
from ..io.qgis_styles import add_styles
from ..io.readback import load_written, multi_polygons_in_place
from ..validate.layers import findings_frame, summary_counts, validate

LAYERS = tuple(
    s.name for s in CATALOGUE.layers if s.role in ("plan", "parcels", "projects", "controls")
)
AREA_DIFF = 0.01  # stated vs computed area: report features differing by more than 1 %
WEB_DRIVERS = ("GeoJSON", "KML", "LIBKML", "GeoJSONSeq")
MAX_LISTED = 5
WRITE_BATCH_ROWS = 25_000  # rows handed to GDAL at a time: the same file, less memory at once


@dataclass(frozen=True)
class ImportOptions:
    source: Path
    layer: str
    out: Path | None
    base: Path = store.DEFAULT_GPKG
    classification: tuple[str, ...] | str = ()  # NAME (every field) or FIELD=NAME
    fields: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    mapping: Path | None = None
    source_crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    repair: bool = False
    keep_extra: bool = False
    dry_run: bool = False
    force: bool = False


def _check_paths(opts: ImportOptions) -> None:
    if opts.layer not in LAYERS:
        raise InputError(
            f"--layer {opts.layer}: cannot be imported; use one of {', '.join(LAYERS)}"
        )
    if opts.dry_run:
        return
    if opts.out is None:
        raise InputError("give --out NEW.gpkg (or --dry-run to only see the report)")
    out = opts.out.resolve()
    for other, what in ((opts.source, "the source"), (opts.base, "--from")):
        if Path(other).resolve() == out:
            raise InputError(f"--out {opts.out}: is {what}; write to a NEW file")
    if opts.out.suffix.lower() != ".gpkg":
        raise InputError(f"--out {opts.out}: give a .gpkg file name")
    if opts.out.exists() and not opts.force:
        raise InputError(f"--out {opts.out}: exists; add --force to replace it")


def run_import(opts: ImportOptions) -> ImportReport:
    """Import ``opts.source`` into ``opts.layer``; raises MiyunError with a one-line reason."""
    with _lean_allocators():
        return _run_import(opts)


@contextlib.contextmanager
def _lean_allocators():
    """Arrow through the system allocator during the import (restored after it).

    pandas' Arrow-backed text makes each step's temporaries in Arrow's pool, which mimalloc
    keeps after they are freed; through malloc they are handed back by the trims between the
    steps (``_give_back_memory``) and reused by the numpy and GEOS allocations of the next:
    300 000 parcels peaked at 641 MB instead of 676 MB (before the overlap candidates were
    made by chunks; with them 580-585 MB), the same CPU time.
    """
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _run_import(opts: ImportOptions) -> ImportReport:
    started = time.perf_counter()
    _check_paths(opts)
    spec = CATALOGUE[opts.layer]
    report = ImportReport(
        source=str(opts.source), layer=opts.layer, base=str(opts.base), dry_run=opts.dry_run
    )
    base = store.load(opts.base)
    classes = base["land_use_classes"]
    overrides = read_mapping(opts.mapping, classes) if opts.mapping else {}
    source_crs = parse_source_crs(opts.source_crs)
    src = read_source(
        Path(opts.source), target=opts.layer, source_layer=opts.source_layer, encoding=opts.encoding
    )
    where, driver, declared, report.source_layer = src.where, src.driver, src.crs, src.layer
    report.driver = driver
    report.features_read = len(src.frame)
    report.encoding = src.encoding.how if src.encoding else None
    frame, report.crs = to_work(src.frame, declared, source_crs, where=where, in_place=True)
    del src  # the source's geometries: free them before the next copy is made
    _give_back_memory()
    if driver in WEB_DRIVERS and source_crs is None:
        report.crs.append(
            "web export in lon/lat taken as WGS 84: if it was digitized on Gaode or Tencent "
            "maps (GCJ-02, offset by a few hundred metres) import it again with --source-crs gcj02"
        )
    geometry = conform_geometries(
        frame, spec.geometry, repair=opts.repair, is_cad=driver == "DXF", where=where
    )
    frame = geometry.frame
    report.geometry, report.warnings = geometry.notes, list(geometry.warnings)
    out = _attributes(frame, spec, opts, report, classes, overrides, where)
    if spec.role == "parcels":
        zones = base.layers.get("park_in_park")
        if zones is not None and "code" in zones and zones.crs is not None:
            zones = zones.set_index("code").to_crs(frame.crs)
        else:
            zones = None
        report.warnings += gaps(frame, zones)
    geoms, crs = np.array(frame.geometry.values, dtype=object), frame.crs  # our own array
    del frame, geometry
    if spec.geometry == "polygon":  # multi parts as written and read back, made once
        multi_polygons_in_place(geoms)
    out = gpd.GeoDataFrame(out, geometry=geoms, crs=crs)
    del geoms
    out.index = pd.RangeIndex(1, len(out) + 1, name="fid")
    report.features_written = len(out)
    layers = {name: base.layers[name] for name in CATALOGUE.names if name in base.layers}
    layers[opts.layer] = out
    del out, base
    _give_back_memory()
    with tempfile.TemporaryDirectory(prefix="miyun-import-") as tmp:
        target = Path(tmp) / "dry-run.gpkg" if opts.dry_run else opts.out
        _write(target, layers, opts, report)
        written = {opts.layer: layers[opts.layer].geometry}  # not decoded again from the file
        del layers  # validation reads the rest back: the written copy is no longer needed
        _give_back_memory()
        _validate(target, report, written)
        del written
    report.out = None if opts.dry_run else str(opts.out)
    report.seconds = time.perf_counter() - started
    return report


def _choices(opts: ImportOptions, targets: list[str]) -> dict[str, str]:
    """Classification per field: the command line's, else the mapping TOML's ``[classification]``."""
    given = (opts.classification,) if isinstance(opts.classification, str) else opts.classification
    if given and not targets:
        raise InputError(
            f"--classification: layer '{opts.layer}' has no land-use class field; it applies to "
            "land_parcels and land_adjustments"
        )
    cli = parse_choices(given, targets)
    if ALL_FIELDS in cli or not opts.mapping:
        return cli
    toml = parse_choices(read_classification(opts.mapping), targets, option=f"{opts.mapping}:")
    return {**toml, **cli}


def _attributes(frame, spec, opts, report, classes, overrides, where) -> pd.DataFrame:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    targets = class_fields(spec)
    choices = _choices(opts, targets)
    crosswalks = {key: load_crosswalk(key, classes) for key in CLASSIFICATIONS} if targets else {}
    found = resolve_fields(columns, spec, opts.fields, class_field=None).sources
    taken = {t: found[t][0] for t in targets if t in found}
    primary = alias_target(frame, spec, taken, choices, crosswalks, overrides, where=where)
    mapping = resolve_fields(columns, spec, opts.fields, class_field=primary)
    unknown = [t for t in opts.constants if not spec.has_field(t)]
    if unknown:
        raise InputError(f"--set {unknown[0]}=...: layer '{spec.name}' has no such field")
    out = pd.DataFrame(index=frame.index)
    area_m2 = pd.Series(frame.geometry.area.to_numpy(), index=frame.index)
    classified = [t for t in targets if t in mapping.sources]
    primary = primary if primary in classified else (classified or [None])[0]
    for target, (source, how_found) in mapping.sources.items():
        report.fields[target] = {"source": source, "how": how_found}
        if target not in targets:
            out[target] = cast(frame[source], spec.field(target).type, where=where, name=source)
            continue
        one = classify_field(
            frame, target, source, area_m2, choices, crosswalks, overrides,
            primary=target == primary, where=where,
        )  # fmt: skip
        key, result = one.detection.key, one.result
        out[target] = result.classes
        report.warnings += [f"{target} ({source}): {w}" for w in one.detection.warnings]
        report.classifications[target] = {
            "source": source,
            "classification": key,
            "title": CLASSIFICATIONS[key][1],
            "how": one.detection.how,
        }
        if target != primary:
            continue
        _classification_report(report, key, one.detection.how, result, overrides)
        kept = [
            ("source_code", result.codes, source, "code as delivered"),
            ("source_name", result.names, one.name_field or source, "name as delivered"),
            ("source_classification", key, repr(key), one.detection.how),
        ]
        if one.name_field is None:
            what = "text after the code, else the standard's name"
            kept[1] = ("source_name", result.names, source, what)
        for name, values, origin, what in kept:
            if spec.has_field(name) and name not in mapping.sources:
                out[name] = values
                report.fields[name] = {"source": origin, "how": what}
    for target, value in opts.constants.items():
        kind = spec.field(target).type
        out[target] = cast(pd.Series(value, index=frame.index), kind, where="--set", name=target)
        report.fields[target] = {"source": repr(value), "how": "--set"}
    context = {
        "classification": report.classification,
        "gcj02": opts.source_crs is not None and parse_source_crs(opts.source_crs) == GCJ02,
        "groups": dict(zip(classes["code"].astype(str), classes["group"], strict=True)),
    }
    for target, (values, reason) in defaults(spec, out, context).items():
        if target in out.columns:
            continue
        out[target] = values
        report.filled.append(reason)
    missing = [f.name for f in spec.fields if f.required and f.name not in out.columns]
    if missing:
        raise DataError(
            f"{where}: required fields missing for layer '{spec.name}': {', '.join(missing)}; "
            "map a source field with --field FIELD=SOURCE or give a value with --set FIELD=VALUE"
        )
    for f in spec.fields:  # optional fields the source lacks: present, empty
        if f.name not in out.columns:
            out[f.name] = pd.Series(pd.NA if f.type == "integer" else None, index=out.index)
            if f.type in ("real", "integer"):
                out[f.name] = out[f.name].astype("float64" if f.type == "real" else "Int64")
    _area_check(frame, columns, area_m2, report)
    report.unused_fields = [c for c in mapping.unused if c not in _used(report)]
    if opts.keep_extra:
        report.kept_extra = True
        taken = {str(c).lower() for c in out.columns} | {"fid", "geom", "geometry"}
        for column in report.unused_fields:
            if column.lower() in taken:  # GeoPackage column names ignore case
                report.warnings.append(f"source field {column} not kept: its name is taken")
                continue
            out[column] = frame[column]
            taken.add(column.lower())
    ordered = [f.name for f in spec.fields if f.name in out.columns]
    return out[ordered + [c for c in out.columns if c not in ordered]]


def _used(report: ImportReport) -> set[str]:
    used = {how["source"] for how in report.fields.values()}
    if report.area_check:
        used.add(report.area_check["field"])
    return used


def _classification_report(report, key, how, result, overrides) -> None:
    report.classification = key
    report.classification_title = CLASSIFICATIONS[key][1]
    report.classification_how = how
    report.overrides = dict(overrides)
    report.crosswalk = result.table.reset_index().to_dict(orient="records")
    report.ambiguous = result.ambiguous.reset_index().to_dict(orient="records")


def _area_check(frame, columns, area_m2: pd.Series, report: ImportReport) -> None:
    """Compare a stated area field (TBMJ, m²) with the area computed in EPSG:4548."""
    column = find_column(columns, aliases()["stated_area_m2"])
    if column is None:
        return
    stated = pd.to_numeric(frame[column], errors="coerce")
    known = stated.notna() & (stated > 0)
    diff = (area_m2[known] - stated[known]).abs() / stated[known]
    over = diff[diff > AREA_DIFF].sort_values(ascending=False)
    report.area_check = {
        "field": str(column),
        "unit": "m²",
        "compared": int(known.sum()),
        "stated_ha": float(stated[known].sum()) / 10_000,
        "computed_ha": float(area_m2[known].sum()) / 10_000,
        "max_diff_pct": float(diff.max() * 100) if len(diff) else 0.0,
        "threshold_pct": AREA_DIFF * 100,
        "over": len(over),
        "listed": [str(i) for i in over.index[:MAX_LISTED]],
    }


def _give_back_memory() -> None:
    """Return freed heap pages (glibc) and Arrow's pool to the system between the steps: the
    next step allocates through another allocator, so the peak would grow by what is kept."""
    release_arrow_memory()
    with contextlib.suppress(AttributeError, OSError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


def _write(target: Path, layers, opts: ImportOptions, report: ImportReport) -> None:
    metadata = {
        "title": f"miyun-spatial import of {Path(opts.source).name} into {opts.layer}",
        "generator": f"miyun-spatial {__version__} import",
        "base": str(opts.base),
        "source": f"{opts.source} ({report.driver}, layer {report.source_layer})",
        "crs": CATALOGUE.crs,
    }
    store.write_gpkg(
        target, layers, metadata=metadata, finish=add_styles, batch_rows=WRITE_BATCH_ROWS
    )


def _validate(target: Path, report: ImportReport, written) -> None:
    plan = load_written(target, written)
    _give_back_memory()  # the Arrow buffers of the read back: ~90 MB at 300 000 parcels
    findings = validate(plan)
    del plan
    counts = summary_counts(findings)
    table = findings_frame(findings)
    table["fid"] = table["fid"].astype("Int64")
    table = table.astype(object).where(table.notna(), None)
    report.validation = {**counts, "findings": table.to_dict(orient="records")}
