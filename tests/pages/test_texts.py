"""Every word a page's script or template asks for exists, in Chinese and in English.

A missing key shows the key itself ("new_report") to a patrol; this reads the
scripts and templates for the keys they use, so the catalogue cannot fall behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gridsvc.pages.texts import PAGES, page_texts

PAGES_DIR = Path(__file__).resolve().parents[2] / "gridsvc" / "pages"
SCRIPT_KEY = re.compile(r"""\bt\(\s*[`"']([a-z_]+)[`"']""")
TEMPLATE_KEY = re.compile(r"\{\{\s*t\.([a-z_]+)")


def used_keys(page: str) -> set[str]:
    script = (PAGES_DIR / "static" / f"{page}.js").read_text(encoding="utf-8")
    shared = "".join(
        (PAGES_DIR / "static" / name).read_text(encoding="utf-8")
        for name in ("common.js", "cases.js")
    )
    base = (PAGES_DIR / "templates" / "_base.html").read_text(encoding="utf-8")
    template = (PAGES_DIR / "templates" / f"{page}.html").read_text(encoding="utf-8")
    return {
        *SCRIPT_KEY.findall(script + shared),
        *TEMPLATE_KEY.findall(template + base),
    }


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_word_a_page_uses_is_there(page: str, lang: str) -> None:
    words = page_texts(page, lang)
    assert {"sign_in", "title", "checking"} <= used_keys(page)  # the reading finds keys at all
    missing = used_keys(page) - set(words)
    assert not missing, f"{page} ({lang}) lacks {sorted(missing)}"
    assert all(words[k].strip() for k in used_keys(page))


@pytest.mark.parametrize("page", sorted(PAGES))
def test_chinese_and_english_differ_where_they_should(page: str) -> None:
    zh, en = page_texts(page, "zh"), page_texts(page, "en")
    assert zh.keys() == en.keys()
    assert zh["title"] != en["title"]
    assert re.search(r"[\u4e00-\u9fff]", zh["title"]) and not re.search(
        r"[\u4e00-\u9fff]", en["title"]
    )
