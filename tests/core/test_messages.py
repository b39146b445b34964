"""The catalogue of refusals (gridsvc/core/messages) and the raises that use it.

Every entry speaks Chinese and English with the same placeholders (a Chinese text
missing one would drop the bad value the English names); every raise of a
GridsvcError in gridsvc/ passes a catalogue key (``Msg``), not an English string,
and gives each placeholder its key asks for.
"""

from __future__ import annotations

import ast
import inspect
import string
from pathlib import Path

import pytest

import gridsvc
from gridsvc.core import errors
from gridsvc.core.errors import InvalidInput, form_field
from gridsvc.core.messages import MESSAGES, TITLES, Msg, placeholders, word

PACKAGE = Path(gridsvc.__file__).parent

ERROR_NAMES = frozenset(
    name
    for name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.GridsvcError)
)


def _fields(template: str) -> set[tuple[str, str]]:
    """What a template fills in: each value, and each ``{param:…}`` with the parameter."""
    found = set()
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is not None:
            found.add((field, spec or "") if field == "param" else (field, ""))
    return found


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = MESSAGES[key]
    assert set(entry) == {"zh", "en"}
    assert entry["zh"].strip() and entry["en"].strip()
    assert _fields(entry["zh"]) == _fields(entry["en"]), key
    assert entry["zh"] != entry["en"] or not any(c.isalpha() for c in entry["en"]), key


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_the_chinese_is_chinese(key: str) -> None:
    """Not an English text copied into the zh slot: some CJK outside the placeholders."""
    bare = "".join(lit for lit, *_ in string.Formatter().parse(MESSAGES[key]["zh"]))
    assert any("\u4e00" <= c <= "\u9fff" for c in bare) or len(bare.strip(" ()（）")) < 3, key


def test_every_error_class_has_its_title_in_both_languages() -> None:
    codes = {getattr(errors, name).code for name in ERROR_NAMES}
    assert codes <= set(TITLES)
    assert all(set(TITLES[c]) == {"zh", "en"} for c in TITLES)


def test_an_unknown_key_is_refused_when_raised() -> None:
    with pytest.raises(KeyError, match="no message 'no.such'"):
        Msg("no.such")


def test_an_error_renders_in_either_language_with_the_transports_spelling() -> None:
    error = InvalidInput(Msg("eval.by", by="street", groupings=["grid", "team"]))
    assert error.render(form_field, "zh") == "'street' 不是 by= 可用的分组；可用的有 grid、team"
    assert error.render(lambda n: f"--{n}", "en") == (
        "'street' is not a grouping for --by; use one of grid, team"
    )
    assert str(error) == error.message == error.render(form_field, "en")
    assert error.title_in("zh") == "输入无效" and error.title == "Invalid input"


def test_domain_words_and_nested_messages_follow_the_language() -> None:
    msg = Msg("workflow.illegal", action="verify", current="reported", role="patrol", allowed=[])
    assert msg.text("zh") == "案件当前为“待派遣”，不能核查；网格员可做的操作：无"
    assert msg.text("en") == "cannot verify a case that is reported; allowed for patrol: none"
    inner = Msg("list.more_codes", rest=3, total=13)
    outer = Msg("list.unknown_category", code="X", shown=["A", "B"], more=inner)
    assert outer.text("zh").endswith("A、B 等，另有 3 个（共 13 个）")
    assert word("grids", "zh") == "责任网格" and word("grids", "en") == "grids"


def test_a_plain_string_still_works_during_the_transition() -> None:
    error = InvalidInput("use {param:code_field}")
    assert error.render(form_field, "zh") == "use code_field="


# ---- the raise sites ------------------------------------------------------------------


def bare_string_raises(source: str, filename: str = "<source>") -> list[str]:
    """Each construction of a GridsvcError (by class name) whose message is a string made on
    the spot (literal, f-string, concatenation, ``.format``, ``t(…)``) instead of a Msg,
    and each constant ``Msg`` key missing from the catalogue or given other values than
    its placeholders: ``file:line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _called(node)
        if name in ERROR_NAMES and node.args and _is_text(node.args[0]):
            found.append(f"{filename}:{node.lineno}: {name} raised with a string")
        if name == "Msg":
            found += _msg_problems(node, filename)
    return found


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _is_text(arg: ast.expr) -> bool:
    if isinstance(arg, ast.Constant):
        return isinstance(arg.value, str)
    if isinstance(arg, (ast.JoinedStr, ast.BinOp)):
        return True
    return isinstance(arg, ast.Call) and _called(arg) in {"format", "t", "str", "text", "join"}


def _msg_problems(node: ast.Call, filename: str) -> list[str]:
    first = node.args[0] if node.args else None
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return []  # a key chosen at run time: Msg refuses an unknown one when it is made
    key = first.value
    if key not in MESSAGES:
        return [f"{filename}:{node.lineno}: no message {key!r}"]
    if any(k.arg is None for k in node.keywords):
        return []  # **values: checked when rendered
    given = {k.arg for k in node.keywords}
    wanted = placeholders(MESSAGES[key]["en"])
    if given != wanted:
        return [f"{filename}:{node.lineno}: {key} wants {sorted(wanted)}, given {sorted(given)}"]
    return []


def test_no_raise_in_gridsvc_passes_a_bare_string() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        found += bare_string_raises(path.read_text("utf-8"), relative)
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        'raise InvalidInput("the list has no rows")',
        'raise errors.NotFound(f"no case with id {case_id}")',
        'raise Forbidden("role " + role + " may not")',
        'raise Conflict("{} is busy".format(key))',
        'raise InvalidLayer(t("grids_required"))',
        'raise InvalidInput(Msg("no.such.key"))',
        'raise NotFound(Msg("case.no_id"))',  # its placeholder not given
        'raise NotFound(Msg("case.no_id", case_id=1, extra=2))',
    ],
)
def test_the_check_finds_a_bad_raise(source: str) -> None:
    assert len(bare_string_raises(source)) == 1


def test_the_check_passes_a_good_raise() -> None:
    good = 'raise NotFound(Msg("case.no_id", case_id=case_id), case_id=case_id)\nraise X("s")'
    assert bare_string_raises(good) == []
