"""What the page tests share: the running site, and browsers that record what went wrong.

Each browser context blocks and records every request that would leave this
machine and every console or page error into a ``PageReport``; a test then
asserts the report is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from browser import PageReport, is_local
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect
from sqlalchemy import Engine

from gridsvc.config import Settings
from gridsvc.core.layers import LayerKind
from gridsvc.services.setup import load_reference

PHONE = {"width": 360, "height": 640}


@dataclass
class Site:
    """A running gridsvc with one key per role."""

    base: str
    engine: Engine
    settings: Settings
    keys: dict[str, str]


def watched(context: BrowserContext, report: PageReport) -> Page:
    """A new page of ``context`` whose problems go to ``report``; nothing leaves 127.0.0.1.

    Chromium logs each request it could not make while the context is offline
    (ERR_INTERNET_DISCONNECTED, ERR_FAILED through a service worker): those are
    the test's doing, not the page's, and are left out.
    """

    def local_only(route: Route) -> None:
        if is_local(route.request.url):
            route.fallback()
        else:
            report.external_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def console(message: ConsoleMessage) -> None:
        offline_miss = "ERR_INTERNET_DISCONNECTED" in message.text or (
            getattr(context, "gridsvc_offline", False)
            and message.text.startswith("Failed to load resource")
        )
        if message.type == "error" and not offline_miss:
            report.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    context.route("**/*", local_only)
    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda e: report.page_errors.append(str(e)))
    return page


def go_offline(context: BrowserContext, offline: bool) -> None:
    """Cut or restore the network of a context (its offline misses are then not errors)."""
    context.gridsvc_offline = offline  # type: ignore[attr-defined]
    context.set_offline(offline)


@contextmanager
def signed_in(
    chromium: Browser,
    site: Site,
    report: PageReport,
    path: str,
    who: str,
    ready: str,
    **context_options: Any,
) -> Iterator[tuple[BrowserContext, Page]]:
    """A fresh browser (its own storage, like another device) signed in at ``path``."""
    context = chromium.new_context(**context_options)
    try:
        page = watched(context, report)
        page.goto(f"{site.base}{path}", wait_until="load")
        page.get_by_label("密钥").fill(site.keys[who])
        page.get_by_role("button", name="登录").click()
        expect(page.locator(ready).first).to_be_visible()
        yield context, page
    finally:
        context.close()


def inside_a_grid(site: Site) -> tuple[float, float]:
    """(lat, lon) of a point well inside the demo's first grid."""
    grids = load_reference(site.engine).town.layers[LayerKind.GRIDS].frame
    point = grids.geometry.iloc[0].representative_point()
    return point.y, point.x


def fill_report(page: Page, photo: Path) -> None:
    expect(page.locator("#fix")).to_contain_text("定位精度约 12 米")
    page.get_by_label("问题类别", exact=True).fill("垃圾")
    expect(page.get_by_label("请选择问题类别").locator("option")).not_to_have_count(0)
    page.get_by_label("请选择问题类别").select_option(index=0)
    page.get_by_label("问题描述").fill("小区门口垃圾满溢")
    expect(page.locator("#where")).to_contain_text("位于")
    page.get_by_label("现场照片（最多 3 张）").set_input_files(str(photo))
    expect(page.locator("#thumbs img")).to_have_count(1)


def dispatched_case(site: Site, text: str) -> dict:
    """A town-level case (违章建筑, D01's) reported and dispatched to D01."""
    grids = load_reference(site.engine).town.layers[LayerKind.GRIDS].frame
    p = grids.geometry.iloc[4].representative_point()
    body = {"lon": p.x, "lat": p.y, "crs": "cgcs2000", "category": "CG06", "description": text}
    with httpx.Client(base_url=site.base) as client:
        made = client.post(
            "/api/v1/reports", json=body, headers={"Authorization": f"Bearer {site.keys['patrol']}"}
        )
        assert made.status_code == 201, made.text
        case = made.json()
        sent = client.post(
            f"/api/v1/cases/{case['id']}/dispatch",
            json={"assignee": "D01"},
            headers={
                "Authorization": f"Bearer {site.keys['dispatcher']}",
                "If-Match": f'"{case["etag"]}"',
            },
        )
        assert sent.status_code == 200, sent.text
        return sent.json()
