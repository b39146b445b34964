"""The one place that maps errors to HTTP: RFC 9457 problem details.

Domain exceptions carry a stable ``code``; here the class's MRO is walked to
a status, and the answer is ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` and ``instance``, the title and detail in the
request's language (``Accept-Language``: Chinese unless English is preferred,
the users being Chinese officials; said back as ``Content-Language``). 5xx answers are logged
with their traceback and never tell the client more than that something
failed on our side; a 503 (the database or the intake writer is away, which
comes in bursts of thousands) is one line, and at most one per second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import orjson
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridsvc.api.routes.open311 import open311_errors
from gridsvc.api.validation_words import issue_message
from gridsvc.core import errors
from gridsvc.core.errors import form_field
from gridsvc.core.messages import LANGS, Msg, text, title

log = logging.getLogger("gridsvc.api")

PROBLEM_JSON = "application/problem+json"
_STANDARD = frozenset({"type", "title", "status", "detail", "instance"})
TYPE_BASE = "https://gridsvc.example/problems/"


class Throttled:
    """One log line per ``interval`` seconds for a repeated failure, counting the rest.

    Why: while the database is down every request fails the same way; a
    traceback each (34 lines, 2,000 a second) buries the one line that says so.
    """

    def __init__(self, logger: logging.Logger, interval: float = 1.0) -> None:
        self.logger, self.interval = logger, interval
        self._lock = threading.Lock()
        self._next = 0.0
        self._held = 0

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held += 1
                return
            held, self._held, self._next = self._held, 0, now + self.interval
        suffix = f" (and {held} more like it in the last {self.interval:g} s)" if held else ""
        self.logger.warning(message + suffix, *args)


unavailable_log = Throttled(log)

STATUS: dict[type[errors.GridsvcError], int] = {
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.RateLimited: 429,
    errors.InvalidInput: 422,
    errors.UnreadableFile: 400,
    errors.Unauthenticated: 401,
    errors.NotFound: 404,
    errors.StaleVersion: 412,
    errors.PreconditionRequired: 428,
    errors.Conflict: 409,
    errors.Forbidden: 403,
    errors.StorageUnavailable: 503,
    errors.GridsvcError: 500,
}


def json_bytes(content: Any) -> bytes:
    """JSON for the hot routes, by orjson (numpy scalars included), skipping FastAPI's encoder."""
    return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def request_lang(request: Request) -> str:
    """The language ``Accept-Language`` prefers among ours (``en-US,en;q=0.9`` is English),
    Chinese when it names neither or is absent: every user of the service is Chinese."""
    best, best_q = "zh", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGS:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = lang, q
    return best


