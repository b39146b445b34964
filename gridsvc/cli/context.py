"""What every command shares: the consoles, the settings, one-line errors.

Only this module of the command line reads :class:`~gridsvc.config.Settings`
(a composition root, like ``api/app.py``). Nothing here imports geopandas,
shapely, SQLAlchemy or the web app, so ``gridsvc --help`` starts at once;
each command imports what it needs inside its own body.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from gridsvc.cli.texts import current_lang, error_prefix, error_title, t
from gridsvc.core.kinds import LayerKind

if TYPE_CHECKING:
    from gridsvc.config import Settings

console = Console(stderr=True, soft_wrap=True)  # an error stays one line in a log
out = Console(soft_wrap=True)  # a message is one line: Chinese would wrap inside a date

EXIT_USAGE = 2
EXIT_PROBLEMS = 1

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    """The settings from ``GRIDSVC_*`` (read when a command runs, not at import)."""
    from gridsvc.config import Settings

    return Settings()


def flag(name: str) -> str:
    """How the command line spells a parameter a message names: ``code_field`` → ``--code-field``."""
    return "--" + name.replace("_", "-")


def friendly(func: F | None = None, *, flags: dict[str, str] | None = None) -> Any:
    """Turn gridsvc errors (and missing files) into one line and exit code 2.

    The message is in the command line's language (``--lang``, ``GRIDSVC_LANG``, else
    Chinese), from the same catalogue the API answers in (:mod:`gridsvc.core.messages`).

    A message naming a parameter names the command's flag for it; ``flags``
    renames those that this command spells differently (``match`` reads the
    layer files' CRS from ``--layer-crs``, its ``--crs`` is the points').
    """
    renamed = flags or {}

    def spell(name: str) -> str:
        return renamed.get(name) or flag(name)

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from gridsvc.core.errors import GridsvcError, InvalidLayer

            try:
                return command(*args, **kwargs)
            except InvalidLayer as exc:
                print_problems(exc.problems)
                code = EXIT_PROBLEMS if exc.problems else EXIT_USAGE
                fail(exc.render(spell, current_lang()), code, error_title(exc))
            except GridsvcError as exc:
                fail(exc.render(spell, current_lang()), EXIT_USAGE, error_title(exc))
            except OSError as exc:
                fail(str(exc), EXIT_USAGE, t("os_error"))

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def fail(message: str, code: int, title: str | None = None) -> NoReturn:
    """One line on stderr and the exit code: what every refused command ends with.

    In Chinese the prefix names what went wrong (错误（图层无效）：…), ``title``
    being the error's Chinese title; in English it stays ``error:``.
    """
    from rich.text import Text

    # as Text, not markup: a message quoting "[a, b]" must print as it is
    console.print(Text.assemble((error_prefix(title), "red"), message))
    raise typer.Exit(code) from None


def print_problems(problems: list[Any]) -> None:
    """Validation problems as one table on stderr (nothing when there are none)."""
    if not problems:
        return
    from rich.table import Table

    table = Table(
        t("col_kind"), t("col_codes"), t("col_where"), t("col_m2"), t("col_blocks"),
        t("col_message"), show_lines=False,
    )  # fmt: skip
    for p in problems:
        where = f"{p.location[0]:.6f}, {p.location[1]:.6f}" if p.location else ""
        area = f"{p.area_m2:,.2f}" if p.area_m2 is not None else ""
        table.add_row(
            problem_kind(str(p.kind)),
            ", ".join(p.codes),
            where,
            area,
            t("yes") if p.blocking else t("no"),
            p.message_in(current_lang()) if hasattr(p, "message_in") else p.message,
        )
    console.print(table)


def problem_kind(kind: str) -> str:
    """A validation problem's kind in the messages' language (the stable name in English)."""
    names = {
        "invalid-geometry": t("kind_invalid-geometry"), "gap": t("kind_gap"),
        "overlap": t("kind_overlap"), "unmatched-edge": t("kind_unmatched-edge"),
        "crosses-parent": t("kind_crosses-parent"), "outside-parent": t("kind_outside-parent"),
        "duplicate-code": t("kind_duplicate-code"), "missing-code": t("kind_missing-code"),
        "unknown-parent": t("kind_unknown-parent"), "missing-crs": t("kind_missing-crs"),
        "wrong-geometry-type": t("kind_wrong-geometry-type"),
        "empty-geometry": t("kind_empty-geometry"), "sliver": t("kind_sliver"),
    }  # fmt: skip
    return names.get(kind, kind)


def version_status(status: str) -> str:
    """A layer or list version's status (draft, published, retired) in the messages' language."""
    names = {
        "draft": t("status_draft"), "published": t("status_published"),
        "retired": t("status_retired"),
    }  # fmt: skip
    return names.get(status, status)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


Opt = typer.Option

# Options that every command reading a layer file takes, declared once.
LayerNameOpt = Annotated[str | None, Opt("--layer", help=t("opt_layer"))]
CodeFieldOpt = Annotated[str, Opt("--code-field", help=t("opt_code_field"))]
NameFieldOpt = Annotated[str, Opt("--name-field", help=t("opt_name_field"))]
ParentFieldOpt = Annotated[str, Opt("--parent-field", help=t("opt_parent_field"))]
EncodingOpt = Annotated[str | None, Opt("--encoding", help=t("opt_encoding"))]
FileCrsOpt = Annotated[str | None, Opt("--crs", help=t("opt_file_crs"))]
KindArg = Annotated[LayerKind, typer.Argument(help=t("arg_kind"))]
DraftArg = Annotated[int, typer.Argument(help=t("arg_draft"))]
