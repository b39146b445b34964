"""The live queue: the cases that changed since the cursor a workbench holds (long polling).

A dispatcher's workbench asks ``/changes?after=<cursor>&wait=20``: the answer
comes as soon as a case changes (a new report, someone's action), or empty
after ``wait`` seconds, and the workbench asks again with the new cursor. Long
polling rather than server-sent events because a browser's EventSource cannot
send the Authorization header, and the cursor lives in the database, so it
works the same with several workers and hosts. The cursor is the newest
case-event id seen.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from gridsvc.api.params import MAX_ID
from gridsvc.api.routes.cases import Cases, Dispatcher
from gridsvc.services.case_reads import CHANGES_LIMIT

router = APIRouter(prefix="/api/v1", tags=["cases"])
POLL_S = 0.5  # how often a waiting request looks at the database
MAX_WAIT_S = 25  # under the 30 s idle timeout of common proxies


@router.get("/changes")
async def changes(
    request: Request,
    service: Cases,
    who: Dispatcher,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="the cursor you hold")] = None,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="seconds to wait")] = 0,
) -> dict[str, Any]:
    """Cases changed since ``after`` (summaries, oldest change first) and the next cursor.

    Without ``after``: no cases, only the current cursor to start from. With
    ``wait``, the answer is held until something changes or the time is up."""
    deadline = time.monotonic() + min(wait, request.app.state.settings.live_max_wait_s)
    while True:
        answer = await run_in_threadpool(service.changes, after, CHANGES_LIMIT, who)
        if answer["items"] or after is None or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(POLL_S)
