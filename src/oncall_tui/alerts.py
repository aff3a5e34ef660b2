"""Which page changes deserve the engineer's attention, and how to ring the terminal.

Pure functions: the cockpit decides *that* it notifies from `page_alerts`, and writes the
escape sequence from `desktop_sequence` (OSC 9 or OSC 777), wrapped for tmux when needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oncall_tui.domain.models import Page, Snapshot

AlertReason = Literal["triggered", "re-triggered", "escalated"]


@dataclass(frozen=True, slots=True)
class PageAlert:
    """A page that needs eyes now; `loud` for high urgency."""

    page: Page
    reason: AlertReason

    @property
    def loud(self) -> bool:
        return self.page.urgency == "high"

    @property
    def title(self) -> str:
        urgency = "HIGH" if self.loud else "low"
        return f"Page {self.reason} ({urgency}) #{self.page.number}"

    @property
    def body(self) -> str:
        return f"{self.page.service_name}: {self.page.title}"


def page_alerts(previous: Snapshot | None, current: Snapshot) -> list[PageAlert]:
    """New triggered pages, pages that went back to triggered, and escalations.

    The first snapshot of a session alerts nobody: those pages were already there.
    """
    if previous is None:
        return []
    before = {p.key: p for p in previous.items if isinstance(p, Page)}
    alerts: list[PageAlert] = []
    for page in current.items:
        if not isinstance(page, Page) or page.status != "triggered":
            continue
        old = before.get(page.key)
        if old is None:
            alerts.append(PageAlert(page, "triggered"))
        elif old.status != "triggered":
            alerts.append(PageAlert(page, "re-triggered"))
        elif set(page.assignees) - set(old.assignees):
            alerts.append(PageAlert(page, "escalated"))
    alerts.sort(key=lambda a: (not a.loud, a.page.created_at))
    return alerts


def desktop_sequence(style: str, title: str, body: str, *, in_tmux: bool) -> str:
    """The terminal escape sequence for a desktop notification, or "" when off.

    osc9 is understood by iTerm2, WezTerm, Ghostty, Windows Terminal and others; osc777 by
    urxvt, foot and VTE terminals. Inside tmux the sequence is wrapped in a passthrough
    (tmux needs `allow-passthrough on`).
    """
    clean_title = _clean(title)
    clean_body = _clean(body)
    if style == "osc9":
        sequence = f"\x1b]9;{clean_title}: {clean_body}\x07"
    elif style == "osc777":
        sequence = f"\x1b]777;notify;{clean_title};{clean_body}\x07"
    else:
        return ""
    if in_tmux:
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def _clean(text: str) -> str:
    """No control characters (they would end the sequence early) and no `;` for OSC 777."""
    return "".join(c for c in text if c.isprintable()).replace(";", ",")[:200]
