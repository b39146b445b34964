"""``gridsvc demo``: the demo town."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, settings
from gridsvc.cli.texts import current_lang, t
from gridsvc.core.kinds import LayerKind
from gridsvc.core.workflow import Role

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

app = typer.Typer(help=t("demo_help"), no_args_is_help=True)


@app.command("load", help=t("demo_load_help"))
@friendly
def demo_load(
    history: Annotated[bool, Opt(help=t("demo_history"))] = True,
) -> None:
    """Put the demo town (layers, teams, departments, lists, history) into the database, once."""
    from gridsvc.services.setup import load_demo
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    load_demo(make_engine(config.database_url), config.demo_dir, history=history, say=_say)


@app.command("keys", help=t("demo_keys_help"))
@friendly
def demo_keys_command(
    url: Annotated[str, Opt(help=t("demo_url"))] = "http://127.0.0.1:8000",
) -> None:
    """One fresh key per role for trying the demo (the previous demo keys are revoked);
    paste a key at the URL's sign-in, or into the page the role opens."""
    from gridsvc.services.keys import demo_keys
    from gridsvc.services.setup import is_loaded, load_demo
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    if not is_loaded(engine):  # the handler's key names a department of the demo town
        load_demo(engine, config.demo_dir, history=False, say=_say)
    made = demo_keys(engine)
    out.print(t("demo_open", url=url))
    for role, key, page in made:
        out.print(f"  {role.value:<10} {url}{page:<11} {key}")
    for code, role, key, page in _town_keys(engine):
        out.print(f"  {role.value:<10} {url}{page:<11} {key}  ({code})")


def _town_keys(engine: Engine) -> list[tuple[str, Role, str, str]]:
    """In a district: a dispatcher's and a leader's key scoped to each town (the ones
    made before revoked, like the other demo keys); none for a single town."""
    from datetime import UTC, datetime

    from gridsvc.services.keys import create_key, town_names
    from gridsvc.store import keys as store
    from gridsvc.store.reference import active_versions

    with engine.connect() as conn:
        towns = town_names(conn) if LayerKind.TOWNS in active_versions(conn) else {}
    people = [
        (f"{code} {name}", role, f"演示{name}{who} demo {role.value} {code}", page)
        for code, name in sorted(towns.items())
        for role, who, page in (
            (Role.DISPATCHER, "调度员", "/dispatch"),
            (Role.LEADER, "领导", "/dashboard"),
        )
    ]
    with engine.begin() as conn:
        store.revoke_keys_named(conn, [n for _, _, n, _ in people], datetime.now(UTC))
    return [(c, r, create_key(engine, r, n, town=c.split()[0]), page) for c, r, n, page in people]


# What services.setup.load_demo says (in English, the service's words), to translate them
_HOLIDAYS = re.compile(r"note: holidays\.csv lists no day after (?P<day>\S+);.*")
_LOADED = re.compile(
    r"loaded the demo (?P<name>\S+): (?P<layers>\d+) layers, (?P<matters>\d+) matters, "
    r"(?P<cases>[\d,]+) historical cases(?:, the last reported on (?P<last>\S+))?"
)


def _say(message: str) -> None:
    """Print what loading the demo says, in the messages' language."""
    out.print(_translated(message))


def _translated(message: str) -> str:
    """The loader's English sentence in Chinese; a sentence it does not know, as it is."""
    if current_lang() == "en":
        return message
    if message == "the database already holds a town; nothing loaded":
        return t("demo_already")
    if found := _HOLIDAYS.fullmatch(message):
        return t("demo_holidays", day=found["day"])
    if found := _LOADED.fullmatch(message):
        last = t("demo_last", last=found["last"]) if found["last"] else ""
        figures = {k: found[k] for k in ("name", "layers", "matters", "cases")}
        return t("demo_loaded", last=last, **figures)
    return message
