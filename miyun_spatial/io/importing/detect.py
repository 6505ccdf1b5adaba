"""Which classification a column of land-use codes is in, decided from the data.

A field's codes are looked up in every table (GB/T 21010 三调, 用地用海 2023, the plan's own
classes); where the delivery has a name beside the code (DLMC, YDYHMC ..., or the text after
the code in a CAD layer name) the names are compared with each table's name for the code.
Codes such as 1001 exist in both national tables with different meanings (铁路用地 in GB/T
21010, 工业用地 in 用地用海), so the names decide where the codes do not. Names that contradict
the table in force on more than ``MISMATCH_SHARE`` of the rows while another table agrees are an
error naming both. The work is done once per distinct (value, name) pair, never per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ...core.errors import DataError, InputError
from .crosswalk import CLASSIFICATIONS, Crosswalk, split_code

MISMATCH_SHARE = 0.05  # names contradicting the table on more rows than this: not that table
SHORT = {"gbt21010": "GB/T 21010", "ydyh": "用地用海", "plan": "the plan's classes"}
ALL_FIELDS = "*"  # key of a bare --classification (every field)


def parse_choices(values, fields: list[str], *, option: str = "--classification") -> dict:
    """``("gbt21010", "planned_use=plan")`` -> ``{"*": "gbt21010", "planned_use": "plan"}``."""
    out: dict[str, str] = {}
    for value in values:
        target, sep, key = str(value).rpartition("=")
        target, key = (target.strip() if sep else ALL_FIELDS), key.strip()
        if key not in CLASSIFICATIONS:
            raise InputError(
                f"{option} {value}: unknown classification '{key}'; use one of "
                f"{', '.join(CLASSIFICATIONS)} (or FIELD=NAME for one field)"
            )
        if target != ALL_FIELDS and target not in fields:
            raise InputError(
                f"{option} {value}: '{target}' is not a land-use field of this layer; use one "
                f"of {', '.join(fields) or '(none)'}"
            )
        out[target] = key
    return out


def names_agree(name: object, standard: str) -> bool:
    """A delivered name is the table's name (spaces ignored; a shortened or longer form counts)."""
    if not isinstance(name, str):
        return False
    a, b = "".join(name.split()), "".join(standard.split())
    return a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a))


@dataclass(frozen=True)
class Detection:
    key: str
    how: str  # for the report
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Fit:
    key: str
    known: int  # rows whose code the table knows
    named: int  # of those, rows with a name
    disagree: int  # of those, rows whose name is not the table's name for the code


def _fits(pairs: pd.DataFrame, crosswalks, overrides) -> dict[str, _Fit]:
    fits = {}
    for key, crosswalk in crosswalks.items():
        known = named = disagree = 0
        for value, name, count in pairs.itertuples(index=False):
            code, rest = split_code(value, crosswalk, overrides)
            if code not in crosswalk.rows and code not in overrides:
                continue
            known += count
            name = name if isinstance(name, str) and name.strip() else rest
            if isinstance(name, str) and code in crosswalk.rows:
                named += count
                disagree += 0 if names_agree(name, crosswalk.rows[code].name_zh) else count
        fits[key] = _Fit(key, known, named, disagree)
    return fits


def _share(fit: _Fit) -> float:
    return fit.disagree / fit.named if fit.named else 0.0


def _example(pairs, chosen: Crosswalk, other: Crosswalk, overrides, name_field) -> str:
    """The most frequent value whose name is ``other``'s name and not ``chosen``'s."""
    for value, name, _count in pairs.sort_values("n", ascending=False).itertuples(index=False):
        code, rest = split_code(value, other, overrides)
        name = name if isinstance(name, str) and name.strip() else rest
        if code not in other.rows or not names_agree(name, other.rows[code].name_zh):
            continue
        mine = chosen.rows.get(code)
        if mine is not None and names_agree(name, mine.name_zh):
            continue
        theirs = f"'{mine.name_zh}'" if mine else "not a code"
        return (
            f"{code} named {name}{f' in {name_field}' if name_field else ''} is "
            f"{other.rows[code].name_zh} in {SHORT[other.key]} but "
            f"{theirs} in {SHORT[chosen.key]}"
        )
    return ""


def detect(
    values: pd.Series,
    names: pd.Series | None,
    crosswalks: Mapping[str, Crosswalk],
    overrides: Mapping[str, str],
    *,
    given: str | None,
    fallback: tuple[str, str],
    source: str,
    name_field: str | None,
    target: str,
    where: str,
) -> Detection:
    """The classification of ``values`` (the source field ``source`` filling ``target``).

    ``given`` is the user's choice (checked against the names, never overruled silently);
    ``fallback`` (key, why) decides between tables that fit the data equally well.
    """
    pairs = pd.DataFrame(
        {"v": values.astype(object), "m": names.astype(object) if names is not None else None}
    )
    pairs = pairs.value_counts(dropna=False, sort=False).rename("n").reset_index()
    fits = _fits(pairs, crosswalks, overrides)
    named_by = f" and the names in {name_field}" if name_field else ""
    if given is not None:
        key, how = given, "--classification"
    else:
        best = max(f.known for f in fits.values())
        tied = [f for f in fits.values() if f.known == best]
        if len(tied) > 1 and any(f.named for f in tied):
            least = min(_share(f) for f in tied)
            tied = [f for f in tied if _share(f) == least]
        keys = [f.key for f in tied]
        key = fallback[0] if fallback[0] in keys else keys[0]
        if len(keys) == 1:
            how = f"detected from the codes{named_by} of {source}"
        else:
            fit_all = " and ".join(SHORT[k] for k in keys)
            how = f"the codes of {source} fit {fit_all} alike: {fallback[1]}"
    chosen = fits[key]
    warnings = []
    if _share(chosen) > MISMATCH_SHARE:
        others = [
            f
            for f in fits.values()
            if f.key != key
            and f.named
            and _share(f) <= MISMATCH_SHARE
            and f.known >= chosen.known * (1 - MISMATCH_SHARE)
        ]
        if others:
            other = max(others, key=lambda f: f.known)
            example = _example(pairs, crosswalks[key], crosswalks[other.key], overrides, name_field)
            raise DataError(
                f"{where}: {source} holds {SHORT[other.key]} codes: {example} "
                f"({chosen.disagree} of {chosen.named} names in {name_field or source} contradict "
                f"{SHORT[key]}); give --classification {target}={other.key}"
            )
        warnings.append(
            f"{chosen.disagree} of {chosen.named} names in {name_field or source} are not the "
            f"{SHORT[key]} name of their code (local names?); check the classification"
        )
    return Detection(key, how, warnings)
