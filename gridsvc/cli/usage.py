"""Typer's own words in the messages' language: help panel titles and parse errors.

Typer (0.29 carries its own copy of click) words them in English, partly as
literals; the panel titles are module constants of ``typer.rich_utils``, set
here before each run, and the common parse errors (Missing option '--out',
No such option, Invalid value…) are matched and said again in Chinese. Any
other message stays as typer says it, and in English nothing changes.
The usage line and ``--help``'s own line stay English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gridsvc.cli.texts import current_lang, t


def localise_typer() -> None:
    """Typer's words on help pages and usage errors, in the messages' language."""
    from typer import rich_utils

    words = {
        "ARGUMENTS_PANEL_TITLE": t("typer_arguments"), "OPTIONS_PANEL_TITLE": t("typer_options"),
        "COMMANDS_PANEL_TITLE": t("typer_commands"), "ERRORS_PANEL_TITLE": t("typer_error"),
        "ABORTED_TEXT": t("typer_aborted"), "DEFAULT_STRING": t("typer_default"),
        "REQUIRED_LONG_STRING": t("typer_required"), "ENVVAR_STRING": t("typer_envvar"),
        "RICH_HELP": t("typer_try_help"),
    }  # fmt: skip
    for name, value in words.items():
        if hasattr(rich_utils, name):  # a later typer may name them otherwise: then English
            setattr(rich_utils, name, value)


def usage_message(message: str) -> str:
    """A parse error of typer's (Missing option '--out' / '-o'.) in the messages' language.

    Typer words them in English; the common ones have a Chinese form here, any
    other stays as typer says it.
    """
    if current_lang() == "en":
        return message
    for pattern, render in _USAGE:
        if found := pattern.fullmatch(message):
            return render(found)
    return message


def _no_such(found: re.Match[str], command: bool) -> str:
    """``No such option: --x Did you mean --y? (Possible options: …)`` and the like."""
    if command:
        said = t("usage_no_such_command", name=found["name"])
    else:
        said = t("usage_no_such_option", name=found["name"])
    if found["mean"]:
        said += t("usage_did_you_mean", names=found["mean"])
    if found["possible"]:
        said += t("usage_possible", names=found["possible"])
    return said


def _invalid(found: re.Match[str]) -> str:
    detail = found["detail"]
    for pattern, render in _DETAILS:
        if known := pattern.fullmatch(detail):
            detail = render(known)
            break
    return t("usage_invalid_value", name=found["name"], detail=detail)


_SUGGESTED = r"(?:\.? Did you mean (?P<mean>.+)\?)?(?: \(Possible options: (?P<possible>.+)\))?"
_USAGE: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"Missing argument (?P<n>.+)\."),
        lambda m: t("usage_missing_argument", name=m["n"]),
    ),
    (re.compile(r"Missing option (?P<n>.+)\."), lambda m: t("usage_missing_option", name=m["n"])),
    (re.compile(r"Missing command\."), lambda m: t("usage_missing_command")),
    (
        re.compile(r"No such option: (?P<name>\S+)" + _SUGGESTED),
        lambda m: _no_such(m, command=False),
    ),
    (
        re.compile(r"No such command (?P<name>'[^']*')\.?" + _SUGGESTED),
        lambda m: _no_such(m, command=True),
    ),
    (re.compile(r"Invalid value for (?P<name>'[^']*'): (?P<detail>.+)", re.S), _invalid),
    (
        re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((?P<a>.+)\)"),
        lambda m: t("usage_extra", args=m["a"]),
    ),
    (
        re.compile(r"Option (?P<n>'[^']*') requires an argument\."),
        lambda m: t("usage_needs_value", name=m["n"]),
    ),
]
_DETAILS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"Value error, (?P<v>'[^']*') is not one of (?P<c>.+)\.", re.S),
        lambda m: t("usage_not_one_of", value=m["v"], choices=m["c"]),
    ),
    (re.compile(r"Input should be a valid integer.*"), lambda m: t("usage_integer")),
    (re.compile(r"Input should be a valid number.*"), lambda m: t("usage_number")),
    (
        re.compile(r"Input should be greater than or equal to (?P<n>\S+)"),
        lambda m: t("usage_at_least", limit=m["n"]),
    ),
    (
        re.compile(r"Input should be less than or equal to (?P<n>\S+)"),
        lambda m: t("usage_at_most", limit=m["n"]),
    ),
]
