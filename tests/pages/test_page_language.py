"""The pages ask the API in their own language, not the computer's.

A refusal's ``detail`` is shown as the page shows it; the API answers it in the
language Accept-Language prefers (Chinese by default). A browser sends the
computer's languages on its own (``en-US,en;q=0.9`` on an English Windows at the
centre), so without the page's header a Chinese page would show English refusals.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import PageReport
from playwright.sync_api import Browser, Request, expect
from walk import Site, signed_in


@pytest.mark.parametrize(
    ("path", "who", "ready"),
    [("/dispatch", "dispatcher", "#live.on"), ("/plan", "planner", "#versions li.published")],
)
def test_a_chinese_page_on_an_english_computer_asks_in_chinese(
    chromium: Browser, site: Site, artifacts: Path, path: str, who: str, ready: str
) -> None:
    report = PageReport(url=path, screenshot=artifacts / "language.png")
    asked: list[str] = []

    def keep(request: Request) -> None:
        if "/api/v1/" in request.url and request.resource_type in ("fetch", "xhr"):
            asked.append(request.all_headers().get("accept-language", ""))

    with signed_in(chromium, site, report, path, who, ready, locale="en-US") as (_, page):
        page.on("request", keep)
        page.reload(wait_until="load")  # the dispatch page keeps a live stream: never idle
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_timeout(500)
    assert asked, "the page called no API"
    assert set(asked) == {"zh"}
