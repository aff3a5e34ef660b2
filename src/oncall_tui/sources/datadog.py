"""Datadog source: monitors in Alert, Warn or No Data, through `datadog-api-client`.

One poll is three kinds of call, each paginated: v1 monitor search (the configured query,
narrowed to the watched states), v1 monitor group search (the same query, every state, so a
multi-alert monitor's groups can be counted), and v2 downtimes that are active now (who is
muted, until when and why). Groups and downtimes are skipped when no monitor is alerting.

The SDK is used for auth headers, the host, parameter encoding and typed answers, and kept
away from what the engine owns:

- `Configuration` quietly reads `DD_API_KEY`, `DD_APP_KEY` and `DD_SITE` from the
  environment; the keys and host given here are set explicitly and the env-derived values
  are wiped after construction, so an env var can never stand in for a config mistake.
- Retries are off twice: `enable_retry` (the SDK's 429/5xx loop) and `retry_policy`
  (urllib3's own three silent retries on connection errors and read timeouts).
- Answers are read with headers (`return_http_data_only=False`) for the `X-RateLimit-*`
  budget; the per-request timeout is `Configuration.request_timeout` (this SDK's endpoints
  take no `_request_timeout` keyword).

Writes (`apply`, for the outbox): `mute` schedules a v2 downtime on one monitor, `unmute`
cancels downtimes; a retry first looks for what the earlier try may have left.

Errors become `sources.base` errors, one line each and never with a key in them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v2.api.downtimes_api import DowntimesApi
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from datadog_api_client.v2.model.downtime_create_request_attributes import (
    DowntimeCreateRequestAttributes,
)
from datadog_api_client.v2.model.downtime_create_request_data import DowntimeCreateRequestData
from datadog_api_client.v2.model.downtime_monitor_identifier_id import (
    DowntimeMonitorIdentifierId,
)
from datadog_api_client.v2.model.downtime_resource_type import DowntimeResourceType
from datadog_api_client.v2.model.downtime_schedule_one_time_create_update_request import (
    DowntimeScheduleOneTimeCreateUpdateRequest,
)

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.models import MONITOR_STATE_RANK, Monitor, Snapshot
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateBudget,
    RateLimited,
    SourceError,
    Unavailable,
    header_float,
    header_int,
)

if TYPE_CHECKING:
    from oncall_tui.config import DatadogSettings

PER_PAGE = 100
"""Monitors (and groups) per search page."""
DOWNTIME_PAGE = 100
"""Downtimes per `GET /api/v2/downtime` page."""
MAX_PAGES = 200
"""A safety stop: past this many pages the snapshot is marked truncated."""
_ENV_KEYS = ("apiKeyAuth", "appKeyAuth")


@dataclass(frozen=True, slots=True)
class _Downtime:
    """An active v2 downtime, as far as muting goes."""

    id: str
    monitor_id: int | None
    monitor_tags: frozenset[str]
    scope: str
    end: datetime | None
    message: str

    def applies_to(self, monitor_id: int, tags: frozenset[str]) -> bool:
        if self.monitor_id is not None:
            return self.monitor_id == monitor_id
        return bool(self.monitor_tags) and self.monitor_tags <= tags


class DatadogSource:
    """Monitors matching `settings.query` in `settings.states`, with groups and mutes."""

    name = "monitors"

    def __init__(
        self, settings: DatadogSettings, clock: Clock, *, per_page: int = PER_PAGE
    ) -> None:
        if settings.api_key is None or settings.app_key is None:
            raise ValueError("DatadogSource needs both keys; check settings.configured first")
        api_key = settings.api_key.reveal()
        app_key = settings.app_key.reveal()
        if not api_key or not app_key:
            # An empty key would let the SDK fall back to DD_API_KEY / DD_APP_KEY.
            raise SourceError("Datadog api_key / app_key is empty: check [datadog]")
        if per_page < 1:
            raise ValueError("per_page must be >= 1")
        self._settings = settings
        self._clock = clock
        self._per_page = per_page
        self._states = tuple(settings.states) or ("Alert", "Warn", "No Data")
        # The SDK's constructors are untyped (its models are typed).
        config = Configuration(  # type: ignore[no-untyped-call]
            host=settings.api_url,
            api_key={"apiKeyAuth": api_key, "appKeyAuth": app_key},
            ssl_ca_cert=str(settings.ca_bundle) if settings.ca_bundle is not None else None,
            request_timeout=settings.timeout,
            return_http_data_only=False,
            enable_retry=False,
            retry_policy=urllib3.Retry(total=False),
        )
        # Undo the SDK's environment fallbacks: only what the settings say is used.
        config.api_key = {"apiKeyAuth": api_key, "appKeyAuth": app_key}
        config.server_variables = {}
        config.server_operation_variables = {}
        config.access_token = None
        self._client = ApiClient(config)
        self._monitors_api = MonitorsApi(self._client)  # type: ignore[no-untyped-call]
        self._downtimes_api = DowntimesApi(self._client)  # type: ignore[no-untyped-call]
        self._budget = RateBudget()

    @property
    def label(self) -> str:
        return f"Datadog ({self._settings.site})"

    def rate_budget(self) -> RateBudget:
        return self._budget

    def close(self) -> None:
        self._client.close()

    # -- reading -------------------------------------------------------------------------

    def fetch(self) -> Snapshot:
        query = search_query(self._settings.query, self._states)
        monitors, truncated = self._search(
            "monitor search", self._monitors_api.search_monitors, query, "monitors"
        )
        # Pages are offsets into a list that moves while it is read: a monitor that changes
        # state between two pages can show up on both. The first sighting wins.
        unique: dict[int, Mapping[str, Any]] = {}
        for monitor in monitors:
            if _state(monitor.get("status")) in self._states:
                unique.setdefault(_monitor_id(monitor), monitor)
        items: list[Monitor] = []
        if unique:
            groups_by_monitor: dict[int, list[Mapping[str, Any]]] = {i: [] for i in unique}
            groups, more = self._search(
                "monitor group search",
                self._monitors_api.search_monitor_groups,
                self._settings.query,
                "groups",
            )
            truncated = truncated or more
            seen: set[tuple[int, str]] = set()
            for group in groups:
                monitor_id = group.get("monitor_id")
                if not isinstance(monitor_id, int) or monitor_id not in groups_by_monitor:
                    continue
                name = str(group.get("group", "*"))
                if (monitor_id, name) not in seen:
                    seen.add((monitor_id, name))
                    groups_by_monitor[monitor_id].append(group)
            downtimes = self.active_downtimes()
            items = [
                self._monitor(m, groups_by_monitor[monitor_id], downtimes)
                for monitor_id, m in unique.items()
            ]
        items.sort(key=Monitor.sort_key)
        return Snapshot(
            source=self.name,
            taken_at=self._clock.now(),
            items=tuple(items),
            truncated=truncated,
        )

    def _search(
        self, what: str, call: Callable[..., Any], query: str, key: str
    ) -> tuple[list[Mapping[str, Any]], bool]:
        """Every page of a v1 search: `page` from 0 until `metadata.page_count`."""
        found: list[Mapping[str, Any]] = []
        page = 0
        while True:
            kwargs: dict[str, Any] = {"page": page, "per_page": self._per_page}
            if query:
                kwargs["query"] = query
            body = self._call(what, call, **kwargs)
            items = body.get(key)
            metadata = body.get("metadata")
            if not isinstance(items, list) or not isinstance(metadata, Mapping):
                raise BadResponse(f"Datadog {what}: the answer has no '{key}' and 'metadata'")
            for item in items:
                if not isinstance(item, Mapping):
                    raise BadResponse(f"Datadog {what}: '{key}' holds something else")
                found.append(item)
            page_count = metadata.get("page_count")
            if not isinstance(page_count, int):
                raise BadResponse(f"Datadog {what}: metadata.page_count is missing")
            page += 1
            if page >= page_count or not items:
                return found, False
            if page >= MAX_PAGES:
                return found, True

    def active_downtimes(self) -> list[_Downtime]:
        """The downtimes active now (v2), every page."""
        found: list[_Downtime] = []
        offset = 0
        while True:
            body = self._call(
                "downtimes",
                self._downtimes_api.list_downtimes,
                current_only=True,
                page_offset=offset,
                page_limit=DOWNTIME_PAGE,
            )
            data = body.get("data")
            if not isinstance(data, list):
                raise BadResponse("Datadog downtimes: the answer has no 'data' list")
            found.extend(_downtime(item) for item in data)
            offset += len(data)
            total = ((body.get("meta") or {}).get("page") or {}).get("total_filtered_count")
            if not data or (isinstance(total, int) and offset >= total):
                return found
            if offset >= MAX_PAGES * DOWNTIME_PAGE:
                return found

    def _monitor(
        self,
        result: Mapping[str, Any],
        groups: Sequence[Mapping[str, Any]],
        downtimes: Sequence[_Downtime],
    ) -> Monitor:
        try:
            monitor_id = _monitor_id(result)
            state = _state(result.get("status"))
            tags = tuple(str(tag) for tag in result.get("tags") or ())
            multi = any(str(g.get("group", "*")) != "*" for g in groups)
            watched = [g for g in groups if _state(g.get("status")) in self._states]
            watched.sort(key=lambda g: (_rank(_state(g.get("status"))), str(g.get("group"))))
            since = _since(watched) or _from_epoch(result.get("last_triggered_ts"))
            counts = Counter(_state(g.get("status")) for g in groups) if multi else Counter()
            mute = _mute(monitor_id, frozenset(tags), watched or groups, downtimes)
            return Monitor(
                id=monitor_id,
                name=str(result.get("name") or ""),
                type=str(result.get("type") or ""),
                overall_state=state,
                url=f"{self._settings.app_url}/monitors/{monitor_id}",
                priority=_priority(result.get("priority")),
                tags=tags,
                since=since,
                groups_alerting=tuple(str(g.get("group")) for g in watched) if multi else (),
                group_counts=tuple(sorted(counts.items(), key=lambda kv: _rank(kv[0]))),
                muted=mute.muted,
                muted_until=mute.until,
                mute_reason=mute.reason,
                downtime_ids=mute.ids,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadResponse(f"Datadog monitor has an unexpected shape ({exc!r})") from None

    # -- writing (the outbox calls `apply`, in a worker thread) ---------------------------

    def apply(
        self, action: str, targets: Sequence[str], payload: Mapping[str, Any], *, attempt: int
    ) -> None:
        """Apply one outbox write to each target monitor (`str(monitor_id)`).

        - `mute`, `{"scope": str | None, "end": ISO-8601 | None, "reason": str}`: a v2
          downtime from now until `end` (None: until unmuted) on the groups in `scope`
          (None: all). On a retry, an active downtime on the monitor with the same scope
          and message counts as done: the earlier try landed.
        - `unmute`, `{"downtime_ids": [str, ...]}`: cancel each; one already cancelled or
          gone counts as done. Without ids, the active downtimes made for this monitor
          alone (by id, not by tags) are cancelled.

        A 4xx from Datadog is a final `SourceError` in Datadog's words; rate limits, 5xx
        and network failures are raised for the outbox to retry.
        """
        monitor_ids = [_target_monitor(target) for target in targets]
        if action == "mute":
            scope = str(payload.get("scope") or "").strip() or None
            end = _end(payload.get("end"))
            reason = str(payload.get("reason") or "")
            # On a retry, what the earlier try may have left (read once for all targets).
            active = self.active_downtimes() if attempt > 0 else []
            for monitor_id in monitor_ids:
                if _mute_of(active, monitor_id, scope, reason) is None:
                    self.mute(monitor_id, scope, end, reason)
        elif action == "unmute":
            ids = payload.get("downtime_ids")
            if ids is not None and (isinstance(ids, str) or not isinstance(ids, Sequence)):
                raise SourceError("unmute: 'downtime_ids' must be a list of downtime ids")
            chosen = [str(i) for i in ids or () if str(i)]
            if not chosen:
                wanted = set(monitor_ids)
                chosen = [d.id for d in self.active_downtimes() if d.monitor_id in wanted]
            for downtime_id in chosen:
                self.unmute(downtime_id)
        else:
            raise SourceError(f"Datadog cannot {action}")

    def mute(self, monitor_id: int, scope: str | None, end: datetime | None, reason: str) -> str:
        """Schedule a v2 downtime on one monitor, from now until `end` (None: until
        unmuted), for the groups in `scope` (None: all). Returns the downtime id."""
        if end is not None and end.tzinfo is None:
            raise ValueError("end must be timezone-aware")
        schedule = DowntimeScheduleOneTimeCreateUpdateRequest(start=None)
        if end is not None:
            schedule = DowntimeScheduleOneTimeCreateUpdateRequest(
                start=None, end=end.astimezone(UTC)
            )
        body = DowntimeCreateRequest(
            data=DowntimeCreateRequestData(
                type=DowntimeResourceType.DOWNTIME,
                attributes=DowntimeCreateRequestAttributes(
                    monitor_identifier=DowntimeMonitorIdentifierId(monitor_id=monitor_id),
                    scope=scope or "*",
                    message=reason,
                    schedule=schedule,
                ),
            )
        )
        answer = self._call("mute", self._downtimes_api.create_downtime, body=body)
        downtime_id = (answer.get("data") or {}).get("id")
        if not isinstance(downtime_id, str) or not downtime_id:
            raise BadResponse("Datadog mute: the answer has no downtime id")
        return downtime_id

    def unmute(self, downtime_id: str) -> None:
        """Cancel a downtime. One that is already gone counts as cancelled (Datadog answers
        204 to a repeated cancel, and forgets cancelled downtimes after about two days)."""
        try:
            self._call("unmute", self._downtimes_api.cancel_downtime, downtime_id=downtime_id)
        except SourceError as exc:
            if exc.status != 404:
                raise

    # -- HTTP ----------------------------------------------------------------------------

    def _call(self, what: str, call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        """One SDK call; its answer as plain JSON (`{}` for an empty answer)."""
        try:
            data, _status, headers = call(**kwargs)
        except ApiException as exc:
            if exc.headers:
                self._record(exc.headers)
            raise _api_error(what, exc) from None
        except OpenApiException:
            # The SDK's own type checks refused the answer (not JSON, wrong types).
            raise BadResponse(f"Datadog {what}: the answer does not parse") from None
        except urllib3.exceptions.ReadTimeoutError:
            raise Unavailable(
                f"Datadog {what}: no answer within {self._settings.timeout:g} s"
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            raise Unavailable(f"Datadog unreachable ({_cause(exc)})") from None
        except OSError as exc:
            raise Unavailable(f"Datadog unreachable ({type(exc).__name__})") from None
        self._record(headers)
        if data is None:
            return {}
        try:
            body = data.to_dict()
        except (AttributeError, TypeError, ValueError):
            raise BadResponse(f"Datadog {what}: the answer does not parse") from None
        if not isinstance(body, dict):
            raise BadResponse(f"Datadog {what}: expected a JSON object")
        return body

    def _record(self, headers: Mapping[str, Any]) -> None:
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        if "x-ratelimit-limit" not in lowered and "x-ratelimit-remaining" not in lowered:
            return
        self._budget = RateBudget(
            limit=header_int(lowered.get("x-ratelimit-limit")),
            remaining=header_int(lowered.get("x-ratelimit-remaining")),
            reset_after=header_float(lowered.get("x-ratelimit-reset")),
        )


def search_query(query: str, states: Iterable[str]) -> str:
    """The configured query narrowed to the watched states: `... status:(alert OR warn)`."""
    values = [f'"{s.lower()}"' if " " in s else s.lower() for s in states]
    if not values:
        return query
    status = f"status:{values[0]}" if len(values) == 1 else f"status:({' OR '.join(values)})"
    return f"{query} {status}".strip()


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True, slots=True)
class _Mute:
    muted: bool = False
    until: datetime | None = None
    reason: str = ""
    ids: tuple[str, ...] = ()


def _mute(
    monitor_id: int,
    tags: frozenset[str],
    groups: Sequence[Mapping[str, Any]],
    downtimes: Sequence[_Downtime],
) -> _Mute:
    """Muted when every watched group is inside an active downtime; until the earliest
    moment one of them is no longer covered (None: a covering downtime has no end)."""
    applying = [d for d in downtimes if d.applies_to(monitor_id, tags)]
    if not applying:
        return _Mute()
    names = [str(g.get("group", "*")) for g in groups] or ["*"]
    covering: dict[str, list[_Downtime]] = {name: [] for name in names}
    for downtime in applying:
        for name in names:
            group_tags = frozenset(name.split(",")) if name != "*" else tags
            if scope_covers(downtime.scope, group_tags):
                covering[name].append(downtime)
    used = [d for d in applying if any(d in found for found in covering.values())]
    if not used:
        return _Mute()
    ids = tuple(d.id for d in used)
    reasons = "; ".join(dict.fromkeys(d.message.strip() for d in used if d.message.strip()))
    if not all(covering.values()):
        muted_count = sum(1 for found in covering.values() if found)
        note = f"partly muted ({muted_count} of {len(covering)} groups)"
        return _Mute(False, None, f"{note}: {reasons}" if reasons else note, ids)
    ends: list[datetime] = []
    for found in covering.values():
        group_ends = [d.end for d in found]
        if any(end is None for end in group_ends):
            continue  # this group stays muted until someone unmutes it
        ends.append(max(end for end in group_ends if end is not None))
    return _Mute(True, min(ends) if ends else None, reasons, ids)


def scope_covers(scope: str, tags: frozenset[str]) -> bool:
    """Whether a downtime scope covers a group with `tags`.

    `*`, comma- or AND-separated tags, and `!tag` / `-tag` / `NOT tag` exclusions are
    understood; a scope using OR or parentheses is not, and counts as not covering (a
    group is never shown muted on a guess).
    """
    text = scope.strip()
    if text in ("", "*"):
        return True
    if " OR " in text or "(" in text:
        return False
    for raw in text.replace(" AND ", ",").split(","):
        term = raw.strip()
        if not term or term == "*":
            continue
        if term.startswith(("!", "-", "NOT ")):
            if term.removeprefix("NOT ").lstrip("!-").strip() in tags:
                return False
        elif term not in tags:
            return False
    return True


def _target_monitor(target: str) -> int:
    text = str(target).strip()
    if not text.isdigit():
        raise SourceError(f"not a Datadog monitor id: {target!r}")
    return int(text)


def _end(value: Any) -> datetime | None:
    """A mute's end from the payload: ISO-8601 with a zone, or None (until unmuted)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SourceError(f"mute: 'end' must be an ISO-8601 time or null, not {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(f"mute: 'end' is not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise SourceError(f"mute: 'end' needs a time zone: {value!r}")
    return moment


