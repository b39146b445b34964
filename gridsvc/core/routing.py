"""The responsibility list (属地管理清单) and the routing of a case by its matter.

Each matter (category of problem, e.g. ``CG01`` 乱设摊) names a primary
department, the departments that cooperate, the level that handles it and
the working group it belongs to (一办六组), its default severity and the time
limit of each step of the closed loop. Routing a case is
(location → grid, team) × (matter → department, level): the matcher gives the
grid's team, :func:`route` combines it with the matter.

The list is data, not code: the town edits ``responsibility_list.csv`` and
:meth:`ResponsibilityList.from_records` checks every row before it is used,
so a typo is refused with the row's code and the field instead of surfacing
later as a case nobody can handle.

In a district the list is the district's default, and a row with a ``town``
overrides the default row of the same code for that town's cases (another
department, other limits): one versioned list holds both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from gridsvc.core.errors import InvalidInput, UnknownCategory
from gridsvc.core.messages import Msg

#: How many valid codes an unknown-category message lists before counting the rest.
_CODES_SHOWN = 10


class Level(StrEnum):
    """Who handles a matter: the grid's team, a town department, a county bureau."""

    GRID = "grid"
    TOWN = "town"
    COUNTY = "county"


@dataclass(frozen=True)
class StepLimits:
    """Time limit of each step of the closed loop, in working hours (yellow cases)."""

    dispatch_h: float
    accept_h: float
    handle_h: float
    verify_h: float


@dataclass(frozen=True)
class Matter:
    """One row of the responsibility list."""

    code: str
    name: str
    name_en: str
    field: str
    field_en: str
    primary_department: str
    cooperating_departments: tuple[str, ...]
    level: Level
    group: str | None
    default_severity: int
    allow_outside: bool
    limits: StepLimits
    #: strangers (Open311 without a key) may read its cases' description and address
    public: bool = False


def row_key(row: Mapping[str, object]) -> str:
    """A row's key in a stored list: its code, and ``code@town`` for a town's override."""
    town = str(row.get("town") or "").strip()
    return f"{row['code']}@{town}" if town else str(row["code"])


class ResponsibilityList:
    """The matters of the list by code, in the order they were given, and the towns'
    overrides of some of them (a district's list)."""

    def __init__(
        self,
        matters: Iterable[Matter],
        overrides: Mapping[str, Iterable[Matter]] | None = None,
    ) -> None:
        self._matters: dict[str, Matter] = {}
        for matter in matters:
            if matter.code in self._matters:
                raise InvalidInput(Msg("list.duplicate_matter", code=matter.code), code=matter.code)
            self._matters[matter.code] = matter
        self._overrides: dict[str, dict[str, Matter]] = {}
        for town, rows in (overrides or {}).items():
            own = self._overrides.setdefault(town, {})
            for matter in rows:
                if matter.code not in self._matters:
                    raise InvalidInput(
                        Msg("list.town_adds", town=town, code=matter.code),
                        code=matter.code,
                        town=town,
                    )
                if matter.code in own:
                    raise InvalidInput(
                        Msg("list.town_twice", town=town, code=matter.code), code=matter.code
                    )
                own[matter.code] = matter
        self._views: dict[str, ResponsibilityList] = {}

    def for_town(self, town: str | None) -> ResponsibilityList:
        """The list as ``town``'s cases are routed and timed by: the defaults, with that
        town's overrides in their place (the list itself without any)."""
        if town is None or town not in self._overrides:
            return self
        if town not in self._views:
            merged = {**self._matters, **self._overrides[town]}
            self._views[town] = ResponsibilityList(merged.values())
        return self._views[town]

    @property
    def towns(self) -> list[str]:
        """The towns with overrides of their own."""
        return sorted(self._overrides)

    def every_matter(self) -> Iterator[Matter]:
        """The defaults and every town's overrides (what a check of references must see)."""
        yield from self._matters.values()
        for own in self._overrides.values():
            yield from own.values()

    def get(self, code: str) -> Matter:
        """The matter with this code; an unknown code names the valid ones."""
        try:
            return self._matters[code]
        except KeyError:
            raise UnknownCategory(
                _unknown_message(code, list(self._matters)), category=code
            ) from None

    def __iter__(self) -> Iterator[Matter]:
        return iter(self._matters.values())

    def __len__(self) -> int:
        return len(self._matters)

    def __contains__(self, code: object) -> bool:
        return code in self._matters

    @classmethod
    def from_records(cls, rows: Iterable[Mapping[str, str]]) -> ResponsibilityList:
        """Build the list from rows as ``csv.DictReader`` reads ``responsibility_list.csv``.

        Every field is checked; the first bad row is refused with its code and
        the field, because a list with a wrong level or limit would misroute
        or mis-time every case of that matter.
        """
        defaults: list[Matter] = []
        overrides: dict[str, list[Matter]] = {}
        for number, row in enumerate(rows, start=1):
            matter = _matter_from_row(row, number)
            town = str(row.get("town") or "").strip()
            (overrides.setdefault(town, []) if town else defaults).append(matter)
        return cls(defaults, overrides)


