"""Parameters several routes share: ids and versions, bounded as the database stores them.

An id is a 64-bit INTEGER in SQLite (BIGINT in PostgreSQL). A larger number
in a path, a query or an If-Match header cannot name any row, and handed to
the driver it is an OverflowError, a 500 (schemathesis found five such
routes). Bounded here, it is a 422 naming the parameter, documented in the
OpenAPI as ``maximum``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator

from gridsvc.core.errors import InvalidInput, PreconditionRequired
from gridsvc.core.messages import Msg

MAX_ID = 2**63 - 1  # the largest INTEGER SQLite stores


def row_id(what: str) -> Any:
    """A path parameter holding the id of ``what``."""
    return Path(ge=1, le=MAX_ID, description=f"the {what}'s id")


CaseId = Annotated[int, row_id("case")]
AttachmentId = Annotated[int, row_id("attachment")]
DraftId = Annotated[int, row_id("draft")]
VersionId = Annotated[int, row_id("version")]
Cursor = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="`next_cursor` of the previous page")
]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


def version_tags(header: str | None) -> dict[str, int]:
    """The versions an If-Match header names: ``"draft-12", "active-3"`` -> {draft: 12, active: 3}.

    Parts of another shape are left out; a number no version can have is a 422.
    """
    if not header:
        return {}
    tags: dict[str, int] = {}
    for part in header.split(","):
        name, _, number = part.strip().removeprefix("W/").strip('"').partition("-")
        if name in ("draft", "active") and number.isdigit():
            tags[name] = int(number)
            if tags[name] > MAX_ID:
                raise InvalidInput(Msg("params.if_match_version", name=name, number=number))
    return tags


def draft_tags(header: str | None) -> dict[str, int]:
    """The draft to publish and the active version it was previewed against, from If-Match."""
    if not header:
        raise PreconditionRequired(Msg("params.if_match_needed"))
    tags = version_tags(header)
    if "draft" not in tags:
        raise PreconditionRequired(Msg("params.if_match_draft"))
    return tags


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """A ``bbox`` parameter as (minx, miny, maxx, maxy): four finite numbers, each minimum
    before its maximum. ``nan`` passes float() and every comparison with it is false, so
    unchecked it matched everything in one route and nothing in another."""
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers):
        raise InvalidInput(Msg("params.bbox_numbers", value=value))
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        raise InvalidInput(Msg("params.bbox_order", value=value))
    return minx, miny, maxx, maxy


_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _iso_only(value: Any) -> Any:
    """pydantic reads a bare number as a Unix time (``to=0.5`` was 1970-01-01T00:00:00.5Z);
    a person writing a time means a date or an ISO 8601 time."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError(
            f"{value!r} is a number, not a time; give an ISO 8601 time such as "
            "2026-11-30T08:00:00+08:00"
        )
    return value


#: a date or time parameter: ISO 8601 only, never a Unix time
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
