"""Fixtures of the CaseService tests: a fresh demo-town database per test module."""

from __future__ import annotations

from pathlib import Path

import pytest
from case_kit import Clock, service
from sqlalchemy import Engine

from gridsvc.config import DEMO_DIR
from gridsvc.services.cases import CaseService
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade


@pytest.fixture(scope="module")
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    url = f"sqlite:///{Path(folder) / 'g.db'}"
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    return engine


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def svc(engine: Engine, clock: Clock) -> CaseService:
    return service(engine, clock)
