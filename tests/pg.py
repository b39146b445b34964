"""A throwaway PostgreSQL 15 + PostGIS cluster, started by the test session itself.

Nothing here uses a server that was there before: ``initdb`` makes a cluster in
a fresh temp directory, ``pg_ctl`` starts it listening only on a Unix socket in
that directory (no TCP port, so no clash with anything), and the session's end
stops it (``pg_ctl stop -m fast``) and removes the directory, failed tests or not.

Root may not run postgres, so as root the cluster belongs to the ``postgres``
system user (Debian's package makes it; ``nobody`` otherwise) and its directory
is chowned to that user. Tests connect over the socket as the superuser
``gridsvc`` with ``trust`` authentication: the socket's directory is the access
control.

``fsync=off``, ``synchronous_commit=off`` and ``full_page_writes=off``: a cluster
that lives for one test session need not survive a power cut, and every
``CREATE DATABASE`` and commit would otherwise wait for the disk. A test of
durability (issue 22 item 6) must start a cluster of its own with them on.

Databases come from templates: ``gridsvc_empty`` (PostGIS created, no tables)
and ``gridsvc_head`` (migrated to head once per session); ``CREATE DATABASE …
TEMPLATE`` copies a template's files in a few tens of milliseconds, where
running the migrations again would take a second.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
SUPERUSER = "gridsvc"
EMPTY_TEMPLATE = "gridsvc_empty"
HEAD_TEMPLATE = "gridsvc_head"
SETTINGS = {
    "listen_addresses": "''",  # the Unix socket only
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",  # every module's engines keep a pool open
    "shared_buffers": "64MB",
}


def missing() -> str | None:
    """Why no cluster can be started here, or None when the binaries are installed."""
    if not (PG_BIN / "initdb").exists():
        return f"{PG_BIN}/initdb is missing: run `bash scripts/ensure-postgres.sh` (make test does)"
    if not POSTGIS_CONTROL.exists():
        return "PostGIS 3 is missing: run `bash scripts/ensure-postgres.sh` (make test does)"
    return None


class Cluster:
    """One running throwaway cluster; :meth:`database` hands out fresh databases."""

    def __init__(self, durable: bool = False) -> None:
        """``durable``: commits wait for the WAL (``synchronous_commit=on``), as a deployment's
        do; what a fault test needs, since the shared cluster's fast commits may be lost by an
        immediate stop."""
        self.settings = SETTINGS | ({"synchronous_commit": "on"} if durable else {})
        self.folder = Path(tempfile.mkdtemp(prefix="gridsvc-pg-"))  # short: a socket path
        self.data = self.folder / "data"
        self._user = _run_as()
        self._names = itertools.count(1)
        self._started = False
        if self._user is not None:
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)

    def start(self) -> Cluster:
        self._pg("initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        self._serve()
        self._started = True
        self.psql("postgres", f"CREATE DATABASE {EMPTY_TEMPLATE}")
        self.psql(EMPTY_TEMPLATE, "CREATE EXTENSION postgis")
        return self

    def url(self, database: str) -> str:
        """A SQLAlchemy URL (psycopg 3) for a database of this cluster, over its socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.folder}"

    def database(self, template: str = EMPTY_TEMPLATE) -> str:
        """A new database copied from ``template``; its URL."""
        name = f"t{next(self._names)}"
        self.psql("postgres", f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def make_head_template(self) -> None:
        """``gridsvc_head``: a copy of the empty template brought to the newest migration."""
        from gridsvc.store.engine import upgrade

        self.psql("postgres", f"CREATE DATABASE {HEAD_TEMPLATE} TEMPLATE {EMPTY_TEMPLATE}")
        upgrade(self.url(HEAD_TEMPLATE))  # its engine is disposed: nothing stays connected

    def psql(self, database: str, sql: str) -> str:
        out = subprocess.run(
            [PG_BIN / "psql", "-h", self.folder, "-U", SUPERUSER, "-d", database, "-XAtq",
             "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout

    def halt(self) -> None:
        """Stop the server at once (``immediate``: no checkpoint, as a power cut would)."""
        self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start the halted server again on the same data (it recovers from its WAL)."""
        self._serve()

    def _serve(self) -> None:
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        options += f" -c unix_socket_directories={self.folder}"
        self._pg("pg_ctl", "-D", self.data, "-l", self.folder / "server.log", "-w",
                 "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        """Stop the server (fast: open connections are cut) and remove its directory."""
        try:
            if self._started:
                self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.folder / "server.log").read_text().splitlines()[-lines:])
        return ""

    def _pg(self, program: str, *args: object) -> None:
        try:
            subprocess.run(
                [PG_BIN / program, *map(str, args)],
                check=True, capture_output=True, text=True, cwd=self.folder,
                user=self._user.pw_uid if self._user else None,
                group=self._user.pw_gid if self._user else None,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"{program} failed ({exc.returncode}): {exc.stderr.strip()}\n{self.log_tail()}"
            ) from exc


def _run_as() -> pwd.struct_passwd | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError(
        "running as root and there is no 'postgres' or 'nobody' user to run postgres"
    )
