"""Open311 GeoReport v2 under /open311/v2: the same cases as the native API, in the spec's shape.

Services come from the responsibility list; a service request is a case,
its ``service_request_id`` the case number. Reading is public, as the spec
expects (only public fields are shown: no reporter, no internal routing);
posting needs an ``api_key`` of a patrol or dispatcher. Every endpoint
answers JSON or XML by its extension; errors are the spec's
``[{"code", "description"}]`` (mapped in ``api/problems.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from gridsvc.api.auth import caller
from gridsvc.core.errors import Forbidden, InvalidInput
from gridsvc.core.routing import Matter
from gridsvc.core.workflow import TERMINAL, Role, Status
from gridsvc.services.cases import CaseFilter, CaseService, Report

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

WINDOW = timedelta(days=90)  # default and longest search window, as the spec says
CAP = 1000  # most requests answered by one search
CLOSED = tuple(s.value for s in TERMINAL)
OPEN = tuple(s.value for s in Status if s not in TERMINAL)


def cases(request: Request) -> CaseService:
    return request.app.state.cases


Cases = Annotated[CaseService, Depends(cases)]
Fmt = Annotated[str, Path(pattern="^(json|xml)$")]


def _service(matter: Matter, lang: str) -> dict[str, Any]:
    name = matter.name if lang == "zh" else matter.name_en
    field = matter.field if lang == "zh" else matter.field_en
    return {
        "service_code": matter.code,
        "service_name": name,
        "description": f"{name} ({field})",
        "metadata": True,
        "type": "realtime",
        "keywords": f"{matter.field},{matter.field_en}",
        "group": field,
    }


@router.get("/services.{fmt}")
def services(fmt: Fmt, service: Cases, request: Request, lang: str = "zh") -> Response:
    """The service list: one service per matter of the responsibility list."""
    return render([_service(m, lang) for m in service.matters], fmt, "services", "service")


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: Fmt, service: Cases) -> Response:
    """A service's attributes: the optional severity (1 general, 2 serious, 3 urgent)."""
    matter = service.matters.get(code)
    definition = {
        "service_code": matter.code,
        "attributes": [
            {
                "variable": True,
                "code": "severity",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "1 general, 2 serious, 3 urgent",
                "order": 1,
                "description": "严重程度 severity",
                "values": [
                    {"key": str(k), "name": n} for k, n in ((1, "一般"), (2, "较重"), (3, "紧急"))
                ],
            }
        ],
    }
    return render(definition, fmt, "service_definition", None)


