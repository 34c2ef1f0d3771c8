"""The one exception hierarchy of glasspane.

Every error a user can cause or see derives from :class:`GlasspaneError` and
carries a message written for the person reading it: what was wrong, and what
to do about it. The web layer maps each class to one HTTP status in one place
(``web.app``); the CLI prints the message on one line.

    GlasspaneError
    ├── ProtocolError            400  the payload does not follow the wire format
    │   ├── EnvelopeError        400  the envelope header or framing is broken
    │   └── QueryError           400  a search query that does not parse, or an unknown key
    ├── ItemError                     one envelope item is invalid (dropped, counted)
    ├── LimitExceeded            413  a size limit was exceeded; names the setting
    ├── AuthError                401  missing or unknown DSN key / admin token
    ├── ForbiddenError           403  a valid key used for another project
    ├── NotFound                 404  unknown trace, project, ...
    ├── Conflict                 409  a name already taken
    ├── RateLimited              429  a DSN key is over its rate; says when to retry
    ├── UnsupportedStore         400  a store URL this build cannot open
    ├── StoreError               503  the database failed; retry later
    │   └── DiskFull             503  the disk refuses writes; names the data directory
    └── ConfigError                   a bad setting or data directory (CLI: exit 1)
"""

from __future__ import annotations


class GlasspaneError(Exception):
    """Base class: ``str(error)`` is the user-facing message."""

    status_code = 500


class ProtocolError(GlasspaneError):
    status_code = 400


class EnvelopeError(ProtocolError):
    pass


class QueryError(ProtocolError):
    """A search query with a mistake; the message names the column and what was expected."""


class ItemError(GlasspaneError):
    """One envelope item could not be used; the rest of the envelope is kept.

    ``reason`` is the outcome reason it is counted under (``invalid_json``, ...).
    """

    status_code = 400

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class LimitExceeded(GlasspaneError):
    status_code = 413


class AuthError(GlasspaneError):
    status_code = 401


class ForbiddenError(GlasspaneError):
    status_code = 403


class NotFound(GlasspaneError):
    status_code = 404


class Conflict(GlasspaneError):
    status_code = 409


class RateLimited(GlasspaneError):
    """Too many requests for one DSN key; ``retry_after`` is in whole seconds.

    ``categories`` (category → seconds) names the exhausted data categories
    when only those are limited; empty means every category.
    """

    status_code = 429

    def __init__(
        self, message: str, retry_after: int, categories: dict[str, int] | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.categories = categories or {}


class UnsupportedStore(GlasspaneError):
    status_code = 400


class StoreError(GlasspaneError):
    status_code = 503


class DiskFull(StoreError):
    """The OS refused a write (no space, file size limit): nothing of the request was stored.

    It is about the store, not one request, so the writer fails a whole group
    with it at once instead of retrying each entry.
    """


class ConfigError(GlasspaneError):
    status_code = 500
