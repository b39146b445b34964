"""What the CaseService tests share: principals, a settable clock, the service as the app
builds it, and a way to await intake from a test (fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from gridsvc.core.workflow import Role
from gridsvc.services.cases import Answer, CaseService, Report
from gridsvc.services.intake import IntakeWriter
from gridsvc.services.reading import Principal
from gridsvc.services.setup import load_reference

SH = ZoneInfo("Asia/Shanghai")
PATROL = Principal(1, "patrol-1", Role.PATROL)
DISPATCHER = Principal(2, "dispatcher-1", Role.DISPATCHER)
INSIDE = (121.442747, 31.339568)
T = TypeVar("T")


class Clock:
    """A settable clock; times are given as Shanghai wall-clock strings."""

    def __init__(self) -> None:
        self.now = datetime(2025, 6, 9, 9, 0, tzinfo=SH)

    def set(self, wall: str) -> None:
        self.now = datetime.fromisoformat(wall).replace(tzinfo=SH)

    def __call__(self) -> datetime:
        return self.now


def service(engine: Engine, clock: Clock, intake: IntakeWriter | None = None) -> CaseService:
    """Built the way api/app.py builds it, with our clock (and a writer process's client)."""
    ref = load_reference(engine)
    return CaseService(
        engine,
        ref.town.matcher(50.0, 2.5),
        ref.matters,
        ref.calendar,
        {k.value: v for k, v in ref.versions.items()},
        clock=clock,
        intake=intake,
    )


def submit(svc: CaseService, report: Report, who: Principal, key: str | None = None) -> Answer:
    """Intake is async (the API awaits the group commit); here each call runs its own loop."""
    return run(svc.submit(report, who, key))


def run(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: a browser test's sync Playwright may still
    hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()
