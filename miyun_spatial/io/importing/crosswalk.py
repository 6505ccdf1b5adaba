"""Land-use classification crosswalks: source codes -> the plan's classes, as data.

The tables live in ``crosswalks/*.csv`` beside this module (provenance in
``crosswalks/PROVENANCE.md``); they are loaded and checked when used. ``plan`` is the identity
crosswalk over the base GeoPackage's own ``land_use_classes``.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ...core.errors import DataError, InputError

CLASSIFICATIONS = {
    "gbt21010": ("gbt21010_2017.csv", "GB/T 21010-2017 土地利用现状分类 (三调)"),
    "ydyh": ("ydyh_2023_level2.csv", "用地用海分类指南 (2023)"),
    "plan": (None, "规划用地分类 the plan's land_use_classes"),
}
_COLUMNS = ("code", "name_zh", "level1_code", "level1_zh", "plan_class", "ambiguous", "note")
_LEADING_CODE = re.compile(r"[0-9A-Za-z]+", re.ASCII)


@dataclass(frozen=True)
class CrosswalkRow:
    code: str
    name_zh: str
    plan_class: str
    ambiguous: bool
    note: str = ""
    level1_code: str = ""
    level1_zh: str = ""


@dataclass(frozen=True)
class Crosswalk:
    """One classification's table: source code -> row (plan class, ambiguity, note)."""

    key: str
    title: str
    rows: Mapping[str, CrosswalkRow]

    def __contains__(self, code: object) -> bool:
        return code in self.rows


def load_crosswalk(key: str, classes: pd.DataFrame) -> Crosswalk:
    """The crosswalk ``key`` (gbt21010, ydyh, plan), checked against the plan's ``classes``."""
    if key not in CLASSIFICATIONS:
        raise InputError(f"unknown classification '{key}'; use one of {', '.join(CLASSIFICATIONS)}")
    filename, title = CLASSIFICATIONS[key]
    known = set(classes["code"].astype(str))
    if filename is None:
        names = dict(zip(classes["code"].astype(str), classes["name_zh"].astype(str), strict=True))
        rows = {c: CrosswalkRow(c, names[c], c, False) for c in names}
        return Crosswalk(key, title, MappingProxyType(rows))
    text = files(__package__).joinpath("crosswalks", filename).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise ValueError(f"crosswalks/{filename}: columns must be {_COLUMNS}")
    rows = {}
    for raw in reader:
        row = CrosswalkRow(
            raw["code"],
            raw["name_zh"],
            raw["plan_class"],
            raw["ambiguous"] == "1",
            raw["note"],
            raw["level1_code"],
            raw["level1_zh"],
        )
        if row.plan_class not in known:
            raise DataError(
                f"crosswalk {key}: code {row.code} maps to '{row.plan_class}', which is not a "
                "class of the base GeoPackage's land_use_classes; restore that table or map "
                "the code with --mapping"
            )
        rows[row.code] = row
    return Crosswalk(key, title, MappingProxyType(rows))


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: is not valid TOML ({exc})") from None


def read_mapping(path: Path, classes: pd.DataFrame) -> dict[str, str]:
    """Per-code overrides from a TOML file: a ``[codes]`` table of ``"0601" = "M2"`` lines.

    A file with only a ``[classification]`` table (see ``read_classification``) has none.
    """
    data = _read_toml(path)
    codes = data.get("codes")
    if codes is None and isinstance(data.get("classification"), dict):
        return {}
    if not isinstance(codes, dict) or not codes:
        raise InputError(
            f'{path}: needs a [codes] table, e.g. [codes] then "0601" = "M2" (or a '
            '[classification] table, e.g. current_use = "gbt21010")'
        )
    known = set(classes["code"].astype(str))
    out = {}
    for code, target in codes.items():
        if not isinstance(target, str) or target not in known:
            raise InputError(
                f"{path}: code '{code}' maps to {target!r}, not a plan class; use one of "
                f"{', '.join(sorted(known))}"
            )
        out[str(code).strip().upper()] = target
    return out


