"""Two servers on one PostgreSQL database act as one service (issue 22 item 3).

Two uvicorn processes on two ports stand for two hosts behind a load
balancer, each writing its own reports (no writer process on PostgreSQL).
The same Idempotency-Key sent to both at once makes one case; an action
with an ETag the other host has made stale is a 412 there; a grid layer
published through one is served by the other within its poll. Both start
at once on a database without a town, and ``gridsvc demo load`` run on two
hosts at once: one town in the end, no error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from serving import Service

from gridsvc.config import DEMO_DIR, ROOT
from gridsvc.core.kinds import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine
from gridsvc.store.reference import active_versions, list_versions

POINT = {"lon": 121.45, "lat": 31.33, "crs": "cgcs2000"}
POLL_S = 0.5


@pytest.fixture
def hosts(pg_url: str, tmp_path: Path) -> Iterator[tuple[Service, Service, dict[str, str]]]:
    engine = make_engine(pg_url)
    keys = {
        role.value: create_key(engine, role, f"{role.value}-hosts")
        for role in (Role.PATROL, Role.DISPATCHER, Role.PLANNER)
    }
    engine.dispose()
    env = os.environ | {
        "GRIDSVC_DATABASE_URL": pg_url,
        "GRIDSVC_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "GRIDSVC_RATE_PER_MINUTE": "1000000",
        "GRIDSVC_VERSION_POLL_S": str(POLL_S),
    }
    # both at once on a database without a town: each would load the demo town
    a, b = Service(env, tmp_path / "a.log"), Service(env, tmp_path / "b.log")
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b, keys
    finally:
        a.kill()
        b.kill()


def auth(keys: dict[str, str], role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[role]}", **extra}


def test_one_key_to_both_hosts_is_one_case(hosts: tuple[Service, Service, dict[str, str]]) -> None:
    a, b, keys = hosts
    body = {**POINT, "category": "CG01", "description": "两台服务器同一上报"}

    def send(n: int) -> httpx.Response:
        url = (a if n % 2 else b).url + "/api/v1/reports"
        headers = auth(keys, "patrol", **{"Idempotency-Key": "one-report-two-hosts"})
        for _ in range(20):  # a 409 says "still in flight here": the phone sends again
            answer = httpx.post(url, json=body, headers=headers, timeout=10)
            if answer.status_code != 409:
                return answer
            time.sleep(0.05)
        return answer

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    assert {r.status_code for r in answers} <= {200, 201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    listed = httpx.get(b.url + "/api/v1/cases", headers=auth(keys, "dispatcher")).json()
    assert [c["number"] for c in listed["items"]].count(answers[0].json()["number"]) == 1


def test_a_stale_etag_is_a_412_on_the_other_host(
    hosts: tuple[Service, Service, dict[str, str]],
) -> None:
    a, b, keys = hosts
    made = httpx.post(
        a.url + "/api/v1/reports", json={**POINT, "category": "CG06"}, headers=auth(keys, "patrol")
    ).json()
    etag = f'"{made["etag"]}"'
    first = httpx.post(
        f"{b.url}/api/v1/cases/{made['id']}/dispatch",
        json={"assignee": "D01"},
        headers=auth(keys, "dispatcher", **{"If-Match": etag}),
    )
    assert first.status_code == 200, first.text
    second = httpx.post(
        f"{a.url}/api/v1/cases/{made['id']}/cancel",
        json={"reason": "误报"},
        headers=auth(keys, "dispatcher", **{"If-Match": etag}),
    )
    assert second.status_code == 412 and second.json()["status"] == 412


def test_a_publish_on_one_host_is_served_by_the_other_within_its_poll(
    hosts: tuple[Service, Service, dict[str, str]], tmp_path: Path
) -> None:
    a, b, keys = hosts
    planner = auth(keys, "planner")
    before = httpx.get(b.url + "/api/v1/match", params=POINT).json()
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    grids.loc[grids["code"] == before["grid_code"], "name"] = "改名后的网格"
    draft = httpx.post(
        a.url + "/api/v1/layers/grids/drafts",
        headers=planner,
        files={"file": ("grids.geojson", grids.to_json().encode())},
        data={"label": "rename"},
        timeout=60,
    )
    assert draft.status_code == 201, draft.text
    versions = httpx.get(a.url + "/api/v1/layers/grids/versions", headers=planner).json()
    active = next(v["id"] for v in versions if v["status"] == "published")
    draft_id = draft.json()["id"]
    published = httpx.post(
        f"{a.url}/api/v1/layers/grids/drafts/{draft_id}/publish",
        headers={**planner, "If-Match": f'"draft-{draft_id}", "active-{active}"'},
        timeout=60,
    )
    assert published.status_code == 200, published.text
    deadline = time.monotonic() + 10 * POLL_S + 10  # the poll, and the index's rebuild
    while httpx.get(b.url + "/api/v1/match", params=POINT).json()["grid_name"] != "改名后的网格":
        assert time.monotonic() < deadline, "the other host never served the new version"
        time.sleep(0.2)


def test_serve_on_postgresql_runs_no_writer_process(pg_url: str, tmp_path: Path) -> None:
    """gridsvc serve --workers 2 on PostgreSQL: both workers write, and a stop is exit 0."""
    engine = make_engine(pg_url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    key = create_key(engine, Role.PATROL, "serve-pg")
    engine.dispose()
    env = os.environ | {"GRIDSVC_DATABASE_URL": pg_url, "GRIDSVC_RATE_PER_MINUTE": "1000000"}
    service = Service(env, tmp_path / "serve.log", "serve --workers 2")
    try:
        service.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        made = [
            httpx.post(service.url + "/api/v1/reports", json={**POINT, "category": "CG01"},
                       headers=headers, timeout=10)
            for _ in range(6)
        ]  # fmt: skip
        assert [r.status_code for r in made] == [201] * 6, [r.text for r in made]
        assert service.terminate() == 0
        assert "intake writer listening" not in service.tail()
    finally:
        service.kill()


def test_demo_load_on_two_hosts_at_once_loads_one_town(migrated_db_url: str) -> None:
    """Finding: both saw no town, both loaded one (two published versions of every layer).
    On SQLite too: two workers of one ``serve`` starting on a file without a town."""
    env = os.environ | {"GRIDSVC_DATABASE_URL": migrated_db_url, "GRIDSVC_LANG": "en"}
    command = [sys.executable, "-m", "gridsvc", "demo", "load", "--no-history"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]  # fmt: skip
    said = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], said
    assert sum("nothing loaded" in out for out in said) == 1, said
    engine = make_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            published = active_versions(conn)
            assert LayerKind.GRIDS in published
            for kind in published:
                assert len(list_versions(conn, kind)) == 1, kind
    finally:
        engine.dispose()
