"""Shared fixtures: the default GeoPackage, throw-away copies, the CLI as a user runs it, a browser;
and a check, as the session ends, that it left no miyun-spatial process running."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import proc_tree
import pytest

from miyun_spatial.core.paths import DEFAULT_GPKG

REPO = Path(__file__).resolve().parents[1]
# CI sets this so that tests needing Chromium, QGIS or GDAL fail instead of skipping.
REQUIRE_ALL = os.environ.get("MIYUN_REQUIRE_ALL") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip when a real client is missing, unless CI requires every test to run."""
    if not condition:
        if REQUIRE_ALL:
            pytest.fail(f"required for CI but missing: {reason}")
        pytest.skip(reason)


def load_page(driver, path: Path, *, timeout: float = 20) -> None:
    """Open ``path`` in the browser and wait until the page has finished loading."""
    driver.get(path.as_uri())
    deadline = time.monotonic() + timeout
    while driver.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{path.name} did not finish loading"
        time.sleep(0.05)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def default_gpkg() -> Path:
    assert DEFAULT_GPKG.is_file(), "geodata/miyun.gpkg is missing: run 'miyun-spatial init-default'"
    return DEFAULT_GPKG


@pytest.fixture
def gpkg_copy(tmp_path: Path, default_gpkg: Path) -> Path:
    """A private copy of the default GeoPackage that a test may edit or break."""
    target = tmp_path / "plan.gpkg"
    shutil.copyfile(default_gpkg, target)
    return target


@pytest.fixture(scope="session")
def default_plan(default_gpkg):
    from miyun_spatial.io import geopackage as store

    return store.load(default_gpkg)


@pytest.fixture(scope="session")
def default_results(default_plan):
    """The default data analysed once (validated, every figure computed): an ``analysis.Results``."""
    from miyun_spatial.analysis.run import analyse
    from miyun_spatial.validate.layers import validate

    return analyse(default_plan, tuple(validate(default_plan)))


@pytest.fixture(scope="session")
def default_work(default_plan):
    from miyun_spatial.flow.build import work_layers

    return work_layers(default_plan)


@pytest.fixture(scope="session")
def default_static_maps(default_plan, default_work):
    """The default data's static maps (not drawn yet) by key, dated for stable output."""
    from datetime import UTC, datetime

    from miyun_spatial.render.static.maps import static_maps

    maps = static_maps(
        default_work,
        {},
        default_plan["land_use_classes"],
        generated=datetime(2026, 1, 2, tzinfo=UTC),
    )
    return {m.key: m for m in maps}


