"""Who reads what of a case: the privacy and tenancy rules, in one place.

Every read route asks these: a patrol reads its own reports and its grid's
open cases; only dispatchers and admins see the reporter's contact; a key
scoped to one town of a district sees that town's cases alone, and another
town's case is not found (a 404, not a 403 that would confirm it exists).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from gridsvc.core.errors import Forbidden, NotFound
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.store.cases import OPEN_EXCLUDED


class TownFiltered(Protocol):
    """A filter (a dataclass) with a town: the case search's, the maps'."""

    town_code: str | None


Filtered = TypeVar("Filtered", bound=TownFiltered)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's name, role, (for handlers) department, (for patrols)
    grid, and the one town it is scoped to (None: the whole district)."""

    key_id: int
    name: str
    role: Role
    department: str | None = None
    grid: str | None = None
    town: str | None = None


def check_department(case: dict[str, Any], who: Principal) -> None:
    """A department handler acts only on cases held by (or routed to) their department:
    the closed loop's actions and the photos added to a case alike."""
    if who.role != Role.HANDLER:
        return
    if who.department not in (case["assignee"], case["department"], *case["cooperating"]):
        raise Forbidden(
            Msg(
                "case.other_department",
                number=case["number"],
                assignee=case["assignee"],
                department=who.department,
            )
        )


REPORTER_KEY = "reporter_key"  # in the report event's data: the id of the key that reported
#: who sees the reporter's contact fields (name, phone in ``reporter``, the report's actor)
CONTACT_READERS = frozenset({Role.DISPATCHER, Role.ADMIN})


def may_read(view: dict[str, Any], who: Principal) -> bool:
    """Whether ``who`` may read a case: a patrol its own reports and its grid's open
    cases (what it walks past and may be asked to look at again), everyone else all,
    within the town a town key is scoped to (its own reports wherever they went).

    "Own" is the key the report came with (its report event's ``reporter_key``);
    cases loaded as history have none. A patrol key without a grid reads only its own.
    """
    if reported_by(view, who):
        return True  # one's own report, even one that went to the neighbouring town
    if not in_scope(view, who):
        return False
    if who.role != Role.PATROL:
        return True
    return bool(who.grid) and is_open_in_grid(view, who.grid)


def reported_by(view: dict[str, Any], who: Principal) -> bool:
    """Whether the case's report came with ``who``'s key."""
    first = view["history"][0] if view.get("history") else {}
    return bool(first.get("action") == "report" and first["data"].get(REPORTER_KEY) == who.key_id)


def is_open_in_grid(case: dict[str, Any], grid: str) -> bool:
    """A case of ``grid`` that is not closed, a duplicate or cancelled."""
    return case.get("grid_code") == grid and case.get("status") not in OPEN_EXCLUDED


def for_reader(view: dict[str, Any], who: Principal) -> dict[str, Any]:
    """The case view without the reporter's contact fields, unless ``who`` is a dispatcher
    or admin: the ``reporter`` field goes, the report event's actor is blanked (the history
    keeps its shape) and the reporting key's id goes."""
    if who.role in CONTACT_READERS:
        return view
    shown = {k: v for k, v in view.items() if k != "reporter"}
    if "history" in view:
        shown["history"] = [_without_reporter(e) for e in view["history"]]
    return shown


def _without_reporter(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("action") != "report":
        return event
    data = {k: v for k, v in (event.get("data") or {}).items() if k != REPORTER_KEY}
    return {**event, "actor": "", "data": data}


def in_scope(case: dict[str, Any], who: Principal) -> bool:
    """Whether the case lies in the town ``who`` is scoped to (always, for a district key)."""
    return who.town is None or case.get("town_code") == who.town


def town_for(who: Principal, asked: str | None) -> str | None:
    """The town a list, map or figure is about: a district key's choice (None: all towns),
    a town key's own town. A town key asking for another town finds no such town."""
    if who.town is None:
        return asked
    if asked not in (None, who.town):
        raise NotFound(Msg("town.not_yours", asked=asked, town=who.town))
    return who.town


def pinned(wanted: Filtered, who: Principal) -> Filtered:
    """``wanted`` as ``who`` may run it: a town key's filter is held to its town."""
    town = town_for(who, wanted.town_code)
    return wanted if town == wanted.town_code else replace(wanted, town_code=town)  # type: ignore[type-var]
