"""Failures as types (FoxAPI's, a file's, the storage's, the database's), each with a message a
person can act on.

Messages never contain the API key: they are built from FoxAPI's own words and fixed
text, never from request headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.records import ReviewClosed


class FoxAPIError(Exception):
    """Any failure talking to FoxAPI.

    `may_have_arrived` says whether a request that failed this way could have reached
    FoxAPI (and so, for a generation, could have been billed).
    """

    may_have_arrived = True
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, {self.message!r})"
        )


class ConnectionFailed(FoxAPIError):
    """FoxAPI could not be reached at all: the request never left this machine."""

    may_have_arrived = False
    retryable = True


class RequestTimedOut(FoxAPIError):
    """FoxAPI did not answer in time; the request may or may not have arrived."""

    retryable = True


class BadRequest(FoxAPIError):
    """400: the studio sent something malformed. A bug in the studio."""


class Unauthorized(FoxAPIError):
    """401: the key is missing, wrong or expired."""

    may_have_arrived = False


class InsufficientBalance(FoxAPIError):
    """402: the account's balance is too low."""

    may_have_arrived = False


class Forbidden(FoxAPIError):
    """403: for example the upload store is full."""

    may_have_arrived = False


class NotFound(FoxAPIError):
    """404: FoxAPI does not know this task."""


class PayloadTooLarge(FoxAPIError):
    """413: refused at the edge before FoxAPI read it."""

    may_have_arrived = False


class InvalidInput(FoxAPIError):
    """422: FoxAPI refused a field value; its message says which."""

    may_have_arrived = False


class RateLimited(FoxAPIError):
    """429: refused before any work began. `retry_after` is in seconds when FoxAPI gave one."""

    may_have_arrived = False
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(FoxAPIError):
    """5xx: FoxAPI or its upstream failed. A generation may still have been created."""

    retryable = True


class UnexpectedResponse(FoxAPIError):
    """FoxAPI answered with something the contract does not describe."""


class UnusableTask(FoxAPIError):
    """FoxAPI named a task the studio cannot look up (an id no URL can carry)."""

    may_have_arrived = False


class DownloadFailed(FoxAPIError):
    """A result could not be fetched: wrong content, too large, or gone."""


class ResultExpired(DownloadFailed):
    """A result URL no longer serves the image (they live 24 hours)."""


class AddressNotAllowed(DownloadFailed):
    """The URL, or a redirect from it, leads where the studio never fetches from.

    Not http(s), or an address that is not public (loopback, private, link-local...).
    `detail` says which, for the log; the message does not, so it maps nothing.
    """


class DownloadTooSlow(DownloadFailed):
    """The whole download did not finish within its deadline."""


class DownloadTooLarge(DownloadFailed):
    """The download is larger than the studio accepts."""


class NotAnImage(DownloadFailed):
    """The URL served something other than an image."""


class OutcomeUnknown(FoxAPIError):
    """The generation POST may have reached FoxAPI; the studio will not resend it.

    `job_id` names the job kept for it, marked "outcome unknown", so a page can show it.
    """

    def __init__(self, message: str, *, job_id: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.job_id = job_id


class InvalidImage(ValueError):
    """A file cannot be used. `message` says why in words the person who chose it knows."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StorageError(OSError):
    """Images could not be read from or written to the storage; the message says why.

    An OSError, like the disk errors of the local folder, so one handler covers both.
    """


class ObjectMissing(StorageError, FileNotFoundError):
    """No file under the key asked for."""


class DatabaseError(Exception):
    """A problem with the database that a person can act on; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseUnavailable(DatabaseError):
    """The database does not answer (down, unreachable, or refusing the connection).

    The one error the core raises for an outage, on connect or mid-query: pages show a
    sentence and retry, the command line prints one line, `/healthz` answers 503.
    """


class DatabaseTooNew(DatabaseError):
    """A newer studio upgraded this database; this one does not know its schema."""


class BoardInputError(ValueError):
    """Something asked of a board or a review is not possible; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReviewRateLimited(BoardInputError):
    """A review link made more changes in the last minute than it may."""


class ReviewGone(Exception):
    """The review link was revoked or expired (or never was) while it was open."""

    def __init__(self, closed: ReviewClosed) -> None:
        super().__init__(closed.message)
        self.closed = closed
