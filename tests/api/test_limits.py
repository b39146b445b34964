"""Rate limits per API key (patrols share carrier NAT, so never per IP), and body limits
by route: a missing key is refused before the body is read, an oversize body while it
streams in."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.types import Message

from gridsvc.api.app import create_app
from gridsvc.api.limits import RateLimiter
from gridsvc.config import Settings
from gridsvc.core.errors import RateLimited
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import schema


def test_bucket_refuses_past_the_burst_and_refills() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    for _ in range(3):
        limiter.check(1)
    with pytest.raises(RateLimited) as refused:
        limiter.check(1)
    assert refused.value.extra["retry_after"] >= 1
    limiter.check(2)  # another key has its own bucket


def test_a_key_over_its_rate_gets_429_with_retry_after_and_nothing_written(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/g.db",
        attachments_dir=tmp_path / "att",
        rate_per_minute=6,
    )
    app = create_app(settings)
    busy = create_key(app.state.engine, Role.PATROL, "busy")
    other = create_key(app.state.engine, Role.PATROL, "other")
    client = TestClient(app)
    report = {"lon": 121.45, "lat": 31.33, "category": "CG01"}
    statuses = [
        client.post(
            "/api/v1/reports", json=report, headers={"Authorization": f"Bearer {busy}"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses.count(201) == 10 and statuses[-1] == 429  # burst of 10, then refused
    refused = client.post(
        "/api/v1/reports", json=report, headers={"Authorization": f"Bearer {busy}"}
    )
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["type"].endswith("rate-limited")
    same_address = client.post(
        "/api/v1/reports", json=report, headers={"Authorization": f"Bearer {other}"}
    )
    assert same_address.status_code == 201  # same IP, another key: not limited
    with app.state.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.cases)).scalar_one() == 11


# ---- body limits: by route, before the body for a missing key, while streaming -------------

MB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Sent:
    """What an ASGI call answered, and how much of the request body the app pulled."""

    status: int
    body: bytes
    pulled: int  # chunks of the request body the app asked for

    def problem(self) -> dict[str, Any]:
        return json.loads(self.body)


def call(
    app: FastAPI,
    path: str,
    chunks: Iterator[bytes],
    headers: dict[str, str],
) -> Sent:
    """Call the app as a server would, handing it the body chunk by chunk on request.

    ``chunks`` is pulled lazily, so ``pulled`` says what the app read: a body refused
    before it is read is never pulled, however large it was said to be.
    """
    pulled = 0
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> Message:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            await asyncio.sleep(3600)  # a client that sent everything waits for the answer
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        # English, as every TestClient of the tests asks (tests/conftest.py)
        "headers": [
            (k.lower().encode(), v.encode())
            for k, v in {"Accept-Language": "en", **headers}.items()
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=60)

    # a thread of its own: a browser test's Playwright may hold this thread's event loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
    return Sent(answer["status"], answer["body"], pulled)


def endless(size: int = CHUNK) -> Iterator[bytes]:
    """A body that never ends (multipart-looking at the start), made as it is pulled."""
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
    while True:
        yield b"\xff" * size


MULTIPART = {"Content-Type": "multipart/form-data; boundary=b"}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("limits")
    app = create_app(Settings(database_url=f"sqlite:///{tmp}/g.db", attachments_dir=tmp / "att"))
    keys = {r.value: create_key(app.state.engine, r, r.value) for r in (Role.PATROL, Role.PLANNER)}
    return app, keys


def bearer(keys: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[role]}"}


@pytest.mark.parametrize(
    "auth",
    [{}, {"Authorization": "Bearer gs_never-issued"}],
    ids=["no-key", "unknown-key"],
)
@pytest.mark.parametrize("length", [str(99 * MB), None], ids=["declared-99MB", "chunked"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/cases/1/attachments", "/api/v1/layers/grids/drafts", "/api/v1/reports"],
)
def test_without_a_valid_key_the_body_is_not_read_at_all(
    limited: tuple[FastAPI, dict[str, str]], auth: dict[str, str], length: str | None, path: str
) -> None:
    app, _ = limited
    headers = {**MULTIPART, **auth, **({"Content-Length": length} if length else {})}
    sent = call(app, path, endless(), headers)
    assert sent.status == 401
    assert sent.problem()["type"].endswith("/unauthenticated")
    assert sent.pulled == 0  # before: the whole 99 MB was read, then the key looked at


def test_a_photo_over_10_mb_with_a_valid_key_is_413_at_once(
    limited: tuple[FastAPI, dict[str, str]],
) -> None:
    app, keys = limited
    headers = {**MULTIPART, **bearer(keys, "patrol"), "Content-Length": str(11 * MB)}
    sent = call(app, "/api/v1/cases/1/attachments", endless(), headers)
    assert sent.status == 413 and sent.pulled == 0
    body = sent.problem()
    assert body["type"].endswith("/payload-too-large")
    assert "photo" in body["detail"] and f"{10 * MB:,}" in body["detail"]


@pytest.mark.parametrize("declared", ["1000", None], ids=["content-length-lie", "chunked"])
def test_a_photo_streamed_past_the_limit_is_stopped_when_it_passes_it(
    limited: tuple[FastAPI, dict[str, str]], declared: str | None
) -> None:
    app, keys = limited
    headers = {**MULTIPART, **bearer(keys, "patrol")}
    if declared:
        headers["Content-Length"] = declared  # says 1 kB, sends without end
    sent = call(app, "/api/v1/cases/1/attachments", endless(), headers)
    assert sent.status == 413, sent.body
    assert sent.problem()["type"].endswith("/payload-too-large")
    # stopped within one chunk of 10 MB + the multipart allowance, not at 100 MB or never
    assert sent.pulled <= (10 * MB + 64 * 1024) // CHUNK + 2


def test_each_route_has_its_own_limit(limited: tuple[FastAPI, dict[str, str]]) -> None:
    app, keys = limited
    layer = call(app, "/api/v1/layers/grids/drafts", endless(), bearer(keys, "planner") | MULTIPART)
    assert layer.status == 413 and "layer" in layer.problem()["detail"]
    assert (100 * MB) // CHUNK < layer.pulled <= (100 * MB + 64 * 1024) // CHUNK + 2
    listed = call(
        app, "/api/v1/responsibility-list/drafts", endless(), bearer(keys, "planner") | MULTIPART
    )
    assert listed.status == 413 and f"{2 * MB:,}" in listed.problem()["detail"]
    assert listed.pulled <= (2 * MB + 64 * 1024) // CHUNK + 2
    report = call(
        app,
        "/api/v1/reports",
        iter([b'{"lon": 121.45, "lat": 31.33, "note": "' + b"x" * 70_000]),
        bearer(keys, "patrol") | {"Content-Type": "application/json"},
    )
    assert report.status == 413 and f"{64 * 1024:,}" in report.problem()["detail"]
