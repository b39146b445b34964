"""``gridsvc serve`` and ``gridsvc db``: run the service, migrate its database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, settings
from gridsvc.cli.texts import t

if TYPE_CHECKING:
    from gridsvc.config import Settings

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
    """Run the HTTP service (OpenAPI at /docs) and its intake writer process."""
    import os

    import uvicorn

    from gridsvc.api.app import create_app
    from gridsvc.intake_writer import log_to_stderr
    from gridsvc.services.intake_process import writer_process
    from gridsvc.store.engine import upgrade

    config = settings()
    config = config.model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v})
    log_to_stderr()
    _stop_is_a_normal_end()
    upgrade(config.database_url)  # before the writer and the workers open the database
    with writer_process() as intake_socket:
        config = config.model_copy(update={"intake_socket": intake_socket})
        server = {"log_level": "info", "access_log": access_log}
        if workers > 1:  # each process builds its own app from the environment
            os.environ.update(
                GRIDSVC_HOST=config.host,
                GRIDSVC_PORT=str(config.port),
                GRIDSVC_INTAKE_SOCKET=str(intake_socket),
            )
            _serve_banner(config)
            uvicorn.run(
                "gridsvc.api.app:create_app",
                factory=True,
                host=config.host,
                port=config.port,
                workers=workers,
                **server,
            )
            return
        application = create_app(config)
        _serve_banner(config)
        uvicorn.run(application, host=config.host, port=config.port, **server)


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
