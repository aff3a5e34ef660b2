"""A recorded shift, with fixed times, that the handover tests build and render.

Jane Doe is primary from Mon 2025-03-03 09:00 to Tue 09:00 US Eastern (14:00Z to 14:00Z);
the handover is written Tue 08:45 EST. Working hours 09:00-17:00.

Pages (the numbers the tests check are worked out here):

- A  #501 claims-api 5xx, SEV1 high, triggered Mon 15:10 (in hours). Jane acknowledged it
     from the cockpit at 15:14:30 (the next poll saw it at 15:15) and resolved it at 16:05.
     TTA 4 min 30 s, TTR 55 min. A claims-api prod deploy finished 14:50: linked.
- B  #502 Kafka consumer lag, low urgency (no priority), triggered Mon 22:40 (outside
     hours); someone else acknowledged it (seen 22:52); gone at Tue 00:10.
     TTA 12 min, TTR 1 h 30 min.
- C  #503 Disk 90% on postgres, SEV3 low, triggered Tue 02:05 (outside); Jane acknowledged
     at 02:07 (TTA 2 min). Still open: the next action is its latest annotation.
- D  #504 claims-api p99 latency, SEV2 high, triggered Tue 08:20 (outside: before 09:00).
     Still triggered. The failed claims-api prod deploy of 07:58 is linked to it.
- E  an older page, triggered Mon 07:30 before the shift, acknowledged 07:35, gone Mon
     09:40. Its events carry no detail (as `domain.diff` writes them). TTR 2 h 10 min.

Pages in the shift: A, B, C, D = 4 (2 high, 2 low), 3 outside working hours.
MTTA over A, B, C = 270, 720, 120 s: median 4 min 30 s, mean 6 min 10 s.
MTTR over A, B, E (resolved in the shift) = 3300, 5400, 7800 s: median 1 h 30 min, mean
1 h 31 min 40 s.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from oncall_tui.config import HandoverSettings, ServiceSettings, Settings, ShiftSettings
from oncall_tui.domain.models import DependabotPR, Deploy, Event, Monitor, Page, Snapshot
from oncall_tui.store.journal import Journal

EASTERN = ZoneInfo("America/New_York")
SHIFT = ShiftSettings(
    engineer="Jane Doe",
    secondary="Sam Lee",
    incoming="Alex Kim",
    timezone="America/New_York",
    working_hours="09:00-17:00",
)
SETTINGS = Settings(
    shift=SHIFT,
    services=(
        ServiceSettings(
            "claims-api",
            pagerduty=("PCLAIMS",),
            repositories=("benefits/claims-api",),
            datadog=("service:claims-api",),
        ),
    ),
    handover=HandoverSettings(link_window=60.0),
)
PD = "https://benefits.pagerduty.com/incidents"
GH = "https://github.com"
DD = "https://app.ddog-gov.com/monitors"


def est(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment on March `day`, 2025, US Eastern (EST, UTC-5)."""
    return datetime(2025, 3, day, hour, minute, second, tzinfo=EASTERN)


SHIFT_START = est(3, 9)
NOW = est(4, 8, 45)
TAKEN_AT = est(4, 8, 44, 30)


def page_detail(
    number: int, urgency: str, priority: str, service: str, service_id: str, created: datetime
) -> dict[str, str]:
    detail = {
        "number": str(number),
        "urgency": urgency,
        "service_name": service,
        "service_id": service_id,
        "url": f"{PD}/Q{number}",
        "created_at": created.astimezone(UTC).isoformat(),
    }
    if priority:
        detail["priority"] = priority
    return detail


def deploy_detail(
    sha: str, creator: str, finished: datetime, description: str = ""
) -> dict[str, str]:
    return {
        "sha": sha,
        "creator": creator,
        "finished_at": finished.astimezone(UTC).isoformat(),
        "description": description,
    }


