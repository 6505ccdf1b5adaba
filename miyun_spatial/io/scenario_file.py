"""Scenarios from a TOML file (``--scenarios FILE``), for quick what-ifs outside the GeoPackage.

The file holds the same columns as the ``scenarios`` and ``scenario_edits`` tables::

    [[scenarios]]
    scenario_code = "B7-up"
    name = "B7 提质升级"
    provenance = "user"

    [[scenarios.edits]]
    layer = "farmer_bases"
    feature_code = "B7"
    field = "category"
    value = "upgrade"

``edit_code`` may be left out (edits are then numbered E1, E2, ... within their scenario).
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..core.errors import InputError
from ..core.scenario import EDITS, SCENARIOS, ScenarioSet, scenarios_from_tables

SCENARIO_KEYS = set(SCENARIOS.field_names) | {"edits"}
EDIT_KEYS = set(EDITS.field_names) - {"scenario_code"}


def read_scenario_file(path: Path) -> ScenarioSet:
    """The scenarios of a TOML file; InputError (one line, naming the fix) if it is unreadable."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the scenarios file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: the scenarios file is not UTF-8 text; save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the line it names") from None
    entries = raw.get("scenarios")
    extra = set(raw) - {"scenarios"}
    if extra or not isinstance(entries, list):
        raise InputError(
            f"{path}: expected only [[scenarios]] tables"
            + (f", found {', '.join(sorted(map(repr, extra)))}" if extra else "")
            + "; see 'miyun-spatial scenarios --help'"
        )
    scenario_rows, edit_rows = [], []
    for i, entry in enumerate(entries, 1):
        where = f"{path}: scenario #{i}"
        _known(entry, SCENARIO_KEYS, where)
        code = _cell(entry.get("scenario_code"))
        scenario_rows.append({k: _cell(entry.get(k)) for k in SCENARIOS.field_names})
        edits = entry.get("edits", [])
        if not isinstance(edits, list):
            raise InputError(f"{where}: 'edits' must be a list of [[scenarios.edits]] tables")
        for j, edit in enumerate(edits, 1):
            _known(edit, EDIT_KEYS, f"{where} edit #{j}")
            row = {k: _cell(edit.get(k)) for k in EDITS.field_names}
            row["scenario_code"] = code
            row["edit_code"] = row["edit_code"] or f"E{j}"
            edit_rows.append(row)
    scenarios = pd.DataFrame(scenario_rows, columns=list(SCENARIOS.field_names), dtype=object)
    edits = pd.DataFrame(edit_rows, columns=list(EDITS.field_names), dtype=object)
    scenarios.index = pd.RangeIndex(1, len(scenarios) + 1, name="fid")
    edits.index = pd.RangeIndex(1, len(edits) + 1, name="fid")
    found = scenarios_from_tables(scenarios, edits, origin=str(path))
    # a file's rows have no fid a GIS user could look up: the messages name codes instead
    return ScenarioSet(
        tuple(_no_fid(s) for s in found.scenarios),
        tuple(_edit_no_fid(e) for e in found.orphans),
        found.origin,
    )


def _no_fid(scenario):
    return replace(scenario, fid=None, edits=tuple(_edit_no_fid(e) for e in scenario.edits))


def _edit_no_fid(edit):
    return replace(edit, fid=None)


def _known(entry: object, keys: set[str], where: str) -> None:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a table of keys, found {type(entry).__name__}")
    unknown = set(entry) - keys
    if unknown:
        raise InputError(
            f"{where}: unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(keys))}"
        )


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise InputError(f"a scenario value must be text or a number, found {value!r}")
    return str(value)
