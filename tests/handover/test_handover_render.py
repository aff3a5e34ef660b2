"""Golden files: the recorded shift of `handover_story.py` rendered to exact Markdown.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/handover`, then read
the diff: the golden files are what the incoming engineer gets.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from handover_story import NOW, SETTINGS, TAKEN_AT, est, snapshots, story_journal

from oncall_tui.config import Settings, ShiftSettings
from oncall_tui.domain.models import Snapshot
from oncall_tui.handover import JournalView, build_handover, read_journal, render_markdown
from oncall_tui.handover.render import duration

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs; UPDATE_GOLDEN=1 rewrites it (then read the diff)"


def story_markdown() -> str:
    journal = story_journal()
    view = read_journal(journal, SETTINGS, NOW)
    return render_markdown(build_handover(view, snapshots(), SETTINGS, NOW))


def test_golden_shift() -> None:
    check_golden("shift.md", story_markdown())


def test_golden_quiet_shift() -> None:
    settings = Settings(shift=ShiftSettings(engineer="Jane Doe", start=est(3, 9), end=est(17, 9)))
    empty = {name: Snapshot(name, TAKEN_AT) for name in ("pages", "monitors", "deploys")}
    handover = build_handover(JournalView(), {**empty, "dependabot": None}, settings, NOW)
    check_golden("quiet.md", render_markdown(handover))


def test_golden_without_current_data() -> None:
    view = read_journal(story_journal(), SETTINGS, NOW)
    nothing = dict.fromkeys(snapshots())
    handover = build_handover(view, nothing, SETTINGS, NOW, since=est(3, 12))
    check_golden("no-data.md", render_markdown(handover))


def test_the_shift_golden_says_what_the_incoming_engineer_needs() -> None:
    text = (GOLDEN / "shift.md").read_text(encoding="utf-8")
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Active incidents (2)",
        "## Watch items (2)",
        "## Resolved this shift (3)",
        "## Recent changes: deploys this shift (7)",
        "## Muted monitors and noisy alerts (2 muted)",
        "## Dependabot and pending work (3 open Dependabot PRs)",
        "## Shift stats",
        "## Sign-off",
    ]
    needed = [
        # 1. who and when, with the zone
        "# On-call handover: Jane Doe → Alex Kim",
        "- **Secondary:** Sam Lee",
        "- **Shift:** Mon 2025-03-03 09:00 EST → Tue 2025-03-04 08:45 EST (now; from the shift "
        "journal)",
        "Times are in America/New_York.",
        # 2. the open page that nobody acknowledged, and the deploy before it
        "- **SEV2 · triggered** [#504 claims-api p99 latency > 2s]",
        "  - What changed: benefits/claims-api → prod `ccccccc` by carol, finished Tue Mar 04 "
        "07:58 (failure): Helm upgrade failed, 22 min before the page",
        "  - Next action: Disk still filling from WAL (watch: if disk > 95%, page the DBA",
        # 3. measurable triggers
        "**trigger:** if lag > 5 min for 15 min, page the data team",
        # 4. resolved with TTA and TTR
        "acknowledged after 4 min 30 s (by Jane Doe); resolved Mon Mar 03 16:05, after 55 min",
        "acknowledged after 12 min; resolved Tue Mar 04 00:10, after 1 h 30 min",
        # 5. failures first
        "- **FAILED** benefits/claims-api → prod",
        "- **ROLLED BACK** [benefits/svc-bgs-api → prod]",
        # 6. muted and why
        "why: Known: rollback in progress",
        "svc-bie-kafka consumer lag: 4 state changes, now recovered",
        # 7. pending work
        "- merge benefits/domain-cc#6 (dependabot): refused: Pull Request is not mergeable",
        "Deferred: jackson 2.17 breaks the claims serializer needs a code change (BEN-1234)",
        "- Merged benefits/claims-api#40 Bump urllib3 from 1.26.18 to 1.26.19 (squash)",
        # 8. stats
        "- Pages: 4 (2 high, 2 low urgency)",
        "- Pages outside working hours: 3",
        "- MTTA: median 4 min 30 s, mean 6 min 10 s (n=3)",
        "- MTTR: median 1 h 30 min, mean 1 h 31 min (n=3)",
        # 9. sign-off
        "- [ ] Alex Kim: I have read this handover and I am taking over on call",
    ]
    for line in needed:
        assert line in text, line
    assert text.endswith("(time: ________)\n")
    assert "\n\n\n" not in text


def test_rendering_is_stable() -> None:
    assert story_markdown() == story_markdown()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (270, "4 min 30 s"),
        (300, "5 min"),
        (2562, "42 min"),
        (3900, "1 h 05 min"),
        (5500, "1 h 31 min"),
        (86400 * 2 + 3 * 3600 + 59, "2 d 3 h"),
        (86400, "1 d"),
    ],
)
def test_duration(seconds: int, text: str) -> None:
    assert duration(timedelta(seconds=seconds)) == text


def test_coarse_duration() -> None:
    assert duration(timedelta(seconds=30), coarse=True) == "under a minute"
    assert duration(timedelta(seconds=270), coarse=True) == "4 min"


def test_user_text_cannot_break_the_layout() -> None:
    journal = story_journal()
    journal.add_annotation(
        at=est(4, 8, 30),
        source="pages",
        key="Q504",
        title="#504 [weird] title",
        text="line one\n\n## not a heading\n- not a bullet",
    )
    view = read_journal(journal, SETTINGS, NOW)
    text = render_markdown(build_handover(view, snapshots(), SETTINGS, NOW))
    assert "Next action: line one ## not a heading - not a bullet (noted" in text
    assert "\n## not a heading" not in text
    assert "[#504 claims-api p99 latency > 2s](https://" in text
