"""The root command group: ``--lang`` anywhere on the command line, typer's words in it.

A user types ``gridsvc validate grids.gpkg --lang en`` as readily as
``gridsvc --lang en validate grids.gpkg``. Only the root and the commands
of ``map`` and ``report`` declare ``--lang``, so for every other command the
option is moved in front, where the root's callback takes it; a command with
its own ``--lang`` keeps it (it sets the map's or the file's language too).
Typer's own words, the titles of its help panels and its parse errors, are
put in the same language by :mod:`gridsvc.cli.usage`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from gridsvc.cli.texts import lang_in, set_lang
from gridsvc.cli.usage import localise_typer, usage_message


class RootGroup(TyperGroup):
    """``gridsvc`` itself; moves a ``--lang`` meant for the root in front before parsing."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        import sys

        given = list(sys.argv[1:] if args is None else args)
        set_lang(lang_in(given, os.environ))  # the callback sets it again, or refuses it
        localise_typer()
        return super().main(hoist_lang(self, given), *rest, **extra)

    def make_context(self, *args: Any, **extra: Any) -> Any:
        with _translated_usage():
            return super().make_context(*args, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _translated_usage():
            return super().invoke(ctx)


@contextmanager
def _translated_usage() -> Iterator[None]:
    """Let a parse error raised inside print in the messages' language."""
    try:
        yield
    except NoArgsIsHelpError:  # its message is the help page
        raise
    except UsageError as exc:
        said = usage_message(exc.format_message())
        exc.format_message = lambda: said  # type: ignore[method-assign]
        raise


def hoist_lang(root: TyperGroup, args: list[str]) -> list[str]:
    """``args`` with every ``--lang X`` / ``--lang=X`` moved to the front, unless the
    command they address declares ``--lang`` itself; ``--`` ends the search."""
    if _own_lang(root, args):
        return args
    front: list[str] = []
    others: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            others += args[i:]
            break
        if arg == "--lang" and i + 1 < len(args):
            front += args[i : i + 2]
            i += 2
            continue
        (front if arg.startswith("--lang=") else others).append(arg)
        i += 1
    return front + others


def _own_lang(root: TyperGroup, args: list[str]) -> bool:
    """Whether the command ``args`` name (``map coverage``) declares a ``--lang`` of its own."""
    command: Any = root
    words = iter(args)
    for arg in words:
        if arg == "--lang":
            next(words, None)  # the root's value, not a command
            continue
        if arg.startswith("-"):
            continue
        commands = getattr(command, "commands", None)
        if commands is None or arg not in commands:
            break
        command = commands[arg]
    return command is not root and any(p.name == "lang" for p in command.params)
