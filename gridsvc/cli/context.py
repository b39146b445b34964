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

if TYPE_CHECKING:
    from gridsvc.config import Settings

console = Console(stderr=True, soft_wrap=True)  # an error stays one line in a log
out = Console()

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
                fail(exc.render(spell), EXIT_PROBLEMS if exc.problems else EXIT_USAGE)
            except GridsvcError as exc:
                fail(exc.render(spell), EXIT_USAGE)
            except OSError as exc:
                fail(str(exc), EXIT_USAGE)

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def fail(message: str, code: int) -> NoReturn:
    """One line on stderr and the exit code: what every refused command ends with."""
    from rich.text import Text

    # as Text, not markup: a message quoting "[a, b]" must print as it is
    console.print(Text.assemble(("error: ", "red"), message))
    raise typer.Exit(code) from None


def print_problems(problems: list[Any]) -> None:
    """Validation problems as one table on stderr (nothing when there are none)."""
    if not problems:
        return
    from rich.table import Table

    table = Table("kind", "codes", "where (lon, lat)", "m²", "blocks", "message", show_lines=False)
    for p in problems:
        where = f"{p.location[0]:.6f}, {p.location[1]:.6f}" if p.location else ""
        area = f"{p.area_m2:,.2f}" if p.area_m2 is not None else ""
        table.add_row(
            str(p.kind), ", ".join(p.codes), where, area, "yes" if p.blocking else "no", p.message
        )
    console.print(table)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


Opt = typer.Option

# Options that every command reading a layer file takes, declared once.
LayerNameOpt = Annotated[str | None, Opt("--layer", help="layer name inside a GeoPackage")]
CodeFieldOpt = Annotated[str, Opt("--code-field", help="field holding the feature code")]
NameFieldOpt = Annotated[str, Opt("--name-field", help="field holding the feature name")]
ParentFieldOpt = Annotated[str, Opt("--parent-field", help="field holding the parent's code")]
EncodingOpt = Annotated[str | None, Opt("--encoding", help="attribute encoding, e.g. GBK")]
FileCrsOpt = Annotated[str | None, Opt("--crs", help="CRS when the file declares none")]
