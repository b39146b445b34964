"""Reports in, cases out: intake, reading a case, and the closed loop's actions."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridsvc.api.auth import admit, bearer, caller, principal, require
from gridsvc.api.exports import ExportGate
from gridsvc.api.params import MAX_ID, AttachmentId, CaseId, Cursor, IsoDatetime, parse_bbox
from gridsvc.api.problems import json_bytes
from gridsvc.core.errors import InvalidInput, PayloadTooLarge, PreconditionRequired
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role, Status, actions_for
from gridsvc.services.attachments import (
    PhotoPolicy,
    add_photo,
    content_disposition,
    get_photo,
)
from gridsvc.services.case_reads import CaseFilter
from gridsvc.services.cases import CaseService, Report
from gridsvc.services.reading import Principal, for_reader, pinned

router = APIRouter(prefix="/api/v1", tags=["cases"])

Patrol = Annotated[Principal, Depends(require(Role.PATROL, Role.DISPATCHER))]
Reader = Annotated[Principal, Depends(principal)]


CLIENT_TIME_AHEAD = timedelta(days=1)  # a phone clock set a little wrong, or another zone
CLIENT_TIME_BEHIND = timedelta(days=30)  # a report kept in the outbox through a long outage


class ReportIn(BaseModel):
    """A geotagged report from the field."""

    model_config = ConfigDict(extra="forbid")

    # strict: JSON true and "121.4" were taken as numbers (1.0, 121.4); a phone sends numbers
    lon: float = Field(strict=True, description="longitude (x) in `crs`")
    lat: float = Field(strict=True, description="latitude (y) in `crs`")
    crs: str = Field(
        "wgs84",
        description="wgs84, cgcs2000, gcj02 or bd09",
        pattern="^(wgs84|cgcs2000|gcj02|bd09)$",
    )
    category: str = Field(
        min_length=1, max_length=40, description="matter code from the responsibility list"
    )
    description: str = Field("", max_length=2000)
    severity: int | None = Field(
        None, strict=True, ge=1, le=3, description="1 general, 2 serious, 3 urgent"
    )
    reporter: str = Field("", max_length=100)
    client_time: AwareDatetime | None = Field(
        None, description="when the patrol saw it (ISO 8601 with offset)"
    )
    address: str = Field("", max_length=500)

    @field_validator("client_time")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        """A phone's clock may be off, and its outbox may hold a report for days in a
        basement; a time past tomorrow or before that window is a wrong clock, not a report
        time (a year-9999 time was accepted)."""
        if value is None:
            return value
        now = datetime.now(UTC)
        if value > now + CLIENT_TIME_AHEAD:
            raise ValueError(f"client_time {value.isoformat()} is in the future")
        if value < now - CLIENT_TIME_BEHIND:
            days = CLIENT_TIME_BEHIND.days
            raise ValueError(f"client_time {value.isoformat()} is more than {days} days ago")
        return value

    def to_domain(self) -> Report:
        return Report(**self.model_dump())


class ActionIn(BaseModel):
    """Fields an action may need: reason (return, reopen, cancel, defer), result (handle), department (escalate)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    result: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)
    department: str | None = Field(None, max_length=40)
    assignee: str | None = Field(None, max_length=40)
    duplicate_of: int | None = Field(None, ge=1, le=MAX_ID)


async def cases(request: Request) -> CaseService:
    return request.app.state.cases


Cases = Annotated[CaseService, Depends(cases)]


def _with_etag(response: Response, view: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = f'"{view["etag"]}"'
    return view


def _with_actions(view: dict[str, Any], who: Principal, service: CaseService) -> dict[str, Any]:
    """The view plus the actions ``who`` may take now, so a page shows only those buttons."""
    tier = service.tier(who)
    return {**view, "actions": actions_for(Status(view["status"]), who.role, view["level"], tier)}


MAX_KEY_LENGTH = 200  # the idempotency_keys.key column

_REPORT_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ReportIn.model_json_schema()}},
    },
    "parameters": [
        {
            "name": "authorization",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "Bearer <API key> (a patrol's or a dispatcher's)",
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
            "description": "the same key and body on a retry answer the original case",
        },
    ],
}


