"""What a screen reader is told on every page: each control has a name, as Chromium computes it.

The accessibility tree is Chromium's own (the DevTools protocol's
``Accessibility.getFullAXTree``): the same names a screen reader announces,
from labels, ``aria-label``, ``alt`` or the text inside. Each page is checked
signed out (the key form) and signed in with a case or a draft open, so the
controls that only appear then are checked too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from browser import PageReport
from playwright.sync_api import Browser, CDPSession, Page, expect
from walk import PHONE, Site, dispatched_case, signed_in, watched

# roles a person operates; each must be announced with a name
CONTROLS = frozenset(
    {
        "button",
        "checkbox",
        "combobox",
        "link",
        "listbox",
        "menuitem",
        "radio",
        "searchbox",
        "slider",
        "spinbutton",
        "switch",
        "tab",
        "textbox",
    }
)


def unnamed_controls(page: Page) -> list[str]:
    """The controls on screen a screen reader would announce without a name."""
    session = page.context.new_cdp_session(page)
    missing = []
    try:
        for node in session.send("Accessibility.getFullAXTree")["nodes"]:
            role = node.get("role", {}).get("value")
            if node.get("ignored") or role not in CONTROLS and role != "image":
                continue
            name = str(node.get("name", {}).get("value", "")).strip()
            if not name:
                missing.append(f"{role}: {_described(session, node)}")
    finally:
        session.detach()
    return missing


def _described(session: CDPSession, node: dict) -> str:
    """The element behind an accessibility node, as a tag with its attributes."""
    found = session.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
    attributes = found.get("attributes", [])
    pairs = " ".join(
        f'{k}="{v[:40]}"' for k, v in zip(attributes[::2], attributes[1::2], strict=True)
    )
    return f"<{found['nodeName'].lower()} {pairs}>"


def open_first_case(page: Page) -> None:
    page.locator("#cases li button").first.click()
    expect(page.locator("#case-actions button").first).to_be_visible()


def open_patrol_form(page: Page) -> None:
    expect(page.locator("#panel-new")).to_be_visible()


def nothing(page: Page) -> None:
    """The page as it opens."""


PAGES: list[tuple[str, str, str, Callable[[Page], None], dict]] = [
    ("/patrol", "patrol", "#panel-new", open_patrol_form, {"viewport": PHONE}),
    ("/dispatch", "dispatcher", "#live.on", nothing, {"viewport": {"width": 1280, "height": 800}}),
    ("/handle", "handler", "#cases li button", open_first_case, {}),
    ("/plan", "planner", "main", nothing, {}),
]


@pytest.mark.parametrize("path", ["/patrol", "/dispatch", "/handle", "/plan"])
def test_the_key_form_is_announced(
    chromium: Browser, site: Site, artifacts: Path, path: str
) -> None:
    report = PageReport(url=path, screenshot=artifacts / f"key-form{path.replace('/', '-')}.png")
    context = chromium.new_context()
    try:
        page = watched(context, report)
        page.goto(f"{site.base}{path}", wait_until="load")
        expect(page.get_by_label("密钥")).to_be_visible()
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert unnamed_controls(page) == []
    finally:
        context.close()
    assert report.problems == []


@pytest.mark.parametrize(
    ("path", "who", "ready", "step", "options"),
    PAGES,
    ids=lambda v: v if isinstance(v, str) and v.startswith("/") else "",
)
def test_every_control_of_a_signed_in_page_has_a_name(
    chromium: Browser,
    site: Site,
    artifacts: Path,
    path: str,
    who: str,
    ready: str,
    step: Callable[[Page], None],
    options: dict,
) -> None:
    report = PageReport(url=path, screenshot=artifacts / f"a11y{path.replace('/', '-')}.png")
    if who == "handler":
        dispatched_case(site, "无障碍检查用案件")
    with signed_in(chromium, site, report, path, who, ready, **options) as (_, page):
        step(page)
        page.screenshot(path=str(report.screenshot), full_page=True)
        assert unnamed_controls(page) == []
    assert report.problems == []
