"""PagerDuty source: open pages and who is on call, through PagerDuty's `pagerduty` SDK.

The SDK is used for what it is good at (auth headers, the `From` header, `xxx[]` parameter
names, the base URL) and kept away from what the engine owns: it would retry a 429 forever
and sleep through network errors, so those are turned into `RateLimited` / `Unavailable`
at once and the poll engine backs off instead.

Pagination is PagerDuty's classic kind (`limit` <= 100, `offset + limit` <= 10,000); past
that the snapshot says it is truncated rather than silently stopping as the SDK's
`iter_all` would.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx2
import pagerduty

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.models import LogEntry, OnCall, Page, PageDetail, Snapshot
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
    from oncall_tui.config import PagerDutySettings

PAGE_LIMIT = 100
"""PagerDuty's largest page for classic pagination."""

ITERATION_LIMIT = 10_000
"""PagerDuty refuses `offset + limit` beyond this."""

OPEN_STATUSES = ["triggered", "acknowledged"]


class _EngineOwnedRetries(pagerduty.RestApiV2Client):
    """The SDK client, minus its own retry loop on 429, and recording the rate budget.

    `postprocess` is the SDK's hook after every response; raising there leaves its
    unlimited 429 retry loop before it sleeps.
    """

    budget = RateBudget()

    def postprocess(self, response: httpx2.Response, suffix: str | None = None) -> None:
        super().postprocess(response, suffix)
        headers = response.headers
        self.budget = RateBudget(
            limit=header_int(headers.get("ratelimit-limit")),
            remaining=header_int(headers.get("ratelimit-remaining")),
            reset_after=header_float(headers.get("ratelimit-reset")),
        )
        if response.status_code == 429:
            retry_after = header_float(headers.get("retry-after"))
            if retry_after is None:
                retry_after = self.budget.reset_after
            raise RateLimited(
                "PagerDuty rate limit reached (429)", retry_after=retry_after, status=429
            )


