"""Many processes writing atomic outputs into one folder at once (the build's workers do):
every write succeeds, and no scratch folder or lock is left behind."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest

from miyun_spatial.io.outputs import write_text

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the workers are forked (Linux)"
)

WRITERS = 6
FILES_EACH = 150


def _write_many(args: tuple[str, int]) -> str | None:
    folder, writer = args
    try:
        for k in range(FILES_EACH):
            write_text(Path(folder) / f"w{writer}-{k}.txt", f"{writer}:{k}")
    except BaseException as exc:  # reported to the test, which names it
        return f"writer {writer}: {type(exc).__name__}: {exc}"
    return None


def test_concurrent_writers_all_succeed_and_leave_no_scratch(tmp_path):
    with multiprocessing.get_context("fork").Pool(WRITERS) as pool:
        failures = [
            f for f in pool.map(_write_many, [(str(tmp_path), w) for w in range(WRITERS)]) if f
        ]
    assert failures == []
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in names if n.startswith(".")] == []
    assert len(names) == WRITERS * FILES_EACH
    assert (tmp_path / "w3-7.txt").read_text(encoding="utf-8") == "3:7"