_IN_PROCESS = threading.Lock()


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``miyun-spatial ARGS`` in this process, exactly as the console script does.

    The command's own entry point (``cli.main``) parses the arguments, runs, prints and returns
    the exit code; stdout and stderr are captured. ``timeout`` is accepted for the subprocess
    variant's signature. A few smoke tests use :func:`run_cli_subprocess` to cover the real
    executable.
    """
    from miyun_spatial.cli import main

    out, err = io.StringIO(), io.StringIO()
    with (
        _IN_PROCESS,  # stdout/stderr/cwd are per process: one command at a time
        contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("default")  # as the console script: printed, not raised
        code = main([str(a) for a in args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run_cli_subprocess(
    *args: str | Path, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``miyun-spatial ARGS`` in a subprocess, as a user would."""
    command = [sys.executable, "-m", "miyun_spatial", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


def made_once(tmp_path_factory, name: str, make: Callable[[Path], object]) -> tuple[Path, object]:
    """``make(folder)`` run once per test run, however many xdist workers ask: the first one
    runs it, under a file lock, in a folder every worker of the run sees (the parent of the
    workers' base temporary folders); the others wait for it, then read the same folder and
    ``make``'s value (JSON). What is made this way is read only. A failed ``make`` leaves
    nothing: the next worker to ask tries again (and fails the same way)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder, value = root / f"once-{name}", root / f"once-{name}.json"
    try:
        import fcntl
    except ImportError:  # not POSIX: each worker makes its own
        folder = tmp_path_factory.mktemp(name)
        return folder, make(folder)
    with open(root / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if not value.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            value.write_text(json.dumps(make(folder)), encoding="utf-8")
    return folder, json.loads(value.read_text(encoding="utf-8"))


def cli_once(tmp_path_factory, name: str, *args) -> tuple[Path, subprocess.CompletedProcess]:
    """``miyun-spatial build ARGS --out <folder>/maps_out`` run once per test run (``made_once``),
    exit 0 asserted: the output folder and the finished command."""

    def make(folder: Path) -> dict:
        result = run_cli(*args, "--out", folder / "maps_out")
        assert result.returncode == 0, result.stderr
        return {"stdout": result.stdout, "stderr": result.stderr}

    folder, ran = made_once(tmp_path_factory, name, make)
    return folder / "maps_out", subprocess.CompletedProcess(args, 0, ran["stdout"], ran["stderr"])


@pytest.fixture(scope="session")
def built_default(tmp_path_factory, default_gpkg) -> Path:
    """``miyun-spatial build`` run once on the default data; returns the output folder (read
    only: a test that changes outputs builds its own)."""
    return cli_once(tmp_path_factory, "build", "build", default_gpkg)[0]


@pytest.fixture(scope="session")
def built_offline_run(tmp_path_factory, default_gpkg) -> tuple[Path, subprocess.CompletedProcess]:
    """``miyun-spatial build --offline -j 2 --json`` run once on the default data: the output
    folder and the finished command (its stdout is the --json summary). Read only."""
    return cli_once(
        tmp_path_factory, "build-offline", "build", default_gpkg, "--offline", "-j", "2", "--json"
    )


@pytest.fixture(scope="session")
def built_offline(built_offline_run) -> Path:
    """The output folder of :func:`built_offline_run` (the default data, ``build --offline``)."""
    return built_offline_run[0]


@pytest.fixture(scope="session")
def built_scenario(tmp_path_factory, default_gpkg) -> Path:
    """``miyun-spatial build --scenario B7-upgrade --offline`` run once on the default data;
    returns the output folder (read only)."""
    args = ("build", default_gpkg, "--scenario", "B7-upgrade", "--offline")
    return cli_once(tmp_path_factory, "build-scenario", *args)[0]


# Tests that read a whole build are slow (a default build is 30 s on 2 idle cores): the session's
# builds here, and a module's own, named in its SLOW_FIXTURES; so are the tests of a real client
# (Chromium, QGIS, PostgreSQL: seconds to start, each). pytest_collection_modifyitems marks them
# ``slow``, so that ``-m "not slow"`` stays a quick edit-test loop.
SLOW_FIXTURES = frozenset({"built_default", "built_offline", "built_offline_run", "built_scenario"})
CLIENT_MARKERS = ("browser", "qgis", "postgis")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        slow = SLOW_FIXTURES | frozenset(getattr(item.module, "SLOW_FIXTURES", ()))
        client = any(item.get_closest_marker(name) for name in CLIENT_MARKERS)
        if client or slow.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium driven by chromedriver, with a fresh profile and request logging."""
    need(
        CHROMIUM is not None and CHROMEDRIVER is not None,
        "Debian chromium + chromium-driver are not installed",
    )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def pg():
    """A throw-away PostgreSQL + PostGIS cluster for the session (tests/pg_cluster.py)."""
    from pg_cluster import available, cluster

    reason = available()
    need(reason is None, reason or "")
    with cluster() as handle, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PGPASSFILE", str(handle.passfile))
        mp.delenv("PGPASSWORD", raising=False)
        yield handle


# Set for the session: every process a test starts inherits it, and so do their forks, even once
# orphaned (adopted by init); it tells this session's processes from other runs' on the machine.
SESSION_MARK = "MIYUN_TEST_SESSION"


def pytest_sessionstart(session) -> None:
    os.environ[SESSION_MARK] = f"{os.getpid()}-{time.time_ns()}"


def _left_behind() -> list[int]:
    """This session's miyun-spatial processes still running: workers forked by this process,
    builds that tests started (their command lines name it), and their workers."""
    if not sys.platform.startswith("linux"):
        return []
    procs = proc_tree.table()
    ours = proc_tree.cmdline(os.getpid())
    started = proc_tree.marked(SESSION_MARK, os.environ.get(SESSION_MARK, "?"), procs)
    found = {
        proc
        for proc in proc_tree.descendants(os.getpid(), procs) | started
        if (line := proc_tree.cmdline(proc[0])) == ours or "miyun" in line
    }
    left, _seconds = proc_tree.ended_within(found, 2.0)  # one just killed: a moment to end
    return left


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run, naming them, if processes of it are left running (and end them)."""
    left = _left_behind()
    if not left:
        return
    lines = [f"  {pid}: {proc_tree.cmdline(pid)[:160]}" for pid in left]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"the tests left {len(left)} miyun-spatial process(es) running, now killed:"
    if reporter is None:
        print("\n".join([message, *lines]), file=sys.stderr)
    else:
        reporter.write("\n")
        reporter.write_sep("!", message, red=True, bold=True)
        for line in lines:
            reporter.write_line(line, red=True)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
