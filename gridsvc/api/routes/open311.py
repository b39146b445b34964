"""Open311 GeoReport v2 under /open311/v2: the same cases as the native API, in the spec's shape.

Services come from the responsibility list; a service request is a case,
its ``service_request_id`` the case number. Reading is public, as the spec
expects, and private by default: without a dispatcher's or admin's key
(``Authorization: Bearer``) a request shows where it is only to its grid
(the grid's point on surface, see ``_public_point``), and its description,
address and notes only when its matter is marked ``public`` in the
responsibility list; no request ever shows the reporter. Callers without a
key are rate-limited by address, each id of a lookup counting, and a lookup
takes at most ``IDS_CAP`` ids (case numbers are sequential). Posting needs
an ``api_key`` form field of a patrol or dispatcher (the spec's way). Every
endpoint answers JSON or XML by its extension; errors are the spec's
``[{"code", "description"}]`` (mapped in ``api/problems.py``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from xml.sax.saxutils import escape

import shapely
from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from gridsvc.api.auth import bearer, caller
from gridsvc.api.params import IsoDatetime
from gridsvc.core.errors import Forbidden, InvalidInput
from gridsvc.core.matching import Matcher
from gridsvc.core.messages import Msg
from gridsvc.core.routing import Matter
from gridsvc.core.workflow import TERMINAL, Role, Status
from gridsvc.services.case_reads import CaseFilter
from gridsvc.services.cases import CaseService, Report
from gridsvc.services.reading import Principal, pinned

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

WINDOW = timedelta(days=90)  # default and longest search window, as the spec says
CAP = 1000  # most requests answered by one search
IDS_CAP = 50  # most ids one lookup takes
FULL_READERS = (Role.DISPATCHER, Role.ADMIN)  # see every field of a request
CLOSED = tuple(s.value for s in TERMINAL)
OPEN = tuple(s.value for s in Status if s not in TERMINAL)


def cases(request: Request) -> CaseService:
    return request.app.state.cases


Cases = Annotated[CaseService, Depends(cases)]
Fmt = Annotated[str, Path(pattern="^(json|xml)$")]


PATHS = (
    "/services.{fmt}",
    "/services/{code}.{fmt}",
    "/requests.{fmt}",
    "/requests/{number}.{fmt}",
    "/tokens/{token}.{fmt}",
)


def allowed_methods(path: str) -> str:
    """The methods this router serves at ``path`` (a route template), as ``Allow`` names them."""
    methods = {"OPTIONS"}
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == router.prefix + path:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _options(path: str) -> Callable[[], Response]:
    def options() -> Response:
        """The methods this path has, in ``Allow`` (what a client's preflight asks)."""
        return Response(status_code=204, headers={"Allow": allowed_methods(path)})

    return options


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
    who = caller(request, api_key)
    if who.role not in (Role.PATROL, Role.DISPATCHER, Role.ADMIN):
        raise Forbidden(Msg("open311.role", role=who.role.value))
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


@dataclass(frozen=True)
class Reader:
    """Who reads: ``full`` for dispatchers and admins, else the public view."""

    who: Principal | None

    @property
    def full(self) -> bool:
        return self.who is not None and self.who.role in FULL_READERS


def reader(
    request: Request,
    authorization: Annotated[
        str | None, Header(description="Bearer <API key>: a dispatcher's shows every field")
    ] = None,
) -> Reader:
    """The key sent, if any (a bad one is refused); without one, the address's budget is charged."""
    key = bearer(request, authorization)
    if key is not None:
        return Reader(caller(request, key))
    ids = request.query_params.get("service_request_id") or ""
    cost = min(max(1, len(_numbers(ids))), IDS_CAP)  # more is refused as a 422 after
    address = request.client.host if request.client else "unknown"
    request.app.state.anonymous.check(address, cost)
    return Reader(None)


Readers = Annotated[Reader, Depends(reader)]


@router.get("/requests.{fmt}")
def get_requests(
    fmt: Fmt,
    service: Cases,
    who: Readers,
    service_request_id: Annotated[
        str | None, Query(description=f"comma-separated ids, at most {IDS_CAP}")
    ] = None,
    service_code: str | None = None,
    start_date: IsoDatetime | None = None,
    end_date: IsoDatetime | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))*$")] = None,
) -> Response:
    """Search requests: by ids (at most 50), or by service codes, date range (at most 90 days,
    the last 90 by default) and status; at most 1,000 answers."""
    if service_request_id:
        numbers = _numbers(service_request_id)
        if len(numbers) > IDS_CAP:
            raise InvalidInput(Msg("open311.too_many_ids", count=len(numbers), most=IDS_CAP))
        found = [_public(service.get_by_number(n, who.who), service, who) for n in numbers]
        return render(found, fmt, "service_requests", "request")
    start, end = _window(start_date, end_date)
    statuses = _statuses(status)
    items: list[dict[str, Any]] = []
    for code in service_code.split(",") if service_code else [None]:
        wanted = CaseFilter(status=statuses, category=code, created_from=start, created_to=end)
        wanted = pinned(wanted, who.who) if who.who is not None else wanted
        page, _ = service.search(wanted, None, CAP - len(items))
        items.extend(page)
        if len(items) >= CAP:
            break
    return render([_public(i, service, who) for i in items], fmt, "service_requests", "request")


