"""PagerDuty REST API v2 for the simulator: the endpoints the cockpit uses, as the spec says.

Answers follow `../shared/specs/pagerduty-rest-v2.json` and the real API's habits that
clients trip on: `Token token=` auth, the `From` header on writes, classic pagination
(`limit` clamped to 100, `offset + limit <= 10000`), list filters only as `name[]=...` (a
bare `statuses=` is ignored, as PagerDuty does), error bodies `{"error": {"message",
"code", "errors"}}` (but a 502 or 503 fault is the load balancer's HTML page), rate-limit
headers on every answer, and the vendor media type the SDK asks for. State lives in
`pagerduty_world`; this module is only the HTTP face.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from oncall_tui.simulator.pagerduty_world import (
    EscalationPolicy,
    Incident,
    InvalidTransition,
    LogEntry,
    Note,
    OnCallEntry,
    PagerDutyWorld,
    Priority,
    Service,
    User,
    iso,
)
from oncall_tui.simulator.server import (
    ConfigValue,
    ControlHandler,
    Headers,
    RateState,
    RequestContext,
    SimRequest,
    SimResponse,
)

if TYPE_CHECKING:
    from oncall_tui.simulator.server import Simulator

VND_MEDIA_TYPE = "application/vnd.pagerduty+json;version=2"
JSON_MEDIA_TYPE = "application/json; charset=utf-8"
WEB_URL = "https://benefits.pagerduty.com"
"""The account's web UI (html_url links); never the API host."""
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
ITERATION_LIMIT = 10000
BULK_LIMIT = 250
MAX_SNOOZE = 604800
INCIDENT_RANGE = timedelta(days=30)
MAX_INCIDENT_RANGE = timedelta(days=183)
MAX_ONCALL_RANGE = timedelta(days=90)
STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")
SORT_FIELDS = ("incident_number", "created_at", "resolved_at", "urgency")
GATEWAY_PAGES = {
    status: (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    for status, reason in (("502", "Bad Gateway"), ("503", "Service Temporarily Unavailable"))
}
"""The load balancer's own pages for 502 and 503 (nginx's wording)."""
FROM_REQUIRED = (
    'You must specify a user\'s email address in the "From" header to perform this action'
)

T = TypeVar("T")


class ApiError(Exception):
    """An answer in PagerDuty's error format."""

    def __init__(
        self, status: int, message: str, code: int, errors: Sequence[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = list(errors) if errors is not None else None

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            error["errors"] = self.errors
        return {"error": error}


def invalid(*errors: str) -> ApiError:
    return ApiError(400, "Invalid Input Provided", 2001, errors)


def not_found() -> ApiError:
    return ApiError(404, "Not Found", 2100)


Handler = Callable[[SimRequest, RequestContext, re.Match[str]], SimResponse]


class PagerDutyApp:
    """The PagerDuty provider: routes, auth, faults and rate-limit headers."""

    name = "pagerduty"
    rate_limit = 960

    def __init__(self) -> None:
        incident = r"/incidents/(?P<id>[A-Za-z0-9]+)"
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/incidents"), self._list_incidents),
            ("PUT", re.compile(r"/incidents"), self._update_incidents),
            ("GET", re.compile(incident), self._get_incident),
            ("PUT", re.compile(incident), self._update_incident),
            ("GET", re.compile(incident + "/notes"), self._list_notes),
            ("POST", re.compile(incident + "/notes"), self._create_note),
            ("GET", re.compile(incident + "/log_entries"), self._list_log_entries),
            ("POST", re.compile(incident + "/snooze"), self._snooze),
            ("GET", re.compile(r"/oncalls"), self._list_oncalls),
            ("GET", re.compile(r"/users/me"), self._get_me),
            ("GET", re.compile(r"/users"), self._list_users),
            ("GET", re.compile(r"/escalation_policies"), self._list_policies),
        ]

    # ------------------------------------------------------------------ ProviderApp

    def handle(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        try:
            self._authenticate(request, ctx)
            path = request.path.rstrip("/") or "/"
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(path)
                if match is not None and method == request.method:
                    return handler(request, ctx, match)
            raise not_found()
        except ApiError as error:
            return _reply(request, error.status, error.payload())

    def fault_response(self, mode: str, ctx: RequestContext, retry_after: int) -> SimResponse:
        if mode == "429":
            error = ApiError(429, "Rate Limit Exceeded", 2020)
            headers = {
                "ratelimit-limit": str(self.rate_limit),
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(retry_after),
                "Retry-After": str(retry_after),
            }
            return SimResponse.json_body(429, error.payload(), VND_MEDIA_TYPE, headers)
        if mode == "401":
            return SimResponse.json_body(401, _auth_error().payload(), VND_MEDIA_TYPE)
        if mode == "403":
            # A valid key without the right: a read-only key writing, or a user whose role
            # may not see the resource. PagerDuty's error code 2010, "Access Denied".
            return SimResponse.json_body(403, _forbidden().payload(), VND_MEDIA_TYPE)
        if mode in GATEWAY_PAGES:
            # 502 and 503 come from the load balancer in front of PagerDuty's application,
            # not from the application: an HTML page, not PagerDuty's JSON error object.
            return SimResponse(
                int(mode),
                Headers({"Content-Type": "text/html"}),
                GATEWAY_PAGES[mode].encode(),
            )
        return SimResponse.json_body(
            500, ApiError(500, "Internal Error", 2000).payload(), VND_MEDIA_TYPE
        )

    def rate_limit_headers(self, state: RateState) -> dict[str, str]:
        return {
            "ratelimit-limit": str(state.limit),
            "ratelimit-remaining": str(state.remaining),
            "ratelimit-reset": str(state.reset),
        }

    def control_routes(self) -> Mapping[tuple[str, str], ControlHandler]:
        return {
            ("POST", "/_sim/trigger"): self._control_trigger,
            ("POST", "/_sim/pagerduty/trigger"): self._control_trigger,
        }

    def config_section(self, simulator: Simulator, ca_bundle: Path) -> dict[str, ConfigValue]:
        world = simulator.world.pagerduty
        return {
            "base_url": simulator.pagerduty_url,
            "ca_bundle": str(ca_bundle),
            "token": simulator.tokens[self.name],
            "from_email": world.me.email,
            "escalation_policy_ids": list(world.policies),
        }

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _authenticate(request: SimRequest, ctx: RequestContext) -> None:
        header = request.headers.get("Authorization", "").strip()
        match = re.fullmatch(r"Token token=(\S+)", header)
        if match is None or not ctx.token or not hmac.compare_digest(match[1], ctx.token):
            raise _auth_error()

    @staticmethod
    def _requester(request: SimRequest, world: PagerDutyWorld) -> User:
        email = request.headers.get("From", "").strip()
        if not email:
            raise ApiError(400, FROM_REQUIRED, 2016)
        user = world.user_by_email(email)
        if user is None:
            raise invalid("Requester User Not Found")
        return user

    @staticmethod
    def _incident(world: PagerDutyWorld, match: re.Match[str]) -> Incident:
        incident = world.incidents.get(match["id"])
        if incident is None:
            raise not_found()
        return incident

    # ------------------------------------------------------------------ incidents

    def _list_incidents(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        statuses = set(
            _enum_list(
                request,
                "statuses",
                STATUSES,
                "Status must be a list of triggered, acknowledged, or resolved.",
            )
        )
        urgencies = set(_enum_list(request, "urgencies", URGENCIES, "Urgency must be high or low."))
        service_ids = set(_list(request, "service_ids"))
        team_ids = set(_list(request, "team_ids"))
        user_ids = set(_list(request, "user_ids"))
        sort_keys = _sort_keys(request)
        window = _incident_window(request, ctx.now)
        limit, offset, want_total = _page_params(request)

        def keep(incident: Incident) -> bool:
            if statuses and incident.status not in statuses:
                return False
            if urgencies and incident.urgency not in urgencies:
                return False
            if service_ids and incident.service.id not in service_ids:
                return False
            if team_ids and world.team.id not in team_ids:
                return False
            if user_ids and (
                not incident.is_open or not user_ids.intersection(incident.assignee_ids())
            ):
                return False
            return window is None or window[0] <= incident.created_at < window[1]

        matches = [incident for incident in world.incidents.values() if keep(incident)]
        for field_name, descending in reversed(sort_keys):
            matches.sort(key=_SORTERS[field_name], reverse=descending)
        page, meta = _paginate(matches, limit, offset, want_total)
        render = _Render(world, ctx.base_url, _list(request, "include"))
        return _reply(request, 200, {"incidents": [render.incident(i) for i in page], **meta})

    def _get_incident(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        incident = self._incident(world, match)
        render = _Render(world, ctx.base_url, _list(request, "include"))
        return _reply(request, 200, {"incident": render.incident(incident)})

    def _update_incident(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        user = self._requester(request, world)
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("incident"), dict):
            raise invalid("Incident must be an object under the key incident.")
        incident = self._incident(world, match)
        change = _parse_change(body["incident"], world)
        _check_change(incident, change)
        _apply_change(world, incident, change, user, ctx.now)
        render = _Render(world, ctx.base_url, ())
        return _reply(request, 200, {"incident": render.incident(incident)})

    def _update_incidents(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        user = self._requester(request, world)
        body = _json_body(request)
        items = body.get("incidents") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise invalid("Incidents must be a non-empty array.")
        if len(items) > BULK_LIMIT:
            raise ApiError(
                413,
                "Request Entity Too Large",
                2001,
                [f"At most {BULK_LIMIT} incidents can be updated at once."],
            )
        planned: list[tuple[Incident, _Change]] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise invalid("Each incident must be an object with an id.")
            incident = world.incidents.get(item["id"])
            if incident is None:
                raise invalid(f"Incident {item['id']} not found.")
            change = _parse_change(item, world)
            _check_change(incident, change)
            planned.append((incident, change))
        for incident, change in planned:
            _apply_change(world, incident, change, user, ctx.now)
        render = _Render(world, ctx.base_url, ())
        updated = [render.incident(incident) for incident, _ in planned]
        meta = {"limit": len(updated), "offset": 0, "more": False, "total": None}
        if _bool_param(request, "total"):
            meta["total"] = len(updated)
        return _reply(request, 200, {"incidents": updated, **meta})

    def _list_notes(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        incident = self._incident(world, match)
        render = _Render(world, ctx.base_url, ())
        return _reply(request, 200, {"notes": [render.note(n) for n in incident.notes]})

    def _create_note(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        user = self._requester(request, world)
        body = _json_body(request)
        note = body.get("note") if isinstance(body, dict) else None
        if not isinstance(note, dict) or not isinstance(note.get("content"), str):
            raise invalid("Note must be an object with a content string.")
        if not note["content"].strip():
            raise invalid("Content cannot be empty.")
        incident = self._incident(world, match)
        created = world.add_note(incident, user, note["content"], ctx.now)
        render = _Render(world, ctx.base_url, ())
        # The spec declares 200 (not 201) for creating a note.
        return _reply(request, 200, {"note": render.note(created)})

    def _list_log_entries(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        incident = self._incident(world, match)
        since = _time_param(request, "since")
        until = _time_param(request, "until")
        overview = _bool_param(request, "is_overview")
        limit, offset, want_total = _page_params(request)
        entries = [
            entry
            for entry in reversed(incident.log_entries)
            if (since is None or entry.at >= since)
            and (until is None or entry.at < until)
            and not (overview and entry.type == "notify_log_entry")
        ]
        page, meta = _paginate(entries, limit, offset, want_total)
        render = _Render(world, ctx.base_url, ())
        body = {"log_entries": [render.log_entry(incident, e) for e in page], **meta}
        return _reply(request, 200, body)

    def _snooze(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        user = self._requester(request, world)
        body = _json_body(request)
        duration = body.get("duration") if isinstance(body, dict) else None
        if (
            not isinstance(duration, int)
            or isinstance(duration, bool)
            or not 1 <= duration <= MAX_SNOOZE
        ):
            raise invalid(f"Duration must be an integer between 1 and {MAX_SNOOZE} seconds.")
        incident = self._incident(world, match)
        try:
            world.snooze(incident, duration, user, ctx.now)
        except InvalidTransition as error:
            raise invalid(str(error)) from None
        render = _Render(world, ctx.base_url, ())
        return _reply(request, 201, {"incident": render.incident(incident)})

    # ------------------------------------------------------------------ people

    def _list_oncalls(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        since = _time_param(request, "since") or ctx.now
        until = _time_param(request, "until") or max(ctx.now, since)
        if until < since:
            raise invalid("The until time cannot be before the since time.")
        if until - since > MAX_ONCALL_RANGE:
            raise invalid("On-call queries are limited to a 90 day range.")
        policy_ids = set(_list(request, "escalation_policy_ids"))
        user_ids = set(_list(request, "user_ids"))
        schedule_ids = set(_list(request, "schedule_ids"))
        earliest = _bool_param(request, "earliest")
        limit, offset, want_total = _page_params(request)
        entries = [
            entry
            for entry in world.oncalls(since, until)
            if (not policy_ids or entry.policy.id in policy_ids)
            and (not user_ids or entry.user.id in user_ids)
            and (not schedule_ids or entry.schedule.id in schedule_ids)
        ]
        if earliest:
            seen: set[tuple[str, int, str]] = set()
            firsts = []
            for entry in entries:
                key = (entry.policy.id, entry.level, entry.user.id)
                if key not in seen:
                    seen.add(key)
                    firsts.append(entry)
            entries = firsts
        page, meta = _paginate(entries, limit, offset, want_total)
        render = _Render(world, ctx.base_url, _list(request, "include"))
        return _reply(request, 200, {"oncalls": [render.oncall(e) for e in page], **meta})

    def _get_me(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        render = _Render(world, ctx.base_url, ())
        return _reply(request, 200, {"user": render.user(world.me)})

    def _list_users(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        query = (request.first("query") or "").strip().lower()
        team_ids = set(_list(request, "team_ids"))
        limit, offset, want_total = _page_params(request)
        users = [
            user
            for user in world.users.values()
            if (not query or query in user.name.lower() or query in user.email.lower())
            and (not team_ids or world.team.id in team_ids)
        ]
        page, meta = _paginate(users, limit, offset, want_total)
        render = _Render(world, ctx.base_url, ())
        return _reply(request, 200, {"users": [render.user(u) for u in page], **meta})

    def _list_policies(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.pagerduty
        query = (request.first("query") or "").strip().lower()
        user_ids = set(_list(request, "user_ids"))
        team_ids = set(_list(request, "team_ids"))
        sort_by = request.first("sort_by") or "name"
        if sort_by not in ("name", "name:asc", "name:desc"):
            raise invalid("Sort by must be one of name, name:asc, name:desc.")
        limit, offset, want_total = _page_params(request)

        def targets(policy: EscalationPolicy) -> set[str]:
            return {
                user_id
                for rule in policy.rules
                for user_id in world.schedules[rule.schedule_id].rotation
            }

        policies = [
            policy
            for policy in world.policies.values()
            if (not query or query in policy.name.lower())
            and (not user_ids or user_ids & targets(policy))
            and (not team_ids or world.team.id in team_ids)
        ]
        policies.sort(key=lambda p: p.name.lower(), reverse=sort_by == "name:desc")
        page, meta = _paginate(policies, limit, offset, want_total)
        render = _Render(world, ctx.base_url, ())
        body = {"escalation_policies": [render.policy(p) for p in page], **meta}
        return _reply(request, 200, body)

    # ------------------------------------------------------------------ control

    def _control_trigger(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        try:
            payload = request.json() if request.body.strip() else {}
        except ValueError:
            raise ValueError("the body must be JSON") from None
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(payload) - {"title", "urgency", "service"}
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        for key, value in payload.items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
        world = ctx.world.pagerduty
        incident = world.trigger_now(
            title=payload.get("title"),
            urgency=payload.get("urgency"),
            service=payload.get("service"),
        )
        render = _Render(world, ctx.base_url, ())
        return SimResponse.json_body(201, {"incident": render.incident(incident)})


def _auth_error() -> ApiError:
    return ApiError(401, "Authentication failed", 2006)


def _forbidden() -> ApiError:
    return ApiError(403, "Access Denied", 2010)


def _reply(request: SimRequest, status: int, payload: Any) -> SimResponse:
    """JSON in the media type the client asked for: the SDK's Accept gets the vendor type."""
    accept = request.headers.get("Accept", "")
    media_type = VND_MEDIA_TYPE if "application/vnd.pagerduty+json" in accept else JSON_MEDIA_TYPE
    return SimResponse.json_body(status, payload, media_type)


# --------------------------------------------------------------------------- parameters


def _list(request: SimRequest, name: str) -> list[str]:
    """Values of `name[]`. A bare `name=` is ignored, exactly as PagerDuty ignores it."""
    return [value for value in request.query.get(f"{name}[]", []) if value != ""]


def _enum_list(request: SimRequest, name: str, allowed: Sequence[str], message: str) -> list[str]:
    values = _list(request, name)
    if any(value not in allowed for value in values):
        raise invalid(message)
    return values


def _int_param(request: SimRequest, name: str, default: int) -> int:
    value = request.first(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name.capitalize()} must be an integer.") from None


def _bool_param(request: SimRequest, name: str) -> bool:
    return (request.first(name) or "").strip().lower() == "true"


def _time_param(request: SimRequest, name: str) -> datetime | None:
    value = request.first(name)
    if value is None or value.strip() == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise ApiError(
            400,
            "Invalid 'since' or 'until' Parameter Values",
            2004,
            [f"{name.capitalize()} is not a valid ISO 8601 date."],
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _page_params(request: SimRequest) -> tuple[int, int, bool]:
    """Classic pagination, as PagerDuty applies it: limit clamped to 1..100."""
    limit = max(1, min(_int_param(request, "limit", DEFAULT_LIMIT), MAX_LIMIT))
    offset = _int_param(request, "offset", 0)
    if offset < 0:
        raise invalid("Offset must be a non-negative integer.")
    if offset + limit > ITERATION_LIMIT:
        raise invalid(f"Offset plus limit must not exceed {ITERATION_LIMIT}.")
    return limit, offset, _bool_param(request, "total")


def _paginate(
    items: Sequence[T], limit: int, offset: int, want_total: bool
) -> tuple[Sequence[T], dict[str, Any]]:
    page = items[offset : offset + limit]
    meta = {
        "limit": limit,
        "offset": offset,
        "more": offset + len(page) < len(items),
        "total": len(items) if want_total else None,
    }
    return page, meta


def _incident_window(request: SimRequest, now: datetime) -> tuple[datetime, datetime] | None:
    """The created-at range to list; PagerDuty's default is the last month."""
    if request.first("date_range") == "all":
        return None
    since = _time_param(request, "since")
    until = _time_param(request, "until")
    if since is None and until is None:
        return now - INCIDENT_RANGE, now + timedelta(seconds=1)
    until = until or now + timedelta(seconds=1)
    since = since or until - INCIDENT_RANGE
    if until < since:
        raise ApiError(400, "Invalid Query Date Range", 2005, ["Until must be after since."])
    if until - since > MAX_INCIDENT_RANGE:
        raise ApiError(
            400, "Invalid Query Date Range", 2005, ["The date range cannot exceed 6 months."]
        )
    return since, until


def _sort_keys(request: SimRequest) -> list[tuple[str, bool]]:
    raw = [part for value in request.query.get("sort_by", []) for part in value.split(",")]
    keys = []
    for part in (p.strip() for p in raw if p.strip()):
        field_name, _, direction = part.partition(":")
        if field_name not in SORT_FIELDS or direction not in ("", "asc", "desc"):
            raise invalid(f"Invalid sort_by value {part!r}.")
        keys.append((field_name, direction == "desc"))
    if len(keys) > 2:
        raise invalid("At most two sort_by fields are allowed.")
    return keys


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SORTERS: dict[str, Callable[[Incident], Any]] = {
    "incident_number": lambda i: i.number,
    "created_at": lambda i: i.created_at,
    "resolved_at": lambda i: i.resolved_at or _EPOCH,
    "urgency": lambda i: i.urgency,
}


def _json_body(request: SimRequest) -> Any:
    try:
        return request.json()
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None


# --------------------------------------------------------------------------- writes


@dataclass(frozen=True, slots=True)
class _Change:
    """One incident's requested update, validated against the world but not applied."""

    status: str | None = None
    escalation_level: int | None = None
    assignees: tuple[User, ...] | None = None
    policy: EscalationPolicy | None = None
    title: str | None = None
    urgency: str | None = None
    priority: Priority | None = None
    resolution: str | None = None


def _parse_change(body: dict[str, Any], world: PagerDutyWorld) -> _Change:
    if body.get("type") not in ("incident", "incident_reference"):
        raise invalid("Incident type must be incident or incident_reference.")
    status = body.get("status")
    if status is not None and status not in STATUSES:
        raise invalid("Status must be one of triggered, acknowledged, or resolved.")
    level = body.get("escalation_level")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool) or level < 1):
        raise invalid("Escalation level must be a positive integer.")
    assignees: tuple[User, ...] | None = None
    if "assignments" in body:
        assignments = body["assignments"]
        if not isinstance(assignments, list) or not assignments:
            raise invalid("Assignments must be a non-empty array.")
        found = []
        for assignment in assignments:
            assignee = assignment.get("assignee") if isinstance(assignment, dict) else None
            if not isinstance(assignee, dict) or assignee.get("type") not in (
                "user_reference",
                "user",
            ):
                raise invalid("Each assignment needs an assignee of type user_reference.")
            user = world.users.get(str(assignee.get("id")))
            if user is None:
                raise invalid(f"Assignee {assignee.get('id')} not found.")
            found.append(user)
        assignees = tuple(found)
    policy: EscalationPolicy | None = None
    if "escalation_policy" in body:
        reference = body["escalation_policy"]
        if not isinstance(reference, dict) or reference.get("type") not in (
            "escalation_policy_reference",
            "escalation_policy",
        ):
            raise invalid("Escalation policy must be an escalation_policy_reference.")
        policy = world.policies.get(str(reference.get("id")))
        if policy is None:
            raise invalid(f"Escalation policy {reference.get('id')} not found.")
    if assignees is not None and policy is not None:
        raise invalid("Specify either assignments or an escalation policy, not both.")
    title = body.get("title")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise invalid("Title must be a non-empty string.")
    urgency = body.get("urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise invalid("Urgency must be high or low.")
    priority: Priority | None = None
    if body.get("priority") is not None:
        reference = body["priority"]
        priority_id = reference.get("id") if isinstance(reference, dict) else reference
        priority = world.priorities.get(str(priority_id))
        if priority is None:
            raise invalid(f"Priority {priority_id} not found.")
    resolution = body.get("resolution")
    if resolution is not None and not isinstance(resolution, str):
        raise invalid("Resolution must be a string.")
    return _Change(status, level, assignees, policy, title, urgency, priority, resolution)


def _check_change(incident: Incident, change: _Change) -> None:
    """Refuse what the incident's state does not allow, before anything is applied."""
    if not incident.is_open:
        raise invalid("Incident Already Resolved")
    if change.escalation_level is not None:
        policy = change.policy or incident.policy
        if change.escalation_level > len(policy.rules):
            raise invalid(
                f"Escalation level must be between 1 and {len(policy.rules)} for this policy."
            )


def _apply_change(
    world: PagerDutyWorld, incident: Incident, change: _Change, user: User, now: datetime
) -> None:
    world.update_fields(
        incident, now, title=change.title, urgency=change.urgency, priority=change.priority
    )
    if change.policy is not None:
        world.reassign_policy(incident, change.policy, user, now)
    if change.assignees is not None:
        world.reassign_users(incident, change.assignees, user, now)
    if change.escalation_level is not None:
        world.escalate(incident, change.escalation_level, user, now)
    if change.status == "acknowledged":
        world.acknowledge(incident, user, now)
    elif change.status == "resolved":
        if change.resolution:
            world.add_note(incident, user, change.resolution, now)
        world.resolve(incident, ("user", user.id), now)
    elif change.status == "triggered":
        world.unacknowledge(incident, user, now)


# --------------------------------------------------------------------------- rendering


class _Render:
    """PagerDuty JSON for world objects; `include` expands references into full objects."""

    def __init__(self, world: PagerDutyWorld, base_url: str, include: Sequence[str]) -> None:
        self.world = world
        self.base = base_url
        self.include = set(include)
        self._service_status: dict[str, str] | None = None

    def _ref(
        self, type_: str, id_: str, summary: str, path: str, web: str | None
    ) -> dict[str, Any]:
        return {
            "id": id_,
            "type": type_,
            "summary": summary,
            "self": f"{self.base}{path}",
            "html_url": f"{WEB_URL}{web}" if web is not None else None,
        }

    def user_ref(self, user: User) -> dict[str, Any]:
        return self._ref(
            "user_reference", user.id, user.name, f"/users/{user.id}", f"/users/{user.id}"
        )

    def user(self, user: User) -> dict[str, Any]:
        avatar = hashlib.md5(user.email.encode(), usedforsecurity=False).hexdigest()
        return {
            **self._ref("user", user.id, user.name, f"/users/{user.id}", f"/users/{user.id}"),
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "color": user.color,
            "role": "user",
            "avatar_url": f"https://secure.gravatar.com/avatar/{avatar}.png?d=mm&r=PG",
            "invitation_sent": False,
            "job_title": user.job_title,
            "teams": [self.team_ref()],
            "contact_methods": [],
            "notification_rules": [],
        }

    def team_ref(self) -> dict[str, Any]:
        team = self.world.team
        return self._ref(
            "team_reference", team.id, team.name, f"/teams/{team.id}", f"/teams/{team.id}"
        )

    def team(self) -> dict[str, Any]:
        team = self.world.team
        return {
            **self._ref("team", team.id, team.name, f"/teams/{team.id}", f"/teams/{team.id}"),
            "name": team.name,
            "description": "Claims, benefits integration and contention services.",
        }

    def service_ref(self, service: Service) -> dict[str, Any]:
        web = f"/service-directory/{service.id}"
        return self._ref(
            "service_reference", service.id, service.name, f"/services/{service.id}", web
        )

    def service(self, service: Service) -> dict[str, Any]:
        if self._service_status is None:
            status: dict[str, str] = {}
            for incident in self.world.incidents.values():
                if incident.status == "triggered":
                    status[incident.service.id] = "critical"
                elif incident.status == "acknowledged":
                    status.setdefault(incident.service.id, "warning")
            self._service_status = status
        web = f"/service-directory/{service.id}"
        body: dict[str, Any] = {
            **self._ref("service", service.id, service.name, f"/services/{service.id}", web),
            "name": service.name,
            "description": f"{service.name} in production",
            "created_at": iso(service.created_at),
            "status": self._service_status.get(service.id, "active"),
            "escalation_policy": self.policy_ref(self.world.policies[service.policy_id]),
            "teams": [self.team_ref()],
            "integrations": [],
            "alert_creation": "create_alerts_and_incidents",
        }
        if self.world.knobs.auto_resolve:
            body["auto_resolve_timeout"] = 14400
        return body

    def policy_ref(self, policy: EscalationPolicy) -> dict[str, Any]:
        path = f"/escalation_policies/{policy.id}"
        return self._ref("escalation_policy_reference", policy.id, policy.name, path, path)

    def policy(self, policy: EscalationPolicy) -> dict[str, Any]:
        path = f"/escalation_policies/{policy.id}"
        return {
            **self._ref("escalation_policy", policy.id, policy.name, path, path),
            "name": policy.name,
            "description": f"{policy.name} on-call rotation",
            "num_loops": 0,
            "on_call_handoff_notifications": "if_has_services",
            "escalation_rules": [
                {
                    "id": rule.id,
                    "escalation_delay_in_minutes": rule.delay_minutes,
                    "targets": [self.schedule_ref(rule.schedule_id)],
                }
                for rule in policy.rules
            ],
            "services": [
                self.service_ref(s)
                for s in self.world.services.values()
                if s.policy_id == policy.id
            ],
            "teams": [self.team_ref()],
        }

    def schedule_ref(self, schedule_id: str) -> dict[str, Any]:
        schedule = self.world.schedules[schedule_id]
        path = f"/schedules/{schedule.id}"
        return self._ref("schedule_reference", schedule.id, schedule.name, path, path)

    def priority(self, priority: Priority) -> dict[str, Any]:
        return {
            **self._ref("priority", priority.id, priority.name, f"/priorities/{priority.id}", None),
            "name": priority.name,
            "color": priority.color,
        }

    def incident_ref(self, incident: Incident) -> dict[str, Any]:
        path = f"/incidents/{incident.id}"
        summary = f"[#{incident.number}] {incident.title}"
        return self._ref("incident_reference", incident.id, summary, path, path)

    def agent(self, kind: str, agent_id: str, full: bool) -> dict[str, Any]:
        if kind == "user":
            user = self.world.users[agent_id]
            return self.user(user) if full else self.user_ref(user)
        service = self.world.services[agent_id]
        return self.service(service) if full else self.service_ref(service)

    def incident(self, incident: Incident) -> dict[str, Any]:
        include = self.include
        users = "users" in include
        path = f"/incidents/{incident.id}"
        first = incident.log_entries[0]
        pending: list[dict[str, Any]] = []
        if incident.escalate_at is not None and incident.status == "triggered":
            pending.append({"type": "escalate", "at": iso(incident.escalate_at)})
        if incident.snoozed_until is not None:
            pending.append({"type": "unacknowledge", "at": iso(incident.snoozed_until)})
        if incident.auto_resolve_at is not None and incident.is_open:
            pending.append({"type": "resolve", "at": iso(incident.auto_resolve_at)})
        body: dict[str, Any] = {
            **self._ref(
                "incident", incident.id, f"[#{incident.number}] {incident.title}", path, path
            ),
            "incident_number": incident.number,
            "title": incident.title,
            # Real teams put the runbook in the description; the detail view links it.
            "description": (
                f"{incident.title}\nRunbook: "
                f"https://runbooks.benefits.example.com/{incident.service.name}"
            ),
            "created_at": iso(incident.created_at),
            "updated_at": iso(incident.updated_at),
            "status": incident.status,
            "incident_key": incident.incident_key,
            "service": (
                self.service(incident.service)
                if "services" in include
                else self.service_ref(incident.service)
            ),
            "assignments": [
                {
                    "at": iso(at),
                    "assignee": self.agent("user", user_id, users or "assignees" in include),
                }
                for user_id, at in incident.assignments
            ],
            "assigned_via": incident.assigned_via,
            "last_status_change_at": iso(incident.last_status_change_at),
            "first_trigger_log_entry": (
                self.log_entry(incident, first)
                if "first_trigger_log_entries" in include
                else self._ref(
                    "trigger_log_entry_reference",
                    first.id,
                    first.summary,
                    f"/log_entries/{first.id}?incident_id={incident.id}",
                    f"{path}/log_entries/{first.id}",
                )
            ),
            "alert_counts": {
                "all": 1,
                "triggered": 1 if incident.is_open else 0,
                "resolved": 0 if incident.is_open else 1,
            },
            "is_mergeable": True,
            "incident_type": {"name": "incident_default"},
            "escalation_policy": (
                self.policy(incident.policy)
                if "escalation_policies" in include
                else self.policy_ref(incident.policy)
            ),
            "teams": [self.team() if "teams" in include else self.team_ref()],
            "pending_actions": pending,
            "acknowledgements": [
                {
                    "at": iso(at),
                    "acknowledger": self.agent(
                        "user", user_id, users or "acknowledgers" in include
                    ),
                }
                for user_id, at in incident.acknowledgements
            ],
            "last_status_change_by": self.agent(
                *incident.last_status_change_by, full="agents" in include
            ),
            "urgency": incident.urgency,
            "incidents_responders": [],
            "responder_requests": [],
        }
        # The spec types resolved_at and priority as non-null objects/strings, so they are
        # left out (rather than sent as null) while they have no value.
        if incident.resolved_at is not None:
            body["resolved_at"] = iso(incident.resolved_at)
        if incident.priority is not None:
            body["priority"] = self.priority(incident.priority)
        return body

    def log_entry(self, incident: Incident, entry: LogEntry) -> dict[str, Any]:
        web = f"/incidents/{incident.id}/log_entries/{entry.id}"
        body: dict[str, Any] = {
            **self._ref(
                entry.type,
                entry.id,
                entry.summary,
                f"/log_entries/{entry.id}?incident_id={incident.id}",
                web,
            ),
            "created_at": iso(entry.at),
            "channel": {"type": entry.channel},
            "service": self.service_ref(incident.service),
            "incident": self.incident_ref(incident),
            "teams": [self.team_ref()],
            "contexts": [],
        }
        if entry.agent is not None:
            body["agent"] = self.agent(*entry.agent, full=False)
        if entry.user_id is not None:
            body["user"] = self.user_ref(self.world.users[entry.user_id])
        if entry.type in ("escalate_log_entry", "assign_log_entry"):
            body["assignees"] = [self.user_ref(self.world.users[u]) for u in entry.assignee_ids]
        if entry.note is not None:
            body["channel"]["summary"] = entry.note
        if entry.type == "trigger_log_entry":
            body["event_details"] = {"description": incident.title}
        return body

    def note(self, note: Note) -> dict[str, Any]:
        return {
            "id": note.id,
            "user": self.user_ref(self.world.users[note.user_id]),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": note.content,
            "created_at": iso(note.at),
        }

    def oncall(self, entry: OnCallEntry) -> dict[str, Any]:
        return {
            "escalation_policy": self.policy_ref(entry.policy),
            "escalation_level": entry.level,
            "schedule": self.schedule_ref(entry.schedule.id),
            "user": self.user(entry.user) if "users" in self.include else self.user_ref(entry.user),
            "start": iso(entry.start),
            "end": iso(entry.end),
        }
