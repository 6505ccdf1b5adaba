"""Processes as Linux's /proc shows them: a command's descendants, and whether any outlives it.

A process is named by its pid and its start time (so that a pid used again is not taken for
it); a zombie counts as ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

Proc = tuple[int, int]  # (pid, start time in clock ticks since boot)


@dataclass(frozen=True)
class Stat:
    ppid: int
    state: str
    session: int
    start: int


def stat(pid: int) -> Stat | None:
    """The process's /proc/<pid>/stat fields used here, or None once it has gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return Stat(int(fields[1]), fields[0], int(fields[3]), int(fields[19]))


def table() -> dict[int, Stat]:
    """Every process now: pid -> its stat."""
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (got := stat(int(entry.name))) is not None:
            found[int(entry.name)] = got
    return found


def descendants(root: int, procs: dict[int, Stat] | None = None) -> set[Proc]:
    """The children of ``root``, theirs, and so on (not ``root``)."""
    procs = table() if procs is None else procs
    children: dict[int, list[int]] = {}
    for pid, got in procs.items():
        children.setdefault(got.ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if (child, procs[child].start) not in found:
                found.add((child, procs[child].start))
                todo.append(child)
    return found


def in_session(sid: int, procs: dict[int, Stat] | None = None) -> set[Proc]:
    procs = table() if procs is None else procs
    return {(pid, got.start) for pid, got in procs.items() if got.session == sid}


def living(procs: Iterable[Proc]) -> list[int]:
    """The pids of ``procs`` still running (neither gone nor a zombie)."""
    alive = []
    for pid, start in procs:
        got = stat(pid)
        if got is not None and got.start == start and got.state not in "ZX":
            alive.append(pid)
    return sorted(alive)


def ended_within(procs: Iterable[Proc], seconds: float) -> tuple[list[int], float]:
    """Wait up to ``seconds`` for ``procs`` to end: (those still living, seconds waited)."""
    procs, start = set(procs), time.monotonic()
    while (left := living(procs)) and time.monotonic() - start < seconds:
        time.sleep(0.002)
    return left, time.monotonic() - start


@dataclass(frozen=True)
class Killed:
    """A command SIGKILLed at a moment, and what became of every process it had started."""

    caught: bool  # killed at the moment (False: it had ended before)
    processes: frozenset[Proc]  # its descendants seen while it ran
    left: tuple[int, ...]  # the pids still living once the grace period was over
    seconds: float  # from the kill until the last of them had ended
    stderr: str


Moment = Callable[[int, set[Proc]], bool]  # (the command's pid, its living descendants)


def kill_when(command: Sequence[str], moment: Moment, *, env=None, grace: float = 2.0) -> Killed:
    """Run ``command`` in a session of its own, SIGKILL its process (only it) as soon as
    ``moment`` holds, and wait up to ``grace`` seconds for every process it started to end.

    Whatever is still living then is killed (the whole session), after being reported.
    """
    seen: set[Proc] = set()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        caught = False
        try:
            while proc.poll() is None:
                family = descendants(proc.pid)
                seen |= family
                if moment(proc.pid, family):
                    proc.send_signal(signal.SIGKILL)
                    caught = True
                    break
                time.sleep(0.005)
            killed_at = time.monotonic()
            proc.wait(timeout=600)
            seen |= in_session(proc.pid)  # one forked just before the kill
            left, _waited = ended_within(seen, grace)
            seconds = time.monotonic() - killed_at
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pid in living(seen | in_session(proc.pid)):  # what is left of it only
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        err.seek(0)
        return Killed(caught, frozenset(seen), tuple(left), seconds, err.read())


def cmdline(pid: int) -> str:
    """The process's command line, its arguments joined by spaces ('' once it has gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def marked(variable: str, value: str, procs: dict[int, Stat] | None = None) -> set[Proc]:
    """The processes started with ``variable=value`` in their environment, and their forks."""
    procs = table() if procs is None else procs
    entry = f"{variable}={value}".encode()
    found = set()
    for pid, got in procs.items():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:  # gone, or another user's
            continue
        if entry in environ:
            found.add((pid, got.start))
    return found
