"""The landing page and the browser's sign-in: paste a key once, the browser keeps it.

``POST /session`` checks the key and answers with an HttpOnly, SameSite=Strict
cookie holding it (scripts cannot read it, other sites cannot make the
browser send it); the page routes take that cookie for GET only (see
``api/auth.py``), so it opens pages and changes nothing. The landing page
then lists what the key's role may open. Nothing is stored on the server:
revoking the key ends every session made with it (within the key cache's
TTL). Chinese by default, English with ``?lang=en``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from gridsvc.api.auth import SESSION_COOKIE, PageRefused
from gridsvc.core.errors import Forbidden, RateLimited, Unauthenticated
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.services.reading import Principal

router = APIRouter(tags=["session"])
_TEMPLATES = Environment(
    loader=PackageLoader("gridsvc.api", "templates"), autoescape=select_autoescape(["html"])
)
SESSION_DAYS = 7
Lang = Annotated[str | None, Query(pattern="^(zh|en)$")]

_VIEWERS = {Role.LEADER, Role.DISPATCHER, Role.PLANNER, Role.HANDLER, Role.ADMIN}
#: the pages of each role: (path, label key); what the page routes admit (api/routes/*.py)
PAGES: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/patrol", "patrol", frozenset({Role.PATROL})),
    ("/dispatch", "dispatch", frozenset({Role.DISPATCHER, Role.ADMIN})),
    ("/handle", "handle", frozenset({Role.HANDLER})),
    ("/plan", "plan", frozenset({Role.PLANNER, Role.ADMIN})),
    ("/dashboard", "dashboard", frozenset({Role.LEADER, Role.DISPATCHER, Role.ADMIN})),
    ("/maps/coverage", "coverage", frozenset(_VIEWERS)),
    ("/maps/hotspots", "hotspots", frozenset(_VIEWERS)),
)
_PAGE_PATHS = ("/", "/dashboard", "/maps/")

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "网格化管理服务",
        "intro": "粘贴您的 API 密钥登录一次，浏览器会保存它（仅本站可用，脚本无法读取）。",
        "key": "API 密钥",
        "sign_in": "登录",
        "sign_out": "退出登录",
        "signed_in": "已登录",
        "role": "角色",
        "pages": "您可以打开",
        "no_pages": "此角色没有可打开的页面；请通过 API 使用（见 API 文档）。",
        "public": "公开",
        "docs": "API 文档 (OpenAPI)",
        "redoc": "API 文档 (ReDoc)",
        "ogc": "OGC API – Features（网格图层）",
        "open311": "Open311 服务目录",
        "match": "点位匹配示例",
        "dashboard": "领导驾驶舱",
        "patrol": "网格员上报（手机）",
        "dispatch": "指挥中心调度台",
        "handle": "部门处置",
        "plan": "网格规划",
        "coverage": "网格覆盖图",
        "hotspots": "案件热点图",
        "bad_key": "密钥无效或已吊销，请检查后重新粘贴。",
        "no_key": "请粘贴 API 密钥。",
        "expired": "保存的密钥已失效，请重新登录。",
        "refused": "此页面需要登录",
        "forbidden": "您的角色不能打开此页面",
        "too_many": "尝试过于频繁，请稍后再试。",
        "other": "English",
        "roles": {
            "patrol": "网格员",
            "dispatcher": "调度员",
            "handler": "处置部门",
            "planner": "规划员",
            "leader": "领导",
            "admin": "管理员",
        },
    },
    "en": {
        "title": "Grid-management service",
        "intro": "Paste your API key once to sign in; the browser keeps it (for this site "
        "only, out of reach of scripts).",
        "key": "API key",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "signed_in": "Signed in as",
        "role": "role",
        "pages": "You may open",
        "no_pages": "This role has no pages; use the API (see the API documentation).",
        "public": "Public",
        "docs": "API documentation (OpenAPI)",
        "redoc": "API documentation (ReDoc)",
        "ogc": "OGC API – Features (grid layers)",
        "open311": "Open311 service list",
        "match": "Point matching example",
        "dashboard": "Leader's dashboard",
        "patrol": "Patrol reports (phone)",
        "dispatch": "Dispatch workbench",
        "handle": "Department handling",
        "plan": "Grid planning",
        "coverage": "Grid coverage map",
        "hotspots": "Case hotspot map",
        "bad_key": "This key is unknown or revoked; check it and paste it again.",
        "no_key": "Paste an API key.",
        "expired": "The saved key is no longer valid; sign in again.",
        "refused": "This page needs a sign-in",
        "forbidden": "Your role may not open this page",
        "too_many": "Too many attempts; try again shortly.",
        "other": "中文",
        "roles": {
            "patrol": "patrol",
            "dispatcher": "dispatcher",
            "handler": "handler",
            "planner": "planner",
            "leader": "leader",
            "admin": "admin",
        },
    },
}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing(request: Request, lang: Lang = None, next: str | None = None) -> Response:
    """The landing page: the sign-in form, or the pages the signed-in key may open."""
    lang = lang or request.app.state.settings.lang
    who, error = None, None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            who = request.app.state.keyring.authenticate(cookie)
        except Unauthenticated:
            error = _TEXT[lang]["expired"]
    page = _page(request, lang, who, error, next, 200)
    if cookie and who is None:
        page.delete_cookie(SESSION_COOKIE, path="/")
    return page


@router.post("/session", include_in_schema=False)
def sign_in(
    request: Request,
    key: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form(pattern="^(zh|en)$")] = "zh",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the pasted key and keep it in the browser; a bad key answers the page again."""
    _same_origin(request)
    try:
        request.app.state.anonymous.check(_address(request))
    except RateLimited:
        return _page(request, lang, None, _TEXT[lang]["too_many"], next, 429)
    key = key.strip()
    try:
        request.app.state.keyring.authenticate(key)
    except Unauthenticated:
        error = _TEXT[lang]["bad_key" if key else "no_key"]
        return _page(request, lang, None, error, next, 401)
    answer = RedirectResponse(_target(next, lang), status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=SESSION_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/session/sign-out", include_in_schema=False)
def sign_out(request: Request, lang: Annotated[str, Form(pattern="^(zh|en)$")] = "zh") -> Response:
    """Forget the key in this browser."""
    _same_origin(request)
    answer = RedirectResponse(_target("", lang), status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return answer


async def refused_page(request: Request, exc: Exception) -> Response:
    """A page refused to a browser: the sign-in form (401) or the pages it may open (403)."""
    assert isinstance(exc, PageRefused)
    lang = request.query_params.get("lang")
    lang = lang if lang in _TEXT else request.app.state.settings.lang
    text = _TEXT[lang]
    forbidden = isinstance(exc.error, Forbidden)
    who = getattr(request.state, "principal", None) if forbidden else None
    error = f"{text['forbidden' if forbidden else 'refused']}: {request.url.path}"
    return _page(request, lang, who, error, request.url.path, 403 if forbidden else 401)


def _page(
    request: Request,
    lang: str,
    who: Principal | None,
    error: str | None,
    next: str | None,
    status: int,
) -> HTMLResponse:
    text = _TEXT[lang]
    other = "en" if lang == "zh" else "zh"
    pages = [(p, text[label]) for p, label, roles in PAGES if who and who.role in roles]
    body = _TEMPLATES.get_template("landing.html").render(
        lang=lang,
        t=text,
        who=who,
        role=text["roles"][who.role.value] if who else "",
        pages=[(p + ("?lang=en" if lang == "en" else ""), label) for p, label in pages],
        error=error,
        next=next if next and _is_page(next) else "",
        other_url="/?" + urlencode({"lang": other}),
    )
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="gridsvc"'
    return HTMLResponse(body, status_code=status, headers=headers)


def _is_page(path: str) -> bool:
    """Only this site's page paths are followed after a sign-in (no open redirect)."""
    parts = urlsplit(path)
    return (
        not parts.scheme
        and not parts.netloc
        and path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
        and (parts.path == "/" or parts.path.startswith(_PAGE_PATHS[1:]))
    )


def _target(next: str, lang: str) -> str:
    if next and _is_page(next):
        return next
    return "/?lang=en" if lang == "en" else "/"


def _same_origin(request: Request) -> None:
    """A form posted from another site is refused (login CSRF): its Origin names that site."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise Forbidden(Msg("session.origin", origin=origin))


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
