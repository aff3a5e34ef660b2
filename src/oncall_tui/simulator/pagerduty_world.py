"""The PagerDuty part of the simulated world: people, services, schedules and incidents.

Everything is derived from the seed and the clock. Time moves only through `advance_to`,
which replays a timeline of events (new pages, acknowledgements by teammates, escalation
timeouts, recoveries) in time order; every random choice for a page is drawn when the page
is created, so the world at a given time is the same however finely it was advanced. The
HTTP layer (`oncall_tui.simulator.pagerduty`) turns this state into API JSON and calls the
write methods here; this module knows nothing about HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from oncall_tui.simulator.scenarios import Scenario

AUTO_RESOLVE_AFTER = timedelta(hours=4)
"""PagerDuty's default service auto-resolve timeout."""
RETENTION = timedelta(days=3)
"""Resolved incidents older than this are forgotten, so a week-long demo stays small."""

TEAM_NAME = "Benefits Platform"
ME = "me"
"""Key of the user who owns the simulator's API token (`GET /users/me`)."""

AgentKind = Literal["user", "service"]
Agent = tuple[AgentKind, str]
"""Who did something: a user id or a service id (an integration acting for it)."""


class InvalidTransition(ValueError):
    """A write that the incident's current state does not allow (PagerDuty answers 400)."""


def pd_id(*parts: object, prefix: str = "P", length: int = 6) -> str:
    """A PagerDuty-looking id (`P` + uppercase letters/digits), stable for the same parts."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=15).digest()
    return prefix + base64.b32encode(digest).decode()[:length]


def floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


# --------------------------------------------------------------------------- directory


@dataclass(frozen=True, slots=True)
class User:
    id: str
    key: str
    name: str
    email: str
    job_title: str
    color: str
    time_zone: str = "America/New_York"


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Priority:
    id: str
    name: str
    color: str


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    name: str
    policy_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    """One on-call shift of a schedule."""

    user_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    """A simple rotation: `rotation[0]` holds the shift that starts at `anchor`, and so on."""

    id: str
    name: str
    rotation: tuple[str, ...]
    anchor: datetime
    length: timedelta

    def shift(self, index: int) -> Shift:
        start = self.anchor + index * self.length
        return Shift(self.rotation[index % len(self.rotation)], start, start + self.length)

    def shift_at(self, at: datetime) -> Shift:
        return self.shift((at - self.anchor) // self.length)

    def shifts(self, since: datetime, until: datetime) -> Iterator[Shift]:
        """Shifts overlapping [since, until]; an instant (since == until) gives one shift."""
        first = (since - self.anchor) // self.length
        last = (until - self.anchor) // self.length
        if until > since and (until - self.anchor) % self.length == timedelta(0):
            last -= 1  # a shift starting exactly at `until` does not overlap the range
        for index in range(first, last + 1):
            yield self.shift(index)


@dataclass(frozen=True, slots=True)
class EscalationRule:
    id: str
    delay_minutes: int
    schedule_id: str


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    id: str
    name: str
    rules: tuple[EscalationRule, ...]


# --------------------------------------------------------------------------- incidents


@dataclass(slots=True)
class LogEntry:
    id: str
    type: str
    at: datetime
    summary: str
    channel: str
    agent: Agent | None = None
    user_id: str | None = None
    """The notified user, for notify log entries."""
    assignee_ids: tuple[str, ...] = ()
    note: str | None = None


@dataclass(slots=True)
class Note:
    id: str
    user_id: str
    content: str
    at: datetime


@dataclass(slots=True)
class Incident:
    id: str
    number: int
    title: str
    service: Service
    policy: EscalationPolicy
    urgency: str
    priority: Priority | None
    created_at: datetime
    incident_key: str
    updated_at: datetime
    last_status_change_at: datetime
    last_status_change_by: Agent
    status: str = "triggered"
    resolved_at: datetime | None = None
    escalation_level: int = 1
    assigned_via: str = "escalation_policy"
    assignments: list[tuple[str, datetime]] = field(default_factory=list)
    acknowledgements: list[tuple[str, datetime]] = field(default_factory=list)
    ack_history: list[tuple[str, datetime]] = field(default_factory=list)
    """Every acknowledgement ever made; the API clears `acknowledgements` on resolve."""
    log_entries: list[LogEntry] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    escalate_at: datetime | None = None
    snoozed_until: datetime | None = None
    auto_resolve_at: datetime | None = None
    epoch: int = 0
    """Bumped on every change that invalidates pending timers (escalation, snooze)."""

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    def assignee_ids(self) -> list[str]:
        return [user_id for user_id, _ in self.assignments]

    def acknowledger_ids(self) -> list[str]:
        return [user_id for user_id, _ in self.acknowledgements]


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A page decided in advance: what it is and what will happen to it unless a human acts."""

    at: datetime
    title: str
    service_id: str
    urgency: str
    priority_id: str | None
    ack_at: datetime | None = None
    ack_by: str = "other"
    """`"me"`, or `"other"`: the assignee if it is not me, else the next level's on-call."""
    note_at: datetime | None = None
    note: str = ""
    resolve_at: datetime | None = None
    resolve_by: Literal["service", "acknowledger"] = "service"


