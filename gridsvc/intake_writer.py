"""``python -m gridsvc.intake_writer``: the intake writer process that ``gridsvc serve`` starts.

An entry point of its own rather than a command of the CLI: importing the
CLI imports what every command needs (maps, plots, statistics), 5.3 s of
wall time and 4.2 s of CPU on the 2-core machine, against 1.5 s for what
writing reports needs. The writer starts beside the server processes that
are loading the town, and again whenever it dies; while it starts, reports
are answered 503.
"""

from __future__ import annotations

import argparse
import logging
from datetime import timedelta
from pathlib import Path

from gridsvc.config import Settings
from gridsvc.services.intake_process import run_server
from gridsvc.store.engine import make_engine


def log_to_stderr() -> None:
    """gridsvc's own log lines (the intake writer's), shaped like uvicorn's beside them."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gridsvc.intake_writer",
        description="The process that writes every server process's reports "
        "(started by `gridsvc serve`).",
    )
    parser.add_argument("--socket", type=Path, required=True, help="the Unix socket to answer on")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    settings = Settings()
    log_to_stderr()
    run_server(
        make_engine(settings.database_url, checkpoint_pages=0),  # it checkpoints on its own
        args.socket,
        settings.duplicate_radius_m,
        timedelta(hours=settings.duplicate_window_h),
        args.parent_pid,
    )


if __name__ == "__main__":
    main()
