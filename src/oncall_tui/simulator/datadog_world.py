"""The Datadog part of the simulated world: monitors whose groups flap with the clock, and
the v2 downtimes that mute them.

Everything is derived from the seed and the clock. A monitor has one or more groups (`*` for
a simple monitor, `env:prod,host:...` for a multi-alert one); each group moves between OK,
Warn, Alert and No Data on its own timeline, and every random draw for a group's n-th change
comes from a generator seeded with (seed, monitor, group, n), so the world at a given time is
the same however finely it was advanced. The HTTP layer (`oncall_tui.simulator.datadog`)
turns this state into API JSON; this module knows nothing about HTTP.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from oncall_tui.simulator.scenarios import DatadogScenario, Scenario

OK = "OK"
ALERT = "Alert"
WARN = "Warn"
NO_DATA = "No Data"
STATES = (ALERT, WARN, NO_DATA, OK)
"""Worst first: a monitor's overall state is its worst group's."""
BAD_STATES = (ALERT, WARN, NO_DATA)
_BAD_WEIGHTS = (0.45, 0.35, 0.2)

SITE = "ddog-gov.com"
ORG_ID = 1_300_418
TEAM_TAG = "team:benefits"
DOWNTIME_RETENTION = timedelta(days=2)
"""Canceled and ended downtimes stay listed this long (Datadog keeps them about two days)."""
NOTIFY_END_STATES = ("alert", "no data", "warn")
NOTIFY_END_TYPES = ("canceled", "expired")


def epoch(at: datetime | None) -> int | None:
    """Datadog v1 timestamps: whole seconds since the epoch."""
    return int(at.timestamp()) if at is not None else None


def iso_micro(at: datetime) -> str:
    """Datadog v2 timestamps: `2023-06-02T20:53:23.252025+00:00`."""
    return at.astimezone(UTC).isoformat()


def _seconds(value: float) -> timedelta:
    """Whole seconds: Datadog's v1 timestamps have no fractions, so the world has none."""
    return timedelta(seconds=round(value))


def _stable_int(*parts: object, low: int, high: int) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return low + int.from_bytes(digest, "big") % (high - low)


def _stable_uuid(*parts: object) -> str:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=1))


# --------------------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class DdUser:
    uuid: str
    id: int
    """The v1 creator id."""
    name: str
    email: str

    @property
    def handle(self) -> str:
        return self.email


_USERS = (
    ("Alex Rivera", "alex.rivera@example.com"),
    ("Jordan Lee", "jordan.lee@example.com"),
    ("Priya Natarajan", "priya.natarajan@example.com"),
    ("Sam Okafor", "sam.okafor@example.com"),
)


# --------------------------------------------------------------------------- monitors


@dataclass(slots=True)
class Group:
    """One group of a monitor (`*` for a simple monitor) and its place on its timeline."""

    name: str
    status: str
    since: datetime
    next_change: datetime
    changes: int = 0
    last_triggered: datetime | None = None
    last_nodata: datetime | None = None
    last_resolved: datetime | None = None
    epoch: int = 0
    """Bumped when the timeline is rewritten (a forced state), invalidating queued changes."""

    @property
    def tags(self) -> tuple[str, ...]:
        return () if self.name == "*" else tuple(self.name.split(","))


@dataclass(slots=True)
class SimMonitor:
    id: int
    name: str
    type: str
    classification: str
    query: str
    message: str
    tags: tuple[str, ...]
    priority: int | None
    metrics: tuple[str, ...]
    creator: DdUser
    created: datetime
    groups: dict[str, Group]
    multi: bool
    group_by: tuple[str, ...] = ()
    overall_modified: datetime | None = None

    @property
    def overall_state(self) -> str:
        return min((g.status for g in self.groups.values()), key=STATES.index, default=OK)

    @property
    def last_triggered(self) -> datetime | None:
        times = [g.last_triggered for g in self.groups.values() if g.last_triggered]
        return max(times) if times else None

    @property
    def team(self) -> str:
        return next((t.partition(":")[2] for t in self.tags if t.startswith("team:")), "")


