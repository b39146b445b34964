"""The domain exception hierarchy.

Every error a user can cause is one of these classes. They carry a stable
``code`` (used as the problem ``type`` in the API and shown by the CLI) and a
message meant for the user, naming the bad value and what is allowed: a
:class:`~gridsvc.core.messages.Msg` (a catalogue key and its values), shown in
the reader's language, Chinese or English; the class's title is in the same
catalogue. No HTTP here: ``api/problems.py`` maps classes to status codes,
``cli/context.py`` to exit codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gridsvc.core.messages import Msg
from gridsvc.core.messages import title as title_of

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
    """Base of every gridsvc error; ``code`` is stable, the message is for users.

    Raised with a :class:`Msg` (``InvalidInput(Msg("bbox.order", value=v))``),
    shown in the reader's language by :meth:`render`; a plain string is still
    taken (shown as it is in every language) while the last raise sites move to
    the catalogue. A message may name the parameter to change as
    ``{param:name}``: the API shows it as ``name=``, the CLI as its flag, so
    neither tells its user the other's syntax. ``str(error)`` is the API's
    English, for logs.
    """

    code = "error"

    def __init__(self, message: Msg | str, **extra: Any) -> None:
        self.msg = message if isinstance(message, Msg) else None
        self.template = message if isinstance(message, str) else None
        self.extra = extra
        super().__init__(self.render(form_field, "en"))

    @property
    def message(self) -> str:
        """The message as the API gives it in English."""
        return self.render(form_field, "en")

    @property
    def title(self) -> str:
        """The class's title in English (the problem ``title`` by default)."""
        return self.title_in("en")

    def title_in(self, lang: str) -> str:
        """The title of the class, or of the nearest base class that has one, in ``lang``."""
        return title_of((getattr(cls, "code", "") for cls in type(self).__mro__), lang)

    def render(self, spell: Callable[[str], str], lang: str) -> str:
        """The message in ``lang`` with each ``{param:name}`` spelled by ``spell(name)``."""
        text = self.msg.text(lang) if self.msg is not None else str(self.template)
        return _PARAM.sub(lambda m: _spelled(m, spell), text)


class InvalidInput(GridsvcError):
    """The caller sent something gridsvc cannot use as it is."""

    code = "invalid-input"


class CoordinatesOutOfRange(InvalidInput):
    code = "coordinates-out-of-range"


class SwappedCoordinates(InvalidInput):
    code = "swapped-coordinates"


class OutsideJurisdiction(InvalidInput):
    code = "outside-jurisdiction"


class UnknownCRS(InvalidInput):
    code = "unknown-crs"


class MissingCRS(InvalidInput):
    code = "missing-crs"


class InvalidLayer(InvalidInput):
    """A layer file that cannot be used; ``problems`` lists every reason."""

    code = "invalid-layer"

    def __init__(self, message: Msg | str, problems: list[Any] | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.problems = list(problems or [])


class UnreadableFile(InvalidInput):
    code = "unreadable-file"


class UnknownCategory(InvalidInput):
    code = "unknown-category"


class TooManyRows(InvalidInput):
    """An export whose filter matches more rows than one download may hold."""

    code = "too-many-rows"


class NotFound(GridsvcError):
    code = "not-found"


class Conflict(GridsvcError):
    code = "conflict"


class IllegalTransition(Conflict):
    """An action not allowed in the case's current state; ``allowed`` names the ones that are."""

    code = "illegal-transition"

    def __init__(self, message: Msg | str, allowed: list[str], **extra: Any) -> None:
        super().__init__(message, allowed=allowed, **extra)
        self.allowed = allowed


class StaleVersion(Conflict):
    code = "stale-version"


class UnknownAction(NotFound):
    code = "unknown-action"


class Forbidden(GridsvcError):
    code = "forbidden"


class StorageUnavailable(GridsvcError):
    code = "storage-unavailable"


class InconsistentStorage(StorageUnavailable):
    """The database holds a state the service cannot serve from; the message says how to mend it."""

    code = "inconsistent-storage"


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came back with a different body."""

    code = "idempotency-key-reused"


class Unauthenticated(GridsvcError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthenticated"


class PreconditionRequired(GridsvcError):
    """A change that needs the version the caller read, sent without it."""

    code = "precondition-required"


class PayloadTooLarge(InvalidInput):
    code = "payload-too-large"


class UnsupportedMediaType(InvalidInput):
    code = "unsupported-media-type"


class RateLimited(GridsvcError):
    """Too many requests from one API key; ``retry_after`` seconds until the next is allowed."""

    code = "rate-limited"
