"""Engines and migrations.

SQLite runs in WAL mode with ``synchronous=FULL``: a report that got its 201
is in the write-ahead log on disk and survives a power cut. Migrations are
alembic's, run programmatically so ``gridsvc db upgrade`` needs no alembic.ini.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: connections a PostgreSQL engine keeps open (see :func:`make_engine`): a worker writes
#: reports on asyncio's default executor, min(32, cores + 4) threads, and the pool was
#: SQLAlchemy's default 5 (6 intake threads here, so one connection opened per report or so)
POOL_SIZE = 32
POOL_OVERFLOW = 16
POOL_RECYCLE_S = 1800


def make_engine(
    url: str,
    checkpoint_pages: int | None = None,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
) -> Engine:
    """An engine for ``url``; SQLite gets its durability and concurrency pragmas.

    ``checkpoint_pages``: SQLite's ``wal_autocheckpoint`` (default
    :data:`WAL_CHECKPOINT_PAGES`); 0 for a process that checkpoints on its own
    (see ``store/checkpoints.py``).

    Other databases (PostgreSQL): ``pool_size`` connections stay open, at least as
    many as a worker uses at once, since one beyond them (of ``max_overflow``) is
    closed when returned and the next costs a new server process (its CPU was
    counted in the postmaster's). No ping before each checkout (a round trip per
    request): a connection the server cut fails its statement, which the API answers
    with a 503 and Retry-After, and the failure discards every connection opened
    before it, so the next request connects afresh. ``pool_recycle`` replaces a
    connection after :data:`POOL_RECYCLE_S`, before a firewall or proxy drops it idle.
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # one connection per server thread stays open: opening one costs more than a query
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=64,
            max_overflow=64,
            json_serializer=json_text,
        )
        pages = WAL_CHECKPOINT_PAGES if checkpoint_pages is None else checkpoint_pages
        event.listen(engine, "connect", lambda conn, _record: _sqlite_pragmas(conn, pages))
        with engine.connect() as conn:  # WAL is a property of the file: set it once
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=POOL_RECYCLE_S,
        json_serializer=json_text,
    )


def json_text(value: Any) -> str:
    """JSON columns' text, by orjson: a case's three JSON columns took the stdlib encoder
    17 us, orjson 3 us, of the intake writer's ~400 us per report. UTF-8 as it is (no
    ``\\u`` escapes); read back by the stdlib decoder as before."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file behind ``engine``; None for other databases and in-memory SQLite."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def _sqlite_pragmas(dbapi_connection: Any, checkpoint_pages: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # SQLite copies the log into the database (a checkpoint, with an fsync of the file)
    # inside the commit that finds the log past this many pages, and every report of that
    # batch waits for it: 130-490 ms measured at 500 reports/s. Pages rewritten between
    # checkpoints are copied once, so 10,000 pages (a 40 MB log) stall about as long as
    # 1,000 but ten times less often (max latency 52-129 ms against 58-495 ms).
    cursor.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint_pages)}")
    # once a checkpoint has copied the whole log, the next commit starts it over and cuts
    # the file back to this size: a burst's log does not keep its disk space for good
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.close()


WAL_CHECKPOINT_PAGES = 10_000
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


#: the advisory lock :func:`upgrade` holds on PostgreSQL (a constant of ours: "gridsvc")
UPGRADE_LOCK = int.from_bytes(b"gridsvc")


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (idempotent).

    On PostgreSQL under an advisory lock: processes that upgrade one database at once
    (the workers of ``serve``, two hosts starting on a new database, a ``db upgrade``
    beside them) take turns, and the later ones find it at ``revision`` and do nothing.
    Without it both created the same tables and one failed. The lock is the session's
    of a connection of its own, released when that closes, whatever happened.
    """
    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(url), revision)
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK})
            command.upgrade(alembic_config(url), revision)
    finally:
        engine.dispose()
