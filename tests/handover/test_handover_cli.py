"""`oncall-tui handover` and `oncall-tui shift`, run in-process through `cli.main`: a demo
shift recorded in the demo journal comes out as a handover file and a comment on the
simulator's sprint issue; bad input is one line and exit 2; no secret is ever printed.

XDG_* and HOME point into `tmp_path` and the provider env vars are removed, so the user's
real config, journal and tokens are never touched.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import oncall_tui.demo
from oncall_tui.cli import main
from oncall_tui.domain.models import Event
from oncall_tui.store.journal import Journal

CANARY = "canary-gh-9d3e55c0ffee"
WEBHOOK_CANARY = "T0CANARY/B0CANARY/hook0451secret"

pytestmark = pytest.mark.usefixtures("isolated", "restore_logging")


def data_dir(home: Path) -> Path:
    return home / "xdg_data_home" / "oncall-tui"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("oncall-tui: ")
    return lines[0]


# -- shift ---------------------------------------------------------------------------------

SHIFT_CONFIG = """
[shift]
engineer = "Jane Doe"
secondary = "Sam Lee"
incoming = "Alex Kim"
timezone = "America/New_York"
"""


def test_shift_start_and_end_are_recorded(
    tmp_path: Path, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, SHIFT_CONFIG)
    assert main(["--config", str(config), "shift", "start", "--at", "2025-03-03T09:00"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "shift started Mon 2025-03-03 09:00 EST: Jane Doe; secondary Sam Lee; incoming Alex Kim\n"
    )
    argv = ["--config", str(config), "shift", "end", "--at", "2025-03-04T09:00-05:00"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "shift ended Tue 2025-03-04 09:00 EST (started Mon 2025-03-03 09:00 EST)\n"
    )
    journal = Journal.open(data_dir(isolated) / "journal.sqlite3")
    shift = journal.current_shift()
    journal.close()
    assert shift is not None
    assert (shift.engineer, shift.secondary, shift.incoming) == ("Jane Doe", "Sam Lee", "Alex Kim")
    assert shift.started_at == datetime(2025, 3, 3, 14, tzinfo=UTC)
    assert shift.ended_at == datetime(2025, 3, 4, 14, tzinfo=UTC)
    assert not (data_dir(isolated) / "demo-journal.sqlite3").exists()


def test_shift_start_names_from_the_command_line_and_demo_journal(
    tmp_path: Path, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["shift", "start", "--demo", "--engineer", "Priya"]) == 0
    assert capsys.readouterr().out.endswith(": Priya\n")
    journal = Journal.open(data_dir(isolated) / "demo-journal.sqlite3")
    shift = journal.current_shift()
    journal.close()
    assert shift is not None and shift.engineer == "Priya" and shift.ended_at is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["shift", "end"], "shift end: no shift is open; `oncall-tui shift start` begins one"),
        (["shift", "start", "--at", "yesterday"], "--at: 'yesterday' is not an ISO date"),
        (["shift", "start", "--at", "2999-01-01T00:00"], "is in the future"),
        (["handover", "--since", "last tuesday"], "--since: 'last tuesday' is not an ISO date"),
        (["handover", "--since", "2999-01-01T00:00Z"], "is in the future"),
        (["handover", "--publish"], "--publish: nowhere to publish to"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert expected in one_line_error(capsys)


def test_shift_end_before_its_start_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shift", "start", "--at", "2025-03-03T09:00"]) == 0
    capsys.readouterr()
    assert main(["shift", "end", "--at", "2025-03-03T08:00"]) == 2
    assert "is before the shift started" in one_line_error(capsys)


def test_handover_out_to_an_existing_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "mine.md"
    existing.write_text("my notes\n")
    assert main(["handover", "--out", str(existing)]) == 2
    assert "never overwrites" in one_line_error(capsys)
    assert existing.read_text() == "my notes\n"


def test_handover_with_nothing_configured_still_writes_one(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["handover"]) == 0
    out = capsys.readouterr().out.strip()
    path = Path(out)
    assert path.parent == data_dir(isolated) / "handovers"
    assert re.fullmatch(r"handover-\d{4}-\d\d-\d\d-\d{6}\.md", path.name)
    text = path.read_text(encoding="utf-8")
    assert "No current data from PagerDuty (pages), Datadog (monitors)" in text
    assert "the last 24 hours: no shift recorded" in text


# -- the demo shift, end to end ------------------------------------------------------------


def record_demo_shift(journal: Journal, now: datetime) -> None:
    """A shift that began 6 h ago: a page acknowledged and resolved from the cockpit, the
    deploy before it, a monitor muted, a Dependabot PR merged, a watch item."""
    t0 = now - timedelta(hours=6)
    triggered = now - timedelta(hours=5)
    journal.start_shift(t0, engineer="Jane Doe", incoming="Alex Kim")
    page = {
        "number": "9001",
        "urgency": "high",
        "priority": "SEV2",
        "service_name": "claims-api",
        "service_id": "PCLAIMS",
        "url": "https://benefits.pagerduty.com/incidents/QDEMO1",
        "created_at": triggered.isoformat(),
    }
    journal.add_events(
        [
            Event(
                "deploys",
                "changed",
                "benefits/claims-api:prod",
                "benefits/claims-api → prod",
                triggered - timedelta(minutes=19),
                "in_progress",
                "success",
                {
                    "sha": "1234567890abcdef",
                    "creator": "alice",
                    "finished_at": (triggered - timedelta(minutes=20)).isoformat(),
                },
            ),
            Event(
                "pages",
                "added",
                "QDEMO1",
                "claims-api 5xx above 5%",
                triggered + timedelta(seconds=20),
                None,
                "triggered",
                page,
            ),
            Event(
                "pages",
                "removed",
                "QDEMO1",
                "claims-api 5xx above 5%",
                triggered + timedelta(hours=1, seconds=30),
                "acknowledged",
                None,
                page,
            ),
            Event(
                "dependabot",
                "removed",
                "benefits/claims-api#77",
                "Bump urllib3 from 1.26.18 to 1.26.19",
                triggered + timedelta(hours=2),
                "success",
                None,
            ),
        ]
    )

    def done(at: datetime, source: str, action: str, target: str, payload: dict[str, Any]) -> None:
        entry = journal.add_outbox(
            created_at=at - timedelta(seconds=5),
            source=source,
            action=action,
            targets=[target],
            payload=payload,
        )
        journal.update_outbox(entry.id, state="done", attempts=1, done_at=at)

    done(triggered + timedelta(minutes=3), "pages", "acknowledge", "QDEMO1", {})
    done(triggered + timedelta(hours=1), "pages", "resolve", "QDEMO1", {"note": "rolled back"})
    done(
        triggered + timedelta(hours=1, minutes=5),
        "monitors",
        "mute",
        "424242",
        {"scope": "*", "end": None, "reason": "claims-api rollback settling"},
    )
    done(triggered + timedelta(hours=2), "dependabot", "merge", "benefits/claims-api#77", {})
    journal.add_annotation(
        at=triggered + timedelta(hours=1, minutes=10),
        source="pages",
        key="QDEMO1",
        title="#9001 claims-api 5xx above 5%",
        text="5xx back to normal after the rollback",
        watch=True,
        watch_trigger="if 5xx > 1% for 10 min, page the claims team",
    )


def test_handover_demo_end_to_end(
    tmp_path: Path,
    isolated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    journal = Journal.open(data_dir(isolated) / "demo-journal.sqlite3")
    record_demo_shift(journal, now)
    journal.close()
    started: list[Any] = []
    real_start = oncall_tui.demo.start_demo

    def start_demo(*args: Any, **kwargs: Any) -> Any:
        simulator, settings = real_start(*args, **kwargs)
        started.append(simulator)
        return simulator, settings

    monkeypatch.setattr(oncall_tui.demo, "start_demo", start_demo)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    assert main(["handover", "--demo", "--publish", "--out", str(out_dir)]) == 0

    captured = capsys.readouterr()
    path_line, url_line = captured.out.strip().splitlines()
    path = Path(path_line)
    assert path.parent == out_dir
    text = path.read_text(encoding="utf-8")
    # The page: acknowledged and resolved from the cockpit, with its exact TTA and TTR ...
    assert (
        "[#9001 claims-api 5xx above 5%](https://benefits.pagerduty.com/incidents/QDEMO1)" in text
    )
    assert "acknowledged after 3 min (by Jane Doe)" in text
    assert ", after 1 h 00 min (by Jane Doe)" in text
    # ... the deploy that preceded it ...
    assert "  - What changed: benefits/claims-api → prod `1234567` by alice" in text
    assert "20 min before the page" in text
    # ... the muted monitor and why, the merged PR, the watch item.
    assert "monitor 424242: muted with no end (by Jane Doe," in text
    assert "why: claims-api rollback settling" in text
    assert "- Merged benefits/claims-api#77 Bump urllib3 from 1.26.18 to 1.26.19" in text
    assert "**trigger:** if 5xx > 1% for 10 min, page the claims team" in text
    assert "# On-call handover: Jane Doe → Alex Kim" in text
    # Fresh data from the simulator came in too.
    assert "No current data" not in text
    assert re.search(r"^## Active incidents \([1-9]\d*\)$", text, re.MULTILINE)
    assert re.search(r"^- Incidents resolved: [1-9]", text, re.MULTILINE)
    # Published: the comment is on the sprint's issue in the simulator's state.
    [simulator] = started
    state = simulator.world.snapshot()
    comments = [c for c in state["github"]["comments"] if c["kind"] == "issue"]
    assert [c["body"] for c in comments] == [text]
    issue = next(
        i
        for i in simulator.world.github.issues_of("benefits/claims-api")
        if i.title == "On call for Sprint 42"
    )
    assert comments[0]["number"] == issue.number
    assert url_line.endswith(
        f"/benefits/claims-api/issues/{issue.number}#issuecomment-{comments[0]['id']}"
    )


def test_secrets_are_never_printed(
    tmp_path: Path, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        f"""
