"""The town's departments and teams by code, for the pages' filters and forms.

A workbench shows "综合行政执法队", not "D01", and offers only county
departments to escalate to; these lists are the reference tables as loaded.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from gridsvc.api.routes.cases import Reader
from gridsvc.core.layers import LayerKind
from gridsvc.store import reference
from gridsvc.town import Town

router = APIRouter(prefix="/api/v1", tags=["town"])


def _tables(request: Request) -> dict[str, Any]:
    with request.app.state.engine.connect() as conn:
        teams = reference.read_table(conn, "teams")
    departments = request.app.state.cases.departments.values()
    keep = ("code", "name", "name_en")
    return {
        "departments": [
            {**{k: d.get(k) for k in keep}, "level": d.get("level"), "kind": d.get("kind")}
            for d in sorted(departments, key=lambda d: d["code"])
        ],
        "teams": [{k: t.get(k) for k in keep} for t in sorted(teams, key=lambda t: t["code"])],
        "centres": _centres(request.app.state.town),
    }


def _centres(town: Town) -> list[dict[str, str]]:
    """A district's centres by code: each town's and the district's (the history names
    which acted); none in a single town, where there is one centre."""
    towns = town.names(LayerKind.TOWNS)
    if not towns:
        return []
    rows = [(c, n, "town") for c, n in towns]
    rows += [(c, n, "district") for c, n in town.names(LayerKind.JURISDICTION)]
    return [
        {"code": c, "name": f"{n}中心", "name_en": f"{c} centre", "kind": k} for c, n, k in rows
    ]


@router.get("/directory")
async def directory(request: Request, who: Reader) -> dict[str, Any]:
    """Departments (with their level: town, county), teams (工作站) and, in a district, the
    centres (each town's and the district's), by code."""
    return await run_in_threadpool(_tables, request)
