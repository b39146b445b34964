"""What each page costs a slow intranet on its first load: under 300 KB as sent (gzip).

Every response of a first visit in a fresh browser is counted as it came over
the wire (Playwright's encoded body and header sizes), the signed-in screen
included; the figures are written to artifacts/screens/weights.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Request, expect
from walk import Site

LIMIT = 300 * 1024
PAGES = {
    "patrol": ("patrol", "#panel-new"),
    "dispatch": ("dispatcher", "#live.on"),
    "handle": ("handler", "#cases"),
    "plan": ("planner", "#versions li"),
}
MEASURED: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize("page_name", sorted(PAGES))
def test_first_load_is_under_300_kb(
    chromium: Browser, site: Site, page_name: str, artifacts: Path
) -> None:
    who, ready = PAGES[page_name]
    context = chromium.new_context(viewport={"width": 1366, "height": 800}, service_workers="block")
    page = context.new_page()
    finished: list[Request] = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(f"{site.base}/{page_name}", wait_until="load")
    page.get_by_label("密钥").fill(site.keys[who])
    page.get_by_role("button", name="登录").click()
    expect(page.locator(ready).first).to_be_attached()
    page.wait_for_timeout(1000)  # late requests (the grid boundaries); the workbench's
    # long poll stays open and is not counted until it answers
    sizes = [r.sizes() for r in finished]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes)
    context.close()
    MEASURED[page_name] = {"requests": len(sizes), "bytes": total}
    (artifacts / "weights.json").write_text(json.dumps(MEASURED, indent=1), encoding="utf-8")
    assert total < LIMIT, f"/{page_name} sent {total:,} bytes in {len(sizes)} requests"
    assert len(sizes) >= 5  # the page, its styles, its scripts, Leaflet, the API: all counted
