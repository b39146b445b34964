"""A phone signs in by scanning a code, not by typing a 40-character key.

The code is read back from the screenshot by zxing-cpp, as a phone's camera
reads it; the phone then opens what it says and is signed in, and the key is
gone from its address bar.
"""

from __future__ import annotations

import io
from pathlib import Path

import zxingcpp
from browser import PageReport
from PIL import Image
from playwright.sync_api import Browser, expect
from walk import PHONE, Site, signed_in


def test_a_scanned_code_opens_the_page_signed_in_on_the_phone(
    chromium: Browser, site: Site, artifacts: Path
) -> None:
    report = PageReport(url="/handle", screenshot=artifacts / "sign-in-code.png")
    with signed_in(chromium, site, report, "/handle", "handler", "#cases") as (_, desk):
        desk.get_by_role("button", name="手机扫码登录").click()
        code = desk.get_by_role("img", name="登录二维码")
        expect(code).to_be_visible()
        desk.wait_for_function("document.getElementById('code-image').naturalWidth > 0")
        desk.screenshot(path=str(report.screenshot))
        seen = zxingcpp.read_barcodes(Image.open(io.BytesIO(code.screenshot())))
    assert len(seen) == 1
    url = seen[0].text
    assert url == f"{site.base}/handle#key={site.keys['handler']}"

    phone = chromium.new_context(viewport=PHONE)
    try:
        page = phone.new_page()
        page.goto(url, wait_until="load")
        expect(page.locator("#who")).to_have_text("赵执法")
        expect(page.locator("#app")).to_be_visible()
        assert "#" not in page.url  # wiped from the address bar and the history entry
        page.reload()  # the key was kept, like a pasted one
        expect(page.locator("#who")).to_have_text("赵执法")
    finally:
        phone.close()
    assert report.problems == []


def test_a_scanned_code_with_a_revoked_or_wrong_key_is_told_on_the_phone(
    chromium: Browser, site: Site
) -> None:
    phone = chromium.new_context(viewport=PHONE)
    try:
        page = phone.new_page()
        page.goto(f"{site.base}/patrol#key=not-a-key", wait_until="load")
        expect(page.locator("#signin-message")).to_have_text("密钥无效或已吊销")
        assert "not-a-key" not in page.url
    finally:
        phone.close()