def _numbers(ids: str) -> list[str]:
    return [n.strip() for n in ids.split(",") if n.strip()]


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    for value, name in ((start, "start_date"), (end, "end_date")):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(Msg("open311.needs_zone", name=name))
    end = end or (start + WINDOW if start else datetime.now(UTC))
    start = start or end - WINDOW
    if end < start:
        raise InvalidInput(Msg("open311.order"))
    if end - start > WINDOW:
        raise InvalidInput(Msg("open311.span"))
    return start, end


def _statuses(status: str | None) -> tuple[str, ...]:
    if not status:
        return ()
    wanted = set(status.split(","))
    return (OPEN if "open" in wanted else ()) + (CLOSED if "closed" in wanted else ())


@router.get("/requests/{number}.{fmt}")
def get_request(number: str, fmt: Fmt, service: Cases, who: Readers) -> Response:
    """One request, as a list of one (the spec's shape)."""
    found = [_public(service.get_by_number(number, who.who), service, who)]
    return render(found, fmt, "service_requests", "request")


@router.get("/tokens/{token}.{fmt}")
def get_token(token: str, fmt: Fmt, service: Cases, who: Readers) -> Response:
    """Requests are created at once, so a token is the request id itself."""
    case = service.get_by_number(token, who.who)
    return render(
        [{"service_request_id": case["number"], "token": token}], fmt, "service_requests", "request"
    )


def _public(case: dict[str, Any], service: CaseService, reader: Reader) -> dict[str, Any]:
    """A case as a GeoReport service request: never the reporter; for a caller other than a
    dispatcher or admin, the grid's point and, unless the matter is public, no text."""
    shown = reader.full or _is_public(service, case["category"])
    history = case.get("history") or []
    notes = next(
        (h["note"] for h in reversed(history) if h.get("note") and h["action"] != "report"), ""
    )
    lon, lat = (
        (case["lon"], case["lat"])
        if reader.full
        else _public_point(service.matcher, case.get("grid_code"), case["lon"], case["lat"])
    )
    return {
        "service_request_id": case["number"],
        "status": "open" if case["status"] not in CLOSED else "closed",
        "status_notes": notes if shown else "",
        "service_name": case.get("category_name") or case["category"],
        "service_code": case["category"],
        "description": case.get("description", "") if shown else "",
        "agency_responsible": case.get("assignee") or case.get("department"),
        "service_notice": "",
        "requested_datetime": case["created_at"],
        "updated_datetime": case["updated_at"],
        "expected_datetime": (case.get("supervision") or {}).get("deadline"),
        "address": case.get("address", "") if shown else "",
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": "",
    }


def _is_public(service: CaseService, category: str) -> bool:
    return category in service.matters and service.matters.get(category).public


#: each matcher's grids, by code, as one point on their surface (lon, lat)
_GRID_POINTS: weakref.WeakKeyDictionary[Matcher, dict[str, tuple[float, float]]] = (
    weakref.WeakKeyDictionary()
)
COARSE_DECIMALS = 2  # about 1 km: where a case's grid is unknown to the active grids


def _public_point(
    matcher: Matcher, grid_code: str | None, lon: float, lat: float
) -> tuple[float, float]:
    """Where a stranger is told a case is: its grid's point on surface (inside the grid, the
    same for every case of it), or the point rounded to about 1 km when the grid is not one
    of the active version's (a case of a retired grid)."""
    points = _GRID_POINTS.get(matcher)
    if points is None:
        frame = matcher.grids.layer.frame
        surface = shapely.point_on_surface(frame.geometry.array)
        xy = zip(shapely.get_x(surface), shapely.get_y(surface), strict=True)
        points = {
            str(code): (round(float(x), 6), round(float(y), 6))
            for code, (x, y) in zip(frame["code"], xy, strict=True)
        }
        _GRID_POINTS[matcher] = points
    if grid_code in points:
        return points[grid_code]
    return round(lon, COARSE_DECIMALS), round(lat, COARSE_DECIMALS)


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


for _path in PATHS:
    router.add_api_route(_path, _options(_path), methods=["OPTIONS"], include_in_schema=False)


def open311_errors(status: int, description: str, path: str) -> Response:
    """The spec's error form, used by api/problems.py for every /open311 path."""
    body = [{"code": status, "description": description}]
    if path.endswith(".xml"):
        return render(body, "xml", "errors", "error", status=status)
    return render(body, "json", "errors", "error", status=status)