[github]
token = "{CANARY}"
base_url = "https://127.0.0.1:9"
repositories = ["benefits/claims-api"]
handover_repo = "benefits/on-call"

[handover]
slack_webhook = "https://127.0.0.1:9/services/{WEBHOOK_CANARY}"
""",
    )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["--config", str(config), "handover", "--publish", "--out", str(out_dir)]) == 1
    captured = capsys.readouterr()
    [path] = out_dir.iterdir()
    assert captured.out == f"{path}\n"
    errors = captured.err.strip().splitlines()
    assert any(
        line.startswith("oncall-tui: publish to github: cannot reach GitHub") for line in errors
    )
    assert "oncall-tui: publish to slack: cannot reach the Slack webhook (ConnectError)" in errors
    assert any("the handover uses the journal alone for it" in line for line in errors)
    logs = [p.read_text(errors="replace") for p in isolated.rglob("*.log*") if p.is_file()]
    for text in (captured.out, captured.err, path.read_text(encoding="utf-8"), *logs):
        assert CANARY not in text
        assert WEBHOOK_CANARY not in text


def test_a_bad_webhook_setting_never_quotes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_SLACK_WEBHOOK", f"ftp://{WEBHOOK_CANARY}")
    assert main(["handover"]) == 2
    line = one_line_error(capsys)
    assert "slack_webhook (from ONCALL_SLACK_WEBHOOK): is not an https:// URL" in line
    assert WEBHOOK_CANARY not in line
