"""PostgreSQL connection strings: parsing, a display name without password, connecting.

A DSN is ``postgresql://user@host:port/db?schema=NAME`` (libpq URI) or ``PG:dbname=db
host=... schema=NAME`` (libpq key/value, as GDAL writes it; ``schemas=`` and
``active_schema=`` are accepted too). The schema is ours, not libpq's: it is taken out before
the rest goes to libpq. The password comes from PGPASSWORD or ~/.pgpass (libpq reads them);
one written in the DSN works but is never shown: ``Target.display`` leaves it out and every
error message passes through ``Target.scrub``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from ...core.errors import InputError

DEFAULT_SCHEMA = "miyun"
CONNECT_TIMEOUT_S = 10
_SCHEMA_KEYS = ("schema", "schemas", "active_schema")
_KV = re.compile(r"""\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)""")


def _require_psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(
            "reading PostgreSQL needs psycopg: pip install 'miyun-spatial[postgis]'"
        ) from None
    return psycopg


@dataclass(frozen=True)
class Target:
    """A database and a schema in it; ``conninfo`` may hold a password, never print it."""

    conninfo: str
    schema: str
    display: str
    secrets: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.display

    def scrub(self, text: str) -> str:
        """``text`` with any password of this DSN replaced by ***."""
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return " ".join(text.split())

    def with_schema(self, schema: str) -> Target:
        return Target(self.conninfo, schema, _display(self.params(), schema), self.secrets)

    def params(self) -> dict[str, str]:
        psycopg = _require_psycopg()
        try:
            return psycopg.conninfo.conninfo_to_dict(self.conninfo)
        except psycopg.ProgrammingError:
            return {}


def parse_dsn(dsn: str, *, schema: str | None = None) -> Target:
    """Split ``dsn`` into libpq's connection string and our schema (``schema`` overrides it)."""
    psycopg = _require_psycopg()
    text = dsn.strip()
    found = None
    if text.lower().startswith("pg:"):
        kept = []
        for key, value in _KV.findall(text[3:]):
            if key.lower() in _SCHEMA_KEYS:
                found = value.strip("'").split(",")[0]
            else:
                kept.append(f"{key}={value}")
        conninfo = " ".join(kept)
    else:
        base, _, raw = text.partition("?")
        query = []
        for key, value in parse_qsl(raw, keep_blank_values=True):
            if key.lower() in _SCHEMA_KEYS:
                found = value
            else:
                query.append((key, value))
        conninfo = f"{base}?{urlencode(query)}" if query else base
    chosen = schema or found or DEFAULT_SCHEMA
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        shown = _display({}, chosen) if "://" not in text else text.split("@")[-1]
        raise InputError(
            f"{shown}: not a PostgreSQL connection string ({_first_line(exc)}); write "
            "postgresql://user@host:port/database?schema=NAME"
        ) from None
    password = params.get("password", "")
    return Target(conninfo, chosen, _display(params, chosen), (password,) if password else ())


def _display(params: dict[str, str], schema: str) -> str:
    user = params.get("user", "")
    host = params.get("host", "")
    if host.startswith("/"):  # a unix socket folder: keep it as the host parameter
        where = f"/{params.get('dbname', '')}?host={host}&schema={schema}"
        host = ""
    else:
        where = f"/{params.get('dbname', '')}?schema={schema}"
    port = f":{params['port']}" if params.get("port") else ""
    at = f"{user}@" if user else ""
    return f"postgresql://{at}{host}{port}{where}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def reason(target: Target, exc: BaseException) -> str:
    """A one-line reason for a psycopg error, without password, with the fix."""
    psycopg = _require_psycopg()
    text = target.scrub(" ".join(str(exc).split()))
    text = re.sub(r"^(connection failed: )?connection to server (at|on) .*? failed: ", "", text)
    text = text.replace("FATAL: ", "")
    if "password authentication failed" in text or "no password supplied" in text:
        return (
            f"{target}: cannot log in ({text}); set PGPASSWORD or add the password to "
            "~/.pgpass (never in the command line)"
        )
    if isinstance(exc, psycopg.OperationalError):
        if "does not exist" in text:
            return f"{target}: {text}; check the database name"
        return (
            f"{target}: the database connection failed or was lost ({text}); check that the "
            "server runs and is reachable, then run again"
        )
    return f"{target}: {text}"


def connect(target: Target, *, autocommit: bool = False):
    """A psycopg connection to ``target`` (InputError, exit 2, when it cannot be made)."""
    psycopg = _require_psycopg()
    try:
        return psycopg.connect(
            target.conninfo,
            autocommit=autocommit,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="miyun-spatial",
        )
    except psycopg.Error as exc:
        raise InputError(reason(target, exc)) from None


@contextlib.contextmanager
def database_errors(target: Target, error=InputError) -> Iterator[None]:
    """Turn a psycopg error inside the block into ``error`` with one clean line."""
    psycopg = _require_psycopg()
    try:
        yield
    except psycopg.Error as exc:
        raise error(reason(target, exc)) from None


def schema_exists(con, schema: str) -> bool:
    row = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None


def has_postgis(con) -> bool:
    row = con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    return row is not None


def postgis_schema(con) -> str | None:
    """The schema holding the PostGIS functions (usually public)."""
    row = con.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'postgis'"
    ).fetchone()
    return row[0] if row else None
