"""One GitHub connection (a token on a host): PyGithub for REST, httpx for GraphQL.

Both GitHub sources go through this, so they map errors the same way and spend the budget
the same way:

- PyGithub is built with `retry=None` (its default `GithubRetry` sleeps through 403/429 in
  the poll thread; the engine owns backoff), `lazy=True` (no extra GET behind `get_repo`),
  no spacing between reads (the engine already spaces polls; PyGithub's default 0.25 s
  would only stretch a poll) and `WRITE_SPACING` between writes (GitHub's secondary limit:
  at most 80 content-creating requests a minute). PyGithub spaces every non-GET request it
  sends, measured from the end of the previous one, so a bulk merge of marked PRs never
  bursts; the spacing is per client, and both GitHub sources share one client. PyGithub
  asserts that every URL it follows is on `base_url`, which keeps GitHub Enterprise Server
  (`https://HOST/api/v3`) and the simulator honest.
- REST reads are conditional (`If-None-Match` with the last ETag): a 304 costs no rate-limit
  point, and the cached body is reused.
- GraphQL goes through httpx because PyGithub's `graphql_query` raises on any `errors`
  entry, losing the partial data GitHub sends with, say, a FORBIDDEN alerts field.

Errors become `sources.base` errors, one line each and never with the token in them.
"""

from __future__ import annotations

import json
import math
import ssl
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import github
import httpx
import requests

from oncall_tui.domain.clock import Clock
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateBudget,
    RateLimited,
    SourceError,
    Unavailable,
    header_float,
    header_int,
    untrusted_certificate,
)

if TYPE_CHECKING:
    from oncall_tui.config import GitHubSettings

T = TypeVar("T")
USER_AGENT = "oncall-tui"
WRITE_SPACING = 0.75
"""Seconds between two content-creating requests: GitHub's secondary limit allows at most 80
a minute (60 / 80 = 0.75 s). Tests pass `write_spacing=0`."""


