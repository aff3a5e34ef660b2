"""Drafting the handover: the journal and the latest snapshots in, a `Handover` out.

`build_handover` is pure (no I/O, no clock: `now` is an argument), so the same journal and
snapshots always give the same handover, which is what the golden-file tests pin down.
`read_journal` is the one function here that reads the journal, once, into a `JournalView`.

What comes from where:

- pages: the journal's page events (added = triggered, changed to acknowledged, removed or
  changed to resolved = resolved), made exact by the outbox (an acknowledge or resolve the
  engineer did, at the moment the provider confirmed it) and completed by the current pages
  snapshot (the page as it is now, its real `created_at`);
- deploys: deploy events that reached a final state, and the deploys snapshot;
- monitors: the monitors snapshot (muted, mute reason), mute actions from the outbox, and
  monitor events (state changes, for "noisy alerts");
- Dependabot: the snapshot (open PRs) and the outbox (approved, merged this shift);
- annotations: "watch" ones are the watch list, the others are notes ("what was tried").

Events as `domain.diff` makes them carry no detail; `with_detail(events, previous, current)`
fills `Event.detail` from the snapshots' items before the events are journaled (all strings):
pages `number`, `urgency`, `priority`, `service_id`, `service_name`, `url`, `created_at`
(ISO); deploys `sha`, `ref`, `creator`, `url`, `description`, `started_at`, `finished_at`
(ISO); monitors and Dependabot PRs `url`. Without them a page that is gone from the
snapshot has an "unknown" urgency and links to no deploy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from oncall_tui.config import ServiceSettings, Settings
from oncall_tui.domain.models import DependabotPR, Deploy, Event, Monitor, Page, Snapshot
from oncall_tui.handover.metrics import PageRecord, ShiftMetrics, shift_metrics
from oncall_tui.store.journal import Annotation, Journal, OutboxEntry, Shift

__all__ = [
    "FINISHED_DEPLOY_STATES",
    "HISTORY",
    "ActionRecord",
    "ActiveIncident",
    "ChangeLinker",
    "DeployChange",
    "Handover",
    "JournalView",
    "MutedMonitor",
    "Note",
    "NoisyMonitor",
    "PageRecord",
    "Period",
    "ResolvedPage",
    "WatchItem",
    "build_handover",
    "event_detail",
    "link_deploys",
    "metrics_for",
    "page_records",
    "read_journal",
    "shift_period",
    "with_detail",
]

HISTORY = timedelta(days=7)
"""How far before the shift the journal is read: a page resolved in the shift may have been
triggered before it, and a deploy before the shift's first page may be what changed."""
FALLBACK_PERIOD = timedelta(hours=24)
"""With no shift in the journal or the config, the handover covers the last 24 hours."""
RECENT_SHIFT = timedelta(hours=24)
"""A shift ended in the journal this recently is still the one the handover is about."""
FINISHED_DEPLOY_STATES = frozenset({"success", "failure", "error"})
FAILED_DEPLOY_STATES = frozenset({"failure", "error"})
ROLLBACK_WORDS = ("rollback", "roll back", "rolled back", "revert")
NOISY_MINIMUM = 3
"""State changes in the shift that make a monitor a noisy alert: more than one alert that
came and went (into the watched states and out again is two)."""
NOISY_LIMIT = 5
OUTBOX_LIMIT = 5000


