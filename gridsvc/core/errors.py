"""The domain exception hierarchy.

Every error a user can cause is one of these classes. They carry a stable
``code`` (used as the problem ``type`` in the API and shown by the CLI) and a
message meant for the user, naming the bad value and what is allowed. No HTTP
here: ``api/problems.py`` maps classes to status codes, ``cli/context.py`` to exit codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

#: ``{param:code_field}`` in a message: a parameter, named the way the caller's transport
#: spells it (``code_field=`` for the API's form, ``--code-field`` on the command line);
#: ``{param:by=department}`` with a value (``by=department``, ``--by department``)
_PARAM = re.compile(r"\{param:([a-z_]+)(?:=([^}]*))?\}")


def _spelled(match: re.Match[str], spell: Callable[[str], str]) -> str:
    name, value = match.group(1), match.group(2)
    prefix = spell(name)
    if value is None:
        return prefix
    return prefix + value if prefix.endswith("=") else f"{prefix} {value}"


def form_field(name: str) -> str:
    """How the API (query and form fields) spells a parameter in a message."""
    return f"{name}="


class GridsvcError(Exception):
    """Base of every gridsvc error; ``code`` is stable, ``message`` is for users.

    A message may name the parameter to change as ``{param:name}``: the
    API shows it as ``name=``, the CLI as its flag (:meth:`render`), so
    neither tells its user the other's syntax.
    """

    code = "error"
    title = "gridsvc error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(_PARAM.sub(lambda m: _spelled(m, form_field), message))
        self.template = message
        self.extra = extra

    @property
    def message(self) -> str:
        """The message as the API gives it."""
        return self.render(form_field)

    def render(self, spell: Callable[[str], str]) -> str:
        """The message with each ``{param:name}`` spelled by ``spell(name)``."""
        return _PARAM.sub(lambda m: _spelled(m, spell), self.template)


class InvalidInput(GridsvcError):
    """The caller sent something gridsvc cannot use as it is."""

    code = "invalid-input"
    title = "Invalid input"


class CoordinatesOutOfRange(InvalidInput):
    code = "coordinates-out-of-range"
    title = "Coordinates out of range"


class SwappedCoordinates(InvalidInput):
    code = "swapped-coordinates"
    title = "Longitude and latitude look swapped"


class OutsideJurisdiction(InvalidInput):
    code = "outside-jurisdiction"
    title = "Point outside the jurisdiction"


class UnknownCRS(InvalidInput):
    code = "unknown-crs"
    title = "Unknown coordinate reference system"


class MissingCRS(InvalidInput):
    code = "missing-crs"
    title = "The data has no coordinate reference system"


class InvalidLayer(InvalidInput):
    """A layer file that cannot be used; ``problems`` lists every reason."""

    code = "invalid-layer"
    title = "Invalid layer"

    def __init__(self, message: str, problems: list[Any] | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.problems = list(problems or [])


class UnreadableFile(InvalidInput):
    code = "unreadable-file"
    title = "The file cannot be read"


class UnknownCategory(InvalidInput):
    code = "unknown-category"
    title = "Unknown category"


class TooManyRows(InvalidInput):
    """An export whose filter matches more rows than one download may hold."""

    code = "too-many-rows"
    title = "Too many rows for one export"


class NotFound(GridsvcError):
    code = "not-found"
    title = "Not found"


class Conflict(GridsvcError):
    code = "conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    """An action not allowed in the case's current state; ``allowed`` names the ones that are."""

    code = "illegal-transition"
    title = "Action not allowed in this state"

    def __init__(self, message: str, allowed: list[str], **extra: Any) -> None:
        super().__init__(message, allowed=allowed, **extra)
        self.allowed = allowed


class StaleVersion(Conflict):
    code = "stale-version"
    title = "The resource changed since it was read"


class UnknownAction(NotFound):
    code = "unknown-action"
    title = "Unknown action"


class Forbidden(GridsvcError):
    code = "forbidden"
    title = "Forbidden"


class StorageUnavailable(GridsvcError):
    code = "storage-unavailable"
    title = "Storage unavailable"


class InconsistentStorage(StorageUnavailable):
    """The database holds a state the service cannot serve from; the message says how to mend it."""

    code = "inconsistent-storage"
    title = "The database needs mending"


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came back with a different body."""

    code = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different body"


class Unauthenticated(GridsvcError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthenticated"
    title = "Authentication required"


class PreconditionRequired(GridsvcError):
    """A change that needs the version the caller read, sent without it."""

    code = "precondition-required"
    title = "If-Match required"


class PayloadTooLarge(InvalidInput):
    code = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(InvalidInput):
    code = "unsupported-media-type"
    title = "Unsupported media type"


class RateLimited(GridsvcError):
    """Too many requests from one API key; ``retry_after`` seconds until the next is allowed."""

    code = "rate-limited"
    title = "Too many requests"
