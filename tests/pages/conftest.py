"""The role pages over the real app and the demo town, served on 127.0.0.1 for Chromium.

Screenshots go to one artifacts folder (``GRIDSVC_ARTIFACTS``, default
``artifacts/``, under ``screens/``) so a person can look at every screen
after a run, in CI too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import serve_asgi
from walk import Site

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR, Settings
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("pages")
    settings = Settings(
        database_url=f"sqlite:///{directory / 'g.db'}",
        attachments_dir=directory / "attachments",
        rate_per_minute=1_000_000,
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    load_demo(engine, DEMO_DIR, history=False)
    keys = {
        "patrol": create_key(engine, Role.PATROL, "张网格"),
        "patrol2": create_key(engine, Role.PATROL, "李网格"),
        "dispatcher": create_key(engine, Role.DISPATCHER, "王调度"),
        "leader": create_key(engine, Role.LEADER, "领导"),
        "handler": create_key(engine, Role.HANDLER, "赵执法", "D01"),
        "handler-D10": create_key(engine, Role.HANDLER, "孙绿化", "D10"),
        "planner": create_key(engine, Role.PLANNER, "钱规划"),
    }
    with serve_asgi(create_app(settings)) as base:
        yield Site(base, engine, settings, keys)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the screens' screenshots are kept for people to look at."""
    folder = Path(os.environ.get("GRIDSVC_ARTIFACTS", "artifacts")) / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
