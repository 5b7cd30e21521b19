"""studio.errors: each failure says whether FoxAPI may have received (and billed) it.

From ../shared/foxapi.md: a generation POST creates a paid task and FoxAPI has no
idempotency key, so a POST is resent only when it provably never arrived (the
connection failed) or was refused before any work began (429). GETs are retried when
the failure may pass.
"""

from __future__ import annotations

import pytest

from studio import errors
from studio.errors import (
    AddressNotAllowed,
    BadRequest,
    ConnectionFailed,
    DownloadFailed,
    DownloadTooLarge,
    DownloadTooSlow,
    Forbidden,
    FoxAPIError,
    InsufficientBalance,
    InvalidInput,
    NotAnImage,
    NotFound,
    OutcomeUnknown,
    PayloadTooLarge,
    RateLimited,
    RequestTimedOut,
    ResultExpired,
    ServerError,
    Unauthorized,
    UnexpectedResponse,
    UnusableTask,
)

# class: (may_have_arrived, retryable)
BILLING_FACTS: dict[type[FoxAPIError], tuple[bool, bool]] = {
    FoxAPIError: (True, False),  # unknown: assume it arrived
    ConnectionFailed: (False, True),  # never left this machine
    RequestTimedOut: (True, True),  # may be a task FoxAPI is already drawing
    BadRequest: (True, False),
    Unauthorized: (False, False),
    InsufficientBalance: (False, False),
    Forbidden: (False, False),
    NotFound: (True, False),
    PayloadTooLarge: (False, False),  # refused at the edge
    InvalidInput: (False, False),
    RateLimited: (False, True),  # refused before any work began
    ServerError: (True, True),  # a 5xx may hide a created, billed task
    UnexpectedResponse: (True, False),
    DownloadFailed: (True, False),
    ResultExpired: (True, False),
    AddressNotAllowed: (True, False),  # downloads are GETs: they bill nothing
    DownloadTooSlow: (True, False),
    DownloadTooLarge: (True, False),
    NotAnImage: (True, False),
    UnusableTask: (False, False),  # a task id no URL can carry: never looked up
    OutcomeUnknown: (True, False),  # the studio already decided never to resend
}


def _error_classes() -> set[type[FoxAPIError]]:
    found, stack = {FoxAPIError}, [FoxAPIError]
    while stack:
        for subclass in stack.pop().__subclasses__():
            if subclass.__module__ == errors.__name__:
                found.add(subclass)
                stack.append(subclass)
    return found


def test_every_error_class_has_its_billing_facts_written_here() -> None:
    assert _error_classes() == set(BILLING_FACTS)


@pytest.mark.parametrize(
    ("error_class", "may_have_arrived", "retryable"),
    [(error_class, *facts) for error_class, facts in BILLING_FACTS.items()],
    ids=[error_class.__name__ for error_class in BILLING_FACTS],
)
def test_each_error_says_whether_it_may_have_arrived_and_may_be_retried(
    error_class: type[FoxAPIError], may_have_arrived: bool, retryable: bool
) -> None:
    assert error_class.may_have_arrived is may_have_arrived
    assert error_class.retryable is retryable


def test_a_post_may_be_sent_again_only_after_a_failed_connection_or_a_429() -> None:
    resendable = {
        error_class
        for error_class in _error_classes()
        if error_class.retryable and not error_class.may_have_arrived
    }

    assert resendable == {ConnectionFailed, RateLimited}


def test_a_429_keeps_foxapis_wait_and_an_uncertain_send_names_its_job() -> None:
    busy = RateLimited("FoxAPI is busy.", retry_after=3.0, status=429, code="rate_limited")
    uncertain = OutcomeUnknown("Not resent.", job_id="job-1", status=502)

    assert (busy.retry_after, busy.status, busy.code, busy.message) == (
        3.0,
        429,
        "rate_limited",
        "FoxAPI is busy.",
    )
    assert (uncertain.job_id, uncertain.status, uncertain.message) == ("job-1", 502, "Not resent.")