class GitHubClient:
    """PyGithub plus an httpx GraphQL client for one token and host, with an ETag cache."""

    def __init__(
        self,
        settings: GitHubSettings,
        clock: Clock,
        *,
        write_spacing: float | None = WRITE_SPACING,
    ) -> None:
        if settings.token is None:
            raise ValueError("GitHub sources need a token; check settings.configured first")
        self.settings = settings
        self._clock = clock
        token = settings.token.reveal()
        base_url = settings.base_url.rstrip("/")
        if urlsplit(base_url).scheme not in ("https", "http"):
            raise SourceError(f"GitHub base_url is not usable: {base_url!r}")
        verify: bool | str = str(settings.ca_bundle) if settings.ca_bundle is not None else True
        self.gh = github.Github(
            auth=github.Auth.Token(token),
            base_url=base_url,
            verify=verify,
            lazy=True,
            retry=None,
            timeout=max(1, math.ceil(settings.timeout)),
            per_page=100,
            user_agent=USER_AGENT,
            seconds_between_requests=None,
            seconds_between_writes=write_spacing or None,
        )
        self.requester = self.gh.requester
        http_verify: ssl.SSLContext | bool = True
        if settings.ca_bundle is not None:
            http_verify = ssl.create_default_context(cafile=str(settings.ca_bundle))
        self.http = httpx.Client(
            verify=http_verify,
            timeout=settings.timeout,
            headers={
                "Authorization": f"bearer {token}",
                "User-Agent": USER_AGENT,
                "Accept": "application/vnd.github+json",
            },
        )
        self.graphql_url = settings.graphql_url
        self._etags: dict[str, tuple[str, Any]] = {}
        self._budgets: dict[str, tuple[int | None, int | None, float | None]] = {}
        self.not_modified = 0
        """Conditional requests answered 304 so far (free)."""
        self._login: str | None = None
        self.write_spacing = write_spacing or 0.0
        """Seconds PyGithub waits between two writes (0: none)."""

    @property
    def host(self) -> str:
        return urlsplit(self.settings.base_url).hostname or ""

    def close(self) -> None:
        self.gh.close()
        self.http.close()

    def me(self) -> str:
        """The token owner's login (`GET /user`, asked once): whose reviews and comments
        count as ours when a retried write looks for what an earlier try left."""
        if self._login is None:
            user = self.get_json("/user")
            login = user.get("login") if isinstance(user, dict) else None
            if not isinstance(login, str) or not login:
                raise BadResponse("GitHub /user: the answer has no login")
            self._login = login
        return self._login

    # ------------------------------------------------------------------ budget

    def rate_budget(self) -> RateBudget:
        """The scarcest resource GitHub last told us about (core or graphql)."""
        if not self._budgets:
            return RateBudget()
        limit, remaining, reset = min(
            self._budgets.values(), key=lambda b: b[1] if b[1] is not None else 1 << 30
        )
        reset_after = None if reset is None else max(0.0, reset - self._clock.now().timestamp())
        return RateBudget(limit=limit, remaining=remaining, reset_after=reset_after)

    def note_rate(self, headers: Mapping[str, Any]) -> None:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        if "x-ratelimit-remaining" not in lowered:
            return
        resource = lowered.get("x-ratelimit-resource", "core")
        self._budgets[resource] = (
            header_int(lowered.get("x-ratelimit-limit")),
            header_int(lowered.get("x-ratelimit-remaining")),
            header_float(lowered.get("x-ratelimit-reset")),
        )

    def note_graphql_budget(self, rate: Any) -> None:
        """GraphQL's own `rateLimit { limit remaining resetAt }`, if the query asked."""
        if not isinstance(rate, dict):
            return
        reset = rate.get("resetAt")
        reset_epoch = None
        if isinstance(reset, str):
            try:
                reset_epoch = datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp()
            except ValueError:
                reset_epoch = None
        self._budgets["graphql"] = (
            header_int(rate.get("limit")),
            header_int(rate.get("remaining")),
            reset_epoch,
        )

    # ------------------------------------------------------------------ REST

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `path` (under base_url) conditionally: a 304 returns the cached body, free."""
        parameters = {k: v for k, v in (params or {}).items() if v is not None}
        key = path + "?" + "&".join(f"{k}={v}" for k, v in sorted(parameters.items()))
        cached = self._etags.get(key)
        headers = {"If-None-Match": cached[0]} if cached else {}
        try:
            status, response_headers, body = self.requester.requestJson(
                "GET", path, parameters=parameters, headers=headers
            )
        except requests.exceptions.Timeout:
            raise Unavailable(f"GitHub timed out after {self.settings.timeout:g}s") from None
        except requests.exceptions.RequestException as exc:
            raise _unreachable(exc) from None
        self.note_rate(response_headers)
        if status == 304 and cached is not None:
            self.not_modified += 1
            return cached[1]
        if status >= 400 or status == 304:
            raise http_error(status, response_headers, _message(body), self._clock, path)
        try:
            data = json.loads(body)
        except (ValueError, TypeError):
            raise BadResponse(f"GitHub {path}: the answer is not valid JSON") from None
        etag = response_headers.get("etag")
        if etag:
            self._etags[key] = (etag, data)
        return data

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run a PyGithub call (a write, a paginated read) with GitHub errors mapped."""
        try:
            return action()
        except SourceError:
            raise
        except github.GithubException as exc:
            message = _message_of(exc.data) or exc.message or ""
            raise http_error(exc.status, exc.headers or {}, message, self._clock, what) from None
        except requests.exceptions.Timeout:
            raise Unavailable(f"GitHub timed out after {self.settings.timeout:g}s") from None
        except requests.exceptions.RequestException as exc:
            raise _unreachable(exc) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadResponse(f"GitHub {what}: unexpected answer ({type(exc).__name__})") from None
        finally:
            remaining, limit = self.requester.rate_limiting
            if limit >= 0:
                reset = float(self.requester.rate_limiting_resettime) or None
                self._budgets["core"] = (limit, remaining, reset)

    # ------------------------------------------------------------------ GraphQL

    def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Run a query; returns (data, errors). Partial data with field errors is normal."""
        try:
            response = self.http.post(
                self.graphql_url, json={"query": query, "variables": dict(variables or {})}
            )
        except httpx.TimeoutException:
            raise Unavailable(f"GitHub timed out after {self.settings.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None
        self.note_rate(response.headers)
        if not response.is_success:
            raise http_error(
                response.status_code,
                response.headers,
                _message(response.text),
                self._clock,
                "GraphQL",
            )
        try:
            body = response.json()
        except ValueError:
            raise BadResponse("GitHub GraphQL: the answer is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadResponse("GitHub GraphQL: expected a JSON object")
        errors = body.get("errors") or []
        if not isinstance(errors, list):
            raise BadResponse("GitHub GraphQL: 'errors' is not a list")
        errors = [e for e in errors if isinstance(e, dict)]
        for error in errors:
            if error.get("type") == "RATE_LIMITED":
                budget = self.rate_budget()
                raise RateLimited(
                    "GitHub GraphQL rate limit reached", retry_after=budget.reset_after, status=200
                )
        data = body.get("data")
        if data is None:
            first = str(errors[0].get("message", "")) if errors else "no data"
            raise BadResponse(f"GitHub GraphQL refused the query: {first[:200]}")
        if not isinstance(data, dict):
            raise BadResponse("GitHub GraphQL: 'data' is not an object")
        self.note_graphql_budget(data.get("rateLimit"))
        return data, errors


class Refused(SourceError):
    """A 4xx that retrying will not fix (a merge conflict, a review of your own PR);
    `reason` is GitHub's own words, for the cockpit to show."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message, status=status)
        self.reason = reason


