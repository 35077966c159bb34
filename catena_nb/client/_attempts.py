"""What a call does after each attempt: return the answer, wait and send again, or raise; without I/O.

Both clients run the same loop (`CatenaClient._send` and its async twin): build the attempt's request with
its timeouts capped at the deadline, send it, then ask `next_wait`. A lookup is retried on connection errors,
429 and 5xx (the policy's rules) while the deadline leaves time for the wait; a create is sent once. The
errors are raised here, outside any `except` block, so that httpx's exception, which holds the request and
its Authorization header, is never attached to them as their context.
"""

from __future__ import annotations

import logging

import httpx

from catena_nb.client._deadline import Deadline, deadline_passed
from catena_nb.client._retry import RetryPolicy, retry_after_s
from catena_nb.errors import APIConnectionError, APITimeoutError

__all__ = ["connection_error", "deadline_error", "may_have_sent", "next_wait"]

logger = logging.getLogger("catena_nb.client")

# Raised before the request left the machine: resending it cannot create anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def may_have_sent(failure: httpx.TransportError | None) -> bool:
    """Whether an attempt that ended so (None: with an answer) may have reached the API."""
    return failure is None or not isinstance(failure, _NOT_SENT)


def connection_error(
    exc: httpx.TransportError, method: str, path: str, *, more: str = ""
) -> APIConnectionError:
    """The error of an attempt whose connection failed or timed out."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    sent = may_have_sent(exc)
    what = "timed out" if cls is APITimeoutError else "failed"
    note = "; the API may have received it" if sent else "; it was not sent"
    return cls(
        f"the request {what} ({type(exc).__name__}){note}{more}", method=method, url=path, maybe_sent=sent
    )


def deadline_error(
    deadline: Deadline, method: str, path: str, attempts: int, sent: bool, failure: httpx.TransportError
) -> APITimeoutError:
    """The error of a call whose deadline passed."""
    note = "; the API may have received it" if sent else "; it was not sent"
    plural = "s" * (attempts != 1)
    return APITimeoutError(
        f"the request did not complete within the client's deadline of {deadline.seconds:g} s "
        f"({attempts} attempt{plural}, the last ended by {type(failure).__name__}){note}. "
        "Give the client a longer deadline= if the API is known to be this slow",
        method=method,
        url=path,
        maybe_sent=sent,
        deadline=deadline.seconds,
    )


def next_wait(
    policy: RetryPolicy,
    deadline: Deadline,
    *,
    method: str,
    path: str,
    retry: bool,
    attempt: int,
    sent: bool,
    response: httpx.Response | None,
    failure: httpx.TransportError | None,
) -> float | None:
    """After attempt number `attempt` (0-based): None to return `response`, else the wait before the next.

    Raises:
        APITimeoutError: the deadline passed (`sent`: whether any attempt may have reached the API).
        APIConnectionError: the connection failed and the request is not retried (a create, the last retry,
            or a wait that would pass the deadline).
    """
    what = f"{method} {path}"
    if failure is not None:
        if deadline.passed() or deadline_passed(failure):
            raise deadline_error(deadline, method, path, attempt + 1, sent, failure)
        if not retry or attempt >= policy.max_retries:
            raise connection_error(failure, method, path)
        delay = policy.delay(attempt)
        if not deadline.allows(delay):
            more = f"; not retried, as the wait would pass the call's deadline of {deadline.seconds:g} s"
            raise connection_error(failure, method, path, more=more)
        policy.log_decision(what, attempt, delay, type(failure).__name__)
        return delay
    assert response is not None
    if not (retry and policy.should_retry_status(response.status_code, attempt)):
        return None
    delay = policy.delay(attempt, retry_after_s(response.headers, response.content))
    if not deadline.allows(delay):
        # the answer itself (a 429 or a 5xx) is then raised by the caller, with its hint
        status = response.status_code
        logger.debug(
            "not retrying %s after HTTP %d: a wait of %.2f s would pass its deadline", what, status, delay
        )
        return None
    policy.log_decision(what, attempt, delay, f"HTTP {response.status_code}")
    return delay