A_TITLE = "claims-api 5xx rate above 5%"
B_TITLE = "Kafka consumer lag on svc-bie-kafka"
C_TITLE = "Disk 90% on postgres"
D_TITLE = "claims-api p99 latency > 2s"
E_TITLE = "svc-bip-api health check failing"

A = page_detail(501, "high", "SEV1", "claims-api", "PCLAIMS", est(3, 15, 10))
B = {
    k: v
    for k, v in page_detail(502, "low", "", "svc-bie-kafka", "PKAFKA", est(3, 22, 40)).items()
    if k != "created_at"
}
C = page_detail(503, "low", "SEV3", "postgres", "PPG", est(4, 2, 5))
D = page_detail(504, "high", "SEV2", "claims-api", "PCLAIMS", est(4, 8, 20))

SHA_CLAIMS_GOOD = "aaaaaaa1111111111111111111111111111111111"
SHA_CLAIMS_BAD = "ccccccc3333333333333333333333333333333333"
SHA_BGS_OLD = "bbbbbbb2222222222222222222222222222222222"
SHA_BGS_NEW = "ddddddd4444444444444444444444444444444444"


def events() -> list[Event]:
    ev = Event
    return [
        # E: before the shift, no detail at all.
        ev("pages", "added", "QE", E_TITLE, est(3, 7, 30), None, "triggered"),
        ev("pages", "changed", "QE", E_TITLE, est(3, 7, 35), "triggered", "acknowledged"),
        ev("pages", "removed", "QE", E_TITLE, est(3, 9, 40), "acknowledged", None),
        # A deploy before the shift (outside the link window of A).
        ev(
            "deploys",
            "changed",
            "benefits/claims-api:dev",
            "benefits/claims-api → dev",
            est(3, 8, 0, 30),
            "in_progress",
            "success",
            deploy_detail(SHA_CLAIMS_GOOD, "alice", est(3, 8, 0)),
        ),
        # A: deploy at 14:50, page at 15:10, acked from the cockpit, resolved from it.
        ev(
            "deploys",
            "changed",
            "benefits/claims-api:prod",
            "benefits/claims-api → prod",
            est(3, 14, 50, 30),
            "in_progress",
            "success",
            deploy_detail(SHA_CLAIMS_GOOD, "alice", est(3, 14, 50)),
        ),
        ev(
            "deploys",
            "changed",
            "benefits/svc-bgs-api:prod",
            "benefits/svc-bgs-api → prod",
            est(3, 15, 0, 30),
            "in_progress",
            "success",
            deploy_detail(SHA_BGS_OLD, "bob", est(3, 15, 0)),
        ),
        ev("pages", "added", "Q501", A_TITLE, est(3, 15, 10, 20), None, "triggered", A),
        ev("pages", "changed", "Q501", A_TITLE, est(3, 15, 15), "triggered", "acknowledged", A),
        ev("pages", "removed", "Q501", A_TITLE, est(3, 16, 5, 30), "acknowledged", None, A),
        # B: acknowledged by someone else, gone after midnight; the monitor flaps.
        ev("monitors", "added", "103", "svc-bie-kafka consumer lag", est(3, 22, 35), None, "Alert"),
        ev("pages", "added", "Q502", B_TITLE, est(3, 22, 40), None, "triggered", B),
        ev(
            "monitors",
            "changed",
            "103",
            "svc-bie-kafka consumer lag",
            est(3, 22, 50),
            "Alert",
            "Warn",
        ),
        ev("pages", "changed", "Q502", B_TITLE, est(3, 22, 52), "triggered", "acknowledged", B),
        ev(
            "monitors",
            "changed",
            "103",
            "svc-bie-kafka consumer lag",
            est(3, 23, 5),
            "Warn",
            "Alert",
        ),
        ev(
            "monitors",
            "removed",
            "103",
            "svc-bie-kafka consumer lag",
            est(3, 23, 40),
            "Alert",
            None,
        ),
        ev("pages", "removed", "Q502", B_TITLE, est(4, 0, 10), "acknowledged", None, B),
        # svc-bgs-api goes forward, then back to the commit it ran before: a rollback.
        ev(
            "deploys",
            "changed",
            "benefits/svc-bgs-api:prod",
            "benefits/svc-bgs-api → prod",
            est(4, 1, 0, 30),
            "in_progress",
            "success",
            deploy_detail(SHA_BGS_NEW, "bob", est(4, 1, 0)),
        ),
        ev(
            "deploys",
            "changed",
            "benefits/svc-bgs-api:prod",
            "benefits/svc-bgs-api → prod",
            est(4, 1, 30, 30),
            "in_progress",
            "success",
            deploy_detail(SHA_BGS_OLD, "bob", est(4, 1, 30)),
        ),
        # C: postgres disk.
        ev("monitors", "added", "104", "postgres disk usage", est(4, 1, 50), None, "Warn"),
        ev("monitors", "changed", "104", "postgres disk usage", est(4, 2, 0), "Warn", "Alert"),
        ev("pages", "added", "Q503", C_TITLE, est(4, 2, 5, 30), None, "triggered", C),
        ev("pages", "changed", "Q503", C_TITLE, est(4, 2, 7, 30), "triggered", "acknowledged", C),
        # D: a failed claims-api deploy, then the page, then a rollback.
        ev(
            "deploys",
            "changed",
            "benefits/claims-api:prod",
            "benefits/claims-api → prod",
            est(4, 7, 58, 30),
            "in_progress",
            "failure",
            deploy_detail(SHA_CLAIMS_BAD, "carol", est(4, 7, 58), "Helm upgrade failed"),
        ),
        ev("pages", "added", "Q504", D_TITLE, est(4, 8, 20, 15), None, "triggered", D),
        ev(
            "deploys",
            "changed",
            "benefits/claims-api:prod",
            "benefits/claims-api → prod",
            est(4, 8, 30, 30),
            "failure",
            "success",
            deploy_detail(SHA_CLAIMS_GOOD, "bob", est(4, 8, 30), "Rollback to aaaaaaa"),
        ),
        # A Dependabot PR merged from the cockpit leaves the list.
        ev(
            "dependabot",
            "removed",
            "benefits/claims-api#40",
            "Bump urllib3 from 1.26.18 to 1.26.19",
            est(3, 10, 31),
            "success",
            None,
        ),
    ]


