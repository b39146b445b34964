"""Keys never reach a log line: ``api_key=…``, ``Authorization`` values and bare keys redacted.

uvicorn's access log writes the request line with its query string, so a
map page opened with the deprecated ``?api_key=`` would put the key in the
log in clear. ``install()`` puts a filter on every logger this service and
uvicorn log on; ``create_app`` calls it, so it holds whatever starts the
app (``gridsvc serve``, uvicorn by hand, the tests). A filter on a logger
survives uvicorn's ``dictConfig`` (which replaces handlers, not filters).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
#: the loggers that may carry a URL or a header: uvicorn's and this service's own
LOGGERS = (
    "uvicorn",
    "uvicorn.access",
    "uvicorn.error",
    "uvicorn.asgi",
    "gridsvc",
    "gridsvc.api",
    "gridsvc.intake",
    "gridsvc.store",
)
_PATTERNS = (
    # api_key=KEY in a query string or form body (also percent-encoded: api%5Fkey)
    (re.compile(r"(api(?:_|%5f)key=)[^&\s\"'#]*", re.IGNORECASE), r"\1" + REDACTED),
    # Authorization: Bearer KEY, authorization=..., 'authorization': '...'
    (
        re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+)?[^\s'\",;]+", re.I),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + REDACTED),
    # a key of this service anywhere (services/keys.py: gs_ and 43 URL-safe characters)
    (re.compile(r"\bgs_[A-Za-z0-9_-]{16,}"), REDACTED),
)


def redact(text: str) -> str:
    """``text`` with every key-like value replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactKeys(logging.Filter):
    """Rewrites a record's message and arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install() -> None:
    """Put the filter on every logger in ``LOGGERS`` (once each, however often it is called)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactKeys) for f in logger.filters):
            logger.addFilter(RedactKeys())
