"""The contract between the poll engine and the provider adapters.

A source is an *instance* (provider + account + scope): two PagerDuty accounts are two
sources. `fetch` is synchronous because the SDKs are; the engine runs it in a thread with a
timeout. Failures are raised as one of the errors below, never as SDK exceptions, so the
engine and the cockpit handle every provider the same way::

    SourceError                 base: `message` is one line, safe to show (no secrets)
    ├── RateLimited             the provider said slow down; `retry_after` seconds if known
    ├── AuthFailed              401/403: wrong token or missing scope; retrying won't help soon
    ├── Unavailable             5xx, timeouts, connection errors: retry with backoff
    └── BadResponse             the answer did not parse or did not have the expected shape
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Protocol

from oncall_tui.domain.models import PageDetail, Snapshot


class SourceError(Exception):
    """A failed fetch or write, phrased for the engineer in one line."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RateLimited(SourceError):
    """The provider's rate limit is spent; try again after `retry_after` seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class AuthFailed(SourceError):
    """The credentials were refused."""


class Unavailable(SourceError):
    """The provider could not be reached or failed on its side."""


class BadResponse(SourceError):
    """The provider answered something we cannot read."""


def untrusted_certificate(exc: BaseException) -> bool:
    """True if `exc`, or an error it wraps, is a failed TLS certificate check.

    The SDKs wrap the `ssl` error two or three deep (httpx: `__cause__`; requests and
    urllib3: `args` and `reason`), so a one-line message can say "certificate" instead of a
    bare `ConnectError` that sends the engineer looking at the network.
    """
    todo: list[object] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < 32:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += list(current.args)
    return False


def header_int(value: object) -> int | None:
    """A number from a response header (`x-ratelimit-remaining: 42`), or None if absent or
    not a number."""
    try:
        return int(float(value)) if isinstance(value, (str, int, float)) else None
    except ValueError:
        return None


def header_float(value: object) -> float | None:
    """Like `header_int`, for seconds (`retry-after: 1.5`)."""
    try:
        return float(value) if isinstance(value, (str, int, float)) else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What the provider last said about its rate limit."""

    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None


class Source(Protocol):
    """One provider instance that can be polled."""

    @property
    def name(self) -> str:
        """The pane this source feeds: "pages", "monitors", "deploys" or "dependabot"."""
        ...

    @property
    def label(self) -> str:
        """A short human name: "PagerDuty", "Datadog (ddog-gov.com)"."""
        ...

    def fetch(self) -> Snapshot:
        """Poll the provider once. Blocking; raises `SourceError` subclasses."""
        ...

    def rate_budget(self) -> RateBudget:
        """The rate-limit figures from the last response, for the freshness line."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class PageSource(Source, Protocol):
    """A source of pages that can also tell one page's story (PagerDuty)."""

    def detail(self, page_id: str) -> PageDetail:
        """The page with its recent log entries. Blocking; raises `SourceError`."""
        ...