@dataclass(frozen=True, slots=True)
class _Template:
    type: str
    classification: str
    name: str
    query: str
    metric: str
    group_by: tuple[str, ...] = ()
    """Tags a multi-alert monitor groups by; empty for a simple monitor."""


_GENERIC = (
    _Template(
        "query alert",
        "metric",
        "{svc} p99 latency is above 2s on env:prod",
        "avg(last_10m):p99:trace.http.request{{env:prod,service:{svc}}} > 2",
        "trace.http.request",
    ),
    _Template(
        "query alert",
        "metric",
        "{svc} error rate is above 5% on env:prod",
        "sum(last_5m):sum:trace.http.request.errors{{env:prod,service:{svc}}}.as_count() / "
        "sum:trace.http.request.hits{{env:prod,service:{svc}}}.as_count() > 0.05",
        "trace.http.request.errors",
    ),
    _Template(
        "metric alert",
        "metric",
        "{svc} CPU is above 90% on {{{{host.name}}}}",
        "avg(last_15m):avg:kubernetes.cpu.usage.total{{env:prod,service:{svc}}}"
        " by {{env,host}} > 90",
        "kubernetes.cpu.usage.total",
        ("env", "host"),
    ),
    _Template(
        "service check",
        "custom",
        "{svc} health check is failing on {{{{host.name}}}}",
        '"http.can_connect".over("env:prod","service:{svc}").by("env","host")'
        ".last(3).count_by_status()",
        "http.can_connect",
        ("env", "host"),
    ),
    _Template(
        "log alert",
        "log",
        "{svc} error logs above 50 in 5m on env:prod",
        'logs("service:{svc} status:error env:prod").index("*").rollup("count").last("5m") > 50',
        "",
    ),
    _Template(
        "query alert",
        "metric",
        "{svc} pod restarts above 3 in 10m on {{{{host.name}}}}",
        "change(max(last_10m),last_10m):max:kubernetes.containers.restarts"
        "{{env:prod,service:{svc}}} by {{env,host}} > 3",
        "kubernetes.containers.restarts",
        ("env", "host"),
    ),
)
_SPECIFIC = {
    "svc-bie-kafka": _Template(
        "query alert",
        "metric",
        "svc-bie-kafka consumer lag is above 10k on {{{{topic.name}}}}",
        "max(last_5m):max:kafka.consumer_lag{{env:prod,service:svc-bie-kafka}} by {{env,topic}}"
        " > 10000",
        "kafka.consumer_lag",
        ("env", "topic"),
    ),
    "rabbitmq": _Template(
        "metric alert",
        "metric",
        "rabbitmq queue depth is above 5000 on {{{{queue.name}}}}",
        "avg(last_5m):max:rabbitmq.queue.messages{{env:prod,service:rabbitmq}} by {{env,queue}}"
        " > 5000",
        "rabbitmq.queue.messages",
        ("env", "queue"),
    ),
    "postgres": _Template(
        "query alert",
        "metric",
        "postgres replication lag is above 60s on claims-db-replica",
        "avg(last_5m):avg:postgresql.replication_delay{{env:prod,service:postgres,"
        "db:claims-db-replica}} > 60",
        "postgresql.replication_delay",
    ),
    "ee-ep-merge-app": _Template(
        "query alert",
        "metric",
        "ee-ep-merge-app merge jobs stuck for more than 30m",
        "max(last_30m):max:ee_ep_merge.jobs.stuck{{env:prod,service:ee-ep-merge-app}} > 0",
        "ee_ep_merge.jobs.stuck",
    ),
    "domain-cc": _Template(
        "query alert",
        "metric",
        "domain-cc classification failures above 2% on env:prod",
        "sum(last_15m):sum:domain_cc.classification.failed{{env:prod,service:domain-cc}}"
        ".as_count() / sum:domain_cc.classification.total{{env:prod,service:domain-cc}}"
        ".as_count() > 0.02",
        "domain_cc.classification.failed",
    ),
}
SERVICES = (
    "claims-api",
    "svc-bgs-api",
    "svc-bip-api",
    "svc-bie-kafka",
    "domain-cc",
    "ee-ep-merge-app",
    "ee-max-cfi-app",
    "rabbitmq",
    "postgres",
)
_OTHER_TEAMS = (("identity", "login-proxy"), ("identity", "sso-api"), ("payments", "payments-api"))
_GROUP_VALUES = {
    "topic": ("bie.contention-events", "bie.claim-events", "bie.dead-letter"),
    "queue": ("vbms.claims.events", "vbms.claims.retry", "bgs.updates", "cfi.requests"),
}
_PRIORITY_WEIGHTS = ((1, 0.1), (2, 0.25), (3, 0.35), (4, 0.15), (5, 0.05), (None, 0.1))