@dataclass(frozen=True)
class Routing:
    """Who a case goes to.

    ``team`` is the grid's team for grid-level matters (small loop) and None
    otherwise; ``department`` is the primary department: the supporting one
    on the grid, the handling one in town, the county bureau to call up to.
    """

    level: Level
    team: str | None
    department: str
    cooperating: tuple[str, ...]
    group: str | None


def route(matter: Matter, team: str | None) -> Routing:
    """Route a case of this matter found in a grid whose team is ``team``.

    - Small loop (小循环), ``grid`` level: the grid's team handles it on the
      spot and the primary department supports. Without a team (a report
      just outside the town, where ``allow_outside`` permits it) nobody is on
      the spot, so it goes round the big loop to the primary department.
    - Big loop (大循环), ``town`` level: the primary department handles it,
      in its working group; the team is not involved.
    - ``county`` level: the town cannot solve it, so the case is escalated
      to the primary department, the county bureau that must answer
      (乡呼县应); the answer comes back to the same case.
    """
    small_loop = matter.level is Level.GRID and team is not None
    level = Level.TOWN if matter.level is Level.GRID and team is None else matter.level
    return Routing(
        level=level,
        team=team if small_loop else None,
        department=matter.primary_department,
        cooperating=matter.cooperating_departments,
        group=matter.group,
    )


def _unknown_message(code: str, valid: list[str]) -> Msg:
    if not valid:
        return Msg("list.empty_category", code=code)
    shown = sorted(valid)[:_CODES_SHOWN]
    rest = len(valid) - _CODES_SHOWN
    more = Msg("list.more_codes", rest=rest, total=len(valid)) if rest > 0 else ""
    return Msg("list.unknown_category", code=code, shown=shown, more=more)


def _matter_from_row(row: Mapping[str, str], number: int) -> Matter:
    code = (row.get("code") or "").strip()
    where = code or f"row {number}"
    return Matter(
        code=_text(row, "code", where),
        name=_text(row, "name", where),
        name_en=_text(row, "name_en", where),
        field=_text(row, "field", where),
        field_en=_text(row, "field_en", where),
        primary_department=_text(row, "primary_department", where),
        cooperating_departments=_codes(row, "cooperating_departments", where),
        level=_level(row, where),
        group=_field(row, "group", where) or None,
        default_severity=_severity(row, where),
        allow_outside=_flag(row, "allow_outside", where),
        limits=StepLimits(
            dispatch_h=_hours(row, "limit_dispatch_h", where),
            accept_h=_hours(row, "limit_accept_h", where),
            handle_h=_hours(row, "limit_handle_h", where),
            verify_h=_hours(row, "limit_verify_h", where),
        ),
        public=_optional_flag(row, "public", where),
    )


def _bad(where: str, name: str, value: object, allowed: str) -> InvalidInput:
    return InvalidInput(
        Msg("list.bad_value", where=where, name=name, value=value, allowed=allowed),
        matter=where,
        field=name,
    )


def _field(row: Mapping[str, str], name: str, where: str) -> str:
    value = row.get(name)
    if value is None:
        raise InvalidInput(
            Msg("list.missing_column", where=where, name=name),
            matter=where,
            field=name,
        )
    return value.strip()


def _text(row: Mapping[str, str], name: str, where: str) -> str:
    value = _field(row, name, where)
    if not value:
        raise _bad(where, name, value, "a non-empty value")
    return value


def _codes(row: Mapping[str, str], name: str, where: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _field(row, name, where).split(";") if part.strip())


def _level(row: Mapping[str, str], where: str) -> Level:
    value = _field(row, "level", where)
    try:
        return Level(value)
    except ValueError:
        raise _bad(where, "level", value, ", ".join(Level)) from None


def _severity(row: Mapping[str, str], where: str) -> int:
    value = _field(row, "default_severity", where)
    if value not in {"1", "2", "3"}:
        raise _bad(where, "default_severity", value, "1 (general), 2 (serious) or 3 (urgent)")
    return int(value)


def _flag(row: Mapping[str, str], name: str, where: str) -> bool:
    value = _field(row, name, where)
    if value not in {"0", "1"}:
        raise _bad(where, name, value, "0 or 1")
    return value == "1"


def _optional_flag(row: Mapping[str, str], name: str, where: str) -> bool:
    """A 0/1 column that may be left out or empty (then 0): lists written before it was added."""
    if not (row.get(name) or "").strip():
        return False
    return _flag(row, name, where)


def _hours(row: Mapping[str, str], name: str, where: str) -> float:
    value = _field(row, name, where)
    try:
        hours = float(value)
    except ValueError:
        raise _bad(where, name, value, "a positive number of working hours") from None
    if not (math.isfinite(hours) and hours > 0):
        raise _bad(where, name, value, "a positive number of working hours")
    return hours
