"""Request limits: body size by route and media type at the door, request rate per API key.

Every request with a body meets :class:`BodyLimits` before anything reads it:

* a route that needs an API key has it resolved first, so a caller without a
  valid key is answered 401 without one byte of the body being read;
* a declared ``Content-Length`` over the route's limit is 413 at once;
* the body is then counted as the server hands it on, chunk by chunk, and the
  request is answered 413 the moment the count passes the limit. Nothing is
  buffered here: a lying ``Content-Length`` or a chunked body without one is
  stopped the same way, and the multipart parser behind keeps its spooling to
  disk. Six 99 MB photo posts without a key used to take the server to 1.6 GB.

A refused body is never handed to a route whole, so nothing is written.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridsvc.api.auth import key_before_body
from gridsvc.api.problems import handled
from gridsvc.core.errors import (
    GridsvcError,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
)
from gridsvc.core.messages import Msg

JSON_POSTS = re.compile(r"^/api/v1/(reports|cases/\d+/[a-z_]+)$")
ATTACHMENTS = re.compile(r"^/api/v1/cases/\d+/attachments$")
LAYER_DRAFTS = re.compile(r"^/api/v1/layers/[a-z]+/drafts$")
LIST_DRAFTS = re.compile(r"^/api/v1/responsibility-list/drafts$")
KEYED = re.compile(r"^/api/v1/")  # every API route takes its key from the header
DRAFT_FEATURES = re.compile(r"^/ogc/collections/[a-z]+-draft-\d+/items(/[^/]+)?$")
FEATURE_BYTES = 10 * 1024 * 1024  # one feature of a draft: a district's 300,000 vertices
ANY_PATH = re.compile(r"")
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small form fields
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger("gridsvc.api")


@dataclass(frozen=True)
class BodyRule:
    """The largest body a group of routes takes; ``json``: only application/json."""

    path: re.Pattern[str]
    limit: int
    what: str
    json: bool = False
    slack: int = 0  # framing allowed on top (multipart); the route checks the file itself

    @property
    def most(self) -> int:
        """The largest body let through."""
        return self.limit + self.slack


def body_rules(
    json_bytes: int, attachment_bytes: int, layer_bytes: int, list_bytes: int
) -> tuple[BodyRule, ...]:
    """The routes' limits, first match wins; uploads get room for their multipart framing."""
    return (
        BodyRule(ATTACHMENTS, attachment_bytes, "limits.photo_upload", slack=MULTIPART_OVERHEAD),
        BodyRule(LAYER_DRAFTS, layer_bytes, "limits.layer_upload", slack=MULTIPART_OVERHEAD),
        BodyRule(LIST_DRAFTS, list_bytes, "limits.list_upload", slack=MULTIPART_OVERHEAD),
        BodyRule(JSON_POSTS, json_bytes, "limits.json_body", json=True),
        BodyRule(DRAFT_FEATURES, FEATURE_BYTES, "limits.feature"),  # geo+json: the route checks
        BodyRule(ANY_PATH, json_bytes, "limits.any_body"),
    )


class BodyLimits:
    """ASGI middleware: 401 before the body for keyed routes, 413 past the route's limit
    (declared or counted while streaming), 415 for JSON routes sent something else."""

    def __init__(self, app: ASGIApp, rules: Sequence[BodyRule]) -> None:
        self.app = app
        self.rules = tuple(rules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        rule = next(r for r in self.rules if r.path.match(scope["path"]))
        try:
            self._check_headers(scope, rule)
        except GridsvcError as exc:
            await _answer(scope, receive, send, exc)
            return
        meter = _Meter(scope, receive, send, rule)
        try:
            await self.app(scope, meter.receive, meter.send)
        except Exception:
            if not meter.refused:
                raise
            # the route saw a disconnect once the limit was passed; its 413 is already sent
            log.debug("after the refused body of %s", scope["path"], exc_info=True)

    def _check_headers(self, scope: Scope, rule: BodyRule) -> None:
        """Everything decided before the body: the key, the declared length, the media type."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] == "POST" and KEYED.match(scope["path"]):
            # POST is the only method an API route takes a body by; any other is a 405
            # from the router, which must not be hidden behind a 401
            key_before_body(scope)
        if scope["method"] != "DELETE" and DRAFT_FEATURES.match(scope["path"]):
            key_before_body(scope)  # a draft's writes: POST on its items, PUT/PATCH on one
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > rule.most:
            raise too_large(rule)
        has_body = length not in ("", "0") or "transfer-encoding" in headers
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if rule.json and has_body and media != "application/json":
            shown = media or Msg("limits.no_media")
            raise UnsupportedMediaType(Msg("limits.json_only", media=shown))


def too_large(rule: BodyRule) -> PayloadTooLarge:
    what = Msg(rule.what)
    return PayloadTooLarge(Msg("limits.too_large", what=what, limit=rule.limit), limit=rule.limit)


class _Meter:
    """``receive`` and ``send`` that count the body and answer 413 once it passes the limit.

    Past the limit the route is told the client went away (``http.disconnect``);
    whatever it answers to that is dropped, since the 413 is already on its way.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send, rule: BodyRule) -> None:
        self.scope, self._receive, self._send, self.rule = scope, receive, send, rule
        self.size = 0
        self.started = False
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        self.size += len(message.get("body", b""))
        if self.size <= self.rule.most:
            return message
        self.refused = True
        if not self.started:
            await _answer(self.scope, self._receive, self._send, too_large(self.rule))
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _answer(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """The app's own problem answer for ``exc`` (the one mapping in ``problems.py``)."""
    response = await handled(Request(scope), exc)
    await response(scope, receive, send)


class RateLimiter:
    """A token bucket per API key (patrols share carrier NAT, so per IP would be wrong)."""

    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst or max(per_minute // 6, 10))
        self._buckets: MutableMapping[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: int) -> None:
        """Take one token for ``key_id`` or raise RateLimited with the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                wait = int((1.0 - tokens) / self.rate) + 1
                raise RateLimited(
                    Msg("limits.key_rate", per_minute=self.rate * 60, wait=wait),
                    retry_after=wait,
                )
            self._buckets[key_id] = (tokens - 1.0, now)