def record_story(journal: Journal) -> None:
    """Write the shift into `journal`: shift, events, annotations and outbox rows."""
    journal.start_shift(SHIFT_START, engineer="Jane Doe", secondary="Sam Lee", incoming="Alex Kim")
    journal.add_events(events())
    note = journal.add_annotation
    note(
        at=est(2, 12),
        source="monitors",
        key="103",
        title="svc-bie-kafka consumer lag",
        text="old watch from the previous shift",
        watch=True,
        watch_trigger="if lag > 1 h",
    )
    note(
        at=est(3, 15, 20),
        source="pages",
        key="Q501",
        title=f"#501 {A_TITLE}",
        text="Restarted the claims-api pods; 5xx back to 0.2%",
    )
    note(
        at=est(4, 2, 30),
        source="pages",
        key="Q503",
        title=f"#503 {C_TITLE}",
        text="Cleaning the WAL archive; expect < 80% by 10:00",
    )
    note(
        at=est(4, 2, 40),
        source="pages",
        key="Q503",
        title=f"#503 {C_TITLE}",
        text="Disk still filling from WAL",
        watch=True,
        watch_trigger="if disk > 95%, page the DBA on call",
    )
    note(
        at=est(4, 5),
        source="monitors",
        key="103",
        title="svc-bie-kafka consumer lag",
        text="Lag flapped overnight",
        watch=True,
        watch_trigger="if lag > 5 min for 15 min, page the data team",
    )
    note(
        at=est(4, 7),
        source="dependabot",
        key="benefits/claims-api#41",
        title="benefits/claims-api#41 jackson-databind",
        text="Deferred: jackson 2.17 breaks the claims serializer\nneeds a code change (BEN-1234)",
    )

    def write(
        created: datetime,
        source: str,
        action: str,
        targets: list[str],
        payload: dict[str, object],
        state: str = "done",
        done: datetime | None = None,
        error: str | None = None,
    ) -> None:
        entry = journal.add_outbox(
            created_at=created, source=source, action=action, targets=targets, payload=payload
        )
        journal.update_outbox(
            entry.id,
            state=state,  # type: ignore[arg-type]
            attempts=1,
            last_error=error,
            done_at=done if done is not None else (created if state == "done" else None),
        )

    write(est(3, 10), "dependabot", "approve", ["benefits/svc-bgs-api#12"], {})
    write(
        est(3, 10, 30),
        "dependabot",
        "merge",
        ["benefits/claims-api#40"],
        {"method": "squash", "shas": {}},
    )
    write(
        est(3, 11),
        "dependabot",
        "merge",
        ["benefits/domain-cc#6"],
        {"method": "squash"},
        state="rejected",
        done=est(3, 11, 0, 5),
        error="Pull Request is not mergeable",
    )
    write(est(3, 15, 14, 20), "pages", "acknowledge", ["Q501"], {}, done=est(3, 15, 14, 30))
    write(est(3, 15, 30), "pages", "note", ["Q501"], {"content": "restarted pods"})
    write(
        est(3, 16, 4, 50),
        "pages",
        "resolve",
        ["Q501"],
        {"note": "pods restarted"},
        done=est(3, 16, 5),
    )
    write(est(4, 2, 6, 55), "pages", "acknowledge", ["Q503"], {}, done=est(4, 2, 7))
    write(
        est(4, 3),
        "monitors",
        "mute",
        ["105"],
        {"scope": "*", "end": est(4, 6).isoformat(), "reason": "noisy during the batch"},
    )
    write(
        est(4, 4),
        "monitors",
        "mute",
        ["106"],
        {"scope": "*", "end": None, "reason": "investigating"},
    )
    write(est(4, 5), "monitors", "unmute", ["106"], {"downtime_ids": ["d-1"]})
    write(
        est(4, 8, 16),
        "monitors",
        "mute",
        ["101"],
        {"scope": "*", "end": est(4, 12).isoformat(), "reason": "Known: rollback in progress"},
    )
    write(
        est(4, 8, 40),
        "pages",
        "note",
        ["Q503"],
        {"content": "WAL at 88%"},
        state="pending",
        error="PagerDuty answered 503; retrying",
    )