@dataclass(frozen=True, slots=True)
class _Event:
    kind: Literal["trigger", "ack", "note", "resolve", "escalate", "unsnooze"]
    incident_id: str = ""
    epoch: int = 0
    spec: PageSpec | None = None


@dataclass(frozen=True, slots=True)
class OnCallEntry:
    policy: EscalationPolicy
    level: int
    schedule: Schedule
    user: User
    start: datetime
    end: datetime


# --------------------------------------------------------------------------- content

_USERS = (
    (ME, "Alex Rivera", "Site Reliability Engineer", "teal"),
    ("jordan", "Jordan Lee", "Backend Engineer", "purple"),
    ("priya", "Priya Natarajan", "Staff Engineer", "orange"),
    ("sam", "Sam Okafor", "Platform Engineer", "green"),
    ("morgan", "Morgan Chen", "Data Engineer", "red"),
    ("taylor", "Taylor Brooks", "Engineering Manager", "blue"),
)
_PLATFORM_SERVICES = (
    "claims-api",
    "svc-bgs-api",
    "svc-bip-api",
    "domain-cc",
    "ee-ep-merge-app",
    "ee-max-cfi-app",
)
_DATA_SERVICES = ("svc-bie-kafka", "rabbitmq", "postgres")
# (name, rotation, shift hours, hours from the start's hour until the current shift ends)
_SCHEDULES = (
    ("Benefits Platform Primary", (ME, "jordan", "priya"), 12, 5),
    ("Benefits Platform Secondary", ("sam", "taylor", "jordan"), 24, 9),
    ("Benefits Data Primary", ("priya", "morgan", "sam"), 12, 2),
    ("Benefits Data Secondary", ("morgan", "jordan", ME), 24, 15),
)
# (name, services, ((schedule name, escalation delay in minutes), ...))
_POLICIES = (
    (
        "Benefits Platform",
        _PLATFORM_SERVICES,
        (("Benefits Platform Primary", 30), ("Benefits Platform Secondary", 30)),
    ),
    (
        "Benefits Data & Messaging",
        _DATA_SERVICES,
        (("Benefits Data Primary", 15), ("Benefits Data Secondary", 30)),
    ),
)
_PRIORITIES = (("SEV1", "a8171c"), ("SEV2", "eb6016"), ("SEV3", "f9b406"), ("SEV4", "555555"))

_COMMON_TITLES = (
    ("[Datadog] {svc} p99 latency > 2s on env:prod", "high"),
    ("[Datadog] {svc} error rate > 5% on env:prod", "high"),
    ("[Datadog] {svc} 5xx responses > 50/min on env:prod", "high"),
    ("[Datadog] No data: {svc} health check on env:prod", "high"),
    ("[Datadog] {svc} pod restarts > 3 in 10m on env:prod", "low"),
    ("[Datadog] {svc} CPU > 90% for 15m on env:prod", "low"),
    ("[Datadog] {svc} memory > 85% on env:prod-test", "low"),
    ("[Datadog] {svc} p95 latency > 1s on env:sandbox", "low"),
)
_SERVICE_TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "claims-api": (
        ("[Datadog] claims-api synthetic GET /v1/claims/health failing on env:prod", "high"),
        ("[Datadog] claims-api upstream 429s > 100/min on env:prod", "low"),
    ),
    "svc-bgs-api": (("[Datadog] svc-bgs-api SOAP upstream timeouts > 20/min on env:prod", "high"),),
    "svc-bip-api": (("[Datadog] svc-bip-api p99 latency > 2s on env:prod", "high"),),
    "svc-bie-kafka": (
        ("[Datadog] svc-bie-kafka consumer lag > 10k on topic bie.contention-events", "high"),
        ("[Datadog] svc-bie-kafka dead-letter messages > 0 on env:prod", "low"),
    ),
    "domain-cc": (("[Datadog] domain-cc classification failures > 2% on env:prod", "high"),),
    "ee-ep-merge-app": (("[Datadog] ee-ep-merge-app merge jobs stuck > 30m on env:prod", "high"),),
    "ee-max-cfi-app": (("[Datadog] ee-max-cfi-app CFI calculations failing on env:prod", "low"),),
    "rabbitmq": (
        ("[Datadog] rabbitmq queue depth > 5000 on vbms.claims.events", "high"),
        ("[Datadog] rabbitmq unacked messages > 1000 on env:prod", "low"),
    ),
    "postgres": (
        ("[Datadog] postgres replication lag > 60s on claims-db-replica", "high"),
        ("[Datadog] postgres connections > 90% of max_connections on env:prod", "high"),
        ("[Datadog] postgres disk usage > 85% on claims-db", "low"),
    ),
}
_NOTES = (
    "Looking into it; dashboards show the spike started after the last deploy.",
    "Upstream dependency is degraded; watching the error budget.",
    "Restarted the stuck pods, monitoring for recurrence.",
    "Correlates with a traffic burst from the nightly batch; should recover on its own.",
    "Opened a ticket with the platform team, see the incident channel.",
)


