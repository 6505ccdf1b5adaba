"""A throw-away PostgreSQL + PostGIS cluster for the tests (a real server, never a mock).

``initdb`` in a temporary folder, the server listening on a unix socket in that folder and on
a free loopback port, password authentication (scram-sha-256) for a superuser ``miyun``; the
password is given to clients through a private ~/.pgpass-style file (PGPASSFILE), never in a
DSN. Run as root, the server runs as the ``postgres`` user (PostgreSQL refuses root).
Stopped and deleted at the end of the test session.

``python tests/pg_cluster.py`` starts one for manual work and prints its DSN.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("MIYUN_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
SUPERUSER = "miyun"


def available() -> str | None:
    """None when a cluster can be started here, else why not."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL binaries not found in {PG_BIN} (apt install postgresql-15)"
    if not POSTGIS_CONTROL.exists():
        return "PostGIS not installed (apt install postgresql-15-postgis-3)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server"
    return None


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int
    password: str
    passfile: Path

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def dsn(self, dbname: str = "miyun", *, schema: str | None = None, user: str = SUPERUSER):
        """A libpq URI without password (it comes from PGPASSFILE)."""
        query = f"?schema={schema}" if schema else ""
        return f"postgresql://{user}@{self.host}:{self.port}/{dbname}{query}"

    def env(self) -> dict[str, str]:
        """Environment for a client: the passfile, no PGPASSWORD, no stray PG variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGPASSFILE"] = str(self.passfile)
        return env

    def psql(self, sql: str, dbname: str = "miyun") -> str:
        out = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
             self.dsn(dbname), "-c", sql],
            env=self.env(), capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout.strip()

    def create_database(self, dbname: str) -> str:
        """A new database with PostGIS; returns its DSN (without schema)."""
        self.psql(f'CREATE DATABASE "{dbname}"', "postgres")
        self.psql("CREATE EXTENSION postgis", dbname)
        return self.dsn(dbname)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a cluster, yield it, stop it and delete its files."""
    root = Path(tempfile.mkdtemp(prefix="miyun-pg-"))
    password = secrets.token_urlsafe(16)
    data, log = root / "data", root / "server.log"
    pwfile, passfile = root / "pw", root / "pgpass"
    pwfile.write_text(password + "\n")
    port = _free_port()
    passfile.write_text(f"*:*:*:{SUPERUSER}:{password}\n")
    passfile.chmod(0o600)
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        root.chmod(0o755)
        for path in (root, pwfile):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
    run = _as_server_user()
    started = False
    try:
        subprocess.run(
            [*run, str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER,
             f"--pwfile={pwfile}", "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        pwfile.unlink()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=40 -c shared_buffers=64MB"
        )
        subprocess.run(
            [*run, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
             "-w", "-t", "60", "start"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        started = True
        handle = Cluster(root, port, password, passfile)
        handle.psql("SELECT 1", "postgres")
        handle.create_database("miyun")
        yield handle
    finally:
        if started:
            subprocess.run(
                [*run, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, text=True,
            )  # fmt: skip
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover - manual use; SIGINT or SIGTERM stops and cleans
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    with cluster() as c:
        print(c.dsn(), f"PGPASSFILE={c.passfile}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