def read_classification(path: Path) -> tuple[str, ...]:
    """The ``[classification]`` table of a mapping TOML as ``FIELD=NAME`` choices."""
    table = _read_toml(path).get("classification", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputError(
            f'{path}: [classification] holds FIELD = "NAME" lines, e.g. planned_use = "plan"'
        )
    return tuple(f"{target}={key}" for target, key in table.items())


def split_code(value: object, crosswalk: Crosswalk, overrides: Mapping[str, str]):
    """``(code, rest)`` of one source value: the whole value, or its leading ASCII token.

    DXF layer names such as ``0601 工业用地`` or ``0601_工业用地`` give ``('0601', '工业用地')``.
    Values that match nothing come back whole, as the code (reported as unknown).
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None, None
    text = str(value).strip()
    if text.upper() in crosswalk or text.upper() in overrides:
        return text.upper(), None
    match = _LEADING_CODE.match(text)
    if match:
        code = match.group(0).upper()
        if code in crosswalk or code in overrides:
            rest = text[match.end() :].strip(" _-:：、") or None
            return code, rest
    return text, None


def split_codes(values: pd.Series, crosswalk: Crosswalk, overrides: Mapping[str, str]):
    """``split_code`` of a whole column as two Series (code, rest), once per distinct value."""
    index, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    split = [split_code(v, crosswalk, overrides) for v in uniques] + [(None, None)]
    codes = np.array([s[0] for s in split], dtype=object)[index]  # -1 (missing) -> the last
    rest = np.array([s[1] for s in split], dtype=object)[index]
    return pd.Series(codes, index=values.index), pd.Series(rest, index=values.index)


def unknown_hint(code: str, crosswalk: Crosswalk) -> str:
    """``, meant '0601'?`` for a lost leading zero; the level-2 codes for a level-1 code."""
    if f"0{code}" in crosswalk:
        return f", meant '0{code}'?"
    finer = [r for r in crosswalk.rows.values() if r.level1_code == code]
    if not finer:
        return ""
    listed = ", ".join(f"{r.code} {r.name_zh}" for r in finer)
    return (
        f", a level-1 (一级类) code: {finer[0].level1_zh}; give the level-2 (二级类) code, "
        f"one of {listed}"
    )


@dataclass(frozen=True)
class Classified:
    """The result of applying a crosswalk to one column of source codes."""

    codes: pd.Series  # normalised source code per feature
    names: pd.Series  # name from the source (or the standard's name)
    classes: pd.Series  # plan class per feature
    table: pd.DataFrame  # one row per source code: name, plan class, ambiguous, features, ha
    ambiguous: pd.DataFrame  # rows of ``table`` applied by default although ambiguous


def classify(
    values: pd.Series,
    source_names: pd.Series | None,
    area_m2: pd.Series,
    crosswalk: Crosswalk,
    overrides: Mapping[str, str],
    *,
    where: str,
) -> Classified:
    """Map source codes to plan classes; unknown codes raise one DataError listing them all."""
    codes, rest = split_codes(values, crosswalk, overrides)
    empty = codes.isna()
    if empty.any():
        raise DataError(
            f"{where}: {int(empty.sum())} features have no land-use code (first: feature "
            f"{codes.index[empty][0]}); fill the code field or name another with --field"
        )
    unknown = codes[~codes.isin(list(crosswalk.rows) + list(overrides))]
    if len(unknown):
        counts = unknown.value_counts()
        listed = ", ".join(
            f"'{c}' ({n} features{unknown_hint(c, crosswalk)})" for c, n in counts.items()
        )
        raise DataError(
            f"{where}: codes not in the {crosswalk.key} crosswalk: {listed}; fix the codes or "
            'map them to plan classes in a --mapping TOML file ([codes] "CODE" = "CLASS")'
        )
    standard = {c: r.name_zh for c, r in crosswalk.rows.items()}
    names = rest.fillna(codes.map(standard))
    if source_names is not None:
        names = source_names.astype(object).where(source_names.notna(), names)
    classes = codes.map({**{c: r.plan_class for c, r in crosswalk.rows.items()}, **overrides})
    table = _table(codes, names, classes, area_m2, crosswalk, overrides)
    ambiguous = table[table["ambiguous"] & ~table["overridden"]]
    return Classified(codes, names, classes, table, ambiguous)


def _table(codes, names, classes, area_m2, crosswalk: Crosswalk, overrides) -> pd.DataFrame:
    frame = pd.DataFrame({"code": codes, "name": names, "plan_class": classes, "m2": area_m2})
    rows = []
    for code, group in frame.groupby("code", sort=True):
        row = crosswalk.rows.get(code)
        rows.append(
            {
                "code": code,
                "name_zh": row.name_zh if row else group["name"].iloc[0],
                "plan_class": group["plan_class"].iloc[0],
                "features": len(group),
                "area_ha": float(group["m2"].sum()) / 10_000,
                "ambiguous": bool(row.ambiguous) if row else False,
                "overridden": code in overrides,
                "note": row.note if row else "mapped by --mapping",
            }
        )
    return pd.DataFrame(rows).set_index("code")
