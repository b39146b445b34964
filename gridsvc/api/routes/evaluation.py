"""Evaluation (考核): a period's figures per grid, team, department, group, category or unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from gridsvc.api.auth import require
from gridsvc.api.problems import json_bytes
from gridsvc.core.errors import InvalidInput
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.services.evaluation import (
    FILE_FORMATS,
    XLSX_MEDIA,
    Evaluation,
    EvaluationQuery,
    EvaluationService,
)
from gridsvc.services.reading import Principal, town_for

router = APIRouter(prefix="/api/v1", tags=["evaluation"])

Reader = Annotated[Principal, Depends(require(Role.LEADER, Role.DISPATCHER))]
MEDIA = {"json": "application/json", "csv": "text/csv", "xlsx": XLSX_MEDIA}


def evaluations(request: Request) -> EvaluationService:
    return request.app.state.evaluation


Evaluations = Annotated[EvaluationService, Depends(evaluations)]


@router.get(
    "/evaluation",
    responses={200: {"content": {"application/json": {}, "text/csv": {}, XLSX_MEDIA: {}}}},
    response_class=Response,
)
def evaluation(
    service: Evaluations,
    who: Reader,
    first_day: Annotated[str, Query(alias="from", description="first day, YYYY-MM-DD")],
    last_day: Annotated[str, Query(alias="to", description="last day (included), YYYY-MM-DD")],
    by: Annotated[
        str, Query(description="grid, team, department, group, category, unit or town")
    ] = "grid",
    town: Annotated[str | None, Query(description="one town's cases (a town key: its own)")] = None,
    min_cases: Annotated[
        int | None, Query(description="due cases a group needs to be ranked")
    ] = None,
    lang: Annotated[str | None, Query(description="names and file headers: zh or en")] = None,
    format: Annotated[str | None, Query(description="json, csv or xlsx (else Accept)")] = None,
    line_score: Annotated[list[str] | None, Query(description="CODE=SCORE, by=department")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The evaluation (考核) of the days `from` to `to` (both included, local time), one row
    per grid, team, department, working group, category or unit, best first.

    Per group: cases reported, due (closure deadline in the period), deferred (缓办), closed,
    closed on time; on-time closure rate = closed on time / (due − deferred); completion rate
    = closed / due; rework rate = reopened / handled; overdue cases and those still open past
    their deadline; the colours reached; median hours to dispatch, handling and closure; the
    town score 0–100. Groups with fewer than `min_cases` due cases (default 10) are listed but
    not ranked. With `by=department`, county departments and stationed agencies also get the
    town's weight and, given their line score (`line_score=X01=85`), an overall score.

    Leaders, dispatchers and admins may read it. `format=csv|xlsx` (or `Accept: text/csv`,
    or the XLSX media type) answers a file with Chinese (or `lang=en`) headers; the last
    row is the whole town.
    """
    query = EvaluationQuery.parse(
        first_day,
        last_day,
        by,
        min_cases,
        lang or service.lang,
        line_score or (),
        town_for(who, town),
    )
    return _render(service.evaluate(query), _wanted(format, accept))


def _wanted(format: str | None, accept: str | None) -> str:
    """The format asked for: ``format`` first, else the first known type in Accept, else JSON."""
    if format is not None:
        if format not in MEDIA:
            raise InvalidInput(Msg("evaluation.format", format=format))
        return format
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        for name, known in MEDIA.items():
            if media == known:
                return name
    return "json"


def _render(report: Evaluation, wanted: str) -> Response:
    headers = {"Vary": "Accept"}
    if wanted == "json":
        return Response(json_bytes(report.to_dict()), media_type=MEDIA["json"], headers=headers)
    q = report.query
    name = f"evaluation-{q.by}-{q.first_day}-{q.last_day}.{wanted}"
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    write, media = FILE_FORMATS[wanted]
    return Response(write(report), media_type=media, headers=headers)