class PagerDutyWorld:
    """The account the simulator's PagerDuty API serves; not thread-safe (the World locks)."""

    def __init__(self, seed: int, scenario: Scenario, start: datetime) -> None:
        self.seed = seed
        self.scenario = scenario
        self.knobs = scenario.pagerduty
        self.now = start
        self.team = Team(pd_id("team", TEAM_NAME), TEAM_NAME)
        self.users: dict[str, User] = {}
        for key, name, title, color in _USERS:
            email = name.lower().replace(" ", ".") + "@example.com"
            self.users[pd_id("user", key)] = User(
                pd_id("user", key), key, name, email, title, color
            )
        self._user_by_key = {user.key: user for user in self.users.values()}
        self._user_by_email = {user.email.lower(): user for user in self.users.values()}
        self.me = self._user_by_key[ME]
        self.priorities = {
            pd_id("priority", name): Priority(pd_id("priority", name), name, color)
            for name, color in _PRIORITIES
        }
        self._priority_by_name = {p.name: p for p in self.priorities.values()}
        self.schedules: dict[str, Schedule] = {}
        for name, rotation, hours, ends_in in _SCHEDULES:
            length = timedelta(hours=hours)
            anchor = floor_hour(start) + timedelta(hours=ends_in) - length
            ids = tuple(self._user_by_key[key].id for key in rotation)
            schedule = Schedule(pd_id("schedule", name), name, ids, anchor, length)
            self.schedules[schedule.id] = schedule
        by_schedule_name = {s.name: s for s in self.schedules.values()}
        self.policies: dict[str, EscalationPolicy] = {}
        self.services: dict[str, Service] = {}
        created = datetime(2023, 3, 14, 15, 0, tzinfo=UTC)
        for name, service_names, rules in _POLICIES:
            policy_id = pd_id("escalation_policy", name)
            self.policies[policy_id] = EscalationPolicy(
                policy_id,
                name,
                tuple(
                    EscalationRule(
                        pd_id("rule", name, level), delay, by_schedule_name[schedule_name].id
                    )
                    for level, (schedule_name, delay) in enumerate(rules, start=1)
                ),
            )
            for service_name in service_names:
                service = Service(pd_id("service", service_name), service_name, policy_id, created)
                self.services[service.id] = service
        self._service_by_name = {s.name: s for s in self.services.values()}

        self.incidents: dict[str, Incident] = {}
        self._events: list[tuple[datetime, int, _Event]] = []
        self._seq = 0
        self._log_seq = 0
        self._manual_count = 0
        self._pruned_hour = floor_hour(start)
        self._next_arrival: datetime | None = None
        rng = random.Random(f"{seed}/pagerduty/initial")
        self._next_number = 1000 + rng.randrange(8000)
        self._arrivals = random.Random(f"{seed}/pagerduty/arrivals")
        self._seed_history(rng, start)
        self.now = min(self._earliest_event(), start)
        self.advance_to(start)
        self._next_arrival = self._draw_next_arrival(start)

    # ------------------------------------------------------------------ lookups

    @property
    def me_email(self) -> str:
        """The token owner's email: the `From` address a cockpit config should use."""
        return self.me.email

    @property
    def escalation_policy_ids(self) -> list[str]:
        return list(self.policies)

    def user(self, user_id: str) -> User:
        return self.users[user_id]

    def user_by_email(self, email: str) -> User | None:
        return self._user_by_email.get(email.strip().lower())

    def service_by_name_or_id(self, name_or_id: str) -> Service | None:
        return self.services.get(name_or_id) or self._service_by_name.get(name_or_id)

    def on_call(self, policy: EscalationPolicy, level: int, at: datetime) -> User:
        rule = policy.rules[level - 1]
        return self.users[self.schedules[rule.schedule_id].shift_at(at).user_id]

    def oncalls(self, since: datetime, until: datetime) -> list[OnCallEntry]:
        """Every on-call shift overlapping [since, until], by policy, level and start."""
        entries = []
        for policy in self.policies.values():
            for level, rule in enumerate(policy.rules, start=1):
                schedule = self.schedules[rule.schedule_id]
                for shift in schedule.shifts(since, until):
                    user = self.users[shift.user_id]
                    entries.append(
                        OnCallEntry(policy, level, schedule, user, shift.start, shift.end)
                    )
        return entries

    # ------------------------------------------------------------------ time

    def advance_to(self, now: datetime) -> None:
        """Replay every event due up to `now`, in time order, each at its own time."""
        while True:
            event_at = self._events[0][0] if self._events else None
            arrival = self._next_arrival
            if arrival is not None and arrival <= now and (event_at is None or arrival < event_at):
                self.now = arrival
                self._trigger(self._draw_page(self._arrivals, arrival, future=True))
                self._next_arrival = self._draw_next_arrival(arrival)
            elif event_at is not None and event_at <= now:
                at, _, event = heapq.heappop(self._events)
                self.now = max(self.now, at)
                self._apply(event, at)
            else:
                break
        self.now = max(self.now, now)
        if floor_hour(self.now) > self._pruned_hour:
            self._prune(floor_hour(self.now))

    def _schedule(self, at: datetime, event: _Event) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, event))

    def _earliest_event(self) -> datetime:
        return self._events[0][0] if self._events else self.now

    def _draw_next_arrival(self, after: datetime) -> datetime | None:
        mean = self.knobs.trigger_gap
        if mean <= 0:
            return None
        gap = min(max(self._arrivals.expovariate(1.0 / mean), 0.15 * mean), 4 * mean)
        return after + timedelta(seconds=round(gap))

    def _prune(self, hour: datetime) -> None:
        """Forget old resolved incidents, on hour boundaries so the result never depends on
        how finely the world was advanced."""
        self._pruned_hour = hour
        horizon = hour - RETENTION
        stale = [
            incident.id
            for incident in self.incidents.values()
            if incident.resolved_at is not None and incident.resolved_at < horizon
        ]
        for incident_id in stale:
            del self.incidents[incident_id]

    def _apply(self, event: _Event, at: datetime) -> None:
        if event.kind == "trigger":
            assert event.spec is not None
            self._trigger(event.spec)
            return
        incident = self.incidents.get(event.incident_id)
        if incident is None or not incident.is_open:
            return
        if event.kind == "escalate":
            if incident.epoch == event.epoch and incident.status == "triggered":
                self._escalate(incident, incident.escalation_level + 1, at, agent=None)
        elif event.kind == "unsnooze":
            if incident.epoch == event.epoch and incident.status == "acknowledged":
                self._unacknowledge(incident, at, "Unacknowledged: snooze ended.")
        elif event.kind == "ack":
            spec = event.spec
            if incident.status == "triggered" and spec is not None:
                user = self.me if spec.ack_by == ME else self._other_responder(incident, at)
                if user is not None:
                    self.acknowledge(incident, user, at, channel="mobile")
        elif event.kind == "note":
            spec = event.spec
            if spec is not None and incident.ack_history:
                self.add_note(incident, self.users[incident.ack_history[-1][0]], spec.note, at)
        elif event.kind == "resolve":
            spec = event.spec
            timed_out = incident.auto_resolve_at is not None and at >= incident.auto_resolve_at
            if spec is not None and spec.resolve_by == "acknowledger" and incident.acknowledgements:
                user = self.users[incident.acknowledgements[-1][0]]
                self.resolve(incident, ("user", user.id), at, channel="mobile")
            elif timed_out:
                self.resolve(incident, ("service", incident.service.id), at, channel="timeout")
            else:
                self.resolve(incident, ("service", incident.service.id), at, channel="api")

    def _other_responder(self, incident: Incident, at: datetime) -> User | None:
        """A teammate who picks the page up: the assignee, or the next level if that is me."""
        for user_id in incident.assignee_ids():
            if user_id != self.me.id:
                return self.users[user_id]
        levels = len(incident.policy.rules)
        next_level = min(incident.escalation_level + 1, levels)
        candidate = self.on_call(incident.policy, next_level, at)
        return None if candidate.id == self.me.id else candidate

    # ------------------------------------------------------------------ drawing pages

    def _seed_history(self, rng: random.Random, start: datetime) -> None:
        knobs = self.knobs
        max_age = knobs.max_age
        if knobs.auto_resolve:
            max_age = min(max_age, AUTO_RESOLVE_AFTER.total_seconds() - 300)
        ages = sorted(rng.uniform(120, max(120, max_age)) for _ in range(knobs.open_pages))
        for age in reversed(ages):
            created = start - timedelta(seconds=round(age))
            spec = self._draw_page(rng, created, future=False)
            # Older pages are more likely to have been picked up by now.
            share = knobs.acknowledged_share
            acked = rng.random() < (share if age < 1800 else min(0.9, share * 1.7))
            ack_at: datetime | None = None
            ack_by = "other"
            if acked:
                window = max(60.0, min(age - 30, 25 * 60))
                ack_at = created + timedelta(seconds=round(rng.uniform(30, window)))
                ack_at = min(ack_at, start - timedelta(seconds=1))
                ack_by = ME if rng.random() < 0.5 else "other"
            elif rng.random() < knobs.other_ack_chance:
                ack_at = start + timedelta(seconds=round(rng.uniform(120, 40 * 60)))
            note_at = None
            if acked and ack_at is not None and rng.random() < knobs.notes_chance:
                note_at = ack_at + timedelta(seconds=round(rng.uniform(60, 600)))
            resolve_at = start + timedelta(seconds=round(rng.uniform(*knobs.initial_lifetime)))
            self._schedule(
                created,
                _Event(
                    "trigger",
                    spec=PageSpec(
                        at=created,
                        title=spec.title,
                        service_id=spec.service_id,
                        urgency=spec.urgency,
                        priority_id=spec.priority_id,
                        ack_at=ack_at,
                        ack_by=ack_by,
                        note_at=note_at,
                        note=rng.choice(_NOTES),
                        resolve_at=resolve_at,
                        resolve_by="acknowledger" if rng.random() < 0.4 else "service",
                    ),
                ),
            )
        for _ in range(knobs.resolved_history):
            created = start - timedelta(seconds=round(rng.uniform(3600, 12 * 3600)))
            spec = self._draw_page(rng, created, future=False)
            ack_at = created + timedelta(seconds=round(rng.uniform(60, 15 * 60)))
            resolve_at = ack_at + timedelta(seconds=round(rng.uniform(5 * 60, 90 * 60)))
            resolve_at = min(resolve_at, start - timedelta(seconds=60))
            self._schedule(
                created,
                _Event(
                    "trigger",
                    spec=PageSpec(
                        at=created,
                        title=spec.title,
                        service_id=spec.service_id,
                        urgency=spec.urgency,
                        priority_id=spec.priority_id,
                        ack_at=ack_at,
                        ack_by=ME if rng.random() < 0.5 else "other",
                        resolve_at=resolve_at,
                        resolve_by="acknowledger",
                    ),
                ),
            )

    def _draw_page(
        self,
        rng: random.Random,
        at: datetime,
        *,
        future: bool,
        service: Service | None = None,
        urgency: str | None = None,
    ) -> PageSpec:
        """Draw a page's content (and, for future pages, its fate) from `rng`."""
        knobs = self.knobs
        drawn_service = rng.choice(list(self.services.values()))
        drawn_urgency = "high" if rng.random() < knobs.high_urgency_share else "low"
        service = service or drawn_service
        urgency = urgency or drawn_urgency
        titles = [
            title.format(svc=service.name)
            for title, title_urgency in _SERVICE_TITLES.get(service.name, ()) + _COMMON_TITLES
            if title_urgency == urgency
        ]
        title = rng.choice(titles)
        roll = rng.random()
        if urgency == "high":
            priority_name: str | None = "SEV1" if roll < 0.2 else "SEV2"
        else:
            priority_name = "SEV3" if roll < 0.6 else ("SEV4" if roll < 0.9 else None)
        priority_id = self._priority_by_name[priority_name].id if priority_name else None
        if not future:
            return PageSpec(at, title, service.id, urgency, priority_id)
        ack_at = None
        if rng.random() < knobs.other_ack_chance:
            ack_at = at + timedelta(seconds=round(rng.uniform(120, 25 * 60)))
        note_at = None
        if ack_at is not None and rng.random() < knobs.notes_chance:
            note_at = ack_at + timedelta(seconds=round(rng.uniform(60, 600)))
        lifetime = rng.uniform(*knobs.lifetime)
        return PageSpec(
            at=at,
            title=title,
            service_id=service.id,
            urgency=urgency,
            priority_id=priority_id,
            ack_at=ack_at,
            note_at=note_at,
            note=rng.choice(_NOTES),
            resolve_at=at + timedelta(seconds=round(lifetime)),
            resolve_by="acknowledger" if rng.random() < 0.4 else "service",
        )

    # ------------------------------------------------------------------ state changes

    def _log(self, incident: Incident, type_: str, at: datetime, summary: str, **kw: Any) -> None:
        self._log_seq += 1
        entry_id = pd_id("log", self.seed, self._log_seq, prefix="R", length=25)
        incident.log_entries.append(LogEntry(entry_id, type_, at, summary, **kw))

    def _notify(self, incident: Incident, at: datetime) -> None:
        for user_id in incident.assignee_ids():
            user = self.users[user_id]
            self._log(
                incident,
                "notify_log_entry",
                at,
                f"Notified {user.name} by push notification.",
                channel="auto",
                user_id=user_id,
            )

    def _touch(self, incident: Incident, at: datetime) -> None:
        incident.updated_at = at
        incident.epoch += 1

    def _set_status(self, incident: Incident, status: str, at: datetime, agent: Agent) -> None:
        incident.status = status
        incident.last_status_change_at = at
        incident.last_status_change_by = agent
        self._touch(incident, at)

    def _arm_escalation(self, incident: Incident, at: datetime) -> None:
        """Start the escalation timer of the current level, if a higher level exists."""
        incident.escalate_at = None
        if incident.assigned_via != "escalation_policy":
            return
        if incident.escalation_level >= len(incident.policy.rules):
            return
        rule = incident.policy.rules[incident.escalation_level - 1]
        incident.escalate_at = at + timedelta(minutes=rule.delay_minutes)
        self._schedule(incident.escalate_at, _Event("escalate", incident.id, epoch=incident.epoch))

    def _trigger(self, spec: PageSpec) -> Incident:
        at = spec.at
        number = self._next_number
        self._next_number += 1
        service = self.services[spec.service_id]
        policy = self.policies[service.policy_id]
        incident = Incident(
            id=pd_id("incident", self.seed, number, prefix="Q", length=13),
            number=number,
            title=spec.title,
            service=service,
            policy=policy,
            urgency=spec.urgency,
            priority=self.priorities[spec.priority_id] if spec.priority_id else None,
            created_at=at,
            incident_key=hashlib.blake2b(
                f"{self.seed}:{number}".encode(), digest_size=16
            ).hexdigest(),
            updated_at=at,
            last_status_change_at=at,
            last_status_change_by=("service", service.id),
        )
        if self.knobs.auto_resolve:
            incident.auto_resolve_at = at + AUTO_RESOLVE_AFTER
        self.incidents[incident.id] = incident
        incident.assignments = [(self.on_call(policy, 1, at).id, at)]
        self._log(
            incident,
            "trigger_log_entry",
            at,
            "Triggered through the API.",
            channel="api",
            agent=("service", service.id),
        )
        self._notify(incident, at)
        self._arm_escalation(incident, at)
        if spec.ack_at is not None:
            self._schedule(spec.ack_at, _Event("ack", incident.id, spec=spec))
        if spec.note_at is not None:
            self._schedule(spec.note_at, _Event("note", incident.id, spec=spec))
        resolve_at = spec.resolve_at
        if incident.auto_resolve_at is not None:
            resolve_at = min(resolve_at or incident.auto_resolve_at, incident.auto_resolve_at)
        if resolve_at is not None:
            self._schedule(resolve_at, _Event("resolve", incident.id, spec=spec))
        return incident

    def _escalate(self, incident: Incident, level: int, at: datetime, agent: Agent | None) -> None:
        level = max(1, min(level, len(incident.policy.rules)))
        incident.escalation_level = level
        incident.assigned_via = "escalation_policy"
        user = self.on_call(incident.policy, level, at)
        incident.assignments = [(user.id, at)]
        if incident.status != "triggered":
            incident.acknowledgements = []
            incident.snoozed_until = None
            self._set_status(incident, "triggered", at, agent or ("service", incident.service.id))
        else:
            self._touch(incident, at)
        how = "by timeout" if agent is None else f"by {self._agent_name(agent)}"
        self._log(
            incident,
            "escalate_log_entry",
            at,
            f"Escalated to level {level} ({user.name}) {how}.",
            channel="timeout" if agent is None else "api",
            agent=agent,
            assignee_ids=(user.id,),
        )
        self._notify(incident, at)
        self._arm_escalation(incident, at)

    def _unacknowledge(self, incident: Incident, at: datetime, summary: str) -> None:
        incident.acknowledgements = []
        incident.snoozed_until = None
        self._set_status(incident, "triggered", at, ("service", incident.service.id))
        self._log(incident, "unacknowledge_log_entry", at, summary, channel="timeout")
        self._notify(incident, at)
        self._arm_escalation(incident, at)

    def _agent_name(self, agent: Agent) -> str:
        kind, agent_id = agent
        return self.users[agent_id].name if kind == "user" else self.services[agent_id].name

    @staticmethod
    def _require_open(incident: Incident) -> None:
        if not incident.is_open:
            raise InvalidTransition("Incident Already Resolved")

    # ------------------------------------------------------------------ writes (API and world)

    def acknowledge(
        self, incident: Incident, user: User, at: datetime, channel: str = "api"
    ) -> None:
        self._require_open(incident)
        incident.acknowledgements = [a for a in incident.acknowledgements if a[0] != user.id]
        incident.acknowledgements.append((user.id, at))
        incident.ack_history.append((user.id, at))
        incident.escalate_at = None
        self._set_status(incident, "acknowledged", at, ("user", user.id))
        self._log(
            incident,
            "acknowledge_log_entry",
            at,
            f"Acknowledged by {user.name}.",
            channel=channel,
            agent=("user", user.id),
        )

    def unacknowledge(self, incident: Incident, user: User, at: datetime) -> None:
        self._require_open(incident)
        if incident.status == "triggered":
            return
        incident.acknowledgements = []
        incident.snoozed_until = None
        self._set_status(incident, "triggered", at, ("user", user.id))
        self._log(
            incident,
            "unacknowledge_log_entry",
            at,
            f"Unacknowledged by {user.name}.",
            channel="api",
            agent=("user", user.id),
        )
        self._notify(incident, at)
        self._arm_escalation(incident, at)

    def resolve(self, incident: Incident, agent: Agent, at: datetime, channel: str = "api") -> None:
        self._require_open(incident)
        incident.resolved_at = at
        incident.assignments = []
        incident.acknowledgements = []
        incident.escalate_at = None
        incident.snoozed_until = None
        incident.auto_resolve_at = None
        self._set_status(incident, "resolved", at, agent)
        if channel == "timeout":
            summary = "Resolved by timeout."
        else:
            summary = f"Resolved by {self._agent_name(agent)}."
        self._log(incident, "resolve_log_entry", at, summary, channel=channel, agent=agent)

    def escalate(self, incident: Incident, level: int, user: User, at: datetime) -> None:
        self._require_open(incident)
        if not 1 <= level <= len(incident.policy.rules):
            raise InvalidTransition(
                f"Escalation level must be between 1 and {len(incident.policy.rules)}"
            )
        self._escalate(incident, level, at, agent=("user", user.id))

    def reassign_users(
        self, incident: Incident, assignees: Iterable[User], user: User, at: datetime
    ) -> None:
        self._require_open(incident)
        targets = list(dict.fromkeys(assignees))
        incident.assignments = [(target.id, at) for target in targets]
        incident.assigned_via = "direct_assignment"
        incident.escalate_at = None
        incident.acknowledgements = []
        incident.snoozed_until = None
        if incident.status != "triggered":
            self._set_status(incident, "triggered", at, ("user", user.id))
        else:
            self._touch(incident, at)
        names = ", ".join(target.name for target in targets)
        self._log(
            incident,
            "assign_log_entry",
            at,
            f"Reassigned to {names} by {user.name}.",
            channel="api",
            agent=("user", user.id),
            assignee_ids=tuple(target.id for target in targets),
        )
        self._notify(incident, at)

    def reassign_policy(
        self, incident: Incident, policy: EscalationPolicy, user: User, at: datetime
    ) -> None:
        self._require_open(incident)
        incident.policy = policy
        incident.escalation_level = 1
        incident.assigned_via = "escalation_policy"
        target = self.on_call(policy, 1, at)
        incident.assignments = [(target.id, at)]
        incident.acknowledgements = []
        incident.snoozed_until = None
        if incident.status != "triggered":
            self._set_status(incident, "triggered", at, ("user", user.id))
        else:
            self._touch(incident, at)
        self._log(
            incident,
            "assign_log_entry",
            at,
            f"Reassigned to {policy.name} ({target.name}) by {user.name}.",
            channel="api",
            agent=("user", user.id),
            assignee_ids=(target.id,),
        )
        self._notify(incident, at)
        self._arm_escalation(incident, at)

    def snooze(self, incident: Incident, seconds: int, user: User, at: datetime) -> None:
        self._require_open(incident)
        if incident.status != "acknowledged":
            raise InvalidTransition("Incident must be acknowledged to be snoozed")
        incident.snoozed_until = at + timedelta(seconds=seconds)
        self._touch(incident, at)
        self._schedule(
            incident.snoozed_until, _Event("unsnooze", incident.id, epoch=incident.epoch)
        )
        self._log(
            incident,
            "snooze_log_entry",
            at,
            f"Snoozed for {_duration_text(seconds)} by {user.name}.",
            channel="api",
            agent=("user", user.id),
        )

    def add_note(self, incident: Incident, user: User, content: str, at: datetime) -> Note:
        note = Note(
            pd_id("note", self.seed, incident.id, len(incident.notes)), user.id, content, at
        )
        incident.notes.append(note)
        incident.updated_at = at
        self._log(
            incident,
            "annotate_log_entry",
            at,
            f"Note added by {user.name}.",
            channel="note",
            agent=("user", user.id),
            note=content,
        )
        return note

    def update_fields(
        self,
        incident: Incident,
        at: datetime,
        *,
        title: str | None = None,
        urgency: str | None = None,
        priority: Priority | None = None,
    ) -> None:
        self._require_open(incident)
        if title is not None:
            incident.title = title
        if urgency is not None and urgency != incident.urgency:
            incident.urgency = urgency
            self._log(
                incident,
                "urgency_change_log_entry",
                at,
                f"Urgency changed to {urgency}.",
                channel="api",
            )
        if priority is not None:
            incident.priority = priority
        incident.updated_at = at

    def trigger_now(
        self, title: str | None = None, urgency: str | None = None, service: str | None = None
    ) -> Incident:
        """A page that starts now (the control API's trigger); nobody else will handle it."""
        chosen_service = None
        if service is not None:
            chosen_service = self.service_by_name_or_id(service)
            if chosen_service is None:
                raise ValueError(f"unknown service {service!r}")
        if urgency is not None and urgency not in ("high", "low"):
            raise ValueError(f"urgency must be high or low, got {urgency!r}")
        self._manual_count += 1
        rng = random.Random(f"{self.seed}/pagerduty/manual/{self._manual_count}")
        drawn = self._draw_page(
            rng, self.now, future=False, service=chosen_service, urgency=urgency
        )
        if title is not None:
            drawn = PageSpec(drawn.at, title, drawn.service_id, drawn.urgency, drawn.priority_id)
        return self._trigger(drawn)

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        """The world as plain JSON for `/_sim/state`: what tests and demos check against."""

        def email(user_id: str) -> str:
            return self.users[user_id].email

        return {
            "me": {"id": self.me.id, "name": self.me.name, "email": self.me.email},
            "incidents": [
                {
                    "id": i.id,
                    "number": i.number,
                    "title": i.title,
                    "status": i.status,
                    "urgency": i.urgency,
                    "priority": i.priority.name if i.priority else None,
                    "service": i.service.name,
                    "escalation_policy": i.policy.name,
                    "escalation_level": i.escalation_level,
                    "created_at": iso(i.created_at),
                    "resolved_at": iso(i.resolved_at) if i.resolved_at else None,
                    "assignees": [email(u) for u in i.assignee_ids()],
                    "acknowledgers": [email(u) for u in i.acknowledger_ids()],
                    "acknowledged": [{"by": email(u), "at": iso(at)} for u, at in i.ack_history],
                    "snoozed_until": iso(i.snoozed_until) if i.snoozed_until else None,
                    "notes": [
                        {"by": email(n.user_id), "content": n.content, "at": iso(n.at)}
                        for n in i.notes
                    ],
                }
                for i in self.incidents.values()
            ],
            "oncalls": [
                {
                    "escalation_policy": entry.policy.name,
                    "escalation_policy_id": entry.policy.id,
                    "level": entry.level,
                    "schedule": entry.schedule.name,
                    "user": entry.user.email,
                    "start": iso(entry.start),
                    "end": iso(entry.end),
                }
                for entry in self.oncalls(self.now, self.now)
            ],
        }


def iso(at: datetime) -> str:
    """PagerDuty's timestamp form: UTC, whole seconds, `Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{seconds} seconds"