@router.post("/reports", status_code=201, openapi_extra=_REPORT_OPENAPI)
async def submit_report(request: Request) -> Response:
    """Submit a geotagged report; it is matched, routed and opened as a case.

    Send an `Idempotency-Key` header: a retry with the same key and body
    answers the original case again and creates nothing; the same key with
    another body is 422; a retry while the first is still processed is 409.
    \f
    The busiest route reads its request itself (key, body, headers) instead of
    through FastAPI's dependency and body machinery, which cost more CPU per
    report than matching and writing it; the checks and errors are the same.
    The app answers it ahead of FastAPI's middleware and routing
    (``api/direct.py``); this declaration is what OpenAPI documents.
    """
    headers = request.headers
    who = admit(
        caller(request, bearer(request, headers.get("authorization"))),
        Role.PATROL,
        Role.DISPATCHER,
    )
    key = headers.get("idempotency-key")
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(Msg("cases.key_length", most=MAX_KEY_LENGTH))
    report = _parse_report(await request.body())
    answer = await request.app.state.cases.submit(report, who, key)
    return Response(
        json_bytes(_with_actions(for_reader(answer.body, who), who, request.app.state.cases)),
        status_code=answer.status_code,
        headers={"ETag": f'"{answer.body["etag"]}"'},
        media_type="application/json",
    )


def _parse_report(body: bytes) -> Report:
    """The report in a JSON body, or the 422 FastAPI's own validation would give."""
    try:
        return ReportIn.model_validate_json(body).to_domain()
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors, body=body) from None


@router.get("/cases/{case_id}")
def get_case(case_id: CaseId, response: Response, service: Cases, who: Reader) -> dict[str, Any]:
    """A case with its matching, routing, supervision (computed now) and full history.

    A patrol reads only the cases it reported (any other is a 404); the reporter's
    contact (`reporter`, the report's actor) is shown to dispatchers and admins only."""
    return _with_etag(response, _with_actions(service.get(case_id, who), who, service))


def _parse_if_match(value: str | None) -> int:
    if not value:
        raise PreconditionRequired(Msg("cases.if_match_needed"))
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise InvalidInput(Msg("cases.if_match_form", value=value)) from exc


class Page(BaseModel):
    """One page of cases; pass `next_cursor` as `cursor` for the next page."""

    items: list[dict[str, Any]]
    next_cursor: int | None


Dispatcher = Annotated[Principal, Depends(require(Role.DISPATCHER, Role.LEADER, Role.HANDLER))]


def case_filter(
    who: Annotated[Principal, Depends(principal)],
    status: Annotated[list[str] | None, Query(description="one or more statuses")] = None,
    town: Annotated[
        str | None, Query(description="a town's code (district keys; a town key sees its own)")
    ] = None,
    grid: str | None = None,
    unit: str | None = None,
    team: str | None = None,
    department: str | None = None,
    category: str | None = None,
    colour: Annotated[str | None, Query(pattern="^(yellow|orange|red)$")] = None,
    overdue: bool | None = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (CGCS2000)")] = None,
    created_from: Annotated[IsoDatetime | None, Query(alias="from")] = None,
    created_to: Annotated[IsoDatetime | None, Query(alias="to")] = None,
) -> CaseFilter:
    """The queue's filters, checked once for every list endpoint, and held to the caller's
    town when its key is scoped to one (``reading.pinned``)."""
    wanted = CaseFilter(
        status=tuple(status or ()),
        town_code=town,
        grid_code=grid,
        unit_code=unit,
        team=team,
        department=department,
        category=category,
        colour=colour,
        overdue=overdue,
        bbox=parse_bbox(bbox),
        created_from=_aware(created_from, "from"),
        created_to=_aware(created_to, "to"),
    )
    return pinned(wanted, who)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(Msg("cases.needs_zone", name=name))
    return value


Filter = Annotated[CaseFilter, Depends(case_filter)]