def _catalogue(count: int, rng: random.Random) -> Iterator[tuple[str, _Template]]:
    """`count` (service, template) pairs: each service's own monitor first, then the rest."""
    pairs: list[tuple[str, _Template]] = []
    for service in SERVICES:
        if service in _SPECIFIC:
            pairs.append((service, _SPECIFIC[service]))
    for template in _GENERIC:
        for service in SERVICES:
            pairs.append((service, template))
    head, tail = pairs[: len(_SPECIFIC)], pairs[len(_SPECIFIC) :]
    rng.shuffle(tail)
    pairs = head + tail
    for index in range(count):
        yield pairs[index % len(pairs)]


def _without_grouping(query: str) -> str:
    """The simple-monitor form of a multi-alert query: no `by {...}` / `.by(...)`."""
    if " by {" in query:
        cut = query.index(" by {")
        query = query[:cut] + query[query.index("}", cut) + 1 :]
    if ".by(" in query:
        cut = query.index(".by(")
        query = query[:cut] + query[query.index(")", cut) + 1 :]
    return query


# --------------------------------------------------------------------------- downtimes


@dataclass(slots=True)
class Downtime:
    id: str
    monitor_id: int | None
    monitor_tags: tuple[str, ...]
    scope: str
    message: str
    start: datetime
    end: datetime | None
    created: datetime
    modified: datetime
    created_by: DdUser
    canceled: datetime | None = None
    display_timezone: str = "UTC"
    mute_first_recovery_notification: bool = False
    notify_end_states: tuple[str, ...] = NOTIFY_END_STATES
    notify_end_types: tuple[str, ...] = NOTIFY_END_TYPES

    def status(self, now: datetime) -> str:
        if self.canceled is not None:
            return "canceled"
        if now < self.start:
            return "scheduled"
        if self.end is not None and now >= self.end:
            return "ended"
        return "active"

    def applies_to(self, monitor: SimMonitor) -> bool:
        """Whether the monitor identifier picks this monitor (by id, or by all its tags)."""
        if self.monitor_id is not None:
            return monitor.id == self.monitor_id
        return bool(self.monitor_tags) and set(self.monitor_tags) <= set(monitor.tags)

    def groups_of(self, monitor: SimMonitor) -> list[str]:
        """The monitor's groups inside the scope (`["*"]` for a downtime on everything)."""
        if not self.applies_to(monitor):
            return []
        if self.scope.strip() in ("", "*"):
            return ["*"]
        return [
            name
            for name, group in monitor.groups.items()
            if scope_matches(self.scope, group.tags or monitor.tags)
        ]


def scope_matches(scope: str, tags: Iterable[str]) -> bool:
    """A downtime scope (`env:prod,host:a`, `env:prod AND host:a`, `!host:b`) against tags.

    Only the conjunctive subset is simulated: every listed tag must be present and every
    negated one absent.
    """
    present = set(tags)
    text = scope.replace(" AND ", ",")
    for raw in text.split(","):
        term = raw.strip()
        if not term or term == "*":
            continue
        if term.startswith(("!", "-")) or term.startswith("NOT "):
            if term.lstrip("!-").removeprefix("NOT ").strip() in present:
                return False
        elif term not in present:
            return False
    return True


