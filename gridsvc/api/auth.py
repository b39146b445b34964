"""Who is calling: API keys per role, checked on every endpoint that needs one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from gridsvc.core.errors import Forbidden
from gridsvc.core.workflow import Role
from gridsvc.services.cases import Principal


async def principal(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    api_key: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Principal:
    """The caller behind ``Authorization: Bearer KEY`` (or Open311's ``api_key``).

    ``async``: a sync dependency costs a thread-pool hop on every request, and
    this one only reads the key cache (the database once per key and TTL).
    """
    return caller(request, authorization, api_key)


def caller(request: Request, authorization: str | None, api_key: str | None) -> Principal:
    """Authenticate and rate-limit the key of a request (for handlers that read it themselves)."""
    key = api_key
    if authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    who: Principal = request.app.state.keyring.authenticate(key)
    request.app.state.limiter.check(who.key_id)
    request.state.principal = who
    return who


def require(*roles: Role) -> Callable[..., Any]:
    """A dependency admitting only ``roles`` (admin always)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        return admit(who, *roles)

    return check


def admit(who: Principal, *roles: Role) -> Principal:
    """``who`` if their role is one of ``roles`` (admin always), else Forbidden."""
    allowed = {*roles, Role.ADMIN}
    if who.role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        raise Forbidden(f"role {who.role.value} may not do this; allowed: {names}")
    return who
