"""``gridsvc serve`` and ``gridsvc db``: run the service, migrate its database."""

from __future__ import annotations

import contextlib
import logging
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridsvc.cli.context import Opt, friendly, out, settings
from gridsvc.cli.texts import t

if TYPE_CHECKING:
    from gridsvc.config import Settings

log = logging.getLogger("gridsvc.serve")
db_app = typer.Typer(help=t("db_help"), no_args_is_help=True)


@friendly
def serve(
    host: Annotated[str | None, Opt(help=t("serve_host"))] = None,
    port: Annotated[int | None, Opt(help=t("serve_port"))] = None,
    workers: Annotated[
        int,
        Opt(
            min=1,
            max=64,
            help=t("serve_workers"),
        ),
    ] = 1,
    access_log: Annotated[bool, Opt(help=t("serve_access_log"))] = True,
) -> None:
    """Run the HTTP service (OpenAPI at /docs) and, on SQLite, its intake writer process."""
    from gridsvc.intake_writer import log_to_stderr
    from gridsvc.services.intake_process import writer_process
    from gridsvc.store.engine import upgrade

    config = settings()
    config = config.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v})
    log_to_stderr()
    _stop_is_a_normal_end()
    upgrade(config.database_url)  # before the writer and the workers open the database
    if config.database_url.startswith("postgresql"):
        # PostgreSQL takes many writers: each worker commits its own reports (no writer process)
        _run(config, workers, {"log_level": "info", "access_log": access_log})
        return
    with writer_process() as intake_socket:
        config = config.model_copy(update={"intake_socket": intake_socket})
        _run(config, workers, {"log_level": "info", "access_log": access_log})


def _run(config: Settings, workers: int, server: dict[str, object]) -> None:
    """uvicorn with the app built once in this process: served here with one worker, or
    by ``workers`` processes forked from this one, which supervises them.

    Why fork after the build: uvicorn's own workers are spawned, so each imported the
    libraries, read the layers and built (or mapped) the matcher again: seconds of CPU
    and some 350 MB each. Forked, the workers share those pages with this process
    until one writes them (the index tables, mapped from their file, stay shared).
    """
    import uvicorn

    from gridsvc.api.app import create_app

    application = create_app(config)
    _settle()
    _serve_banner(config)
    if workers == 1:
        uvicorn.run(application, host=config.host, port=config.port, **server)  # type: ignore[arg-type]
        return
    uconfig = uvicorn.Config(application, host=config.host, port=config.port, **server)  # type: ignore[arg-type]
    Prefork(application, uconfig, workers).run()


def _settle() -> None:
    """Collect what building the app left, give the freed heap back to the system, and
    freeze the rest (it lives as long as the process: no collection walks it again, and
    forked workers keep sharing its pages)."""
    import gc

    from gridsvc.core.matching import give_back_freed_memory

    gc.collect()
    give_back_freed_memory()
    gc.freeze()


class Prefork:
    """Forked uvicorn workers on one listening socket, restarted when one dies."""

    RESTART_PAUSE_S = 1.0  # between a worker's death and its replacement (no busy loop)

    def __init__(self, application: Any, uconfig: Any, workers: int) -> None:
        self.application, self.uconfig, self.workers = application, uconfig, workers
        self.children: set[int] = set()
        self.stopping = False

    def run(self) -> None:
        """Bind, fork the workers, wait; SIGTERM/SIGINT stop them all (exit code 0)."""
        import signal
        import time

        sock = self.uconfig.bind_socket()
        # no connection crosses the fork: each worker opens its own
        self.application.state.engine.dispose()
        _settle()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        for _ in range(self.workers):
            self._fork(sock)
        while self.children:
            time.sleep(0.2)
            for pid in list(self.children):
                done, status = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
                self.children.discard(pid)
                if not self.stopping:
                    log.warning("worker %s ended (status %s); starting another", pid, status)
                    time.sleep(self.RESTART_PAUSE_S)
                    self._fork(sock)
        sock.close()

    def _fork(self, sock: Any) -> None:
        import signal

        import uvicorn

        pid = os.fork()
        if pid:
            self.children.add(pid)
            return
        code = 0
        try:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: None)  # uvicorn's own handlers take over
            uvicorn.Server(self.uconfig).run(sockets=[sock])
        except BaseException:  # noqa: BLE001 - a worker ends here, whatever happened
            log.exception("worker %s failed", os.getpid())
            code = 1
        finally:
            os._exit(code)

    def _stop(self, signum: int, _frame: object) -> None:
        self.stopping = True
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


def _stop_is_a_normal_end() -> None:
    """Let SIGTERM/SIGINT end ``serve`` with exit code 0 after the graceful shutdown.

    Why: uvicorn restores the handlers it found and raises the signal again
    once it has shut down, so with the default handler the process died by
    the signal (exit -15 / 143) and a supervisor logged a failed service for
    every ordinary stop. With this handler in place that second signal is a
    no-op and ``uvicorn.run`` returns.
    """
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)


def _serve_banner(config: Settings) -> None:
    url = f"http://{config.host}:{config.port}"
    for key in ("banner", "banner_try", "banner_qgis"):
        out.print(t(key, url=url))
    out.print(t("banner_key"))


@db_app.command("upgrade", help=t("db_upgrade_help"))
@friendly
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (idempotent)."""
    from gridsvc.store.engine import upgrade

    config = settings()
    upgrade(config.database_url)
    out.print(t("db_up_to_date", url=config.database_url))


@db_app.command("copy", help=t("db_copy_help"))
@friendly
def db_copy(
    source: Annotated[str, typer.Argument(help=t("db_copy_source"))],
    target: Annotated[str, typer.Argument(help=t("db_copy_target"))],
) -> None:
    """Copy a whole deployment into an empty database (a town moving up to PostgreSQL).

    Both are brought to the newest schema first; the copy is one transaction on the
    target, and every table's digest is compared on both sides afterwards. Photos stay
    where they are: point the new deployment's GRIDSVC_ATTACHMENTS_DIR at the same folder.
    """
    from rich.table import Table

    from gridsvc.cli.context import fail
    from gridsvc.store.copying import copy_tables
    from gridsvc.store.engine import make_engine, upgrade

    for url in (source, target):
        upgrade(url)
    copies = copy_tables(make_engine(source), make_engine(target))
    table = Table(
        *(
            t(k)
            for k in ("col_table", "col_rows", "col_source_digest", "col_target_digest", "col_same")
        )
    )
    for c in copies:
        table.add_row(
            c.table,
            f"{c.rows:,}",
            c.source_digest[:16],
            c.target_digest[:16],
            t("yes") if c.same else t("no_caps"),
        )
    out.print(table)
    if not all(c.same for c in copies):
        fail(t("db_copy_differs"), 1)
    out.print(t("db_copied", rows=f"{sum(c.rows for c in copies):,}", tables=len(copies)))
