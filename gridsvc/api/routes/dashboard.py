"""The leader's page: the hotspot map and the evaluation table of one period, side by side.

One page a leader opens from a bookmark after signing in at ``/`` (the
session cookie; ``?api_key=`` still works for this release, deprecated): the
period and the grouping are a plain form, the map is the hotspot map of the
same period in a frame, the table is the evaluation with its files a click
away. Without ``from``/``to`` it shows the last full month, whose figures no
longer change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from gridsvc.api.auth import require_page
from gridsvc.core.evaluation import last_full_month
from gridsvc.core.kinds import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.evaluation import (
    FILE_FORMATS,
    RATE_COLUMNS,
    Evaluation,
    EvaluationQuery,
    columns_of,
    file_table,
)
from gridsvc.services.maps import LOCAL_TZ
from gridsvc.services.reading import Principal, town_for

router = APIRouter(tags=["dashboard"])
Leader = Annotated[Principal, Depends(require_page(Role.LEADER, Role.DISPATCHER))]
_TEMPLATES = Environment(
    loader=PackageLoader("gridsvc.api", "templates"), autoescape=select_autoescape(["html"])
)

_TEXT = {
    "zh": {
        "title": "领导驾驶舱",
        "from": "自",
        "to": "至",
        "by": "考核对象",
        "show": "查看",
        "hotspots": "案件热点图",
        "evaluation": "考核评价",
        "rule": "按期结案率 = 按期结案数 / (应结案数 − 缓办数)；应结案数不足最低案件数的对象不参与排名。",
        "as_of": "数据截至",
        "town": "街镇",
        "all_towns": "全区",
    },
    "en": {
        "title": "Leader's dashboard",
        "from": "From",
        "to": "to",
        "by": "Evaluate by",
        "show": "Show",
        "hotspots": "Case hotspots",
        "evaluation": "Evaluation",
        "rule": "On-time closure rate = closed on time / (due − deferred); groups under the "
        "minimum number of due cases are listed but not ranked.",
        "as_of": "Figures as of",
        "town": "Town",
        "all_towns": "All towns",
    },
}
_BY = {
    "zh": {"grid": "网格", "team": "工作站", "department": "部门", "group": "工作组",
           "category": "类别", "unit": "基本管理单元", "town": "街镇"},
    "en": {"grid": "Grid", "team": "Team", "department": "Department", "group": "Working group",
           "category": "Category", "unit": "Unit", "town": "Town"},
}  # fmt: skip


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    who: Leader,
    first_day: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    last_day: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (included)")] = None,
    by: Annotated[
        str, Query(description="grid, team, department, group, category, unit, town")
    ] = "grid",
    town: Annotated[str | None, Query(description="one town (a town key: its own)")] = None,
    lang: Annotated[str | None, Query(pattern="^(zh|en)$")] = None,
    api_key: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> HTMLResponse:
    """The hotspot map and the evaluation table of a period (default: the last full month)."""
    lang = lang or request.app.state.settings.lang
    report = await _evaluate(request, first_day, last_day, by, lang, town_for(who, town))
    towns = _towns(request, who)
    return HTMLResponse(_page(report, lang, api_key, towns, who.town is not None))


@router.get("/dashboard/evaluation.{fmt}", response_class=Response)
async def dashboard_file(
    request: Request,
    who: Leader,
    fmt: Annotated[str, Path(pattern="^(csv|xlsx)$")],
    first_day: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    last_day: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (included)")] = None,
    by: Annotated[
        str, Query(description="grid, team, department, group, category, unit, town")
    ] = "grid",
    town: Annotated[str | None, Query(description="one town (a town key: its own)")] = None,
    lang: Annotated[str | None, Query(pattern="^(zh|en)$")] = None,
) -> Response:
    """The dashboard's table as a CSV or XLSX file (what ``/api/v1/evaluation`` answers)."""
    lang = lang or request.app.state.settings.lang
    report = await _evaluate(request, first_day, last_day, by, lang, town_for(who, town))
    q = report.query
    name = f"evaluation-{q.by}-{q.first_day}-{q.last_day}.{fmt}"
    write, media = FILE_FORMATS[fmt]
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(write(report), media_type=media, headers=disposition)


async def _evaluate(
    request: Request,
    first_day: str | None,
    last_day: str | None,
    by: str,
    lang: str,
    town: str | None,
) -> Evaluation:
    """The evaluation of the period asked for, by default the last full month."""
    if not (first_day and last_day):
        start, end = last_full_month(datetime.now(LOCAL_TZ).date())
        first_day, last_day = first_day or start.isoformat(), last_day or end.isoformat()
    query = EvaluationQuery.parse(first_day, last_day, by, None, lang, town=town)
    report: Evaluation = await run_in_threadpool(request.app.state.evaluation.evaluate, query)
    return report


def _towns(request: Request, who: Principal) -> list[tuple[str, str]]:
    """The towns a leader may choose between: a district's towns (a town key: its own);
    none for a single town's deployment, which has nothing to choose."""
    pairs = request.app.state.town.names(LayerKind.TOWNS)
    return [p for p in pairs if who.town in (None, p[0])]


def _page(
    report: Evaluation,
    lang: str,
    api_key: str | None,
    towns: Sequence[tuple[str, str]] = (),
    town_fixed: bool = False,
) -> str:
    query = report.query
    period = {"from": query.first_day.isoformat(), "to": query.last_day.isoformat()}
    if query.town:  # the map and the files show the same town as the table
        period["town"] = query.town
    key = {"api_key": api_key} if api_key else {}
    headers, body = file_table(report)
    names = {"rank", "key", "name", "kind"}
    columns = [c for c, *_ in columns_of(report)]
    rows = [
        {
            "css": "total" if i == len(body) - 1 else ("" if row[0] is not None else "unranked"),
            "cells": [_cell(name, value) for name, value in zip(columns, row, strict=True)],
        }
        for i, row in enumerate(body)
    ]
    evaluation = {**period, "by": query.by, "lang": lang, **key}
    return _TEMPLATES.get_template("dashboard.html").render(
        lang=lang,
        t=_TEXT[lang],
        period=f"{period['from']} – {period['to']}",
        first_day=period["from"],
        last_day=period["to"],
        by=query.by,
        by_options=list(_BY[lang].items()),
        town_options=towns,
        town=query.town,
        town_fixed=town_fixed,
        api_key=api_key,
        map_url="/maps/hotspots?" + urlencode({**period, "lang": lang, "compact": 1, **key}),
        csv_url="/dashboard/evaluation.csv?" + urlencode(evaluation),
        xlsx_url="/dashboard/evaluation.xlsx?" + urlencode(evaluation),
        headers=headers,
        name_columns={i for i, c in enumerate(columns) if c in names - {"rank"}},
        rows=rows,
        as_of=report.as_of.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
    )


def _cell(column: str, value: Any) -> str:
    """Rates as percentages, hours and scores to one decimal, a missing figure as a dash."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if column in RATE_COLUMNS:
        return f"{float(value):.1%}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