def status_for(exc: errors.GridsvcError) -> int:
    """The status of the nearest class in the exception's MRO that has one."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    request: Request,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    lang: str | None = None,
) -> Response:
    """An RFC 9457 body; ``extra`` members never override the standard ones.

    ``lang`` is the language of ``title`` and ``detail``, said as ``Content-Language``.
    Open311 clients expect their spec's ``[{"code", "description"}]`` instead,
    so paths under /open311 get that form with the same status.
    """
    headers = dict(headers or {})
    if lang is not None:
        headers["Content-Language"] = lang
    if request.url.path.startswith("/open311/"):
        answer = open311_errors(status, detail, request.url.path)
        answer.headers.update(headers)
        return answer
    body = {k: v for k, v in (extra or {}).items() if k not in _STANDARD}
    body |= {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.GridsvcError)
    status, lang = status_for(exc), request_lang(request)
    if status == 503:
        cause = exc.__cause__ or exc.__context__
        reason = f"{type(cause).__name__}: {cause}" if cause else exc.message
        reason = (reason.splitlines() or [""])[0]  # a driver's message may run on for lines
        unavailable_log.warning("%s %s: 503, %s", request.method, request.url.path, reason)
    elif status >= 500:
        log.error("%s failed", request.url.path, exc_info=exc)
    if status >= 500:
        # the message may name the database; a 503 says when to try again instead
        retry = {"Retry-After": "1"} if status == 503 else None
        detail = text("server.retry" if status == 503 else "server.failed", lang)
        return problem(
            status, exc.code, exc.title_in(lang), detail, request, headers=retry, lang=lang
        )
    extra: dict[str, Any] = dict(exc.extra)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    if isinstance(exc, errors.Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="gridsvc"'}
    if isinstance(exc, errors.InvalidLayer) and exc.problems:
        # validation Problems and a town upload's strays: each says itself in ``lang``
        extra["problems"] = [p.to_dict(lang) for p in exc.problems]
    detail = exc.render(form_field, lang)
    return problem(status, exc.code, exc.title_in(lang), detail, request, extra, headers, lang)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = request_lang(request)
    issues = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": issue_message(e, lang)}
        for e in exc.errors()
    ]
    detail = ("；" if lang == "zh" else "; ").join(f"{i['field']}: {i['message']}" for i in issues)
    heading = title(["request-validation"], lang)
    return problem(
        422, "request-validation", heading, detail, request, {"errors": issues}, lang=lang
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    heading = detail = str(exc.detail)
    lang = request_lang(request)
    # the router's own 404 and 405 (their bare status phrase) in Chinese; a route's own text stays
    said = {404: "server.no_route", 405: "server.no_method"}.get(exc.status_code)
    if lang == "zh" and said and detail == HTTPStatus(exc.status_code).phrase:
        heading, detail = title([code], lang), text(said, lang, method=request.method)
    # the exception's own headers go along: a 405's Allow (RFC 9110 requires it), say
    return problem(exc.status_code, code, heading, detail, request, headers=exc.headers, lang=lang)


async def _database_away(request: Request, exc: Exception) -> Response:
    """The database could not be reached (PostgreSQL down or restarting, a cut connection,
    SQLite locked past its timeout): a 503 with Retry-After, as any storage outage, not a
    500; the failure discards the pool's older connections, so the next request connects
    afresh once the server is back (store/engine.py)."""
    away = errors.StorageUnavailable(Msg("server.database_away"))
    away.__cause__ = exc
    return await _domain_error(request, away)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("%s failed", request.url.path, exc_info=exc)
    lang = request_lang(request)
    failed = text("server.failed", lang)
    return problem(500, "internal", title(["internal"], lang), failed, request, lang=lang)


_HANDLERS: tuple[
    tuple[type[Exception], Callable[[Request, Exception], Awaitable[Response]]], ...
] = (
    (errors.GridsvcError, _domain_error),
    (RequestValidationError, _validation_error),
    (StarletteHTTPException, _http_error),
    (sqlalchemy.exc.OperationalError, _database_away),
    (sqlalchemy.exc.InterfaceError, _database_away),
)


def install(app: FastAPI) -> None:
    """Register the handlers on an app, and document what they answer in its OpenAPI."""
    for cls, handler in _HANDLERS:
        app.add_exception_handler(cls, handler)
    app.add_exception_handler(Exception, _unexpected)  # Starlette's ServerErrorMiddleware
    generate = app.openapi  # FastAPI's: builds the schema once and keeps it

    def openapi() -> dict[str, Any]:
        return app.openapi_schema or document_errors(generate())

    app.openapi = openapi  # type: ignore[method-assign]


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Members beyond the standard five carry the "
    "specifics: `errors` (each invalid field), `nearest_grid_code`, `allowed`, `roles` …",
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": f"{TYPE_BASE}<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what was wrong and what to do"},
        "instance": {"type": "string", "description": "the request's path"},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}
OPEN311_ERRORS_SCHEMA: dict[str, Any] = {
    "title": "Open311Errors",
    "description": "GeoReport v2 errors (XML under .xml paths)",
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``schema`` (changed in place) saying what errors really look like.

    FastAPI documents a 422 as its own ``HTTPValidationError``; this service
    answers every error, 422 included, as problem details (Open311's error
    list under /open311). Each operation gets its 422 in that form and a
    ``default`` response for the other errors (401, 403, 404, 409, 412, 428, 503 …),
    so a client generated from the document reads them right.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    components["Open311Errors"] = OPEN311_ERRORS_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        open311 = path.startswith("/open311/")
        form, media = (
            ("Open311Errors", "application/json") if open311 else ("Problem", PROBLEM_JSON)
        )
        content = {media: {"schema": {"$ref": f"#/components/schemas/{form}"}}}
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Invalid request", "content": content}
            responses["default"] = {"description": "Any other error", "content": content}
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


async def handled(request: Request, exc: Exception) -> Response:
    """The answer the app's handlers give ``exc``, for routes answered ahead of FastAPI's
    (``api/direct.py``); anything else is raised again, for ``_unexpected``."""
    for cls, handler in _HANDLERS:
        if isinstance(exc, cls):
            return await handler(request, exc)
    raise exc