class PagerDutySource:
    """Open pages (triggered and acknowledged) in the configured scope, and who is on call."""

    name = "pages"

    def __init__(self, settings: PagerDutySettings, clock: Clock) -> None:
        if settings.token is None:
            raise ValueError("PagerDutySource needs a token; check settings.configured first")
        self._settings = settings
        self._clock = clock
        kwargs: dict[str, Any] = {}
        if settings.ca_bundle is not None:
            kwargs["verify"] = ssl.create_default_context(cafile=str(settings.ca_bundle))
        try:
            self._client = _EngineOwnedRetries(
                settings.token.reveal(),
                default_from=settings.from_email or None,
                base_url=settings.base_url,
                **kwargs,
            )
        except pagerduty.UrlError as exc:
            raise SourceError(f"PagerDuty base_url is not usable: {exc}") from None
        self._client.timeout = settings.timeout  # type: ignore[assignment]
        self._client.max_network_attempts = 0
        self._me: dict[str, str] | None = None

    @property
    def label(self) -> str:
        return "PagerDuty"

    def rate_budget(self) -> RateBudget:
        return self._client.budget

    def close(self) -> None:
        self._client.close()

    # -- reading -------------------------------------------------------------------------

    def fetch(self) -> Snapshot:
        me = self.me()
        # Without date_range=all PagerDuty lists only the last month's incidents, and a
        # long-acknowledged page would silently vanish.
        params: dict[str, Any] = {"statuses[]": OPEN_STATUSES, "date_range": "all"}
        if self._settings.service_ids:
            params["service_ids[]"] = list(self._settings.service_ids)
        if self._settings.team_ids:
            params["team_ids[]"] = list(self._settings.team_ids)
        if self._settings.only_mine and me.get("id"):
            params["user_ids[]"] = [me["id"]]
        pages: list[Page] = []
        truncated = False
        for item, more_than_limit in self._classic_pages("/incidents", "incidents", params):
            truncated = truncated or more_than_limit
            if item is not None:
                pages.append(_page(item))
        pages.sort(key=Page.sort_key)
        return Snapshot(
            source=self.name,
            taken_at=self._clock.now(),
            items=tuple(pages),
            on_call=self._on_call(me),
            me=me.get("name", ""),
            truncated=truncated,
        )

    def me(self) -> dict[str, str]:
        """The token owner (id, name, email), asked once; empty for account-level tokens."""
        if self._me is None:
            try:
                user = self._get("/users/me").get("user", {})
                if not isinstance(user, dict):
                    raise BadResponse("PagerDuty /users/me: 'user' is not an object")
                self._me = {
                    "id": str(user.get("id", "")),
                    "name": str(user.get("name", "")),
                    "email": str(user.get("email", "")),
                }
            except AuthFailed:
                raise
            except SourceError as exc:
                if exc.status != 400:
                    raise
                # An account-level key has no "me": act as the configured From address.
                email = self._settings.from_email
                self._me = {"id": "", "name": email, "email": email}
        return self._me

    def detail(self, page_id: str) -> PageDetail:
        """The page with its recent log entries, for the detail view."""
        body = self._get(f"/incidents/{page_id}")
        page = _page(_require(body, "incident"))
        entries = self._get(
            f"/incidents/{page_id}/log_entries",
            params={"limit": 50, "is_overview": "false"},
        )
        log = tuple(
            LogEntry(
                id=str(entry.get("id", "")),
                type=str(entry.get("type", "")).removesuffix("_reference"),
                summary=str(entry.get("summary", "")),
                created_at=_when(entry.get("created_at")),
                agent=str((entry.get("agent") or {}).get("summary", "")),
            )
            for entry in _require(entries, "log_entries")
        )
        description = str(_require(body, "incident").get("description") or "")
        notes = tuple(
            LogEntry(
                id=str(note.get("id", "")),
                type="note",
                summary=str(note.get("content", "")),
                created_at=_when(note.get("created_at")),
                agent=str((note.get("user") or {}).get("summary", "")),
            )
            for note in _require(self._get(f"/incidents/{page_id}/notes"), "notes")
        )
        return PageDetail(page=page, log_entries=log, description=description, notes=notes)

    def _on_call(self, me: Mapping[str, str]) -> tuple[OnCall, ...]:
        """Who is on call now and, for the next day, who comes next at each level."""
        now = self._clock.now()
        params: dict[str, Any] = {
            "include[]": ["users"],
            "earliest": "true",
            "since": now.isoformat(),
            "until": (now + timedelta(hours=24)).isoformat(),
        }
        if self._settings.escalation_policy_ids:
            params["escalation_policy_ids[]"] = list(self._settings.escalation_policy_ids)
        elif me.get("id"):
            params["user_ids[]"] = [me["id"]]
        else:
            return ()
        entries: list[OnCall] = []
        for item, _ in self._classic_pages("/oncalls", "oncalls", params):
            if item is None:
                continue
            user = item.get("user") or {}
            policy = item.get("escalation_policy") or {}
            entries.append(
                OnCall(
                    user_id=str(user.get("id", "")),
                    user_name=str(user.get("name") or user.get("summary") or ""),
                    user_email=str(user.get("email", "")),
                    escalation_policy=str(policy.get("summary", "")),
                    level=int(item.get("escalation_level") or 0),
                    start=_when_or_none(item.get("start")),
                    end=_when_or_none(item.get("end")),
                )
            )
        entries.sort(key=lambda o: (o.escalation_policy, o.level, o.user_name))
        return tuple(entries)

    # -- HTTP ----------------------------------------------------------------------------

    def _classic_pages(
        self, path: str, wrapper: str, params: Mapping[str, Any]
    ) -> Iterator[tuple[dict[str, Any] | None, bool]]:
        """Yield (item, False) for each item; a final (None, True) if the limit cut it off."""
        offset = 0
        while True:
            if offset + PAGE_LIMIT > ITERATION_LIMIT:
                yield None, True
                return
            body = self._get(path, params={**params, "limit": PAGE_LIMIT, "offset": offset})
            items = _require(body, wrapper)
            if not isinstance(items, list):
                raise BadResponse(f"PagerDuty {path}: '{wrapper}' is not a list")
            for item in items:
                yield item, False
            if not body.get("more") or not items:
                return
            offset += len(items)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._request("GET", path, params=dict(params or {}))

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except SourceError:
            raise
        except pagerduty.HttpError as exc:
            if exc.response is None:
                raise Unavailable(f"PagerDuty {path}: no answer") from None
            raise _http_error(path, exc.response) from None
        except pagerduty.Error as exc:
            raise _unreachable(exc, _cause(exc)) from None
        except httpx2.HTTPError as exc:
            raise _unreachable(exc, type(exc).__name__) from None
        if not response.is_success:
            raise _http_error(path, response)
        if not response.content.strip():
            return {}
        try:
            body = response.json()
        except (json.JSONDecodeError, ValueError):
            raise BadResponse(f"PagerDuty {path}: the answer is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadResponse(f"PagerDuty {path}: expected a JSON object")
        return body

    # -- writing (called by the outbox, in a worker thread) ------------------------------

    def apply(
        self, action: str, targets: Sequence[str], payload: Mapping[str, Any], *, attempt: int
    ) -> None:
        """Apply one outbox write. Raises `SourceError`; 4xx ones are final refusals."""
        if action in ("acknowledge", "resolve"):
            if action == "resolve" and payload.get("note"):
                for page_id in targets:
                    self._post_note(page_id, str(payload["note"]), attempt=attempt)
            self._set_status(list(targets), STATUS_OF[action], attempt=attempt)
        elif action == "note":
            for page_id in targets:
                self._post_note(page_id, str(payload["content"]), attempt=attempt)
        elif action == "snooze":
            # Snoozing again only restarts the same snooze from now: harmless, so no check.
            for page_id in targets:
                self._write(
                    "POST", f"/incidents/{page_id}/snooze", {"duration": int(payload["seconds"])}
                )
        elif action == "reassign":
            # On a retry, look first: assigning again notifies the assignees again.
            for page_id in targets:
                if attempt > 0 and _reassigned(self._incident(page_id), payload):
                    continue
                self._write("PUT", f"/incidents/{page_id}", {"incident": _reassignment(payload)})
        elif action == "escalate":
            # On a retry, look first: escalating again pages the level's people again.
            level = int(payload["level"])
            for page_id in targets:
                if attempt > 0 and self._escalated(page_id, level):
                    continue
                change = {"type": "incident_reference", "escalation_level": level}
                self._write("PUT", f"/incidents/{page_id}", {"incident": change})
        else:
            raise SourceError(f"PagerDuty cannot {action}")

    def _set_status(self, page_ids: list[str], status: str, *, attempt: int = 0) -> None:
        """Bulk status change, 250 incidents per call (PagerDuty's limit).

        On a retry, pages already where we want them are left out: the earlier try may have
        landed before its answer (or the cockpit) was lost, and acknowledging again is not a
        no-op (PagerDuty logs a second acknowledgement and restarts the ack timeout)."""
        if attempt > 0:
            page_ids = [p for p in page_ids if not self._status_reached(p, status)]
        for start in range(0, len(page_ids), BULK_LIMIT):
            chunk = page_ids[start : start + BULK_LIMIT]
            body = {
                "incidents": [
                    {"id": page_id, "type": "incident_reference", "status": status}
                    for page_id in chunk
                ]
            }
            try:
                self._write("PUT", "/incidents", body)
            except (RateLimited, Unavailable, AuthFailed):
                raise
            except SourceError:
                # Refused: fine if every page already is where we wanted it (someone else
                # resolved it, or our own earlier attempt landed); otherwise say why.
                if not all(self._status_reached(page_id, status) for page_id in chunk):
                    raise

    def _status_reached(self, page_id: str, status: str) -> bool:
        current = self._incident(page_id).get("status")
        return bool(current == status or current == "resolved")

    def _incident(self, page_id: str) -> dict[str, Any]:
        incident = _require(self._get(f"/incidents/{page_id}"), "incident")
        if not isinstance(incident, dict):
            raise BadResponse(f"PagerDuty /incidents/{page_id}: 'incident' is not an object")
        return incident

    def _post_note(self, page_id: str, content: str, *, attempt: int) -> None:
        """Post a note once: on a retry, look for it first (the last answer may be lost)."""
        if attempt > 0 and self._has_note(page_id, content):
            return
        self._write("POST", f"/incidents/{page_id}/notes", {"note": {"content": content}})

    def _has_note(self, page_id: str, content: str) -> bool:
        me = self.me()
        notes = _require(self._get(f"/incidents/{page_id}/notes"), "notes")
        for note in notes:
            user = note.get("user") or {}
            mine = not me.get("id") or user.get("id") == me.get("id")
            if mine and note.get("content") == content:
                return True
        return False

    def _write(self, method: str, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._request(method, path, json=dict(body), headers={"From": self.from_email()})

    def from_email(self) -> str:
        """Who writes act as: the configured address, else the token owner's."""
        email = self._settings.from_email or self.me().get("email", "")
        if not email:
            raise SourceError(
                "PagerDuty needs a From address for writes: set [pagerduty] from_email"
            )
        return email

    # -- look-ups for the action dialogs ---------------------------------------------------

    def users(self) -> list[tuple[str, str]]:
        """(id, name) of every user, for the reassign picker."""
        return [
            (str(u.get("id", "")), str(u.get("name") or u.get("summary") or ""))
            for u, _ in self._classic_pages("/users", "users", {})
            if u is not None
        ]

    def escalation_policies(self) -> list[tuple[str, str]]:
        """(id, name) of every escalation policy, for the reassign picker."""
        return [
            (str(p.get("id", "")), str(p.get("name") or p.get("summary") or ""))
            for p, _ in self._classic_pages("/escalation_policies", "escalation_policies", {})
            if p is not None
        ]

    def next_escalation_level(self, page_id: str) -> int:
        """The level after the one the page's assignees hold now; refuses past the last."""
        current, deepest = self._escalation_levels(self._incident(page_id))
        if current >= deepest:
            raise SourceError(f"page is already at the last escalation level ({deepest})")
        return current + 1

    def _escalated(self, page_id: str, level: int) -> bool:
        """The page is at `level` or past it already (or resolved)."""
        incident = self._incident(page_id)
        return incident.get("status") == "resolved" or self._escalation_levels(incident)[0] >= level

    def _escalation_levels(self, incident: Mapping[str, Any]) -> tuple[int, int]:
        """(the level the page's assignees hold now, the policy's deepest level). Incidents
        do not say their level: it is read from who is on call at which level."""
        policy_id = str((incident.get("escalation_policy") or {}).get("id", ""))
        assignees = {
            str((a.get("assignee") or {}).get("id", "")) for a in incident.get("assignments") or []
        }
        levels: dict[str, int] = {}
        params = {"escalation_policy_ids[]": [policy_id], "earliest": "true"}
        for entry, _ in self._classic_pages("/oncalls", "oncalls", params):
            if entry is None:
                continue
            user_id = str((entry.get("user") or {}).get("id", ""))
            level = int(entry.get("escalation_level") or 0)
            levels[user_id] = min(level, levels.get(user_id, level))
        deepest = max(levels.values(), default=1)
        current = min((levels[u] for u in assignees if u in levels), default=1)
        return current, deepest


STATUS_OF = {"acknowledge": "acknowledged", "resolve": "resolved"}

BULK_LIMIT = 250
"""PagerDuty's most incidents in one bulk update."""


def _reassigned(incident: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """The incident already is where `payload` reassigns it (or it is resolved)."""
    if incident.get("status") == "resolved":
        return True
    if payload.get("escalation_policy_id"):
        policy = incident.get("escalation_policy") or {}
        return bool(policy.get("id") == str(payload["escalation_policy_id"]))
    assigned = {
        str((a.get("assignee") or {}).get("id", ""))
        for a in incident.get("assignments") or []
        if isinstance(a, dict)
    }
    return assigned == {str(user_id) for user_id in payload.get("user_ids", [])}


def _reassignment(payload: Mapping[str, Any]) -> dict[str, Any]:
    change: dict[str, Any] = {"type": "incident_reference"}
    if payload.get("escalation_policy_id"):
        change["escalation_policy"] = {
            "id": str(payload["escalation_policy_id"]),
            "type": "escalation_policy_reference",
        }
    else:
        change["assignments"] = [
            {"assignee": {"id": str(user_id), "type": "user_reference"}}
            for user_id in payload.get("user_ids", [])
        ]
    return change


def _http_error(path: str, response: httpx2.Response) -> SourceError:
    status = response.status_code
    reason = _pd_error_message(response)
    if status == 401:
        return AuthFailed(
            f"PagerDuty refused the token ({status}{reason}): check [pagerduty] token",
            status=status,
        )
    if status == 403:
        # The key is valid but may not do this: a read-only key writing, or a user whose
        # role does not reach the resource.
        method = _method_of(response)
        hint = (
            "check the role of [pagerduty] token's user"
            if method == "GET"
            else "a read-only key cannot write; use a full-access key in [pagerduty] token"
        )
        return AuthFailed(
            f"PagerDuty token lacks permission for {method} {path} ({status}{reason}): {hint}",
            status=status,
        )
    if status >= 500:
        # A gateway's 502/503 is an HTML page, not PagerDuty's error object: say its reason.
        reason = reason or (f": {response.reason_phrase}" if response.reason_phrase else "")
        return Unavailable(f"PagerDuty failed on its side ({status}{reason})", status=status)
    return SourceError(f"PagerDuty {path} answered {status}{reason}", status=status)


def _method_of(response: httpx2.Response) -> str:
    try:
        return str(response.request.method)
    except RuntimeError:  # a response built without its request
        return "GET"


def _pd_error_message(response: httpx2.Response) -> str:
    """PagerDuty's own words from its error body, if it sent any."""
    try:
        error = response.json().get("error", {})
        message = str(error.get("message", ""))
        errors = error.get("errors") or []
        if errors:
            message = f"{message}: {'; '.join(str(e) for e in errors)}"
        return f": {message}" if message else ""
    except (ValueError, AttributeError):
        return ""


def _unreachable(exc: BaseException, what: str) -> Unavailable:
    if untrusted_certificate(exc):
        return Unavailable("PagerDuty TLS certificate not trusted: check [pagerduty] ca_bundle")
    return Unavailable(f"PagerDuty unreachable ({what})")


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else "network error"


def _require(body: Mapping[str, Any], key: str) -> Any:
    if key not in body:
        raise BadResponse(f"PagerDuty answer has no '{key}'")
    return body[key]


def _page(item: Mapping[str, Any]) -> Page:
    try:
        service = item.get("service") or {}
        priority = item.get("priority") or {}
        policy = item.get("escalation_policy") or {}
        alerts = item.get("alert_counts") or {}
        created = _when(item["created_at"])
        return Page(
            id=str(item["id"]),
            number=int(item.get("incident_number") or 0),
            title=str(item.get("title") or item.get("summary") or ""),
            status=item["status"],
            urgency="high" if item.get("urgency") == "high" else "low",
            service_id=str(service.get("id", "")),
            service_name=str(service.get("summary", "")),
            created_at=created,
            last_status_change_at=_when_or_none(item.get("last_status_change_at")) or created,
            html_url=str(item.get("html_url", "")),
            priority=str(priority.get("summary") or priority.get("name") or "") or None,
            assignees=tuple(
                str((a.get("assignee") or {}).get("summary", ""))
                for a in item.get("assignments") or []
            ),
            acknowledgers=tuple(
                str((a.get("acknowledger") or {}).get("summary", ""))
                for a in item.get("acknowledgements") or []
            ),
            escalation_policy=str(policy.get("summary", "")),
            alerts_triggered=int(alerts.get("triggered") or 0),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(f"PagerDuty incident has an unexpected shape ({exc!r})") from None


def _when(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    return datetime.fromisoformat(value)


def _when_or_none(value: Any) -> datetime | None:
    return _when(value) if isinstance(value, str) and value else None
