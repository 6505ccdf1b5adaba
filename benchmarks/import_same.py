"""Are two imports the same? Compares two GeoPackages written by ``miyun-spatial import`` (every
table's schema and rows: features, attributes, geometry blobs, styles; ``gpkg_contents`` and
``gpkg_metadata_reference``, ``layer_styles`` without their timestamps) and, optionally, their ``--json`` reports (without
``seconds`` and ``out``). Prints the differences; exit 1 if any.

    python benchmarks/import_same.py OLD.gpkg NEW.gpkg [OLD.json NEW.json]
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

_SKIP = {
    "gpkg_contents": ("last_change",),
    "gpkg_metadata_reference": ("timestamp",),
    "layer_styles": ("update_time",),
}


def table_digests(path: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as con:
        con.text_factory = bytes
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for name in sorted(n.decode() if isinstance(n, bytes) else n for n in names):
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
            columns = [c.decode() if isinstance(c, bytes) else c for c in columns]
            kept = [c for c in columns if c not in _SKIP.get(name, ())]
            digest = hashlib.sha256(repr(kept).encode())
            selected = ", ".join(f'"{c}"' for c in kept)
            for row in con.execute(f'SELECT {selected} FROM "{name}" ORDER BY rowid'):
                digest.update(repr(row).encode())
            out[name] = digest.hexdigest()
        return out


def report(path: Path) -> dict:
    data = json.loads(path.read_text())
    return {k: v for k, v in data.items() if k not in ("seconds", "out")}


def main(argv: list[str]) -> int:
    old, new = table_digests(Path(argv[0])), table_digests(Path(argv[1]))
    differ = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    for name in differ:
        print(f"table {name}: {'differs' if name in old and name in new else 'only in one'}")
    if len(argv) == 4:
        a, b = report(Path(argv[2])), report(Path(argv[3]))
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key):
                differ.append(key)
                print(f"report {key}: differs")
    print("same" if not differ else f"{len(differ)} differences")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
