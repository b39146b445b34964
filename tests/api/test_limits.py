"""Rate limits per API key (patrols share carrier NAT, so never per IP)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

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