@router.post("/requests.{fmt}", status_code=201)
async def post_request(
    fmt: Fmt,
    request: Request,
    service: Cases,
    service_code: Annotated[str, Form()],
    lat: Annotated[float, Form()],
    long: Annotated[float, Form()],
    description: Annotated[str, Form(max_length=4000)] = "",
    address_string: Annotated[str, Form(max_length=500)] = "",
    media_url: Annotated[str, Form(max_length=2000)] = "",
    device_id: Annotated[str, Form(max_length=100)] = "",
    severity: Annotated[int | None, Form(alias="attribute[severity]", ge=1, le=3)] = None,
    api_key: Annotated[str | None, Form()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Create a service request: the same case the native intake creates (WGS-84 lat/long)."""
    who = caller(request, None, api_key)
    if who.role not in (Role.PATROL, Role.DISPATCHER, Role.ADMIN):
        raise Forbidden(f"role {who.role.value} may not create service requests")
    report = Report(
        lon=long,
        lat=lat,
        crs="wgs84",
        category=service_code,
        description=description,
        severity=severity,
        reporter=device_id or who.name,
        address=address_string,
        source="open311",
        media_url=media_url,
    )
    answer = await service.submit(report, who, idempotency_key)
    body = [
        {
            "service_request_id": answer.body["number"],
            "service_notice": _notice(answer.body),
            "account_id": None,
        }
    ]
    return render(body, fmt, "service_requests", "request", status=answer.status_code)


def _notice(case: dict[str, Any]) -> str:
    return f"已受理，派往 {case['team'] or case['department']}; grid {case['grid_code']}"


@router.get("/requests.{fmt}")
def get_requests(
    fmt: Fmt,
    service: Cases,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))*$")] = None,
) -> Response:
    """Search requests: by ids, or by service codes, date range (at most 90 days, the last 90
    by default) and status; at most 1,000 answers."""
    if service_request_id:
        numbers = [n.strip() for n in service_request_id.split(",") if n.strip()][:CAP]
        found = [_public(service.get_by_number(n)) for n in numbers]
        return render(found, fmt, "service_requests", "request")
    start, end = _window(start_date, end_date)
    statuses = _statuses(status)
    items: list[dict[str, Any]] = []
    for code in service_code.split(",") if service_code else [None]:
        wanted = CaseFilter(status=statuses, category=code, created_from=start, created_to=end)
        page, _ = service.search(wanted, None, CAP - len(items))
        items.extend(page)
        if len(items) >= CAP:
            break
    return render([_public(i) for i in items], fmt, "service_requests", "request")


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    for value, name in ((start, "start_date"), (end, "end_date")):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone, e.g. 2026-05-01T00:00:00+08:00 or …Z")
    end = end or (start + WINDOW if start else datetime.now(UTC))
    start = start or end - WINDOW
    if end < start:
        raise InvalidInput("end_date is before start_date")
    if end - start > WINDOW:
        raise InvalidInput("a search may span at most 90 days")
    return start, end


def _statuses(status: str | None) -> tuple[str, ...]:
    if not status:
        return ()
    wanted = set(status.split(","))
    return (OPEN if "open" in wanted else ()) + (CLOSED if "closed" in wanted else ())


@router.get("/requests/{number}.{fmt}")
def get_request(number: str, fmt: Fmt, service: Cases) -> Response:
    """One request, as a list of one (the spec's shape)."""
    return render([_public(service.get_by_number(number))], fmt, "service_requests", "request")


@router.get("/tokens/{token}.{fmt}")
def get_token(token: str, fmt: Fmt, service: Cases) -> Response:
    """Requests are created at once, so a token is the request id itself."""
    case = service.get_by_number(token)
    return render(
        [{"service_request_id": case["number"], "token": token}], fmt, "service_requests", "request"
    )


def _public(case: dict[str, Any]) -> dict[str, Any]:
    """A case as a GeoReport service request: public fields only."""
    history = case.get("history") or []
    notes = next(
        (h["note"] for h in reversed(history) if h.get("note") and h["action"] != "report"), ""
    )
    return {
        "service_request_id": case["number"],
        "status": "open" if case["status"] not in CLOSED else "closed",
        "status_notes": notes,
        "service_name": case.get("category_name") or case["category"],
        "service_code": case["category"],
        "description": case.get("description", ""),
        "agency_responsible": case.get("assignee") or case.get("department"),
        "service_notice": "",
        "requested_datetime": case["created_at"],
        "updated_datetime": case["updated_at"],
        "expected_datetime": (case.get("supervision") or {}).get("deadline"),
        "address": case.get("address", ""),
        "address_id": None,
        "zipcode": None,
        "lat": case["lat"],
        "long": case["lon"],
        "media_url": "",
    }


def render(data: Any, fmt: str, root: str, item: str | None, status: int = 200) -> Response:
    """JSON as is, or the spec's XML (a root element holding one element per item)."""
    if fmt == "json":
        return JSONResponse(data, status_code=status)
    if item is None:
        body = _xml_element(root, data)
    else:
        body = f"<{root}>" + "".join(_xml_element(item, d) for d in data) + f"</{root}>"
    return Response(
        '<?xml version="1.0" encoding="utf-8"?>' + body,
        status_code=status,
        media_type="application/xml",
    )


def _xml_element(name: str, value: Any) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        singular = name[:-1] if name.endswith("s") else name
        inner = "".join(_xml_element(singular, v) for v in value)
    elif value is None:
        inner = ""
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    else:
        inner = escape(str(value))
    return f"<{name}>{inner}</{name}>"


def open311_errors(status: int, description: str, path: str) -> Response:
    """The spec's error form, used by api/problems.py for every /open311 path."""
    body = [{"code": status, "description": description}]
    if path.endswith(".xml"):
        return render(body, "xml", "errors", "error", status=status)
    return render(body, "json", "errors", "error", status=status)
