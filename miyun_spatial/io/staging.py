"""All-or-nothing outputs: a run writes into a hidden staging folder and swaps it in at the end.

The staging folder ``.miyun-stage-<pid>-XXXXXXXX`` lies beside the output folder (same
filesystem) and is owned like every scratch folder (:mod:`miyun_spatial.scratch`: a killed
run's is removed by the next run). When everything is written, the files of the output
folder the tool did not write (a user's notes) are hard-linked into it, a manifest
``.miyun-run.json`` lists what the run wrote, and the two folders are exchanged in one step
(``renameat2(RENAME_EXCHANGE)``; elsewhere two renames). A failed or killed run leaves the
previous outputs as they were, and its error says so.

An output folder that is a mount point, or whose parent cannot be written, cannot be
exchanged: the run is staged inside it and its files are renamed into place one by one at
the end (each atomic, the set not), with a warning saying so.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import MiyunError, OutputError
from .scratch import LOCK_NAME, _pid_alive, _pid_of, private_dir, remove_stale

log = logging.getLogger(__name__)

STAGE_PREFIX = ".miyun-stage-"
PREVIOUS_PREFIX = ".miyun-prev-"  # the old output folder between the two fallback renames
PREVIOUS_OF = ".miyun-prev-of"  # in it: the name of the output folder it was
MANIFEST = ".miyun-run.json"
_OURS = (".miyun-",)  # names in an output folder that are the tool's own machinery
# outputs of versions that wrote no manifest: such a folder holds a previous complete run
_LEGACY_OUTPUTS = ("index.html", "results.gpkg", "report.html")


@dataclass
class Stage:
    """Where a run writes (``path``) and where its files end up (``out_dir``)."""

    path: Path
    out_dir: Path
    command: str
    in_place: bool
    previous: dict | None  # the manifest of the run now in out_dir (None: none)
    has_previous: bool  # out_dir holds a previous complete run
    publish_on_failure: bool = False  # e.g. a refused build's validation.csv, in an empty folder
    written: list[str] = field(default_factory=list)

    def final(self, path: Path) -> Path:
        """Where ``path`` (in the staging folder) will be once the run is swapped in."""
        return self.out_dir / Path(path).relative_to(self.path)

    def unchanged_note(self) -> str:
        if self.has_previous:
            return f"the previous complete outputs in {self.out_dir}/ are unchanged"
        return f"nothing was written to {self.out_dir}/"


@contextlib.contextmanager
def staged_run(out_dir: Path, *, command: str, replace_all: bool) -> Iterator[Stage]:
    """A staging folder for one run's outputs into ``out_dir``, swapped in if the block ends
    normally. ``replace_all``: the files of the previous run that this one did not write go
    (``build``); otherwise they stay (``maps`` and ``report`` write a part of the folder).

    A MiyunError raised in the block gets "the previous complete outputs in X/ are
    unchanged" appended; other exceptions are logged with it.
    """
    out_dir = Path(out_dir)
    parent = out_dir.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write there ({exc.strerror})") from None
    _restore_previous(out_dir)
    in_place = _cannot_exchange(out_dir, parent)
    where = out_dir if in_place else parent
    previous = _read_manifest(out_dir)
    has_previous = bool(previous and previous.get("complete")) or (
        previous is None and any((out_dir / name).exists() for name in _LEGACY_OUTPUTS)
    )
    with _stage_folder(where, out_dir) as folder:
        stage = Stage(folder, out_dir, command, in_place, previous, has_previous)
        try:
            yield stage
        except BaseException as exc:
            if stage.publish_on_failure and not has_previous:
                _publish(stage, replace_all=replace_all, complete=False)
            else:
                _note_unchanged(exc, stage)
            raise
        _publish(stage, replace_all=replace_all, complete=True)


@contextlib.contextmanager
def _stage_folder(where: Path, out_dir: Path) -> Iterator[Path]:
    """A private staging folder in ``where`` (stale ones of killed runs removed first)."""
    with contextlib.ExitStack() as stack:
        try:
            where.mkdir(parents=True, exist_ok=True)
            remove_stale(where, STAGE_PREFIX)
            folder = stack.enter_context(private_dir(where, STAGE_PREFIX))
        except OSError as exc:
            raise OutputError(f"{out_dir}: cannot write there ({exc.strerror})") from None
        yield folder


def _note_unchanged(exc: BaseException, stage: Stage) -> None:
    if isinstance(exc, MiyunError) and exc.args:
        # a file named in the staging folder is named where the user looks for it
        text = str(exc.args[0]).replace(str(stage.path), str(stage.out_dir))
        exc.args = (f"{text}; {stage.unchanged_note()}", *exc.args[1:])
    elif isinstance(exc, Exception):
        log.warning("%s", stage.unchanged_note())


def _cannot_exchange(out_dir: Path, parent: Path) -> bool:
    """True (and a warning) when ``out_dir`` cannot be swapped as a whole."""
    if out_dir.is_dir() and os.path.ismount(out_dir):
        why = "is a mount point"
    elif out_dir.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        why = f"lies in a folder that cannot be written ({parent})"
    else:
        return False
    log.warning(
        "%s/ %s: the outputs are staged inside it and moved into place file by file at the "
        "end (a run that fails leaves the previous outputs; one killed while moving may mix "
        "two runs)",
        out_dir,
        why,
    )
    return True


def _publish(stage: Stage, *, replace_all: bool, complete: bool) -> None:
    (stage.path / LOCK_NAME).unlink(missing_ok=True)  # the folder is ours until it is swapped
    written = _files(stage.path)
    before = set((stage.previous or {}).get("files", ()))
    tool_files = before if replace_all else set()
    kept_tool = [
        rel for rel in before - set(written) - tool_files if (stage.out_dir / rel).is_file()
    ]
    manifest = {
        "generator": "miyun-spatial",
        "command": stage.command,
        "complete": complete,
        "files": sorted({*written, *kept_tool}),
    }
    try:
        if stage.in_place:
            _move_in_place(stage, written, before - set(written) if replace_all else set())
            _write_manifest(stage.out_dir, manifest)
        else:
            if stage.out_dir.is_dir():
                _link_kept(stage.out_dir, stage.path, set(written) | tool_files)
            _write_manifest(stage.path, manifest)
            _swap(stage.path, stage.out_dir)
    except OutputError as exc:
        raise OutputError(f"{exc}; {stage.unchanged_note()}") from None
    except OSError as exc:
        raise OutputError(
            f"{stage.out_dir}: the outputs cannot be put in place ({exc.strerror or exc}); "
            f"{stage.unchanged_note()}"
        ) from None
    stage.written = written


def _files(root: Path) -> list[str]:
    """Every file under ``root`` (relative, '/'-separated), without the tool's machinery."""
    found = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if not d.startswith(_OURS)]
            names = [n for n in names if not n.startswith(_OURS) and n != LOCK_NAME]
        names += [d for d in dirs if (here / d).is_symlink()]  # not walked into: kept as links
        found += [(here / n).relative_to(root).as_posix() for n in names]
    return sorted(found)