def pages_snapshot() -> Snapshot:
    c = Page(
        id="Q503",
        number=503,
        title=C_TITLE,
        status="acknowledged",
        urgency="low",
        service_id="PPG",
        service_name="postgres",
        created_at=est(4, 2, 5),
        last_status_change_at=est(4, 2, 7),
        html_url=f"{PD}/Q503",
        priority="SEV3",
        assignees=("Jane Doe",),
        acknowledgers=("Jane Doe",),
    )
    d = Page(
        id="Q504",
        number=504,
        title=D_TITLE,
        status="triggered",
        urgency="high",
        service_id="PCLAIMS",
        service_name="claims-api",
        created_at=est(4, 8, 20),
        last_status_change_at=est(4, 8, 20),
        html_url=f"{PD}/Q504",
        priority="SEV2",
        assignees=("Jane Doe",),
    )
    return Snapshot("pages", TAKEN_AT, (d, c), me="Jane Doe")


def monitors_snapshot() -> Snapshot:
    return Snapshot(
        "monitors",
        TAKEN_AT,
        (
            Monitor(
                101,
                "claims-api 5xx rate",
                "metric alert",
                "Alert",
                f"{DD}/101",
                tags=("service:claims-api", "env:prod"),
                since=est(4, 8, 15),
                muted=True,
                muted_until=est(4, 12),
            ),
            Monitor(
                104,
                "postgres disk usage",
                "metric alert",
                "Alert",
                f"{DD}/104",
                tags=("service:postgres",),
                since=est(4, 2),
            ),
            Monitor(
                102,
                "rabbitmq queue depth",
                "metric alert",
                "Warn",
                f"{DD}/102",
                since=est(4, 6),
                muted=True,
                mute_reason="RabbitMQ upgrade CHG0042",
            ),
        ),
    )


