"""Request limits: body size and media type at the door, request rate per API key.

The size check reads Content-Length when sent and counts the bytes when it
is not, so a client cannot stream past the limit; a refused body is never
handed to the routes, so nothing is written.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridsvc.api.problems import problem
from gridsvc.core.errors import PayloadTooLarge, RateLimited, UnsupportedMediaType

JSON_POSTS = re.compile(r"^/api/v1/(reports|cases/\d+/[a-z_]+)$")
UPLOADS = re.compile(r"^/api/v1/(cases/\d+/attachments|layers/[a-z]+/drafts)$")
_MULTIPART_OVERHEAD = 64 * 1024


class BodyLimits:
    """ASGI middleware: 413 for bodies over the limit, 415 for JSON endpoints sent something else."""

    def __init__(self, app: ASGIApp, json_bytes: int, upload_bytes: int) -> None:
        """``upload_bytes``: the largest multipart upload (photos, layer files)."""
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = upload_bytes + _MULTIPART_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = self.upload_bytes if UPLOADS.match(path) else self.json_bytes
        refusal = self._refusal(path, headers, limit)
        if refusal is not None:
            await problem_response(scope, refusal)(scope, receive, send)
            return
        body = await _read_limited(receive, limit)
        if body is None:
            await problem_response(scope, _too_large(limit))(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)

    def _refusal(self, path: str, headers: dict[str, str], limit: int) -> Exception | None:
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            return _too_large(limit)
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = length not in (None, "0") or "transfer-encoding" in headers
        is_json_post = JSON_POSTS.match(path) and not UPLOADS.match(path)
        if is_json_post and has_body and media != "application/json":
            return UnsupportedMediaType(
                f"send the body as application/json, not {media or 'no content type'}"
            )
        return None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit:,} bytes", limit=limit)


async def _read_limited(receive: Receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def problem_response(scope: Scope, exc: Any) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    request = Request(scope)
    return problem(
        413 if isinstance(exc, PayloadTooLarge) else 415, exc.code, exc.title, exc.message, request
    )


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
                    f"this API key is limited to {self.rate * 60:.0f} requests a minute; retry in {wait} s",
                    retry_after=wait,
                )
            self._buckets[key_id] = (tokens - 1.0, now)