# -- what is read from the journal ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalView:
    """What the handover needs from the journal, read once (oldest first throughout)."""

    events: tuple[Event, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    outbox: tuple[OutboxEntry, ...] = ()
    shift: Shift | None = None


def read_journal(
    journal: Journal, settings: Settings, now: datetime, since: datetime | None = None
) -> JournalView:
    """Read what `build_handover(view, ..., settings, now, since)` needs from `journal`:
    events from `HISTORY` before the period on, every annotation, the recent outbox and
    the current (or last) shift."""
    shift = journal.current_shift()
    period = shift_period(shift, settings, now, since)
    return JournalView(
        events=tuple(journal.events(since=period.start - HISTORY)),
        annotations=tuple(journal.annotations()),
        outbox=tuple(reversed(journal.recent_outbox(limit=OUTBOX_LIMIT))),
        shift=shift,
    )


def event_detail(item: Page | Monitor | Deploy | DependabotPR) -> dict[str, str]:
    """What the journal should keep about an item with its events (see the module docs)."""
    detail: dict[str, str] = {}
    if isinstance(item, Page):
        detail = {
            "number": str(item.number),
            "urgency": item.urgency,
            "priority": item.priority or "",
            "service_id": item.service_id,
            "service_name": item.service_name,
            "url": item.html_url,
            "created_at": item.created_at.isoformat(),
        }
    elif isinstance(item, Deploy):
        detail = {
            "sha": item.sha,
            "ref": item.ref,
            "creator": item.creator,
            "url": item.url,
            "description": item.description,
            "started_at": item.started_at.isoformat() if item.started_at else "",
            "finished_at": item.finished_at.isoformat() if item.finished_at else "",
        }
    else:
        detail = {"url": item.url}
    return {key: value for key, value in detail.items() if value}


def with_detail(
    events: Iterable[Event], previous: Snapshot | None, current: Snapshot
) -> tuple[Event, ...]:
    """`events` (from `diff(previous, current)`) with `detail` filled from the item they are
    about: the current one, or for "removed" the one in `previous`. Detail an event already
    has wins. Call it before `Journal.add_events`."""
    after = current.by_key()
    before = previous.by_key() if previous is not None else {}
    result = []
    for event in events:
        item = before.get(event.key) if event.kind == "removed" else after.get(event.key)
        if item is None:
            result.append(event)
            continue
        result.append(replace(event, detail={**event_detail(item), **event.detail}))
    return tuple(result)


# -- the handover ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """The window the handover covers, and where it came from."""

    start: datetime
    end: datetime
    timezone: str
    origin: str
    """"since" (asked for), "journal" (`shift start`), "config" ([shift] start) or "default"
    (the last 24 hours)."""
    scheduled_end: datetime | None = None
    """When the shift is planned to end ([shift] end), if that is still ahead."""


@dataclass(frozen=True, slots=True)
class ActiveIncident:
    """A page still open: what the incoming engineer picks up."""

    record: PageRecord
    status: str
    owner: str
    next_action: str = ""
    """The latest annotation on the page ("" when there is none)."""
    next_action_at: datetime | None = None
    actions: tuple[ActionRecord, ...] = ()
    """What was done on it from the cockpit (acknowledged, note, escalated, ...)."""
    links: tuple[Deploy, ...] = ()
    """Deploys to its service shortly before it triggered ("what changed")."""
    page: Page | None = None
    """The page as the current snapshot shows it (None when known from the journal only)."""


@dataclass(frozen=True, slots=True)
class WatchItem:
    source: str
    key: str
    title: str
    text: str
    trigger: str
    at: datetime
    url: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedPage:
    record: PageRecord
    notes: tuple[str, ...] = ()
    actions: tuple[ActionRecord, ...] = ()
    links: tuple[Deploy, ...] = ()


@dataclass(frozen=True, slots=True)
class DeployChange:
    deploy: Deploy
    failed: bool = False
    rolled_back: bool = False


@dataclass(frozen=True, slots=True)
class MutedMonitor:
    key: str
    name: str
    state: str = ""
    url: str = ""
    until: datetime | None = None
    reason: str = ""
    muted_at: datetime | None = None
    by_me: bool = False
    unmuted_at: datetime | None = None
    """Set when the mute was lifted from the cockpit later in the shift."""


@dataclass(frozen=True, slots=True)
class NoisyMonitor:
    key: str
    name: str
    changes: int
    state: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One write from the outbox, with the titles of what it touched."""

    source: str
    action: str
    targets: tuple[str, ...]
    titles: tuple[str, ...]
    state: str
    at: datetime
    """When it was applied (or asked for, while it is not)."""
    detail: str = ""
    """The part of the payload worth reading: a mute's reason, a note, a merge method."""
    error: str = ""
    until: datetime | None = None
    """A mute's end (None: until unmuted)."""


@dataclass(frozen=True, slots=True)
class Note:
    """An annotation that is not a watch item: a deferred item or what was tried."""

    source: str
    key: str
    title: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChangeLinker:
    """Links a page (or a monitor alert) to the deploys of the same service that finished
    within `window` before it: "what changed".

    A page's service is looked up in `[services]` by its PagerDuty service ID or name (a
    monitor's by its Datadog tags); a service with no entry (or one without repositories)
    falls back to the repositories whose name ends with the service's name.
    """

    deploys: tuple[Deploy, ...] = ()
    services: tuple[ServiceSettings, ...] = ()
    window: timedelta = timedelta(minutes=60)

    @classmethod
    def from_journal(
        cls, journal_view: JournalView, deploys: Snapshot | None, settings: Settings
    ) -> ChangeLinker:
        """The linker over every finished deploy the journal saw and the deploys snapshot,
        with `[services]` and `[handover] link_window` from `settings`."""
        return cls(
            deploys=tuple(_all_deploys(journal_view.events, deploys)),
            services=settings.services,
            window=timedelta(minutes=settings.handover.link_window),
        )

    def links_for(self, item: Page | Monitor | PageRecord) -> list[Deploy]:
        """Deploys that finished within the window before the item triggered, newest first."""
        if isinstance(item, Monitor):
            at = item.since
            repos = self._repositories_for_tags(item.tags)
            names = [t.partition(":")[2] for t in item.tags if t.startswith("service:")]
        else:
            at = item.created_at if isinstance(item, Page) else item.triggered_at
            repos = self._repositories_for_page(item.service_id, item.service_name)
            names = [item.service_name]
        if at is None:
            return []
        return link_deploys(self.deploys, at, self.window, repos, names)

    def _repositories_for_page(self, service_id: str, service_name: str) -> set[str]:
        wanted = {v.lower() for v in (service_id, service_name) if v}
        repos: set[str] = set()
        for service in self.services:
            names = {p.lower() for p in service.pagerduty} | {service.name.lower()}
            if wanted & names:
                repos.update(r.lower() for r in service.repositories)
        return repos

    def _repositories_for_tags(self, tags: Sequence[str]) -> set[str]:
        wanted = {t.lower() for t in tags}
        repos: set[str] = set()
        for service in self.services:
            if wanted & {t.lower() for t in service.datadog}:
                repos.update(r.lower() for r in service.repositories)
        return repos


def link_deploys(
    deploys: Iterable[Deploy],
    at: datetime,
    window: timedelta,
    repositories: Iterable[str] = (),
    service_names: Iterable[str] = (),
) -> list[Deploy]:
    """Deploys of `repositories` (or, if none are given, of repositories whose name ends with
    one of `service_names`) that finished in [at - window, at], newest first."""
    repos = {r.lower() for r in repositories}
    suffixes = [_slug(n) for n in service_names if _slug(n)]
    if not repos and not suffixes:
        return []

    def matches(repo: str) -> bool:
        if repos:
            return repo.lower() in repos
        name = repo.rpartition("/")[2].lower()
        return any(name.endswith(suffix) for suffix in suffixes)

    found = [
        d
        for d in deploys
        if d.finished_at is not None
        and d.deploy_state in FINISHED_DEPLOY_STATES
        and at - window <= d.finished_at <= at
        and matches(d.repo)
    ]
    found.sort(key=lambda d: (d.finished_at, d.repo, d.environment), reverse=True)
    return found


@dataclass(frozen=True, slots=True)
class Handover:
    """Everything the handover says, section by section (oncall-domain.md, "A good handover
    contains"); `render.render_markdown` turns it into text."""

    # 1. header
    outgoing: str
    incoming: str
    secondary: str
    period: Period
    written_at: datetime
    # 2-4. pages and watch items
    active: tuple[ActiveIncident, ...] = ()
    watch: tuple[WatchItem, ...] = ()
    resolved: tuple[ResolvedPage, ...] = ()
    # 5. recent changes
    deploys: tuple[DeployChange, ...] = ()
    reruns: tuple[ActionRecord, ...] = ()
    # 6. monitors
    muted: tuple[MutedMonitor, ...] = ()
    noisy: tuple[NoisyMonitor, ...] = ()
    # 7. pending work
    dependabot: tuple[DependabotPR, ...] = ()
    dependabot_actions: tuple[ActionRecord, ...] = ()
    unsettled: tuple[ActionRecord, ...] = ()
    """Writes of the shift not applied: still pending, or refused by the provider."""
    notes: tuple[Note, ...] = ()
    # 8. stats
    metrics: ShiftMetrics | None = None
    unavailable: tuple[str, ...] = ()
    """Panes with no current snapshot (not configured, or the poll failed)."""
    linker: ChangeLinker = field(default_factory=ChangeLinker)

    def links_for(self, item: Page | Monitor | PageRecord) -> list[Deploy]:
        """What changed before a page or monitor alert (see `ChangeLinker`)."""
        return self.linker.links_for(item)


# -- building --------------------------------------------------------------------------------


def shift_period(
    shift: Shift | None, settings: Settings, now: datetime, since: datetime | None = None
) -> Period:
    """The window a handover written at `now` covers.

    `since` wins. Then the journal's shift, if it is open or ended within the last day (and
    began after `[shift] start`); then `[shift] start` if it has passed; else the last 24 h.
    """
    config = settings.shift
    zone = config.timezone
    scheduled = config.end if config.end is not None and config.end > now else None
    if since is not None:
        return Period(since, now, zone, "since", scheduled)
    if shift is not None and (config.start is None or shift.started_at >= config.start):
        if shift.ended_at is None:
            return Period(shift.started_at, now, zone, "journal", scheduled)
        if now - shift.ended_at <= RECENT_SHIFT:
            return Period(shift.started_at, min(shift.ended_at, now), zone, "journal")
    if config.start is not None and config.start <= now:
        return Period(config.start, now, zone, "config", scheduled)
    return Period(now - FALLBACK_PERIOD, now, zone, "default", scheduled)


def build_handover(
    journal_view: JournalView,
    snapshots: Mapping[str, Snapshot | None],
    settings: Settings,
    now: datetime,
    since: datetime | None = None,
) -> Handover:
    """The handover of the shift that `journal_view` and `snapshots` describe, at `now`."""
    view = journal_view
    period = shift_period(view.shift, settings, now, since)
    start, end = period.start, period.end
    pages_snapshot = snapshots.get("pages")
    titles = _titles(view, snapshots)
    actions = [_action(entry, titles) for entry in view.outbox]
    in_shift_actions = [a for a in actions if start <= a.at <= end]

    records = page_records(view, pages_snapshot)
    linker = ChangeLinker.from_journal(view, snapshots.get("deploys"), settings)
    latest_note = _latest_annotations(view.annotations)

    # 1. header: the journal's shift names, if it is the current one, else [shift]
    shift = view.shift
    if shift is not None and shift.ended_at is not None and period.origin != "journal":
        shift = None
    pages_me = pages_snapshot.me if pages_snapshot is not None else ""
    outgoing = (shift.engineer if shift else "") or settings.shift.engineer or pages_me
    secondary = (shift.secondary if shift else "") or settings.shift.secondary
    incoming = (shift.incoming if shift else "") or settings.shift.incoming

    # 2. active incidents
    active: list[ActiveIncident] = []
    if pages_snapshot is not None:
        for item in sorted(_pages(pages_snapshot), key=Page.sort_key):
            if item.status == "resolved":
                continue
            record = records.get(item.id) or _record_of(item)
            if record.resolved_at is not None:
                continue  # resolved from the cockpit since the snapshot was taken
            active.append(_active(record, item, latest_note, actions, linker, outgoing))
    else:
        for record in sorted(records.values(), key=_record_order):
            if record.resolved_at is None and record.triggered_at is not None:
                status = "acknowledged" if record.acknowledged_at else "triggered"
                active.append(_active(record, None, latest_note, actions, linker, outgoing, status))

    # 3. watch items: the shift's "watch" annotations, the latest per item
    watch: dict[tuple[str, str], WatchItem] = {}
    for note in view.annotations:
        if note.watch and start <= note.at <= end:
            watch[(note.source, note.key)] = WatchItem(
                note.source,
                note.key,
                note.title,
                note.text,
                note.watch_trigger,
                note.at,
                titles.urls.get((note.source, note.key), ""),
            )

    # 4. resolved this shift
    resolved = [
        ResolvedPage(
            record,
            notes=tuple(
                a.text for a in view.annotations if a.source == "pages" and a.key == record.key
            ),
            actions=tuple(_actions_on(actions, "pages", record.key)),
            links=tuple(linker.links_for(record)),
        )
        for record in records.values()
        if record.resolved_at is not None and start <= record.resolved_at <= end
    ]
    resolved.sort(key=lambda r: (r.record.resolved_at, r.record.key))

    # 5. deploys finished in the shift, failed or rolled back first
    deploys = _deploy_changes(linker.deploys, start, end)
    reruns = [a for a in in_shift_actions if a.source == "deploys" and a.action == "rerun"]

    # 6. monitors
    muted = _muted(snapshots.get("monitors"), in_shift_actions, actions, view.events, now)
    noisy = _noisy(view.events, snapshots.get("monitors"), start, end)

    # 7. Dependabot and pending work
    dependabot_snapshot = snapshots.get("dependabot")
    open_prs = (
        sorted(
            (i for i in dependabot_snapshot.items if isinstance(i, DependabotPR)),
            key=_pr_order,
        )
        if dependabot_snapshot is not None
        else []
    )
    dependabot_actions = [
        a
        for a in in_shift_actions
        if a.source == "dependabot" and a.state == "done" and a.action in ("approve", "merge")
    ]
    unsettled = [a for a in in_shift_actions if a.state in ("pending", "in_flight", "rejected")]
    notes = [
        Note(a.source, a.key, a.title, a.text, a.at)
        for a in view.annotations
        if not a.watch and start <= a.at <= end
    ]

    return Handover(
        outgoing=outgoing,
        incoming=incoming,
        secondary=secondary,
        period=period,
        written_at=now,
        active=tuple(active),
        watch=tuple(sorted(watch.values(), key=lambda w: (w.at, w.source, w.key))),
        resolved=tuple(resolved),
        deploys=tuple(deploys),
        reruns=tuple(reruns),
        muted=tuple(muted),
        noisy=tuple(noisy),
        dependabot=tuple(open_prs),
        dependabot_actions=tuple(dependabot_actions),
        unsettled=tuple(unsettled),
        notes=tuple(notes),
        metrics=shift_metrics(records.values(), start, end, settings.shift),
        unavailable=tuple(name for name, snap in snapshots.items() if snap is None),
        linker=linker,
    )


def metrics_for(
    journal_view: JournalView,
    snapshots: Mapping[str, Snapshot | None],
    settings: Settings,
    now: datetime,
    since: datetime | None = None,
) -> ShiftMetrics:
    """The shift's metrics alone (the timeline header): the same numbers as the handover's."""
    period = shift_period(journal_view.shift, settings, now, since)
    records = page_records(journal_view, snapshots.get("pages"))
    return shift_metrics(records.values(), period.start, period.end, settings.shift)


# -- pages -----------------------------------------------------------------------------------


def page_records(view: JournalView, pages: Snapshot | None = None) -> dict[str, PageRecord]:
    """Every page the journal (or the current snapshot) knows, with its lifecycle."""
    tracks: dict[str, dict[str, Any]] = {}

    def track(key: str, title: str) -> dict[str, Any]:
        found = tracks.get(key)
        if found is None:
            found = {"key": key, "title": title}
            tracks[key] = found
        elif title:
            found["title"] = title
        return found

    for event in view.events:
        if event.source != "pages":
            continue
        t = track(event.key, event.title)
        _page_detail(t, event.detail)
        t.setdefault("first_seen", event.at)
        if event.kind == "added":
            t.pop("resolved_at", None)
            t.setdefault("triggered_at", event.at)
            if event.new_state == "acknowledged":
                t.setdefault("acknowledged_at", event.at)
        elif event.kind == "changed":
            if event.new_state == "acknowledged":
                t.setdefault("acknowledged_at", event.at)
            elif event.new_state == "resolved":
                t["resolved_at"] = event.at
        else:
            t["resolved_at"] = event.at
    for entry in view.outbox:
        if entry.source != "pages" or entry.state != "done" or entry.done_at is None:
            continue
        if entry.action not in ("acknowledge", "resolve"):
            continue
        for key in entry.targets:
            t = track(key, "")
            if entry.action == "acknowledge":
                t["acknowledged_at"] = _earliest(t.get("acknowledged_at"), entry.done_at)
                t["acknowledged_by_me"] = True
            else:
                t["resolved_at"] = _earliest(t.get("resolved_at"), entry.done_at)
                t["resolved_by_me"] = True
    if pages is not None:
        for page in _pages(pages):
            t = track(page.id, page.title)
            t.update(
                number=page.number,
                urgency=page.urgency,
                priority=page.priority,
                service_id=page.service_id,
                service_name=page.service_name,
                url=page.html_url,
                triggered_at=page.created_at,
            )
            if page.status == "acknowledged" and "acknowledged_at" not in t:
                t["acknowledged_at"] = page.last_status_change_at
            resolved_at = t.get("resolved_at")
            if resolved_at is not None and resolved_at <= pages.taken_at:
                del t["resolved_at"]  # still open at the last poll: it came back
    records: dict[str, PageRecord] = {}
    for key, t in tracks.items():
        triggered = t.get("triggered_at") or t.get("first_seen")
        records[key] = PageRecord(
            key=key,
            title=t.get("title") or key,
            urgency=t.get("urgency", ""),
            priority=t.get("priority"),
            service_id=t.get("service_id", ""),
            service_name=t.get("service_name", ""),
            number=t.get("number"),
            url=t.get("url", ""),
            triggered_at=triggered,
            acknowledged_at=t.get("acknowledged_at"),
            resolved_at=t.get("resolved_at"),
            acknowledged_by_me=bool(t.get("acknowledged_by_me")),
            resolved_by_me=bool(t.get("resolved_by_me")),
        )
    return records


def _page_detail(t: dict[str, Any], detail: Mapping[str, str]) -> None:
    for name in ("urgency", "priority", "service_id", "service_name", "url"):
        if detail.get(name):
            t[name] = detail[name]
    number = detail.get("number", "")
    if number.isdigit():
        t["number"] = int(number)
    created = _parse_time(detail.get("created_at"))
    if created is not None:
        t["triggered_at"] = created


def _record_of(page: Page) -> PageRecord:
    return PageRecord(
        key=page.id,
        title=page.title,
        urgency=page.urgency,
        priority=page.priority,
        service_id=page.service_id,
        service_name=page.service_name,
        number=page.number,
        url=page.html_url,
        triggered_at=page.created_at,
        acknowledged_at=page.last_status_change_at if page.status == "acknowledged" else None,
    )


def _record_order(record: PageRecord) -> tuple[int, float, str]:
    rank = 0 if record.acknowledged_at is None else 1
    when = record.triggered_at.timestamp() if record.triggered_at else float("inf")
    return (rank, when, record.key)


def _active(
    record: PageRecord,
    page: Page | None,
    latest_note: Mapping[tuple[str, str], Annotation],
    actions: Sequence[ActionRecord],
    linker: ChangeLinker,
    me: str,
    status: str = "",
) -> ActiveIncident:
    note = latest_note.get(("pages", record.key))
    if page is not None:
        owners = page.acknowledgers or page.assignees
        owner = ", ".join(owners)
        status = page.status
    else:
        owner = ""
    if not owner and record.acknowledged_by_me:
        owner = me
    next_action = ""
    if note is not None:
        next_action = note.text
        if note.watch and note.watch_trigger:
            next_action += f" (watch: {note.watch_trigger})"
    return ActiveIncident(
        record=record,
        status=status or ("acknowledged" if record.acknowledged_at else "triggered"),
        owner=owner,
        next_action=next_action,
        next_action_at=note.at if note is not None else None,
        actions=tuple(_actions_on(actions, "pages", record.key)),
        links=tuple(linker.links_for(page if page is not None else record)),
        page=page,
    )


def _pages(snapshot: Snapshot) -> list[Page]:
    return [item for item in snapshot.items if isinstance(item, Page)]


# -- deploys ---------------------------------------------------------------------------------


def _all_deploys(events: Sequence[Event], snapshot: Snapshot | None) -> list[Deploy]:
    """Every finished deploy the journal saw, plus the snapshot's latest ones (which replace
    the journal's record of the same deploy: they carry the commit, the creator, the URL)."""
    found: list[Deploy] = []
    for event in events:
        if event.source != "deploys" or event.new_state not in FINISHED_DEPLOY_STATES:
            continue
        if event.kind == "removed":
            continue
        repo, _, environment = event.key.rpartition(":")
        detail = event.detail
        found.append(
            Deploy(
                repo=repo or event.key,
                environment=environment,
                deploy_state=event.new_state,  # type: ignore[arg-type]
                url=detail.get("url", ""),
                ref=detail.get("ref", ""),
                sha=detail.get("sha", ""),
                creator=detail.get("creator", ""),
                started_at=_parse_time(detail.get("started_at")),
                finished_at=_parse_time(detail.get("finished_at")) or event.at,
                description=detail.get("description", ""),
            )
        )
    if snapshot is not None:
        for item in snapshot.items:
            if not isinstance(item, Deploy) or item.finished_at is None:
                continue
            if item.deploy_state not in FINISHED_DEPLOY_STATES:
                continue
            index = _same_deploy(found, item, snapshot.taken_at)
            if index is None:
                found.append(item)
            else:
                found[index] = item
    found.sort(key=lambda d: (d.finished_at.timestamp() if d.finished_at else 0.0, d.key))
    return found


def _same_deploy(found: Sequence[Deploy], deploy: Deploy, taken_at: datetime) -> int | None:
    """The journal's record of `deploy`: same repository and environment, same commit when
    both know it, else the same final state seen at the first poll after it finished."""
    assert deploy.finished_at is not None
    best: int | None = None
    for index, other in enumerate(found):
        if other.key != deploy.key or other.finished_at is None:
            continue
        if other.sha and deploy.sha:
            if other.sha == deploy.sha and other.deploy_state == deploy.deploy_state:
                best = index
            continue
        if (
            other.deploy_state == deploy.deploy_state
            and deploy.finished_at <= other.finished_at <= taken_at
            and (best is None or other.finished_at < (found[best].finished_at or taken_at))
        ):
            best = index
    return best


def _deploy_changes(
    deploys: Sequence[Deploy], start: datetime, end: datetime
) -> list[DeployChange]:
    changes: list[DeployChange] = []
    shas: dict[str, list[str]] = {}
    for deploy in deploys:  # oldest first
        seen = shas.setdefault(deploy.key, [])
        text = f"{deploy.description} {deploy.ref}".lower()
        rolled_back = any(word in text for word in ROLLBACK_WORDS)
        if deploy.sha and deploy.deploy_state == "success":
            if seen and deploy.sha in seen[:-1] and seen[-1] != deploy.sha:
                rolled_back = True  # back to a commit this environment ran before
            seen.append(deploy.sha)
        assert deploy.finished_at is not None
        if start <= deploy.finished_at <= end:
            failed = deploy.deploy_state in FAILED_DEPLOY_STATES
            changes.append(DeployChange(deploy, failed=failed, rolled_back=rolled_back))
    changes.sort(
        key=lambda c: (
            0 if c.failed else 1 if c.rolled_back else 2,
            -(c.deploy.finished_at.timestamp() if c.deploy.finished_at else 0.0),
            c.deploy.repo,
            c.deploy.environment,
        )
    )
    return changes


# -- monitors --------------------------------------------------------------------------------


def _muted(
    snapshot: Snapshot | None,
    in_shift: Sequence[ActionRecord],
    actions: Sequence[ActionRecord],
    events: Sequence[Event],
    now: datetime,
) -> list[MutedMonitor]:
    mutes: dict[str, ActionRecord] = {}
    unmutes: dict[str, ActionRecord] = {}
    for action in actions:  # oldest first: the latest mute of each monitor wins
        if action.source != "monitors" or action.state in ("rejected", "cancelled"):
            continue
        for key in action.targets:
            if action.action == "mute":
                mutes[key] = action
                unmutes.pop(key, None)
            elif action.action == "unmute":
                unmutes[key] = action
    found: dict[str, MutedMonitor] = {}
    if snapshot is not None:
        for item in snapshot.items:
            if isinstance(item, Monitor) and item.muted:
                mine = mutes.get(item.key)
                found[item.key] = MutedMonitor(
                    key=item.key,
                    name=item.name,
                    state=item.overall_state,
                    url=item.url,
                    until=item.muted_until,
                    reason=item.mute_reason or (mine.detail if mine else ""),
                    muted_at=mine.at if mine else None,
                    by_me=mine is not None,
                )
    last_state = {e.key: e.new_state or "OK" for e in events if e.source == "monitors"}
    shift_mutes = {key for a in in_shift if a.action == "mute" for key in a.targets}
    for key, mine in mutes.items():
        if key in found or key not in shift_mutes:
            continue
        # Muted from the cockpit but not (or no longer) listed as muted: it left the watched
        # states while muted, or the mute was lifted or ran out; say which.
        index = mine.targets.index(key)
        until = mine.until
        unmuted = unmutes.get(key)
        if unmuted is None and until is not None and until <= now:
            continue  # the mute ran out: nothing is silenced any more
        found[key] = MutedMonitor(
            key=key,
            name=mine.titles[index],
            state=last_state.get(key, ""),
            until=until,
            reason=mine.detail,
            muted_at=mine.at,
            by_me=True,
            unmuted_at=unmuted.at if unmuted is not None else None,
        )
    return sorted(
        found.values(),
        key=lambda m: (m.unmuted_at is not None, m.muted_at or now, m.name, m.key),
    )


def _noisy(
    events: Sequence[Event], snapshot: Snapshot | None, start: datetime, end: datetime
) -> list[NoisyMonitor]:
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    states: dict[str, str] = {}
    for event in events:
        if event.source != "monitors" or not start <= event.at <= end:
            continue
        counts[event.key] = counts.get(event.key, 0) + 1
        names[event.key] = event.title
        states[event.key] = event.new_state or "recovered"
    current = snapshot.by_key() if snapshot is not None else {}
    noisy = []
    for key, count in counts.items():
        if count < NOISY_MINIMUM:
            continue
        item = current.get(key)
        noisy.append(
            NoisyMonitor(
                key=key,
                name=item.title if item is not None else names[key],
                changes=count,
                state=item.state if item is not None else states[key],
                url=item.url if item is not None else "",
            )
        )
    noisy.sort(key=lambda n: (-n.changes, n.name, n.key))
    return noisy[:NOISY_LIMIT]


# -- Dependabot ------------------------------------------------------------------------------

_BUMP_RANK = {"major": 0, "minor": 1, "unknown": 2, "patch": 3}


def _pr_order(pr: DependabotPR) -> tuple[int, int, int, datetime, str]:
    return (
        0 if pr.security else 1,
        _BUMP_RANK.get(pr.bump, 2),
        0 if pr.ci == "failure" else 1,
        pr.created_at,
        pr.key,
    )


# -- outbox, annotations, titles -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Titles:
    names: Mapping[tuple[str, str], str]
    urls: Mapping[tuple[str, str], str]

    def of(self, source: str, key: str) -> str:
        found = self.names.get((source, key))
        if found:
            return found
        return f"monitor {key}" if source == "monitors" else key


def _titles(view: JournalView, snapshots: Mapping[str, Snapshot | None]) -> _Titles:
    """The best title for every (source, key): the snapshot, else the latest event, else an
    annotation."""
    names: dict[tuple[str, str], str] = {}
    urls: dict[tuple[str, str], str] = {}
    for note in view.annotations:
        if note.title:
            names[(note.source, note.key)] = note.title
    for event in view.events:
        if event.title:
            title = event.title
            if event.source == "dependabot" and not title.startswith(event.key):
                title = f"{event.key} {title}"
            number = event.detail.get("number", "")
            if event.source == "pages" and number.isdigit():
                title = f"#{number} {title}"
            names[(event.source, event.key)] = title
        if event.detail.get("url"):
            urls[(event.source, event.key)] = event.detail["url"]
    for source, snapshot in snapshots.items():
        if snapshot is None:
            continue
        for item in snapshot.items:
            names[(source, item.key)] = _item_title(item)
            urls[(source, item.key)] = item.url
    return _Titles(names, urls)


def _item_title(item: Any) -> str:
    if isinstance(item, Page):
        return f"#{item.number} {item.title}"
    if isinstance(item, DependabotPR):
        return f"{item.key} {item.package} {item.from_version} → {item.to_version}"
    return str(item.title)


def _action(entry: OutboxEntry, titles: _Titles) -> ActionRecord:
    payload = entry.payload
    detail = ""
    if entry.action == "mute":
        detail = str(payload.get("reason") or "")
    elif entry.action in ("note", "resolve"):
        detail = str(payload.get("content") or payload.get("note") or "")
    elif entry.action == "comment":
        detail = str(payload.get("body") or "")
    elif entry.action == "merge":
        detail = str(payload.get("method") or "")
    elif entry.action == "snooze" and payload.get("seconds"):
        detail = f"for {int(payload['seconds']) // 60} min"
    elif entry.action == "escalate" and payload.get("level"):
        detail = f"to level {payload['level']}"
    end = payload.get("end") if entry.action == "mute" else None
    return ActionRecord(
        source=entry.source,
        action=entry.action,
        targets=tuple(entry.targets),
        titles=tuple(titles.of(entry.source, key) for key in entry.targets),
        state=entry.state,
        at=entry.done_at if entry.state == "done" and entry.done_at else entry.created_at,
        detail=detail,
        error=(entry.last_error or "") if entry.state != "done" else "",
        until=_parse_time(end) if isinstance(end, str) else None,
    )


def _actions_on(actions: Iterable[ActionRecord], source: str, key: str) -> list[ActionRecord]:
    return [
        a
        for a in actions
        if a.source == source and key in a.targets and a.state not in ("cancelled",)
    ]


def _latest_annotations(notes: Iterable[Annotation]) -> dict[tuple[str, str], Annotation]:
    latest: dict[tuple[str, str], Annotation] = {}
    for note in notes:  # oldest first
        latest[(note.source, note.key)] = note
    return latest


# -- small helpers ---------------------------------------------------------------------------


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _earliest(first: datetime | None, second: datetime) -> datetime:
    return second if first is None else min(first, second)


def _slug(name: str) -> str:
    return "-".join(name.lower().split())
