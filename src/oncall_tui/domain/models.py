"""Frozen domain models that the sources produce and the cockpit renders.

A provider payload is turned into these once, in `oncall_tui.sources`; nothing above that
layer reads provider JSON. Every item has a stable `key` (the provider's id) so the cockpit
can update its row in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

PageStatus = Literal["triggered", "acknowledged", "resolved"]
Urgency = Literal["high", "low"]

URGENCY_RANK: dict[str, int] = {"high": 0, "low": 1}
"""Sort rank of an urgency: loudest first."""

STATUS_RANK: dict[str, int] = {"triggered": 0, "acknowledged": 1, "resolved": 2}
"""Sort rank of a page status: what still needs a human first."""


class Item(Protocol):
    """Anything a pane shows as one row."""

    @property
    def key(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def url(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Page:
    """An open PagerDuty incident, as the on-call engineer needs to see it."""

    id: str
    number: int
    title: str
    status: PageStatus
    urgency: Urgency
    service_id: str
    service_name: str
    created_at: datetime
    last_status_change_at: datetime
    html_url: str
    priority: str | None = None
    assignees: tuple[str, ...] = ()
    acknowledgers: tuple[str, ...] = ()
    escalation_policy: str = ""
    alerts_triggered: int = 0

    @property
    def key(self) -> str:
        return self.id

    @property
    def state(self) -> str:
        return self.status

    @property
    def url(self) -> str:
        return self.html_url

    def sort_key(self) -> tuple[int, int, datetime]:
        """Triggered first, then urgency, then oldest first."""
        return (
            STATUS_RANK.get(self.status, 9),
            URGENCY_RANK.get(self.urgency, 9),
            self.created_at,
        )


@dataclass(frozen=True, slots=True)
class OnCall:
    """One on-call entry: who holds a level of an escalation policy, and until when."""

    user_id: str
    user_name: str
    escalation_policy: str
    level: int
    start: datetime | None
    end: datetime | None
    user_email: str = ""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a page's timeline (PagerDuty log entry)."""

    id: str
    type: str
    summary: str
    created_at: datetime
    agent: str = ""


@dataclass(frozen=True, slots=True)
class PageDetail:
    """What the detail view shows beyond the row: the page and its recent log entries."""

    page: Page
    log_entries: tuple[LogEntry, ...] = ()
    description: str = ""
    notes: tuple[LogEntry, ...] = ()


MONITOR_STATE_RANK: dict[str, int] = {
    "Alert": 0,
    "Warn": 1,
    "No Data": 2,
    "Unknown": 3,
    "Skipped": 4,
    "Ignored": 5,
    "OK": 6,
}
"""Monitors pane order: Alert first, then Warn, then No Data."""


@dataclass(frozen=True, slots=True)
class Monitor:
    """A Datadog monitor in one of the watched states."""

    id: int
    name: str
    type: str
    overall_state: str
    url: str
    priority: int | None = None
    tags: tuple[str, ...] = ()
    since: datetime | None = None
    groups_alerting: tuple[str, ...] = ()
    group_counts: tuple[tuple[str, int], ...] = ()
    muted: bool = False
    muted_until: datetime | None = None
    mute_reason: str = ""
    downtime_ids: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return str(self.id)

    @property
    def state(self) -> str:
        return self.overall_state

    @property
    def title(self) -> str:
        return self.name

    def sort_key(self) -> tuple[int, int, float]:
        """Alert, Warn, No Data; then priority (P1 first); then the longest-standing first."""
        since = self.since.timestamp() if self.since is not None else float("inf")
        return (MONITOR_STATE_RANK.get(self.overall_state, 9), self.priority or 9, since)


DeployState = Literal[
    "queued", "pending", "in_progress", "success", "failure", "error", "cancelled", "inactive"
]


@dataclass(frozen=True, slots=True)
class Deploy:
    """The latest deployment (or deploy workflow run) of one repository to one environment."""

    repo: str
    environment: str
    deploy_state: DeployState
    url: str
    ref: str = ""
    sha: str = ""
    creator: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    origin: Literal["deployment", "workflow"] = "deployment"
    run_id: int | None = None
    workflow: str = ""
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.repo}:{self.environment}"

    @property
    def state(self) -> str:
        return self.deploy_state

    @property
    def title(self) -> str:
        return f"{self.repo} → {self.environment}"

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, if it finished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


Bump = Literal["patch", "minor", "major", "unknown"]
CiState = Literal["success", "failure", "pending", "none"]


@dataclass(frozen=True, slots=True)
class DependabotPR:
    """An open Dependabot pull request, with what the engineer needs to merge or not."""

    repo: str
    number: int
    title: str
    url: str
    package: str
    from_version: str
    to_version: str
    bump: Bump
    ecosystem: str
    ci: CiState
    created_at: datetime
    mergeable: bool | None = None
    review: str = ""
    security: bool = False
    severity: str | None = None
    head_sha: str = ""
    base: str = ""

    @property
    def key(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def state(self) -> str:
        return self.ci


AnyItem = Page | Monitor | Deploy | DependabotPR


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one poll of one source saw, at one moment; never mutated.

    `items` is ordered the way the pane should show it. `me` and `on_call` are filled by the
    sources that know them (PagerDuty) and empty elsewhere.
    """

    source: str
    taken_at: datetime
    items: tuple[AnyItem, ...] = ()
    on_call: tuple[OnCall, ...] = ()
    me: str = ""
    truncated: bool = False

    def by_key(self) -> dict[str, AnyItem]:
        return {item.key: item for item in self.items}

    def sharing(self, previous: Snapshot | None) -> Snapshot:
        """This snapshot, with every item equal to one in `previous` replaced by that very
        object. Items are immutable, so nothing can tell, except the memory: the objects of
        unchanged items are not made anew every poll (5,000 pages a poll were 5,000 objects
        for the garbage collector to promote and visit), and a pane sees by identity that a
        row did not change."""
        if previous is None or not previous.items:
            return self
        before = previous.by_key()
        items = tuple(
            old if (old := before.get(item.key)) is not None and old == item else item
            for item in self.items
        )
        return replace(self, items=items)


EventKind = Literal["added", "changed", "removed"]


@dataclass(frozen=True, slots=True)
class Event:
    """A transition between two snapshots: an item appeared, changed state, or went away."""

    source: str
    kind: EventKind
    key: str
    title: str
    at: datetime
    old_state: str | None = None
    new_state: str | None = None
    detail: dict[str, str] = field(default_factory=dict)
