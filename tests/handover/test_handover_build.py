"""`build_handover`: every section from the recorded shift in `handover_story.py`, the exact
MTTA/MTTR numbers, working hours, "what changed" links, and the period rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from handover_story import (
    NOW,
    SETTINGS,
    SHIFT_START,
    TAKEN_AT,
    deploys_snapshot,
    est,
    monitors_snapshot,
    pages_snapshot,
    snapshots,
    story_journal,
)

from oncall_tui.config import HandoverSettings, ServiceSettings, Settings, ShiftSettings
from oncall_tui.domain.models import Deploy, Event, Monitor, Page, Snapshot
from oncall_tui.handover import (
    ChangeLinker,
    Durations,
    Handover,
    JournalView,
    PageRecord,
    build_handover,
    link_deploys,
    metrics_for,
    page_records,
    read_journal,
    shift_metrics,
    shift_period,
    sparkline,
)
from oncall_tui.store.journal import Journal, Shift


@pytest.fixture
def journal() -> Journal:
    return story_journal()


@pytest.fixture
def view(journal: Journal) -> JournalView:
    return read_journal(journal, SETTINGS, NOW)


@pytest.fixture
def handover(view: JournalView) -> Handover:
    return build_handover(view, snapshots(), SETTINGS, NOW)


# -- 1. header and period ------------------------------------------------------------------


def test_header_names_and_period_come_from_the_journal_shift(handover: Handover) -> None:
    assert (handover.outgoing, handover.incoming, handover.secondary) == (
        "Jane Doe",
        "Alex Kim",
        "Sam Lee",
    )
    assert handover.period.start == SHIFT_START
    assert handover.period.end == NOW
    assert handover.period.origin == "journal"
    assert handover.period.timezone == "America/New_York"
    assert handover.written_at == NOW


def test_period_rules() -> None:
    config = ShiftSettings(start=est(3, 8), end=est(17, 9))
    settings = Settings(shift=config)
    open_shift = Shift(1, est(3, 9), None)
    ended_recently = Shift(1, est(3, 9), est(4, 8))
    ended_long_ago = Shift(1, est(3, 9), est(3, 10))
    before_config = Shift(1, est(2, 9), None)
    since = est(4, 0)

    assert shift_period(open_shift, settings, NOW, since).start == since
    assert shift_period(open_shift, settings, NOW, since).origin == "since"
    period = shift_period(open_shift, settings, NOW)
    assert (period.start, period.end, period.origin) == (est(3, 9), NOW, "journal")
    assert period.scheduled_end == est(17, 9)
    period = shift_period(ended_recently, settings, NOW)
    assert (period.start, period.end, period.origin) == (est(3, 9), est(4, 8), "journal")
    later = NOW + timedelta(days=2)
    assert shift_period(ended_long_ago, settings, later).origin == "config"
    assert shift_period(before_config, settings, NOW).origin == "config"
    assert shift_period(None, settings, NOW).start == est(3, 8)
    fallback = shift_period(None, Settings(), NOW)
    assert (fallback.start, fallback.end, fallback.origin) == (NOW - timedelta(1), NOW, "default")


def test_names_fall_back_to_config_then_to_the_pagerduty_user() -> None:
    view = JournalView()
    by_config = build_handover(view, {}, SETTINGS, NOW)
    assert (by_config.outgoing, by_config.incoming) == ("Jane Doe", "Alex Kim")
    nobody = build_handover(view, {"pages": pages_snapshot()}, Settings(), NOW)
    assert nobody.outgoing == "Jane Doe"  # the snapshot's `me`
    assert nobody.incoming == ""


# -- 2. active incidents -------------------------------------------------------------------


def test_active_incidents_triggered_first_with_owner_next_action_and_links(
    handover: Handover,
) -> None:
    d, c = handover.active
    assert (d.record.key, d.status, d.record.severity, d.owner) == (
        "Q504",
        "triggered",
        "SEV2",
        "Jane Doe",
    )
    assert d.next_action == ""
    assert d.page is not None and d.page.html_url.endswith("/Q504")
    assert [(x.repo, x.environment, x.deploy_state) for x in d.links] == [
        ("benefits/claims-api", "prod", "failure")
    ]
    assert (c.record.key, c.status, c.record.severity) == ("Q503", "acknowledged", "SEV3")
    assert c.next_action == (
        "Disk still filling from WAL (watch: if disk > 95%, page the DBA on call)"
    )
    assert c.next_action_at == est(4, 2, 40)
    assert [(a.action, a.state) for a in c.actions] == [
        ("acknowledge", "done"),
        ("note", "pending"),
    ]
    assert c.links == ()  # postgres: no repository ends with it


def test_severity_is_priority_else_urgency() -> None:
    assert PageRecord("x", "t", urgency="high", priority="SEV1").severity == "SEV1"
    assert PageRecord("x", "t", urgency="low").severity == "low urgency"
    assert PageRecord("x", "t").severity == "unknown urgency"
    assert PageRecord("x", "t", urgency="low", priority="SEV2").urgent
    assert not PageRecord("x", "t", urgency="high", priority="SEV3").urgent
    assert PageRecord("x", "t", urgency="high").urgent


def test_a_page_resolved_from_the_cockpit_after_the_poll_is_not_active(view: JournalView) -> None:
    journal = Journal.memory()
    entry = journal.add_outbox(
        created_at=est(4, 8, 44, 40), source="pages", action="resolve", targets=["Q503"], payload={}
    )
    journal.update_outbox(entry.id, state="done", done_at=est(4, 8, 44, 50))
    view = replace(view, outbox=(*view.outbox, *journal.recent_outbox()))
    handover = build_handover(view, snapshots(), SETTINGS, NOW)
    assert [a.record.key for a in handover.active] == ["Q504"]
    assert "Q503" in [r.record.key for r in handover.resolved]


def test_without_a_pages_snapshot_open_pages_come_from_the_journal(view: JournalView) -> None:
    handover = build_handover(view, {**snapshots(), "pages": None}, SETTINGS, NOW)
    assert handover.unavailable == ("pages",)
    assert [(a.record.key, a.status, a.page) for a in handover.active] == [
        ("Q504", "triggered", None),
        ("Q503", "acknowledged", None),
    ]
    assert handover.active[1].owner == "Jane Doe"  # acknowledged from the cockpit


# -- 3. watch items ------------------------------------------------------------------------


def test_watch_items_are_the_shift_s_watch_annotations(handover: Handover) -> None:
    assert [(w.source, w.key, w.trigger) for w in handover.watch] == [
        ("pages", "Q503", "if disk > 95%, page the DBA on call"),
        ("monitors", "103", "if lag > 5 min for 15 min, page the data team"),
    ]
    assert handover.watch[0].url.endswith("/Q503")
    assert handover.watch[0].title == "#503 Disk 90% on postgres"


# -- 4. resolved ---------------------------------------------------------------------------


def test_resolved_pages_with_exact_times_to_acknowledge_and_resolve(handover: Handover) -> None:
    got = {
        r.record.key: (
            r.record.time_to_acknowledge,
            r.record.time_to_resolve,
            r.record.acknowledged_by_me,
            r.record.resolved_by_me,
        )
        for r in handover.resolved
    }
    assert got == {
        "QE": (timedelta(minutes=5), timedelta(hours=2, minutes=10), False, False),
        # The outbox (provider-confirmed) beats the poll that saw it 30 s later.
        "Q501": (timedelta(minutes=4, seconds=30), timedelta(minutes=55), True, True),
        "Q502": (timedelta(minutes=12), timedelta(hours=1, minutes=30), False, False),
    }
    assert [r.record.key for r in handover.resolved] == ["QE", "Q501", "Q502"]
    a = handover.resolved[1]
    assert a.notes == ("Restarted the claims-api pods; 5xx back to 0.2%",)
    assert [x.sha[:7] for x in a.links] == ["aaaaaaa"]  # 14:50, not the dev deploy of 08:00
    e = handover.resolved[0]
    assert (e.record.urgency, e.record.title, e.links) == (
        "",
        "svc-bip-api health check failing",
        (),
    )


def test_page_records_follow_events_outbox_and_snapshot(view: JournalView) -> None:
    records = page_records(view, pages_snapshot())
    c = records["Q503"]
    assert c.triggered_at == est(4, 2, 5)  # the snapshot's created_at
    assert c.acknowledged_at == est(4, 2, 7)  # the outbox beats the poll at 02:07:30
    assert c.resolved_at is None
    b = records["Q502"]
    assert b.triggered_at == est(3, 22, 40)  # no created_at in its detail: the poll's time
    assert b.urgency == "low" and b.priority is None


# -- 5. recent changes ---------------------------------------------------------------------


def test_deploys_in_the_shift_failed_then_rolled_back_first(handover: Handover) -> None:
    rows = [
        (c.deploy.repo, c.deploy.environment, c.deploy.short_sha, c.failed, c.rolled_back)
        for c in handover.deploys
    ]
    assert rows == [
        ("benefits/claims-api", "prod", "ccccccc", True, False),
        ("benefits/claims-api", "prod", "aaaaaaa", False, True),  # "Rollback to ..."
        ("benefits/svc-bgs-api", "prod", "bbbbbbb", False, True),  # back to an older commit
        ("benefits/domain-cc", "qa", "eeeeeee", False, False),  # from the snapshot alone
        ("benefits/svc-bgs-api", "prod", "ddddddd", False, False),
        ("benefits/svc-bgs-api", "prod", "bbbbbbb", False, False),
        ("benefits/claims-api", "prod", "aaaaaaa", False, False),
    ]
    # The snapshot's deploy replaced the journal's record of it (URL, creator).
    rollback = handover.deploys[1].deploy
    assert rollback.url.endswith("/deployments/prod") and rollback.creator == "bob"
    # Before the shift, and not finished: left out.
    assert all(c.deploy.environment != "dev" for c in handover.deploys)
    assert all(c.deploy.repo != "benefits/svc-bip-api" for c in handover.deploys)


def test_links_for_pages_use_services_then_the_repository_name() -> None:
    deploys = deploys_snapshot()
    settings = replace(
        SETTINGS,
        services=(
            ServiceSettings(
                "claims", pagerduty=("Claims API",), repositories=("benefits/claims-api",)
            ),
        ),
    )
    linker = ChangeLinker.from_journal(JournalView(), deploys, settings)
    page = pages_snapshot().items[0]
    assert isinstance(page, Page)
    at_0835 = replace(page, created_at=est(4, 8, 35))
    # By [services] (matched by PagerDuty service name, case-insensitively) ...
    mapped = replace(at_0835, service_id="PXXX", service_name="claims api")
    assert [d.finished_at for d in linker.links_for(mapped)] == [est(4, 8, 30)]
    # ... or by the [services] table's own name.
    by_name = replace(at_0835, service_id="PXXX", service_name="Claims")
    assert [d.finished_at for d in linker.links_for(by_name)] == [est(4, 8, 30)]
    unmapped = replace(at_0835, service_id="PCLAIMS", service_name="Claims Platform")
    assert linker.links_for(unmapped) == []  # PCLAIMS is not in this mapping
    # ... else by a repository whose name ends with the service's name.
    fallback = replace(at_0835, service_id="P1", service_name="svc-bgs-api", created_at=est(4, 2))
    assert [(d.repo, d.finished_at) for d in linker.links_for(fallback)] == [
        ("benefits/svc-bgs-api", est(4, 1, 30))
    ]
    other = replace(fallback, service_name="postgres")
    assert linker.links_for(other) == []


def test_link_window_bounds_are_inclusive_and_configurable() -> None:
    deploy = Deploy("o/claims-api", "prod", "success", "", finished_at=est(4, 8))
    cancelled = replace(deploy, deploy_state="cancelled")
    running = replace(deploy, deploy_state="in_progress")
    window = timedelta(minutes=60)
    assert link_deploys([deploy], est(4, 9), window, service_names=["claims-api"]) == [deploy]
    assert link_deploys([deploy], est(4, 9, 0, 1), window, service_names=["claims-api"]) == []
    assert link_deploys([deploy], est(4, 7, 59), window, service_names=["claims-api"]) == []
    assert link_deploys([cancelled, running], est(4, 8, 30), window, ["o/claims-api"]) == []
    settings = replace(SETTINGS, handover=HandoverSettings(link_window=10))
    linker = ChangeLinker.from_journal(JournalView(), deploys_snapshot(), settings)
    d = pages_snapshot().items[0]
    assert isinstance(d, Page)
    assert linker.links_for(d) == []  # the failure was 22 min before: outside 10 min


def test_links_for_monitor_alerts_by_datadog_tag(view: JournalView, handover: Handover) -> None:
    monitor = monitors_snapshot().items[0]
    assert isinstance(monitor, Monitor)
    links = handover.links_for(monitor)  # alert since 08:15; the 07:58 failure is 17 min before
    assert [(d.short_sha, d.deploy_state) for d in links] == [("ccccccc", "failure")]
    untagged = replace(monitor, tags=("service:svc-bgs-api",), since=est(4, 2))
    # No [services] entry for svc-bgs-api: the repository name; newest first.
    assert [d.short_sha for d in handover.links_for(untagged)] == ["bbbbbbb", "ddddddd"]
    assert handover.links_for(replace(monitor, since=None)) == []


# -- 6. monitors ---------------------------------------------------------------------------


def test_muted_monitors_and_why(handover: Handover) -> None:
    rows = [(m.key, m.reason, m.by_me, m.until, m.unmuted_at) for m in handover.muted]
    assert rows == [
        ("101", "Known: rollback in progress", True, est(4, 12), None),  # reason from outbox
        ("102", "RabbitMQ upgrade CHG0042", False, None, None),  # someone else's mute
        ("106", "investigating", True, None, est(4, 5)),  # muted, then unmuted
    ]
    # 105 was muted until 06:00: the mute ran out, nothing is silenced any more.
    assert "105" not in [m.key for m in handover.muted]
    assert handover.muted[2].name == "monitor 106"


def test_noisy_alerts_are_the_monitors_that_changed_most(handover: Handover) -> None:
    # 104 went to Warn, then Alert: two changes, one alert, not noise.
    assert [(n.key, n.changes, n.state) for n in handover.noisy] == [("103", 4, "recovered")]


# -- 7. Dependabot and pending work --------------------------------------------------------


def test_dependabot_open_prs_security_and_major_first(handover: Handover) -> None:
    assert [pr.key for pr in handover.dependabot] == [
        "benefits/claims-api#41",
        "benefits/domain-cc#7",
        "benefits/svc-bgs-api#12",
    ]
    assert [(a.action, a.titles) for a in handover.dependabot_actions] == [
        ("approve", ("benefits/svc-bgs-api#12 actions/checkout 4.1.1 → 4.1.2",)),
        ("merge", ("benefits/claims-api#40 Bump urllib3 from 1.26.18 to 1.26.19",)),
    ]
    assert handover.dependabot_actions[1].detail == "squash"


def test_unsettled_writes_and_notes(handover: Handover) -> None:
    assert [(a.action, a.state, a.error) for a in handover.unsettled] == [
        ("merge", "rejected", "Pull Request is not mergeable"),
        ("note", "pending", "PagerDuty answered 503; retrying"),
    ]
    assert [(n.source, n.key) for n in handover.notes] == [
        ("pages", "Q501"),
        ("pages", "Q503"),
        ("dependabot", "benefits/claims-api#41"),
    ]


# -- 8. stats ------------------------------------------------------------------------------


def test_metrics_exact(handover: Handover) -> None:
    m = handover.metrics
    assert m is not None
    assert m.pages == 4
    assert m.by_urgency == (("high", 2), ("low", 2))
    assert m.resolved == 3
    assert m.mtta == Durations(
        3, timedelta(minutes=4, seconds=30), timedelta(minutes=6, seconds=10)
    )
    assert m.mttr == Durations(
        3, timedelta(hours=1, minutes=30), timedelta(hours=1, minutes=31, seconds=40)
    )
    assert m.outside_hours == 3  # 22:40, 02:05 and 08:20; 15:10 is inside 09:00-17:00
    assert m.first_hour == SHIFT_START
    assert len(m.per_hour) == 24  # 09:00 Mon to 08:45 Tue
    assert [i for i, n in enumerate(m.per_hour) if n] == [6, 13, 17, 23]
    assert sum(m.per_hour) == m.pages


def test_metrics_for_matches_the_handover(view: JournalView, handover: Handover) -> None:
    assert metrics_for(view, snapshots(), SETTINGS, NOW) == handover.metrics


def test_median_and_mean_of_an_even_count() -> None:
    d = Durations.of([timedelta(seconds=s) for s in (60, 120, 180, 600)])
    assert d == Durations(4, timedelta(seconds=150), timedelta(seconds=240))
    assert Durations.of([]) == Durations(0, None, None)


def test_working_hours_that_wrap_midnight_and_other_zones() -> None:
    night = ShiftSettings(timezone="Europe/Berlin", working_hours="22:00-06:00")
    pages = [
        PageRecord("1", "t", urgency="high", triggered_at=est(4, 17)),  # 23:00 Berlin: inside
        PageRecord("2", "t", urgency="low", triggered_at=est(4, 3)),  # 09:00 Berlin: outside
    ]
    m = shift_metrics(pages, est(4, 0), est(4, 23), night)
    assert (m.pages, m.outside_hours) == (2, 1)
    assert m.first_hour == est(4, 0).astimezone(night.tz)


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 4]) == "▁▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""
    assert sparkline([1] * 10, width=5) == "█████"
    assert len(sparkline(list(range(100)), width=48)) <= 48


# -- purity --------------------------------------------------------------------------------


def test_build_is_pure_and_repeatable(view: JournalView) -> None:
    snaps = snapshots()
    first = build_handover(view, snaps, SETTINGS, NOW)
    second = build_handover(view, snaps, SETTINGS, NOW)
    assert first == second
    assert snaps == snapshots()


def test_nothing_recorded_gives_an_empty_but_complete_handover() -> None:
    handover = build_handover(JournalView(), {}, SETTINGS, NOW)
    assert handover.active == handover.resolved == handover.deploys == ()
    assert handover.metrics is not None and handover.metrics.pages == 0
    assert handover.metrics.mtta == Durations()


def test_events_at_utc_and_local_times_compare_alike() -> None:
    journal = Journal.memory()
    journal.start_shift(est(4, 0))
    journal.add_events(
        [Event("pages", "added", "Q1", "t", est(4, 1).astimezone(UTC), None, "triggered")]
    )
    view = read_journal(journal, SETTINGS, NOW)
    snapshot = Snapshot("pages", TAKEN_AT, ())
    handover = build_handover(view, {"pages": snapshot}, SETTINGS, NOW)
    assert handover.metrics is not None and handover.metrics.pages == 1


def test_with_detail_lets_a_page_gone_from_the_snapshot_keep_its_service() -> None:
    from oncall_tui.domain.diff import diff
    from oncall_tui.handover import event_detail, with_detail

    page = pages_snapshot().items[0]  # #504 on claims-api, triggered 08:20
    assert isinstance(page, Page)
    page = replace(page, created_at=est(4, 8, 35))
    journal = Journal.memory()
    journal.start_shift(est(4, 7))
    polls = [
        (Snapshot("pages", est(4, 8, 35)), Snapshot("pages", est(4, 8, 35, 30), (page,))),
        (Snapshot("pages", est(4, 8, 35, 30), (page,)), Snapshot("pages", est(4, 8, 44))),
    ]
    for previous, current in polls:
        journal.add_events(with_detail(diff(previous, current), previous, current))
    view = read_journal(journal, SETTINGS, NOW)
    assert [e.detail for e in view.events] == [event_detail(page)] * 2
    assert event_detail(page)["created_at"] == est(4, 8, 35).isoformat()
    handover = build_handover(view, {"deploys": deploys_snapshot()}, SETTINGS, NOW)
    [resolved] = handover.resolved
    assert (resolved.record.urgency, resolved.record.priority) == ("high", "SEV2")
    assert resolved.record.service_name == "claims-api"
    assert resolved.record.triggered_at == est(4, 8, 35)
    assert resolved.record.time_to_resolve == timedelta(minutes=9)
    # The claims-api rollback finished 08:30, five minutes before the page.
    assert [(d.short_sha, d.finished_at) for d in resolved.links] == [("aaaaaaa", est(4, 8, 30))]


def test_with_detail_keeps_existing_detail_and_unknown_keys() -> None:
    from oncall_tui.handover import with_detail

    current = deploys_snapshot()
    event = Event(
        "deploys", "changed", "benefits/claims-api:prod", "t", NOW, "a", "b", {"sha": "x"}
    )
    stranger = Event("deploys", "added", "nope:dev", "t", NOW, None, "success")
    enriched, untouched = with_detail([event, stranger], None, current)
    assert enriched.detail["sha"] == "x"
    assert enriched.detail["creator"] == "bob"
    assert enriched.detail["finished_at"] == est(4, 8, 30).isoformat()
    assert untouched == stranger
