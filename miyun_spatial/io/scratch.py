"""Private scratch folders for half-written outputs and snapshots, and removal of stale ones.

Every temporary file lives in a hidden folder ``.miyun-tmp-<pid>-XXXX`` beside its target
(same filesystem, so the final rename is atomic) or, for snapshots of the input, in
``$TMPDIR/miyun-snapshot-<pid>-XXXX``. A GIS client browsing the output folder sees no
half-written GeoPackage beside the real ones (the folder is hidden and its files are never
renamed into place before they are complete).

The owning process holds an exclusive ``flock`` on ``owner.lock`` inside the folder for as long
as it exists; the kernel releases it when the process dies, however it dies (SIGKILL, power
loss). The next run removes folders of ours whose lock it can take: they are stale.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ..core.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no flock; stale folders are recognised by age instead
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

OUTPUT_PREFIX = ".miyun-tmp-"
SNAPSHOT_PREFIX = "miyun-snapshot-"
LOCK_NAME = "owner.lock"
# Without flock (or for leftovers of versions that had no owner lock): stale after this long
# (a write or a snapshot lasts seconds).
STALE_AGE_S = 3600.0
# Leftovers of earlier versions, written straight into the output folder by tempfile.mkstemp:
# '.report.xlsx.k3j_x9a2.tmp' and '.results-k3j_x9a2.gpkg' (8 characters of tempfile's alphabet).
_LEGACY = re.compile(
    r"^\.(?:.+\.[a-z0-9_]{8}\.tmp|[^/]+-[a-z0-9_]{8}\.gpkg(?:-wal|-shm|-journal)?)$"
)


@contextlib.contextmanager
def private_dir(parent: Path, prefix: str = OUTPUT_PREFIX) -> Iterator[Path]:
    """A new folder ``parent/<prefix><pid>-XXXX`` owned (locked) by this process, removed on exit.

    Stale folders of the same kind in ``parent`` (their owner died) are removed first.
    """
    parent = Path(parent)
    remove_stale(parent, prefix)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    lock = None
    try:
        lock = open(folder / LOCK_NAME, "w")  # noqa: SIM115 - held for the folder's lifetime
        if fcntl is not None:
            # blocking: another run's stale check may hold it for an instant (it never takes
            # the folder of a live owner)
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield folder
    finally:
        if lock is not None:
            lock.close()
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale(parent: Path, prefix: str = OUTPUT_PREFIX) -> list[Path]:
    """Remove this package's scratch folders in ``parent`` whose owner is gone; return them.

    Also removes the loose temporary files earlier versions left in an output folder after a
    crash (``.report.xlsx.XXXXXXXX.tmp``, ``.results-XXXXXXXX.gpkg``) once they are an hour old.
    Never raises: a folder that cannot be removed is logged and left.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.name.startswith(prefix) and entry.is_dir() and not entry.is_symlink():
                if _is_stale(entry):
                    # another run may be removing it at the same moment: that is fine
                    shutil.rmtree(entry, ignore_errors=True)
                    if entry.exists():
                        raise OSError("cannot remove it")
                    removed.append(entry)
            elif (
                prefix == OUTPUT_PREFIX
                and _LEGACY.match(entry.name)
                and entry.is_file()
                and _age(entry) > STALE_AGE_S
            ):
                entry.unlink(missing_ok=True)
                removed.append(entry)
        except FileNotFoundError:
            continue  # its owner finished (or another run removed it) meanwhile
        except OSError as exc:
            log.warning("%s: stale temporary data left in place (%s)", entry, exc)
    for entry in removed:
        log.info("removed stale temporary data of a run that did not finish: %s", entry)
    return removed


def _is_stale(folder: Path) -> bool:
    if fcntl is None:
        return _age(folder) > STALE_AGE_S
    try:
        with open(folder / LOCK_NAME, "rb") as fh:  # never created here: see private_dir
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its owner is running
    except FileNotFoundError:
        # no lock: made or being removed this instant, its owner killed before it took the
        # lock, or a folder of an earlier version (no pid in its name): by pid, else by age
        pid = _pid_of(folder)
        return _age(folder) > STALE_AGE_S or (pid is not None and not _pid_alive(pid))
    # the lock was free: its owner died, or has just created the folder and not yet locked
    # it (a worker process writing beside us): a live owner keeps its folder for an hour
    pid = _pid_of(folder)
    return pid is None or not _pid_alive(pid) or _age(folder) > STALE_AGE_S


def _pid_of(folder: Path) -> int | None:
    """The owner's pid in '<prefix><pid>-XXXXXXXX'; None for other names (earlier versions)."""
    match = re.match(r"^\.?miyun-[a-z]+-(\d+)-[a-z0-9_]{8}$", folder.name)
    return int(match.group(1)) if match else None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def _age(path: Path) -> float:
    return time.time() - path.stat().st_mtime


@contextlib.contextmanager
def scratch_target(path: Path) -> Iterator[Path]:
    """Where to write ``path`` before renaming it into place: the same name in a private
    scratch folder beside it (same filesystem, so the rename is atomic; nothing a GIS client
    lists as data if the run dies). OutputError when the folder cannot be made."""
    path = Path(path)
    with contextlib.ExitStack() as stack:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            folder = stack.enter_context(private_dir(path.parent))
        except OSError as exc:
            raise OutputError(f"{path.parent}: cannot write there ({exc.strerror})") from None
        yield folder / path.name