def deploys_snapshot() -> Snapshot:
    def deploy(
        repo: str,
        env: str,
        state: str,
        sha: str,
        creator: str,
        finished: datetime | None,
        description: str = "",
    ) -> Deploy:
        return Deploy(
            repo=repo,
            environment=env,
            deploy_state=state,  # type: ignore[arg-type]
            url=f"{GH}/{repo}/deployments/{env}",
            sha=sha,
            creator=creator,
            started_at=finished,
            finished_at=finished,
            description=description,
        )

    return Snapshot(
        "deploys",
        TAKEN_AT,
        (
            deploy(
                "benefits/claims-api",
                "prod",
                "success",
                SHA_CLAIMS_GOOD,
                "bob",
                est(4, 8, 30),
                "Rollback to aaaaaaa",
            ),
            deploy("benefits/claims-api", "dev", "success", SHA_CLAIMS_GOOD, "alice", est(3, 8)),
            deploy("benefits/svc-bgs-api", "prod", "success", SHA_BGS_OLD, "bob", est(4, 1, 30)),
            # Not seen by the journal (the cockpit was closed): from the snapshot alone.
            deploy("benefits/domain-cc", "qa", "success", "eeeeeee5555", "carol", est(4, 7)),
            deploy("benefits/svc-bip-api", "prod", "in_progress", "fffffff6666", "dave", None),
        ),
    )


def dependabot_snapshot() -> Snapshot:
    def pr(
        repo: str,
        number: int,
        package: str,
        old: str,
        new: str,
        bump: str,
        ecosystem: str,
        ci: str,
        created: datetime,
        **extra: object,
    ) -> DependabotPR:
        return DependabotPR(
            repo=repo,
            number=number,
            title=f"Bump {package} from {old} to {new}",
            url=f"{GH}/{repo}/pull/{number}",
            package=package,
            from_version=old,
            to_version=new,
            bump=bump,  # type: ignore[arg-type]
            ecosystem=ecosystem,
            ci=ci,  # type: ignore[arg-type]
            created_at=created,
            **extra,  # type: ignore[arg-type]
        )

    return Snapshot(
        "dependabot",
        TAKEN_AT,
        (
            pr(
                "benefits/svc-bgs-api",
                12,
                "actions/checkout",
                "4.1.1",
                "4.1.2",
                "patch",
                "github-actions",
                "success",
                est(2, 9),
                review="approved",
            ),
            pr(
                "benefits/domain-cc",
                7,
                "requests",
                "2.31.0",
                "3.0.0",
                "major",
                "pip",
                "pending",
                est(3, 6),
            ),
            pr(
                "benefits/claims-api",
                41,
                "com.fasterxml.jackson.core:jackson-databind",
                "2.15.2",
                "2.17.0",
                "minor",
                "gradle",
                "failure",
                est(1, 6),
                security=True,
                severity="high",
            ),
        ),
    )


def snapshots() -> dict[str, Snapshot | None]:
    return {
        "pages": pages_snapshot(),
        "monitors": monitors_snapshot(),
        "deploys": deploys_snapshot(),
        "dependabot": dependabot_snapshot(),
    }


def story_journal() -> Journal:
    journal = Journal.memory()
    record_story(journal)
    return journal
