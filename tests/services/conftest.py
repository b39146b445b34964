"""Fixtures of the CaseService tests: a fresh demo-town database per test module,
on SQLite and on PostgreSQL + PostGIS (the throwaway cluster of tests/pg.py) in turn."""

from __future__ import annotations

import pytest
from case_kit import Clock, service
from sqlalchemy import Engine

from gridsvc.config import DEMO_DIR
from gridsvc.services.cases import CaseService
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine


@pytest.fixture(scope="module")
def engine(module_db_url: str) -> Engine:
    engine = make_engine(module_db_url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    return engine


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def svc(engine: Engine, clock: Clock) -> CaseService:
    return service(engine, clock)
