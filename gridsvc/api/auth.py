"""Who is calling: API keys per role, checked on every endpoint that needs one.

A key travels in ``Authorization: Bearer KEY``. Two exceptions, both for
browsers, which cannot set that header on a link:

* the page routes (``/``, ``/dashboard``, ``/maps/*``) also take the
  HttpOnly, SameSite=Strict session cookie set by ``POST /session``, and for
  GET only, so a page on another site can neither read the key nor make the
  browser send it;
* the map and dashboard pages still take ``?api_key=`` for this release
  (deprecated: a key in a URL lands in logs and browser history; the access
  log redacts it, see ``api/logredact.py``).

Open311's POST reads its ``api_key`` form field itself, as the GeoReport spec says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from starlette.types import Scope

from gridsvc.core.errors import Forbidden, Unauthenticated
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.services.reading import Principal

SESSION_COOKIE = "gridsvc_key"
log = logging.getLogger("gridsvc.api")


async def principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> Principal:
    """The caller behind ``Authorization: Bearer KEY``.

    ``async``: a sync dependency costs a thread-pool hop on every request, and
    this one only reads the key cache (the database once per key and TTL).
    """
    return caller(request, bearer(request, authorization))


def bearer(request: Request, authorization: str | None) -> str | None:
    """The key in an ``Authorization: Bearer`` header; a key in the URL is refused by name."""
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    if "api_key" in request.query_params:
        raise Unauthenticated(Msg("auth.query_key"))
    return None


def key_before_body(scope: Scope) -> None:
    """Unauthenticated unless the request's Bearer key is a real one, checked from the
    headers alone: FastAPI reads and parses a body before it runs any dependency, so the
    body limits call this first and a caller without a key costs no upload.
    Role and rate are left to the route's own dependency, which runs as before."""
    request = Request(scope)
    request.app.state.keyring.authenticate(bearer(request, request.headers.get("authorization")))


def caller(request: Request, key: str | None) -> Principal:
    """Authenticate and rate-limit a key (for handlers that read it themselves)."""
    who: Principal = request.app.state.keyring.authenticate(key)
    request.app.state.limiter.check(who.key_id)
    request.state.principal = who
    return who


async def page_principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
) -> Principal:
    """The caller of a page: Bearer header, else the session cookie (GET only), else the
    deprecated ``?api_key=``."""
    if authorization and authorization.lower().startswith("bearer "):
        return caller(request, authorization[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE) if request.method == "GET" else None
    if cookie:
        return caller(request, cookie)
    key = request.query_params.get("api_key")
    if key:
        log.info("deprecated ?api_key= on %s; sign in at / instead", request.url.path)
    return caller(request, key)


def require(*roles: Role) -> Callable[..., Any]:
    """A dependency admitting only ``roles`` (admin always)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        return admit(who, *roles)

    return check


class PageRefused(Exception):
    """A page refused to a browser: answered as the sign-in page (``routes/session.py``),
    not as problem JSON a person cannot read. ``error`` is the refusal itself."""

    def __init__(self, error: Unauthenticated | Forbidden) -> None:
        super().__init__(error.message)
        self.error = error


def require_page(*roles: Role) -> Callable[..., Any]:
    """``require`` for page routes: the session cookie and ``?api_key=`` count too, and a
    browser (``Accept: text/html``) refused gets the sign-in page instead of JSON."""

    async def check(
        request: Request,
        authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    ) -> Principal:
        try:
            return admit(await page_principal(request, authorization), *roles)
        except (Unauthenticated, Forbidden) as exc:
            if "text/html" in request.headers.get("accept", ""):
                raise PageRefused(exc) from exc
            raise

    return check


def admit(who: Principal, *roles: Role) -> Principal:
    """``who`` if their role is one of ``roles`` (admin always), else Forbidden."""
    allowed = {*roles, Role.ADMIN}
    if who.role not in allowed:
        names = sorted(r.value for r in allowed)
        raise Forbidden(Msg("auth.role", role=who.role.value, allowed=names))
    return who
