"""Reports in, cases out: intake, reading a case, and the closed loop's actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gridsvc.api.auth import principal, require
from gridsvc.core.errors import InvalidInput, PreconditionRequired
from gridsvc.core.workflow import Role
from gridsvc.services.cases import CaseService, Principal, Report

router = APIRouter(prefix="/api/v1", tags=["cases"])

Patrol = Annotated[Principal, Depends(require(Role.PATROL, Role.DISPATCHER))]
Reader = Annotated[Principal, Depends(principal)]


class ReportIn(BaseModel):
    """A geotagged report from the field."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(description="longitude (x) in `crs`")
    lat: float = Field(description="latitude (y) in `crs`")
    crs: str = Field(
        "wgs84",
        description="wgs84, cgcs2000, gcj02 or bd09",
        pattern="^(wgs84|cgcs2000|gcj02|bd09)$",
    )
    category: str = Field(
        min_length=1, max_length=40, description="matter code from the responsibility list"
    )
    description: str = Field("", max_length=2000)
    severity: int | None = Field(None, ge=1, le=3, description="1 general, 2 serious, 3 urgent")
    reporter: str = Field("", max_length=100)
    client_time: datetime | None = Field(
        None, description="when the patrol saw it (ISO 8601 with offset)"
    )
    address: str = Field("", max_length=500)

    def to_domain(self) -> Report:
        return Report(**self.model_dump())


class ActionIn(BaseModel):
    """Fields an action may need: reason (return, reopen, cancel), result (handle), department (escalate)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    result: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)
    department: str | None = Field(None, max_length=40)
    assignee: str | None = Field(None, max_length=40)
    duplicate_of: int | None = None


def cases(request: Request) -> CaseService:
    return request.app.state.cases


Cases = Annotated[CaseService, Depends(cases)]


def _with_etag(response: Response, view: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = f'"{view["etag"]}"'
    return view


@router.post("/reports", status_code=201)
def submit_report(
    report: ReportIn,
    response: Response,
    service: Cases,
    who: Patrol,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Submit a geotagged report; it is matched, routed and opened as a case.

    Send an `Idempotency-Key` header: a retry with the same key and body
    answers the original case again and creates nothing; the same key with
    another body is 422; a retry while the first is still processed is 409.
    """
    answer = service.submit(report.to_domain(), who, idempotency_key)
    response.status_code = answer.status_code
    return _with_etag(response, answer.body)


@router.get("/cases/{case_id}")
def get_case(case_id: int, response: Response, service: Cases, who: Reader) -> dict[str, Any]:
    """A case with its matching, routing, supervision (computed now) and full history."""
    return _with_etag(response, service.get(case_id))


@router.post("/cases/{case_id}/{action}")
def act_on_case(
    case_id: int,
    action: str,
    response: Response,
    service: Cases,
    who: Reader,
    if_match: Annotated[str | None, Header(description='the ETag you read, e.g. "3"')] = None,
    body: Annotated[ActionIn | None, Body()] = None,
) -> dict[str, Any]:
    """One step of the closed loop: dispatch, accept, return, handle, verify, close, reopen,
    escalate, duplicate, cancel. `If-Match` with the case's ETag is required (428 without,
    412 when someone changed the case since you read it)."""
    version = _parse_if_match(if_match)
    fields = (body or ActionIn()).model_dump()
    return _with_etag(response, service.act(case_id, action, who, version, fields))


def _parse_if_match(value: str | None) -> int:
    if not value:
        raise PreconditionRequired(
            "send If-Match with the case's ETag so two dispatchers cannot overwrite each other"
        )
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise InvalidInput(
            f"If-Match {value!r} is not an ETag of this service, e.g. '\"3\"'"
        ) from exc