def _link_kept(out_dir: Path, stage: Path, replaced: set[str]) -> None:
    """Hard-link (else copy) the files of ``out_dir`` that are not ``replaced`` into ``stage``:
    they survive the swap, and stay in ``out_dir`` if the run dies before it."""
    for rel in _files(out_dir):
        if rel in replaced:
            continue
        source, target = out_dir / rel, stage / rel
        if target.is_file() or target.is_symlink():
            continue  # a file of this run where the old folder has one: this run's wins
        blocked = (
            target if target.is_dir() else next((p for p in target.parents if p.is_file()), None)
        )
        if blocked is not None:  # the user's file is where the run writes a folder, or so
            raise OutputError(
                f"{out_dir / rel}: a file that is not an output stands where this run writes "
                f"{out_dir / blocked.relative_to(stage)}: move it elsewhere and run again"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
            continue
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _write_manifest(folder: Path, manifest: dict) -> None:
    tmp = folder / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def _read_manifest(out_dir: Path) -> dict | None:
    try:
        value = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _move_in_place(stage: Stage, written: list[str], gone: set[str]) -> None:
    for rel in written:
        target = stage.out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage.path / rel, target)
    for rel in gone:
        (stage.out_dir / rel).unlink(missing_ok=True)


def _swap(stage: Path, out_dir: Path) -> None:
    """Put ``stage`` at ``out_dir``; the old folder ends up at ``stage`` (removed with it)."""
    mode = out_dir.stat().st_mode & 0o7777 if out_dir.is_dir() else _default_mode()
    os.chmod(stage, mode)
    if not out_dir.exists():
        try:
            os.rename(stage, out_dir)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise  # else: made by someone else meanwhile: exchange with it
    if _exchange(stage, out_dir):
        return
    # no RENAME_EXCHANGE here: two renames, the old folder kept under a name the next run
    # restores if this one dies between them
    previous = Path(tempfile.mkdtemp(prefix=f"{PREVIOUS_PREFIX}{os.getpid()}-", dir=stage.parent))
    (out_dir / PREVIOUS_OF).write_text(out_dir.name, encoding="utf-8")
    os.rename(out_dir, previous)  # onto the empty folder mkdtemp made
    os.rename(stage, out_dir)
    shutil.rmtree(previous, ignore_errors=True)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _restore_previous(out_dir: Path) -> None:
    """Put back an output folder a killed run left renamed between its two renames."""
    parent = out_dir.absolute().parent
    for entry in parent.glob(f"{PREVIOUS_PREFIX}*"):
        pid = _pid_of(entry)
        if pid is not None and _pid_alive(pid):
            continue
        try:
            name = (entry / PREVIOUS_OF).read_text(encoding="utf-8")
        except OSError:
            name = None  # the rename was not made: an empty folder
        if name == out_dir.name and not out_dir.exists():
            (entry / PREVIOUS_OF).unlink()
            os.rename(entry, out_dir)
            log.warning("%s/: restored the outputs a killed run had moved aside", out_dir)
        elif name is None:
            shutil.rmtree(entry, ignore_errors=True)