def _mute_of(
    downtimes: Sequence[_Downtime], monitor_id: int, scope: str | None, reason: str
) -> _Downtime | None:
    """The downtime on this monitor (by id) with this scope and message, if any."""
    wanted = _scope_key(scope or "*")
    for downtime in downtimes:
        if (
            downtime.monitor_id == monitor_id
            and _scope_key(downtime.scope) == wanted
            and downtime.message == reason
        ):
            return downtime
    return None


def _scope_key(scope: str) -> str:
    """A scope compared loosely: the same tags, whatever the spacing."""
    return ",".join(part.strip() for part in scope.strip().split(","))


def _downtime(item: Any) -> _Downtime:
    try:
        attributes = item["attributes"]
        identifier = attributes.get("monitor_identifier") or {}
        schedule = attributes.get("schedule") or {}
        end = schedule.get("end")
        current = schedule.get("current_downtime") or {}
        if end is None and current:
            end = current.get("end")
        monitor_id = identifier.get("monitor_id")
        return _Downtime(
            id=str(item["id"]),
            monitor_id=int(monitor_id) if monitor_id is not None else None,
            monitor_tags=frozenset(str(t) for t in identifier.get("monitor_tags") or ()),
            scope=str(attributes.get("scope") or "*"),
            end=_when(end),
            message=str(attributes.get("message") or ""),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadResponse(f"Datadog downtime has an unexpected shape ({exc!r})") from None


def _monitor_id(result: Mapping[str, Any]) -> int:
    value = result.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadResponse(f"Datadog monitor id is not an integer: {value!r}")
    return value


def _state(value: Any) -> str:
    """A monitor state in Datadog's own spelling, whatever case it came in."""
    text = str(value) if value is not None else "Unknown"
    for known in MONITOR_STATE_RANK:
        if known.lower() == text.lower():
            return known
    return text


def _rank(state: str) -> int:
    return MONITOR_STATE_RANK.get(state, 9)


def _since(groups: Sequence[Mapping[str, Any]]) -> datetime | None:
    """When the oldest watched group went bad: its last trigger, or for No Data its last
    no-data time."""
    times = []
    for group in groups:
        key = "last_nodata_ts" if _state(group.get("status")) == "No Data" else "last_triggered_ts"
        moment = _from_epoch(group.get(key)) or _from_epoch(group.get("last_triggered_ts"))
        if moment is not None:
            times.append(moment)
    return min(times) if times else None


def _from_epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value, UTC)


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise TypeError(f"not a timestamp: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _priority(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= 5 else None


def _api_error(what: str, exc: ApiException) -> SourceError:
    status = int(exc.status or 0)
    reason = _dd_error_message(exc.body)
    if status == 0:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc.reason or ""):
            return Unavailable("Datadog TLS certificate not trusted: check [datadog] ca_bundle")
        return Unavailable("Datadog unreachable (TLS error)")
    if status == 429:
        lowered = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
        retry_after = header_float(lowered.get("x-ratelimit-reset"))
        if retry_after is None:
            retry_after = header_float(lowered.get("retry-after"))
        return RateLimited(
            f"Datadog rate limit reached (429{reason})", retry_after=retry_after, status=429
        )
    if status == 401 or (status == 403 and reason in ("", ": Forbidden")):
        # Datadog answers a wrong or missing key with a bare 403 "Forbidden".
        return AuthFailed(
            f"Datadog refused the keys ({status}{reason}): check [datadog] api_key / app_key",
            status=status,
        )
    if status == 403:
        # Good keys without the permission ("Failed permission authorization checks").
        return AuthFailed(
            f"Datadog keys lack permission for {what} ({status}{reason}): give [datadog] "
            "app_key the scopes it needs (monitors_read, monitors_downtime)",
            status=status,
        )
    if status >= 500:
        reason = reason or (f": {exc.reason}" if exc.reason else "")
        return Unavailable(f"Datadog failed on its side ({status}{reason})", status=status)
    return SourceError(f"Datadog {what} answered {status}{reason}", status=status)


def _dd_error_message(body: Any) -> str:
    """Datadog's own words from an `{"errors": [...]}` body, if it sent any (one line)."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list) or not errors:
        return ""
    text = " ".join("; ".join(str(e) for e in errors).split())
    if len(text) > 200:
        text = text[:200] + "..."
    return f": {text}"


def _cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return type(exc).__name__
