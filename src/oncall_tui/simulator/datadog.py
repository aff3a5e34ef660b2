"""Datadog API for the simulator: monitor search (v1) and downtimes (v2), as the real API does.

Answers follow `../shared/specs/datadog-v1.yaml` for the v1 monitor endpoints and the
recorded v2 cassettes (`../shared/specs/datadog-recorded/`) plus the `datadog_api_client.v2`
models for downtimes, down to the fields the real API sends beyond the description (a
search result's `priority` and `overall_state_modified`, a group's `muted_until_ts`).
Habits clients trip on are kept: both `DD-API-KEY` and `DD-APPLICATION-KEY` are required
and anything else is a 403 `{"errors": ["Forbidden"]}`; search pages by `page` (from 0)
and `per_page`, with `metadata.page_count`; `X-RateLimit-*` headers on every answer;
cancelling a downtime answers 204 with an empty `text/html` body, twice in a row too.
State lives in `datadog_world`; this module is only the HTTP face.

`POST /_sim/datadog/lose_answers {"writes": N}` applies the next N writes and answers them
500 (an answer lost on its way back), so retries can be tested for duplicates.
"""

from __future__ import annotations

import fnmatch
import hmac
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncall_tui.simulator.datadog_world import (
    NOTIFY_END_STATES,
    NOTIFY_END_TYPES,
    ORG_ID,
    SITE,
    STATES,
    DatadogWorld,
    DdUser,
    Downtime,
    Group,
    SimMonitor,
    epoch,
    iso_micro,
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

JSON_MEDIA_TYPE = "application/json"
DEFAULT_APP_KEY = "sim-dd-app-key"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
"""Larger `per_page` values are cut to this; `metadata.per_page` says what was used."""
DEFAULT_PAGE_LIMIT = 30
MAX_PAGE_LIMIT = 100
RATE_LIMIT_NAME = "monitors"
DEFAULT_QUERY = "tag:team:benefits"
"""The query a cockpit config pointed at the simulator watches."""
PERMISSION_DENIED = "Failed permission authorization checks"
"""Datadog's 403 reason when the keys are good but lack the permission (scope)."""
SORT_FIELDS = ("name", "status", "tags", "id", "priority")
TAG_FACETS = ("service", "env", "team")
"""Attributes the search treats as tag facets: `team:benefits` is `tag:team:benefits`."""


class ApiError(Exception):
    """An answer in Datadog's error format, `{"errors": [...]}`."""

    def __init__(self, status: int, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.status = status
        self.errors = list(errors)

    def payload(self) -> dict[str, Any]:
        return {"errors": self.errors}


def _forbidden() -> ApiError:
    return ApiError(403, "Forbidden")


def _bad_request(*errors: str) -> ApiError:
    return ApiError(400, *errors)


def _not_found(what: str = "Not found") -> ApiError:
    return ApiError(404, what)


Handler = Callable[[SimRequest, RequestContext, re.Match[str]], SimResponse]


class DatadogApp:
    """The Datadog provider: routes, auth, faults and rate-limit headers."""

    name = "datadog"
    rate_limit = 1000

    def __init__(self, app_key: str = DEFAULT_APP_KEY) -> None:
        self.app_key = app_key
        """The application key the simulator accepts; the API key is `Simulator.tokens`'."""
        self.lose_write_answers = 0
        """The next this many writes (POST, DELETE) are applied, then answered 500, as when
        the answer is lost on the way back: the client cannot tell that they landed."""
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/api/v1/monitor/search"), self._search_monitors),
            ("GET", re.compile(r"/api/v1/monitor/groups/search"), self._search_groups),
            ("GET", re.compile(r"/api/v1/monitor/(?P<id>[^/]+)"), self._get_monitor),
            ("GET", re.compile(r"/api/v2/downtime"), self._list_downtimes),
            ("POST", re.compile(r"/api/v2/downtime"), self._create_downtime),
            ("GET", re.compile(r"/api/v2/downtime/(?P<id>[^/]+)"), self._get_downtime),
            ("DELETE", re.compile(r"/api/v2/downtime/(?P<id>[^/]+)"), self._cancel_downtime),
            (
                "GET",
                re.compile(r"/api/v2/monitor/(?P<id>[^/]+)/downtime_matches"),
                self._downtime_matches,
            ),
        ]

    # ------------------------------------------------------------------ ProviderApp

    def handle(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        try:
            self._authenticate(request, ctx)
            path = request.path.rstrip("/") or "/"
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(path)
                if match is not None and method == request.method:
                    response = handler(request, ctx, match)
                    lost = request.method != "GET" and response.status < 300
                    if lost and self.lose_write_answers > 0:
                        self.lose_write_answers -= 1
                        return self.fault_response("500", ctx, 0)
                    return response
            raise _not_found()
        except ApiError as error:
            return SimResponse.json_body(error.status, error.payload(), JSON_MEDIA_TYPE)

    def fault_response(self, mode: str, ctx: RequestContext, retry_after: int) -> SimResponse:
        if mode == "429":
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Period": "60",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(retry_after),
                "X-RateLimit-Name": RATE_LIMIT_NAME,
            }
            error = ApiError(429, "Too many requests")
            return SimResponse.json_body(429, error.payload(), JSON_MEDIA_TYPE, headers)
        if mode == "401":
            # Datadog answers a bad or missing key with 403 Forbidden, never 401.
            return SimResponse.json_body(403, _forbidden().payload(), JSON_MEDIA_TYPE)
        if mode == "403":
            # Good keys, but the application key's scopes (or its user's role) do not
            # allow the call: Datadog says so in the errors list.
            error = ApiError(403, PERMISSION_DENIED)
            return SimResponse.json_body(403, error.payload(), JSON_MEDIA_TYPE)
        if mode in ("502", "503"):
            # Datadog's edge answers gateway failures in JSON, with the usual `errors`
            # list plus where to look (as reported in DataDog/documentation#9470).
            reason = "Bad Gateway" if mode == "502" else "Service Unavailable"
            body = {
                "status": "error",
                "code": int(mode),
                "errors": [reason],
                "statuspage": "http://status.datadoghq.com",
                "twitter": "http://twitter.com/datadogops",
                "email": "support@datadoghq.com",
            }
            return SimResponse.json_body(int(mode), body, JSON_MEDIA_TYPE)
        error = ApiError(500, "Internal Server Error")
        return SimResponse.json_body(500, error.payload(), JSON_MEDIA_TYPE)

    def rate_limit_headers(self, state: RateState) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(state.limit),
            "X-RateLimit-Period": "60",
            "X-RateLimit-Remaining": str(state.remaining),
            "X-RateLimit-Reset": str(state.reset),
            "X-RateLimit-Name": RATE_LIMIT_NAME,
        }

    def control_routes(self) -> Mapping[tuple[str, str], ControlHandler]:
        return {
            ("POST", "/_sim/datadog/monitor_state"): self._control_monitor_state,
            ("POST", "/_sim/datadog/lose_answers"): self._control_lose_answers,
        }

    def config_section(self, simulator: Simulator, ca_bundle: Path) -> dict[str, ConfigValue]:
        return {
            "site": SITE,
            "base_url": simulator.provider_url(self.name),
            "ca_bundle": str(ca_bundle),
            "api_key": simulator.tokens[self.name],
            "app_key": self.app_key,
            "query": DEFAULT_QUERY,
        }

    # ------------------------------------------------------------------ helpers

    def _authenticate(self, request: SimRequest, ctx: RequestContext) -> None:
        api_key = request.headers.get("DD-API-KEY", "")
        app_key = request.headers.get("DD-APPLICATION-KEY", "")
        if not (
            ctx.token
            and hmac.compare_digest(api_key.encode(), ctx.token.encode())
            and self.app_key
            and hmac.compare_digest(app_key.encode(), self.app_key.encode())
        ):
            raise _forbidden()

    # ------------------------------------------------------------------ v1 monitors

    def _search_monitors(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        terms = parse_query(request.first("query") or "")
        matches = [m for m in world.monitors.values() if _monitor_matches(world, m, terms)]
        _sort(matches, request.first("sort"), _monitor_sort_key)
        page, per_page = _page_params(request)
        chosen = matches[page * per_page : (page + 1) * per_page]
        render = _Render(world, ctx.now)
        body = {
            "counts": {
                "status": _facet(m.overall_state for m in matches),
                "muted": _facet(world.is_muted(m) for m in matches),
                "tag": _facet(tag for m in matches for tag in m.tags),
                "type": _facet(m.classification for m in matches),
            },
            "metadata": _metadata(len(matches), page, per_page),
            "monitors": [render.search_result(m) for m in chosen],
        }
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    def _search_groups(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        terms = parse_query(request.first("query") or "")
        rows = [
            (monitor, group)
            for monitor in world.monitors.values()
            for group in monitor.groups.values()
            if _group_matches(world, monitor, group, terms)
        ]
        _sort(rows, request.first("sort"), _group_sort_key)
        page, per_page = _page_params(request)
        chosen = rows[page * per_page : (page + 1) * per_page]
        render = _Render(world, ctx.now)
        muted = {monitor.id: world.muted_groups(monitor) for monitor, _ in rows}
        body = {
            "counts": {
                "status": _facet(group.status for _, group in rows),
                "muted": _facet(group.name in muted[monitor.id] for monitor, group in rows),
                "tag": _facet(tag for monitor, _ in rows for tag in monitor.tags),
                "type": _facet(monitor.classification for monitor, _ in rows),
            },
            "groups": [render.group_result(monitor, group) for monitor, group in chosen],
            "metadata": _metadata(len(rows), page, per_page),
        }
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    def _get_monitor(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        monitor = world.monitor(_int_id(match["id"], "monitor_id"))
        if monitor is None:
            raise _not_found("Monitor not found")
        group_states = request.first("group_states")
        with_downtimes = _bool_param(request, "with_downtimes")
        render = _Render(world, ctx.now)
        body = render.monitor(monitor, group_states=group_states, with_downtimes=with_downtimes)
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    # ------------------------------------------------------------------ v2 downtimes

    def _list_downtimes(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        current_only = _bool_param(request, "current_only")
        include = _include(request)
        offset, limit = _offset_params(request)
        downtimes = [
            d
            for d in sorted(world.downtimes.values(), key=lambda d: (d.created, d.id))
            if not current_only or d.status(ctx.now) == "active"
        ]
        chosen = downtimes[offset : offset + limit]
        render = _Render(world, ctx.now)
        body: dict[str, Any] = {
            "data": [render.downtime(d) for d in chosen],
            "meta": {"page": {"total_filtered_count": len(downtimes)}},
        }
        if include:
            body["included"] = render.included(chosen, include)
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    def _get_downtime(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        downtime = world.downtimes.get(match["id"])
        if downtime is None:
            raise _not_found("Downtime not found")
        include = _include(request)
        render = _Render(world, ctx.now)
        body: dict[str, Any] = {"data": render.downtime(downtime)}
        if include:
            body["included"] = render.included([downtime], include)
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    def _create_downtime(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        attributes = _downtime_attributes(request)
        try:
            downtime = world.schedule_downtime(**attributes)
        except ValueError as error:
            raise _bad_request(str(error)) from None
        render = _Render(world, ctx.now)
        # As recorded: the answer includes the creator without being asked to.
        body = {
            "data": render.downtime(downtime),
            "included": render.included([downtime], ("created_by",)),
        }
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    def _cancel_downtime(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        try:
            ctx.world.datadog.cancel_downtime(match["id"])
        except KeyError:
            raise _not_found("Downtime not found") from None
        # As recorded: 204 with an empty body labelled text/html.
        return SimResponse(204, Headers({"Content-Type": "text/html; charset=utf-8"}), b"")

    def _downtime_matches(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.datadog
        monitor = world.monitor(_int_id(match["id"], "monitor_id"))
        if monitor is None:
            raise _not_found("Monitor not found")
        offset, limit = _offset_params(request)
        matches = [
            (downtime, groups)
            for downtime in sorted(world.downtimes.values(), key=lambda d: (d.start, d.id))
            if downtime.status(ctx.now) in ("active", "scheduled")
            for groups in [downtime.groups_of(monitor)]
            if groups
        ]
        body = {
            "data": [
                {
                    "type": "downtime_match",
                    "id": downtime.id,
                    "attributes": {
                        "groups": groups,
                        "scope": downtime.scope,
                        "start": iso_micro(downtime.start),
                        "end": iso_micro(downtime.end) if downtime.end else None,
                    },
                }
                for downtime, groups in matches[offset : offset + limit]
            ],
            "meta": {"page": {"total_filtered_count": len(matches)}},
        }
        return SimResponse.json_body(200, body, JSON_MEDIA_TYPE)

    # ------------------------------------------------------------------ control API

    def _control_monitor_state(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        try:
            payload = request.json()
        except ValueError:
            raise ValueError("the body must be JSON") from None
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(payload) - {"monitor_id", "status", "group", "hold"}
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        monitor_id = payload.get("monitor_id")
        if not isinstance(monitor_id, int) or isinstance(monitor_id, bool):
            raise ValueError("monitor_id must be an integer")
        status = payload.get("status")
        if not isinstance(status, str):
            raise ValueError(f"status must be one of {', '.join(STATES)}")
        group = payload.get("group")
        if group is not None and not isinstance(group, str):
            raise ValueError("group must be a string")
        hold = payload.get("hold", 3600)
        if not isinstance(hold, int | float) or isinstance(hold, bool):
            raise ValueError("hold must be a number of seconds")
        world = ctx.world.datadog
        monitor = world.force_state(monitor_id, status, group, float(hold))
        render = _Render(world, ctx.now)
        return SimResponse.json_body(200, {"monitor": render.search_result(monitor)})

    def _control_lose_answers(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        """`POST /_sim/datadog/lose_answers {"writes": N}`: apply the next N writes, then
        answer 500, so the cockpit's retry has to notice that they landed."""
        try:
            payload = request.json()
        except ValueError:
            raise ValueError("the body must be JSON") from None
        writes = payload.get("writes") if isinstance(payload, dict) else None
        if not isinstance(writes, int) or isinstance(writes, bool) or writes < 0:
            raise ValueError('the body must be {"writes": N} with N >= 0')
        self.lose_write_answers = writes
        return SimResponse.json_body(200, {"lose_write_answers": writes})


# --------------------------------------------------------------------------- search query


@dataclass(frozen=True, slots=True)
class Term:
    """One search term: `key:value`, `key:(a OR b)`, or free text (`key` None)."""

    key: str | None
    values: tuple[str, ...]
    negated: bool = False


def _tokens(text: str) -> list[str]:
    """Split on spaces outside quotes and parentheses."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth = max(0, depth - 1)
        if char.isspace() and not quoted and depth == 0:
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if quoted or depth:
        raise _bad_request("Invalid query: unbalanced quotes or parentheses")
    if current:
        tokens.append("".join(current))
    return tokens


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_query(text: str) -> list[Term]:
    """The subset of Datadog's monitor search syntax the simulator understands.

    Space-separated terms are ANDed: free text (matched against names), `key:value`,
    `key:"quoted value"`, `key:(a OR b)`, and `-key:value` (or `NOT key:value`) to negate.
    """
    terms: list[Term] = []
    negate_next = False
    for token in _tokens(text):
        if token == "AND":
            continue
        if token == "NOT":
            negate_next = True
            continue
        if token == "OR":
            raise _bad_request("Invalid query: OR is only simulated inside key:(a OR b)")
        negated = negate_next or token.startswith(("-", "!"))
        negate_next = False
        if token.startswith(("-", "!")):
            token = token[1:]
        key, colon, rest = token.partition(":")
        if colon and key and '"' not in key and "(" not in key:
            if rest.startswith("(") and rest.endswith(")"):
                values = tuple(
                    _unquote(v) for v in re.split(r"\s+OR\s+", rest[1:-1].strip()) if v.strip()
                )
            else:
                values = (_unquote(rest),)
            terms.append(Term(key.lower(), values, negated))
        else:
            terms.append(Term(None, (_unquote(token),), negated))
    return terms


def _status_value(value: str) -> str:
    for state in STATES:
        if state.lower() == value.lower():
            return state
    if value.lower() in ("ignored", "skipped", "unknown"):
        return value.title()
    raise _bad_request(f"Invalid query: unknown status '{value}'")


def _tag_matches(pattern: str, tags: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(tag, pattern) for tag in tags)


def _type_matches(value: str, monitor: SimMonitor) -> bool:
    wanted = value.lower()
    return wanted in (
        monitor.type,
        monitor.type.removesuffix(" alert"),
        monitor.classification,
    )


def _monitor_term(world: DatadogWorld, monitor: SimMonitor, term: Term, value: str) -> bool:
    key = term.key
    if key is None:
        return value.lower() in monitor.name.lower()
    if key == "tag":
        return _tag_matches(value, monitor.tags)
    if key in TAG_FACETS:
        return _tag_matches(f"{key}:{value}", monitor.tags)
    if key == "status":
        return monitor.overall_state == _status_value(value)
    if key == "type":
        return _type_matches(value, monitor)
    if key == "muted":
        return world.is_muted(monitor) == (_bool_text(value, "muted"))
    if key == "id":
        return monitor.id == _int_id(value, "id")
    if key == "priority":
        return monitor.priority == _int_id(value.lower().removeprefix("p"), "priority")
    if key in ("title", "name"):
        return value.lower() in monitor.name.lower()
    raise _bad_request(f"Invalid query: unknown attribute '{key}'")


def _monitor_matches(world: DatadogWorld, monitor: SimMonitor, terms: Sequence[Term]) -> bool:
    for term in terms:
        hit = any(_monitor_term(world, monitor, term, value) for value in term.values)
        if hit == term.negated:
            return False
    return True


def _group_term(
    world: DatadogWorld, monitor: SimMonitor, group: Group, term: Term, value: str
) -> bool:
    key = term.key
    if key is None:
        text = value.lower()
        return text in monitor.name.lower() or text in group.name.lower()
    if key in ("status", "group_status"):
        return group.status == _status_value(value)
    if key == "tag":
        return _tag_matches(value, (*monitor.tags, *group.tags))
    if key in TAG_FACETS:
        return _tag_matches(f"{key}:{value}", (*monitor.tags, *group.tags))
    if key == "group":
        return _tag_matches(value, group.tags) or value == group.name
    if key == "monitor_id":
        return monitor.id == _int_id(value, "monitor_id")
    if key == "muted":
        return (group.name in world.muted_groups(monitor)) == _bool_text(value, "muted")
    return _monitor_term(world, monitor, term, value)


def _group_matches(
    world: DatadogWorld, monitor: SimMonitor, group: Group, terms: Sequence[Term]
) -> bool:
    for term in terms:
        hit = any(_group_term(world, monitor, group, term, value) for value in term.values)
        if hit == term.negated:
            return False
    return True


# --------------------------------------------------------------------------- parameters


def _int_id(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _bad_request(f"Invalid {name}: '{value}' is not an integer") from None


def _bool_text(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad_request(f"Invalid {name}: expected true or false, got '{value}'")


def _bool_param(request: SimRequest, name: str) -> bool:
    value = request.first(name)
    return False if value is None or value == "" else _bool_text(value, name)


def _int_param(request: SimRequest, name: str, default: int) -> int:
    value = request.first(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise _bad_request(f"Invalid {name}: '{value}' is not an integer") from None


def _page_params(request: SimRequest) -> tuple[int, int]:
    page = _int_param(request, "page", 0)
    per_page = _int_param(request, "per_page", DEFAULT_PER_PAGE)
    if page < 0:
        raise _bad_request("page must be >= 0")
    if per_page < 1:
        raise _bad_request("per_page must be >= 1")
    return page, min(per_page, MAX_PER_PAGE)


def _offset_params(request: SimRequest) -> tuple[int, int]:
    offset = _int_param(request, "page[offset]", 0)
    limit = _int_param(request, "page[limit]", DEFAULT_PAGE_LIMIT)
    if offset < 0:
        raise _bad_request("page[offset] must be >= 0")
    if limit < 1:
        raise _bad_request("page[limit] must be >= 1")
    return offset, min(limit, MAX_PAGE_LIMIT)


def _include(request: SimRequest) -> tuple[str, ...]:
    raw = request.first("include") or ""
    wanted = tuple(part.strip() for part in raw.split(",") if part.strip())
    for part in wanted:
        if part not in ("created_by", "monitor"):
            raise _bad_request(f"Invalid include '{part}': use created_by, monitor")
    return wanted


def _metadata(total: int, page: int, per_page: int) -> dict[str, int]:
    return {
        "page": page,
        "page_count": math.ceil(total / per_page),
        "per_page": per_page,
        "total_count": total,
    }


def _facet(values: Iterable[Any]) -> list[dict[str, Any]]:
    counts = Counter(values)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [{"count": count, "name": name} for name, count in ordered]


def _monitor_sort_key(field: str) -> Callable[[SimMonitor], Any]:
    if field == "name":
        return lambda m: m.name.lower()
    if field == "status":
        return lambda m: _state_rank(m.overall_state)
    if field == "tags":
        return lambda m: ",".join(sorted(m.tags))
    if field == "priority":
        return lambda m: m.priority or 9
    return lambda m: m.id


def _group_sort_key(field: str) -> Callable[[tuple[SimMonitor, Group]], Any]:
    if field == "name":
        return lambda row: (row[0].name.lower(), row[1].name)
    if field == "status":
        return lambda row: _state_rank(row[1].status)
    if field == "tags":
        return lambda row: ",".join(sorted(row[0].tags))
    if field == "priority":
        return lambda row: row[0].priority or 9
    return lambda row: (row[0].id, row[1].name)


def _state_rank(state: str) -> int:
    return STATES.index(state) if state in STATES else len(STATES)


def _sort(
    items: list[Any], sort: str | None, key_of: Callable[[str], Callable[[Any], Any]]
) -> None:
    """Sort in place by `field,asc|desc`; without one, worst status first, then name."""
    items.sort(key=key_of("id"))
    if not sort:
        items.sort(key=key_of("name"))
        items.sort(key=key_of("status"))
        return
    field, _, direction = sort.partition(",")
    field = field.strip()
    direction = (direction or "asc").strip().lower()
    if field not in SORT_FIELDS or direction not in ("asc", "desc"):
        raise _bad_request(
            f"Invalid sort '{sort}': use one of {', '.join(SORT_FIELDS)} with asc or desc"
        )
    items.sort(key=key_of(field), reverse=direction == "desc")


# --------------------------------------------------------------------------- downtime body


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad_request(f"{name} must be an ISO 8601 date-time or null")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad_request(f"{name} must be an ISO 8601 date-time, got '{value}'") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _enum_list(value: Any, name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad_request(f"{name} must be a list of strings")
    for item in value:
        if item not in allowed:
            raise _bad_request(f"{name}: '{item}' is not one of {', '.join(allowed)}")
    return tuple(value)


_CREATE_ATTRIBUTES = {
    "display_timezone",
    "message",
    "monitor_identifier",
    "mute_first_recovery_notification",
    "notify_end_states",
    "notify_end_types",
    "schedule",
    "scope",
}


def _downtime_attributes(request: SimRequest) -> dict[str, Any]:
    """Validate a `POST /api/v2/downtime` body into `DatadogWorld.schedule_downtime` args."""
    try:
        body = request.json()
    except ValueError:
        raise _bad_request("The body must be JSON") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != "downtime":
        raise _bad_request("data must be an object of type 'downtime'")
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise _bad_request("data.attributes must be an object")
    unknown = set(attributes) - _CREATE_ATTRIBUTES
    if unknown:
        raise _bad_request(f"Unknown attributes: {', '.join(sorted(unknown))}")
    scope = attributes.get("scope")
    if not isinstance(scope, str) or not scope.strip():
        raise _bad_request("scope is required (use '*' for everything)")
    identifier = attributes.get("monitor_identifier")
    if not isinstance(identifier, dict) or len(identifier) != 1:
        raise _bad_request("monitor_identifier must have exactly one of monitor_id, monitor_tags")
    monitor_id: int | None = None
    monitor_tags: tuple[str, ...] = ()
    if "monitor_id" in identifier:
        value = identifier["monitor_id"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise _bad_request("monitor_identifier.monitor_id must be an integer")
        monitor_id = value
    elif "monitor_tags" in identifier:
        tags = identifier["monitor_tags"]
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
            raise _bad_request("monitor_identifier.monitor_tags must be a non-empty list")
        monitor_tags = tuple(tags)
    else:
        raise _bad_request("monitor_identifier must have exactly one of monitor_id, monitor_tags")
    message = attributes.get("message")
    if message is not None and not isinstance(message, str):
        raise _bad_request("message must be a string")
    schedule = attributes.get("schedule") or {}
    if not isinstance(schedule, dict):
        raise _bad_request("schedule must be an object")
    if "recurrences" in schedule:
        raise _bad_request("recurring downtimes are not simulated")
    extra = set(schedule) - {"start", "end"}
    if extra:
        raise _bad_request(f"Unknown schedule fields: {', '.join(sorted(extra))}")
    timezone = attributes.get("display_timezone") or "UTC"
    if not isinstance(timezone, str):
        raise _bad_request("display_timezone must be a string")
    first_recovery = attributes.get("mute_first_recovery_notification", False)
    if not isinstance(first_recovery, bool):
        raise _bad_request("mute_first_recovery_notification must be a boolean")
    states = attributes.get("notify_end_states", list(NOTIFY_END_STATES))
    types = attributes.get("notify_end_types", list(NOTIFY_END_TYPES))
    return {
        "monitor_id": monitor_id,
        "monitor_tags": monitor_tags,
        "scope": scope,
        "message": message or "",
        "start": _when(schedule.get("start"), "schedule.start"),
        "end": _when(schedule.get("end"), "schedule.end"),
        "display_timezone": timezone,
        "mute_first_recovery_notification": first_recovery,
        "notify_end_states": _enum_list(states, "notify_end_states", NOTIFY_END_STATES),
        "notify_end_types": _enum_list(types, "notify_end_types", NOTIFY_END_TYPES),
    }


# --------------------------------------------------------------------------- rendering


def _scopes(query: str) -> list[str]:
    """The tags a monitor query is scoped to, as search results list them."""
    braces = re.search(r"\{([^}]*)\}", query)
    if braces is not None:
        return [part.strip() for part in braces.group(1).split(",") if part.strip() != "*"]
    over = re.search(r"\.over\(([^)]*)\)", query)
    if over is not None:
        return [part.strip().strip('"') for part in over.group(1).split(",")]
    return []


class _Render:
    """Datadog JSON for world objects."""

    def __init__(self, world: DatadogWorld, now: datetime) -> None:
        self.world = world
        self.now = now

    def creator(self, user: DdUser) -> dict[str, Any]:
        return {"handle": user.handle, "id": user.id, "name": user.name}

    def _muted_until_ts(self, downtimes: Sequence[Downtime]) -> int | None:
        return epoch(self.world.muted_until(downtimes)) if downtimes else None

    def search_result(self, monitor: SimMonitor) -> dict[str, Any]:
        muted = self.world.is_muted(monitor)
        downtimes = self.world.downtimes_for(monitor) if muted else []
        team = monitor.team
        handle = "Benefits-Platform" if team == "benefits" else f"{team.title()}-Oncall"
        return {
            "status": monitor.overall_state,
            "scopes": _scopes(monitor.query),
            "classification": monitor.classification,
            "creator": self.creator(monitor.creator),
            "metrics": list(monitor.metrics),
            "notifications": [
                {"handle": f"pagerduty-{handle}", "name": handle},
                {"handle": f"slack-{team}-alerts", "name": f"{team}-alerts"},
            ],
            "muted_until_ts": self._muted_until_ts(downtimes),
            "query": monitor.query,
            "id": monitor.id,
            "last_triggered_ts": epoch(monitor.last_triggered),
            "name": monitor.name,
            "tags": list(monitor.tags),
            "org_id": ORG_ID,
            "priority": monitor.priority,
            "overall_state_modified": (
                monitor.overall_modified.astimezone(UTC).isoformat()
                if monitor.overall_modified
                else None
            ),
            "restricted_roles": [],
            "type": monitor.type,
        }

    def group_result(self, monitor: SimMonitor, group: Group) -> dict[str, Any]:
        downtimes = self.world.muted_groups(monitor).get(group.name, [])
        until = self.world.muted_until(downtimes) if downtimes else None
        return {
            "status": group.status,
            "last_nodata_ts": epoch(group.last_nodata) or 0,
            "env_tags": [t for t in monitor.tags if t.startswith("env:")],
            "muted_remaining": (
                max(0, int((until - self.now).total_seconds())) if until is not None else None
            ),
            "muted_until_ts": epoch(until),
            "all_tags": list(dict.fromkeys((*monitor.tags, *group.tags))),
            "monitor_name": monitor.name,
            "team_tags": [t for t in monitor.tags if t.startswith("team:")],
            "last_triggered_ts": epoch(group.last_triggered),
            "group": group.name,
            # The recordings only ever show an empty list here; its entries are not simulated.
            "downtimes": [],
            "monitor_id": monitor.id,
            "priority": monitor.priority,
            "muted": bool(downtimes),
            "group_tags": list(group.tags) or ["*"],
        }

    def monitor(
        self, monitor: SimMonitor, *, group_states: str | None, with_downtimes: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": monitor.id,
            "name": monitor.name,
            "type": monitor.type,
            "query": monitor.query,
            "message": monitor.message,
            "tags": list(monitor.tags),
            "options": {
                "include_tags": True,
                "new_group_delay": 60,
                "notify_audit": False,
                "notify_no_data": monitor.type != "log alert",
                "no_data_timeframe": None if monitor.type == "log alert" else 10,
                "renotify_interval": 30,
                "require_full_window": False,
                "silenced": {},
                "thresholds": {"critical": 1.0, "warning": 0.8}
                if monitor.type != "service check"
                else {"critical": 3, "ok": 1, "warning": 1},
            },
            "overall_state": monitor.overall_state,
            "priority": monitor.priority,
            "created": monitor.created.astimezone(UTC).isoformat(),
            "modified": monitor.created.astimezone(UTC).isoformat(),
            "creator": {
                "email": monitor.creator.email,
                "handle": monitor.creator.handle,
                "name": monitor.creator.name,
            },
            "multi": monitor.multi,
            "org_id": ORG_ID,
            "deleted": None,
            "restricted_roles": None,
            "draft_status": "published",
        }
        if group_states:
            wanted = {part.strip().lower() for part in group_states.split(",") if part.strip()}
            body["state"] = {
                "groups": {
                    group.name: {
                        "name": group.name,
                        "status": group.status,
                        "last_triggered_ts": epoch(group.last_triggered) or 0,
                        "last_nodata_ts": epoch(group.last_nodata) or 0,
                        "last_resolved_ts": epoch(group.last_resolved) or 0,
                        "last_notified_ts": epoch(group.last_triggered or group.last_nodata) or 0,
                    }
                    for group in monitor.groups.values()
                    if "all" in wanted or group.status.lower() in wanted
                }
            }
        if with_downtimes:
            body["matching_downtimes"] = [
                {
                    # v1 shows a downtime's numeric id; derived here from the v2 id.
                    "id": int(downtime.id.replace("-", "")[:12], 16),
                    "start": epoch(downtime.start),
                    "end": epoch(downtime.end),
                    "scope": [downtime.scope],
                }
                for downtime in self.world.downtimes_for(monitor)
            ]
        return body

    def downtime(self, downtime: Downtime) -> dict[str, Any]:
        monitor_identifier: dict[str, Any] = (
            {"monitor_id": downtime.monitor_id}
            if downtime.monitor_id is not None
            else {"monitor_tags": list(downtime.monitor_tags)}
        )
        monitor_data = (
            {"type": "monitors", "id": str(downtime.monitor_id)}
            if downtime.monitor_id is not None
            else None
        )
        return {
            "type": "downtime",
            "attributes": {
                "mute_first_recovery_notification": downtime.mute_first_recovery_notification,
                "status": downtime.status(self.now),
                "created": iso_micro(downtime.created),
                "notify_end_states": list(downtime.notify_end_states),
                "canceled": iso_micro(downtime.canceled) if downtime.canceled else None,
                "display_timezone": downtime.display_timezone,
                "modified": iso_micro(downtime.modified),
                "monitor_identifier": monitor_identifier,
                "scope": downtime.scope,
                "schedule": {
                    "start": iso_micro(downtime.start),
                    "end": iso_micro(downtime.end) if downtime.end else None,
                },
                "message": downtime.message,
                "notify_end_types": list(downtime.notify_end_types),
            },
            "id": downtime.id,
            "relationships": {
                "created_by": {"data": {"type": "users", "id": downtime.created_by.uuid}},
                "monitor": {"data": monitor_data},
            },
        }

    def user(self, user: DdUser) -> dict[str, Any]:
        created = datetime(2019, 10, 2, 8, 15, 39, tzinfo=UTC)
        return {
            "type": "users",
            "id": user.uuid,
            "attributes": {
                "name": user.name,
                "handle": user.handle,
                "created_at": iso_micro(created),
                "modified_at": iso_micro(created),
                "email": user.email,
                "icon": f"https://secure.gravatar.com/avatar/{user.uuid.replace('-', '')}"
                "?s=48&d=retro",
                "title": None,
                "verified": True,
                "service_account": False,
                "disabled": False,
                "allowed_login_methods": [],
                "status": "Active",
            },
        }

    def included(self, downtimes: Iterable[Downtime], include: Sequence[str]) -> list[Any]:
        items: dict[tuple[str, str], dict[str, Any]] = {}
        for downtime in downtimes:
            if "created_by" in include:
                user = downtime.created_by
                items.setdefault(("users", user.uuid), self.user(user))
            if "monitor" in include and downtime.monitor_id is not None:
                monitor = self.world.monitor(downtime.monitor_id)
                if monitor is not None:
                    items.setdefault(
                        ("monitors", str(monitor.id)),
                        {
                            "type": "monitors",
                            "id": monitor.id,
                            "attributes": {"name": monitor.name},
                        },
                    )
        return list(items.values())


def datadog_keys(simulator: Simulator) -> tuple[str, str]:
    """The (API key, application key) pair `simulator`'s Datadog accepts."""
    app = simulator.app(DatadogApp.name)
    app_key = app.app_key if isinstance(app, DatadogApp) else DEFAULT_APP_KEY
    return simulator.tokens[DatadogApp.name], app_key
