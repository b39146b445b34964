"""How a case is shown: the API's view of a stored case, its supervision and the last
change (for the 412 of the one who came second). Times in the town's local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gridsvc.core.workflow import TERMINAL
from gridsvc.services.reading import CONTACT_READERS, Principal

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def last_change(events: list[dict[str, Any]], who: Principal) -> dict[str, Any] | None:
    """Who changed a case last and how, for the 412 of the one who came second
    ("已由 王调度 派遣"); the reporter's name only for those who may read contacts."""
    if not events:
        return None
    last = events[-1]
    hidden = last["action"] == "report" and who.role not in CONTACT_READERS
    return {
        "action": last["action"],
        "actor": "" if hidden else last["actor"],
        "role": last["role"],
        "at": local_iso(last["at"]),
        "status": last["to_status"],
    }


def local_iso(value: datetime | None) -> str | None:
    return value.astimezone(LOCAL_TZ).isoformat() if value else None


def supervision_view(state: Any) -> dict[str, Any]:
    return {
        "colour": state.colour.value,
        "overdue": state.overdue,
        "deadline": local_iso(state.deadline),
        "overdue_steps": state.overdue_steps,
        "hours_left": None if state.hours_left is None else round(state.hours_left, 2),
    }


def case_view(
    case: dict[str, Any], events: list[dict[str, Any]], state: Any, duplicates: list[dict[str, Any]]
) -> dict[str, Any]:
    skip = {"geom_wkb", "version", "status_since", "cell"}
    view = {
        k: (local_iso(v) if isinstance(v, datetime) else v)
        for k, v in case.items()
        if k not in skip
    }
    view["etag"] = case["version"]
    view["open"] = case["status"] not in {s.value for s in TERMINAL}
    view["supervision"] = supervision_view(state)
    view["possible_duplicates"] = duplicates
    view["history"] = [
        {
            "seq": e["seq"],
            "action": e["action"],
            "from": e["from_status"],
            "to": e["to_status"],
            "actor": e["actor"],
            "role": e["role"],
            "at": local_iso(e["at"]),
            "note": e["note"],
            "data": e["data"],
        }
        for e in events
    ]
    return view
