"""Where ``bench_api.py``'s service keeps its data, and what the service's processes cost.

:class:`Backend` is SQLite (a fresh file per run), :class:`PostgreSQL` a throwaway
cluster of the benchmark's own (``tests/pg.py``) with every durability setting
on, as a deployment has them. :func:`cpu_seconds` reads the CPU the service's
(and the database server's) processes used from ``/proc``: the cost per report
that ``docs/scale.md`` sizes a city from.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tests/pg.py: the throwaway PostgreSQL cluster

#: the cluster's settings for a durable benchmark: every commit flushed, as in production
PG_DURABLE = {
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "on",
    "shared_buffers": "256MB",
}


#: the bytes a table takes with its indexes: cases, and their events
TABLE_BYTES = {
    "sqlite": "SELECT sum(d.pgsize) FROM dbstat d JOIN sqlite_master m ON d.name = m.name "
    "WHERE m.tbl_name = :table",
    "postgresql": "SELECT pg_total_relation_size(CAST(:table AS regclass))",
}


def cpu_seconds(picked: Callable[[int, int, int], bool], head: int) -> float:
    """User + system CPU of the live processes ``picked(pid, ppid, session)`` chooses, and of
    the children ``head`` has reaped: PostgreSQL's pool connections beyond the pool's size
    end when returned, and their backends' CPU then counts in the postmaster's."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if picked(int(name), int(fields[1]), int(fields[3])):
            total += int(fields[11]) + int(fields[12])
            if int(name) == head:
                total += int(fields[13]) + int(fields[14])
    return total / tick


class Backend:
    """Where the service's database lives; one fresh database per run."""

    name = "sqlite"
    title = "SQLite"
    storage = "SQLite WAL + synchronous=FULL"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made = 0

    def database(self) -> str:
        self.made += 1
        return f"sqlite:///{self.folder / f'bench-{self.made}.db'}"

    def cpu(self) -> float:
        """CPU seconds of the database server's processes (SQLite has none of its own)."""
        return 0.0

    def wal_position(self) -> int:
        """Bytes of write-ahead log written so far (0 where not known)."""
        return 0

    def close(self) -> None:
        pass


class PostgreSQL(Backend):
    name = "postgresql"
    title = "PostgreSQL"
    storage = "PostgreSQL 15 fsync + synchronous_commit=on, Unix socket"

    def __init__(self, folder: Path) -> None:
        import pg

        if (why := pg.missing()) is not None:
            raise SystemExit(why)
        super().__init__(folder)
        self.cluster = pg.Cluster(durable=True)
        self.cluster.settings |= PG_DURABLE
        self.cluster.start()

    def database(self) -> str:
        return self.cluster.database()

    def cpu(self) -> float:
        head = int((self.cluster.data / "postmaster.pid").read_text().split()[0])
        return cpu_seconds(lambda pid, ppid, _session: head in (pid, ppid), head)

    def wal_position(self) -> int:
        """What replicas and the WAL archive receive: the log's write position, in bytes."""
        return int(self.cluster.psql("postgres", "SELECT pg_current_wal_lsn() - '0/0'"))

    def close(self) -> None:
        self.cluster.stop()