@router.get("/cases", response_model=Page)
def list_cases(
    service: Cases,
    who: Dispatcher,
    wanted: Filter,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page:
    """The case queue: filter by status, town, grid, unit, team, department, category, colour,
    overdue, bbox and time range; newest first, cursor-paginated."""
    items, next_cursor = service.search(wanted, cursor, limit)
    return Page(items=items, next_cursor=next_cursor)


CSV_COLUMNS = (
    "id",
    "number",
    "status",
    "category",
    "category_name",
    "town_code",
    "grid_code",
    "unit_code",
    "team",
    "department",
    "assignee",
    "level",
    "severity",
    "colour",
    "overdue",
    "deadline",
    "created_at",
    "updated_at",
    "lon",
    "lat",
    "reopen_count",
)


@router.get("/cases.csv", response_class=StreamingResponse)
def export_cases(
    request: Request, service: Cases, who: Dispatcher, wanted: Filter
) -> StreamingResponse:
    """The same queue as CSV (UTF-8 with BOM, so Excel shows the Chinese names).

    At most `GRIDSVC_EXPORT_MAX_ROWS` cases (a 422 asks to narrow the filter,
    e.g. by `from`/`to`) and `GRIDSVC_EXPORT_TURNS` exports at once per server
    process (a 429 with `Retry-After` beyond).
    """
    gate: ExportGate = request.app.state.exports
    gate.check_size(service.count(wanted))

    def rows() -> Iterator[str]:
        yield "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n"
        cursor: int | None = None
        while True:
            items, cursor = service.search(wanted, cursor, 500)
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for item in items:
                flat = {
                    **item,
                    **{k: item["supervision"][k] for k in ("colour", "overdue", "deadline")},
                }
                writer.writerow([flat.get(c, "") for c in CSV_COLUMNS])
            yield buffer.getvalue()
            if cursor is None:
                return

    headers = {"Content-Disposition": 'attachment; filename="cases.csv"'}
    return StreamingResponse(
        gate.streamed(rows()), media_type="text/csv; charset=utf-8", headers=headers
    )


@router.get("/supervision")
def supervision(service: Cases, who: Dispatcher, wanted: Filter) -> list[dict[str, Any]]:
    """The supervision queue (督办): open cases that are overdue or whose colour climbed,
    red first, then by the working hours left."""
    return service.supervision_queue(wanted)


Uploader = Annotated[Principal, Depends(require(Role.PATROL, Role.HANDLER, Role.DISPATCHER))]


@router.post("/cases/{case_id}/attachments", status_code=201)
async def upload_attachment(
    case_id: CaseId, request: Request, who: Uploader, file: UploadFile
) -> dict[str, Any]:
    """Attach a photo to a case: JPEG, PNG, WebP or HEIC, decoded whole to be accepted (the
    name and the client's content type are not looked at), at most 10 MB by default. A file
    that is not such an image is 415, a damaged one 422. Its EXIF, GPS included, is kept."""
    settings = request.app.state.settings
    await run_in_threadpool(request.app.state.cases.actable, case_id, who)
    policy = PhotoPolicy(settings.attachment_max_pixels, settings.attachment_strip_gps)
    data = await file.read(settings.max_attachment_bytes + 1)
    if len(data) > settings.max_attachment_bytes:
        raise PayloadTooLarge(Msg("cases.photo_too_large", most=settings.max_attachment_bytes))
    return await run_in_threadpool(
        add_photo,
        request.app.state.engine,
        settings.attachments_dir,
        case_id,
        data,
        file.filename or "",
        who,
        policy,
    )


@router.get("/cases/{case_id}/attachments/{attachment_id}", response_class=FileResponse)
def download_attachment(
    case_id: CaseId, attachment_id: AttachmentId, request: Request, who: Reader
) -> FileResponse:
    """The stored photo (a patrol: of its own reports only), as the type checked at upload,
    with `nosniff` and a safe file name."""
    request.app.state.cases.readable(case_id, who)
    photo = get_photo(
        request.app.state.engine, request.app.state.settings.attachments_dir, case_id, attachment_id
    )
    return FileResponse(
        photo.path,
        media_type=photo.content_type,
        headers={
            "Content-Disposition": content_disposition(photo.filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


# Registered last: the catch-all action path must not shadow the attachment routes.
@router.post("/cases/{case_id}/{action}")
def act_on_case(
    case_id: CaseId,
    action: str,
    response: Response,
    service: Cases,
    who: Reader,
    if_match: Annotated[str | None, Header(description='the ETag you read, e.g. "3"')] = None,
    body: Annotated[ActionIn | None, Body()] = None,
) -> dict[str, Any]:
    """One step of the closed loop: dispatch, accept, return, handle, verify, close, reopen,
    escalate, duplicate, cancel, and defer (缓办: the case keeps its status, a `reason` is
    recorded). `If-Match` with the case's ETag is required (428 without, 412 when someone
    changed the case since you read it)."""
    version = _parse_if_match(if_match)
    fields = (body or ActionIn()).model_dump()
    service.actable(case_id, who)
    view = for_reader(service.act(case_id, action, who, version, fields), who)
    return _with_etag(response, _with_actions(view, who, service))