# --------------------------------------------------------------------------- the world


class DatadogWorld:
    """The Datadog org the simulator's API serves; not thread-safe (the World locks)."""

    def __init__(self, seed: int, scenario: Scenario, start: datetime) -> None:
        self.seed = seed
        self.knobs: DatadogScenario = scenario.datadog
        self.now = start
        self.users = [
            DdUser(
                _stable_uuid("dd-user", email),
                _stable_int("dd-user", email, low=1_000_000, high=9_999_999),
                name,
                email,
            )
            for name, email in _USERS
        ]
        self.me = self.users[0]
        """The owner of the simulator's application key: who creates downtimes."""
        self.monitors: dict[int, SimMonitor] = {}
        self.downtimes: dict[str, Downtime] = {}
        self._queue: list[tuple[datetime, int, int, str, int]] = []
        self._downtime_count = 0
        self._build(start)

    # ------------------------------------------------------------------ building

    def _new_id(self, *parts: object) -> int:
        monitor_id = _stable_int(self.seed, *parts, low=100_000_000, high=999_999_999)
        while monitor_id in self.monitors:
            monitor_id += 1
        return monitor_id

    def _build(self, start: datetime) -> None:
        rng = random.Random(f"{self.seed}/datadog/initial")
        knobs = self.knobs
        specs: list[tuple[str, str, _Template, bool]] = []
        names: dict[str, int] = {}
        for service, template in _catalogue(knobs.team_monitors, rng):
            multi = bool(template.group_by) and (
                rng.random() < knobs.multi_share * 2 or service in ("rabbitmq", "svc-bie-kafka")
            )
            specs.append(("benefits", service, template, multi))
        for index in range(knobs.other_monitors):
            team, service = _OTHER_TEAMS[index % len(_OTHER_TEAMS)]
            template = _GENERIC[index % len(_GENERIC)]
            specs.append((team, service, template, bool(template.group_by)))
        team_count = knobs.team_monitors
        alerting = set(rng.sample(range(team_count), round(knobs.alerting_share * team_count)))
        for index, (team, service, template, multi) in enumerate(specs):
            monitor = self._make_monitor(rng, index, team, service, template, multi, names, start)
            self._seed_groups(rng, monitor, start, bad=index in alerting)
            self.monitors[monitor.id] = monitor
        self._seed_downtimes(rng, start)

    def _make_monitor(
        self,
        rng: random.Random,
        index: int,
        team: str,
        service: str,
        template: _Template,
        multi: bool,
        names: dict[str, int],
        start: datetime,
    ) -> SimMonitor:
        name = template.name.format(svc=service)
        if not multi:
            name = name.replace(" on {{host.name}}", " on env:prod")
        seen = names.get(name, 0)
        names[name] = seen + 1
        if seen:
            name = f"{name} #{seen + 1}"
        query = template.query.format(svc=service)
        group_by = template.group_by if multi else ()
        if not multi:
            query = _without_grouping(query)
        priority = rng.choices(
            [p for p, _ in _PRIORITY_WEIGHTS], weights=[w for _, w in _PRIORITY_WEIGHTS]
        )[0]
        tags: tuple[str, ...] = (f"service:{service}", f"team:{team}", "env:prod")
        if rng.random() < 0.5:
            tags += ("managed-by:terraform",)
        creator = self.users[rng.randrange(len(self.users))]
        handle = "Benefits-Platform" if team == "benefits" else f"{team.title()}-Oncall"
        message = (
            f"{{{{#is_alert}}}}{name} is alerting.{{{{/is_alert}}}} "
            f"Runbook: https://github.com/department-of-veterans-affairs/runbooks/{service}.md "
            f"@pagerduty-{handle} @slack-{team}-alerts"
        )
        return SimMonitor(
            id=self._new_id("monitor", index, team, service, template.name),
            name=name,
            type=template.type,
            classification=template.classification,
            query=query,
            message=message,
            tags=tags,
            priority=priority,
            metrics=(template.metric,) if template.metric else (),
            creator=creator,
            created=start - timedelta(days=30 + rng.randrange(600)),
            groups={},
            multi=multi,
            group_by=group_by,
        )

    def _group_names(self, rng: random.Random, monitor: SimMonitor, service: str) -> list[str]:
        if not monitor.multi:
            return ["*"]
        key = monitor.group_by[-1]
        values = _GROUP_VALUES.get(key)
        if values is None:
            count = rng.randint(2, 5)
            values = tuple(f"{service}-prod-{n:02d}" for n in range(1, count + 1))
        return [f"env:prod,{key}:{value}" for value in values]

    def _seed_groups(
        self, rng: random.Random, monitor: SimMonitor, start: datetime, *, bad: bool
    ) -> None:
        knobs = self.knobs
        service = monitor.tags[0].partition(":")[2]
        names = self._group_names(rng, monitor, service)
        bad_groups = set()
        if bad:
            bad_groups.add(rng.choice(names))
            for name in names:
                if rng.random() < 0.25:
                    bad_groups.add(name)
        for name in names:
            if name in bad_groups:
                status = rng.choices(BAD_STATES, weights=_BAD_WEIGHTS)[0]
                age = rng.uniform(2 * 60, max(3 * 60, knobs.bad_duration[1]))
                since = start - _seconds(age)
                left = rng.uniform(*knobs.bad_duration) * rng.uniform(0.2, 1.0)
            else:
                status = OK
                since = start - _seconds(rng.uniform(60, 2 * 86400))
                left = rng.uniform(*knobs.ok_duration) * rng.uniform(0.1, 1.0)
            group = Group(name, status, since, start + _seconds(max(30.0, left)))
            if status in (ALERT, WARN):
                group.last_triggered = since
            elif status == NO_DATA:
                group.last_nodata = since
                if rng.random() < 0.5:
                    group.last_triggered = since - _seconds(rng.uniform(2, 72) * 3600)
            elif rng.random() < 0.6:
                group.last_triggered = since - _seconds(rng.uniform(5, 180) * 60)
                group.last_resolved = since
            monitor.groups[name] = group
            self._enqueue(monitor, group)
        monitor.overall_modified = max(g.since for g in monitor.groups.values())

    def _seed_downtimes(self, rng: random.Random, start: datetime) -> None:
        team = [m for m in self.monitors.values() if m.team == "benefits"]
        if not team or self.knobs.muted <= 0:
            return
        alerting = [m for m in team if m.overall_state != OK] or team
        first = alerting[rng.randrange(len(alerting))]
        self._add_downtime(
            monitor_id=first.id,
            monitor_tags=(),
            scope="*",
            message=(
                f"Known issue: {first.tags[0].partition(':')[2]} degraded by the upstream BGS "
                "maintenance window (CHG0045821); escalate in #benefits-oncall if it outlives it."
            ),
            start=start - timedelta(minutes=40),
            end=start + timedelta(hours=2),
            by=self.users[2],
            at=start - timedelta(minutes=40),
        )
        if self.knobs.muted >= 2:
            self._add_downtime(
                monitor_id=None,
                monitor_tags=("service:postgres", TEAM_TAG),
                scope="env:prod",
                message="postgres minor version upgrade on claims-db (CHG0045790)",
                start=start - timedelta(minutes=15),
                end=start + timedelta(hours=4),
                by=self.users[3],
                at=start - timedelta(minutes=20),
            )

    def _add_downtime(
        self,
        *,
        monitor_id: int | None,
        monitor_tags: tuple[str, ...],
        scope: str,
        message: str,
        start: datetime,
        end: datetime | None,
        by: DdUser,
        at: datetime,
    ) -> Downtime:
        self._downtime_count += 1
        downtime = Downtime(
            id=_stable_uuid(self.seed, "downtime", self._downtime_count),
            monitor_id=monitor_id,
            monitor_tags=monitor_tags,
            scope=scope,
            message=message,
            start=start,
            end=end,
            created=at,
            modified=at,
            created_by=by,
        )
        self.downtimes[downtime.id] = downtime
        return downtime

    # ------------------------------------------------------------------ time

    def _enqueue(self, monitor: SimMonitor, group: Group) -> None:
        heapq.heappush(
            self._queue, (group.next_change, monitor.id, group.changes, group.name, group.epoch)
        )

    def advance_to(self, now: datetime) -> None:
        """Play every group change due up to `now`, in time order; never goes backwards."""
        if now <= self.now:
            return
        while self._queue and self._queue[0][0] <= now:
            at, monitor_id, changes, name, group_epoch = heapq.heappop(self._queue)
            monitor = self.monitors.get(monitor_id)
            group = monitor.groups.get(name) if monitor is not None else None
            if monitor is None or group is None:
                continue
            if group.epoch != group_epoch or group.changes != changes:
                continue  # superseded by a forced state
            self._flap(monitor, group, at)
        self.now = now
        self._prune(now)

    def _flap(self, monitor: SimMonitor, group: Group, at: datetime) -> None:
        rng = random.Random(f"{self.seed}/datadog/{monitor.id}/{group.name}/{group.changes}")
        if group.status == OK:
            status = rng.choices(BAD_STATES, weights=_BAD_WEIGHTS)[0]
        elif rng.random() < 0.7:
            status = OK
        else:
            status = rng.choice([s for s in BAD_STATES if s != group.status])
        span = self.knobs.ok_duration if status == OK else self.knobs.bad_duration
        self._set_status(monitor, group, status, at)
        group.changes += 1
        group.next_change = at + _seconds(max(30.0, rng.uniform(*span)))
        self._enqueue(monitor, group)

    def _set_status(self, monitor: SimMonitor, group: Group, status: str, at: datetime) -> None:
        before = monitor.overall_state
        if status in (ALERT, WARN) and group.status not in (ALERT, WARN):
            group.last_triggered = at
        if status == NO_DATA:
            group.last_nodata = at
        if status == OK and group.status != OK:
            group.last_resolved = at
        group.status = status
        group.since = at
        if monitor.overall_state != before:
            monitor.overall_modified = at

    def _prune(self, now: datetime) -> None:
        for downtime_id, downtime in list(self.downtimes.items()):
            done = downtime.canceled or (downtime.end if downtime.status(now) == "ended" else None)
            if done is not None and now - done > DOWNTIME_RETENTION:
                del self.downtimes[downtime_id]

    # ------------------------------------------------------------------ reads

    def monitor(self, monitor_id: int) -> SimMonitor | None:
        return self.monitors.get(monitor_id)

    def active_downtimes(self, now: datetime | None = None) -> list[Downtime]:
        at = now or self.now
        return [d for d in self.downtimes.values() if d.status(at) == "active"]

    def downtimes_for(self, monitor: SimMonitor) -> list[Downtime]:
        """Active downtimes that mute at least one of the monitor's groups."""
        return [d for d in self.active_downtimes() if d.groups_of(monitor)]

    def muted_groups(self, monitor: SimMonitor) -> dict[str, list[Downtime]]:
        """Group name -> the active downtimes muting it."""
        muted: dict[str, list[Downtime]] = {}
        for downtime in self.downtimes_for(monitor):
            groups = downtime.groups_of(monitor)
            for name in monitor.groups if groups == ["*"] else groups:
                muted.setdefault(name, []).append(downtime)
        return muted

    def is_muted(self, monitor: SimMonitor) -> bool:
        """Muted as a whole: every group is inside an active downtime."""
        muted = self.muted_groups(monitor)
        return bool(monitor.groups) and all(name in muted for name in monitor.groups)

    @staticmethod
    def muted_until(downtimes: Iterable[Downtime]) -> datetime | None:
        """When the last of these downtimes ends; None if one of them never does."""
        ends = [d.end for d in downtimes]
        if not ends or any(end is None for end in ends):
            return None
        return max(end for end in ends if end is not None)

    def user(self, user_uuid: str) -> DdUser | None:
        return next((u for u in self.users if u.uuid == user_uuid), None)

    # ------------------------------------------------------------------ writes

    def schedule_downtime(
        self,
        *,
        monitor_id: int | None,
        monitor_tags: tuple[str, ...],
        scope: str,
        message: str,
        start: datetime | None,
        end: datetime | None,
        display_timezone: str = "UTC",
        mute_first_recovery_notification: bool = False,
        notify_end_states: tuple[str, ...] = NOTIFY_END_STATES,
        notify_end_types: tuple[str, ...] = NOTIFY_END_TYPES,
        by: DdUser | None = None,
    ) -> Downtime:
        """A new downtime (POST /api/v2/downtime); raises ValueError for what Datadog refuses."""
        if monitor_id is not None and monitor_id not in self.monitors:
            raise ValueError(f"monitor {monitor_id} does not exist")
        begins = start or self.now
        if end is not None and end <= begins:
            raise ValueError("the downtime must end after it starts")
        downtime = self._add_downtime(
            monitor_id=monitor_id,
            monitor_tags=monitor_tags,
            scope=scope,
            message=message,
            start=begins,
            end=end,
            by=by or self.me,
            at=self.now,
        )
        downtime.display_timezone = display_timezone
        downtime.mute_first_recovery_notification = mute_first_recovery_notification
        downtime.notify_end_states = notify_end_states
        downtime.notify_end_types = notify_end_types
        return downtime

    def cancel_downtime(self, downtime_id: str) -> Downtime:
        """Cancel (DELETE); cancelling twice is fine, as on Datadog. KeyError if unknown."""
        downtime = self.downtimes[downtime_id]
        if downtime.canceled is None:
            downtime.canceled = self.now
            downtime.modified = self.now
        return downtime

    def force_state(
        self, monitor_id: int, status: str, group: str | None = None, hold: float = 3600.0
    ) -> SimMonitor:
        """Put a monitor's group (or every group) in `status` now, for `hold` seconds."""
        if status not in STATES:
            raise ValueError(f"status must be one of {', '.join(STATES)}, got {status!r}")
        monitor = self.monitors.get(monitor_id)
        if monitor is None:
            raise ValueError(f"unknown monitor {monitor_id}")
        if group is not None and group not in monitor.groups:
            raise ValueError(f"monitor {monitor_id} has no group {group!r}")
        if hold <= 0:
            raise ValueError("hold must be a positive number of seconds")
        targets = [monitor.groups[group]] if group is not None else list(monitor.groups.values())
        for target in targets:
            if target.status != status:
                self._set_status(monitor, target, status, self.now)
            target.epoch += 1
            target.next_change = self.now + timedelta(seconds=hold)
            self._enqueue(monitor, target)
        return monitor

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        """The org as plain JSON for `/_sim/state`."""

        def when(at: datetime | None) -> str | None:
            return iso_micro(at) if at is not None else None

        return {
            "site": SITE,
            "monitors": [
                {
                    "id": m.id,
                    "name": m.name,
                    "type": m.type,
                    "tags": list(m.tags),
                    "priority": m.priority,
                    "multi": m.multi,
                    "overall_state": m.overall_state,
                    "muted": self.is_muted(m),
                    "groups": [
                        {"name": g.name, "status": g.status, "since": when(g.since)}
                        for g in m.groups.values()
                    ],
                }
                for m in self.monitors.values()
            ],
            "downtimes": [
                {
                    "id": d.id,
                    "monitor_id": d.monitor_id,
                    "monitor_tags": list(d.monitor_tags),
                    "scope": d.scope,
                    "message": d.message,
                    "start": when(d.start),
                    "end": when(d.end),
                    "status": d.status(self.now),
                    "created": when(d.created),
                    "canceled": when(d.canceled),
                    "created_by": d.created_by.email,
                }
                for d in self.downtimes.values()
            ],
        }