def http_error(
    status: int, headers: Mapping[str, Any], message: str, clock: Clock, what: str
) -> SourceError:
    """A GitHub HTTP error as a `sources.base` error (rate limits recognised as GitHub sends
    them: 403 or 429 with `retry-after`, or `x-ratelimit-remaining: 0` and a reset time)."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    reason = f": {message}" if message else ""
    if status in (403, 429):
        retry_after = header_float(lowered.get("retry-after"))
        spent = lowered.get("x-ratelimit-remaining") == "0"
        if retry_after is None and spent:
            reset = header_float(lowered.get("x-ratelimit-reset"))
            if reset is not None:
                retry_after = max(0.0, reset - clock.now().timestamp())
        if retry_after is not None or spent or status == 429 or "rate limit" in message.lower():
            return RateLimited(
                f"GitHub rate limit reached ({status})", retry_after=retry_after, status=status
            )
        # Neither waiting nor a spent budget: a good token without the scope or the
        # repository permission ("Resource not accessible by personal access token").
        return AuthFailed(
            f"GitHub token lacks permission for {what} ({status}{reason}): grant [github] "
            "token the scopes or repository permissions it needs",
            status=status,
        )
    if status == 401:
        return AuthFailed(
            f"GitHub refused the token (401{reason}): check [github] token", status=401
        )
    if status >= 500:
        # GitHub's own words if it sent any; a gateway's HTML page has none.
        detail = message.split(". ")[0].rstrip(".")[:80] or _phrase(status)
        detail = f": {detail}" if detail else ""
        return Unavailable(f"GitHub failed on its side ({status}{detail})", status=status)
    return Refused(f"GitHub {what} answered {status}{reason}", status=status, reason=message)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _message(body: Any) -> str:
    if not isinstance(body, str) or not body:
        return ""
    try:
        return _message_of(json.loads(body))
    except ValueError:
        return ""


def _message_of(data: Any) -> str:
    if isinstance(data, dict):
        message = str(data.get("message") or "")
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            detail = "; ".join(
                str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
                for e in errors
            )
            message = f"{message}: {detail}" if message else detail
        return " ".join(message.split())[:200]
    return ""


def _unreachable(exc: BaseException) -> Unavailable:
    """A network failure in one line; a refused certificate says which setting to check."""
    if untrusted_certificate(exc):
        return Unavailable("GitHub TLS certificate not trusted: check [github] ca_bundle")
    return Unavailable(f"GitHub unreachable ({type(exc).__name__})")


class GitHubSourceBase:
    """What the two GitHub sources share: settings, clock and one client (shared between
    them when the factory passes it), the label and the rate budget."""

    product = "GitHub"

    def __init__(
        self,
        settings: GitHubSettings,
        clock: Clock,
        *,
        client: GitHubClient | None = None,
        write_spacing: float | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        if client is None:
            if write_spacing is None:
                client = GitHubClient(settings, clock)
            else:
                client = GitHubClient(settings, clock, write_spacing=write_spacing)
        self._client = client

    @property
    def label(self) -> str:
        host = self._client.host
        return self.product if host in ("api.github.com", "") else f"{self.product} ({host})"

    @property
    def client(self) -> GitHubClient:
        return self._client

    def rate_budget(self) -> RateBudget:
        return self._client.rate_budget()

    def close(self) -> None:
        self._client.close()
