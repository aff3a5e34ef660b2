"""The cockpit header: who is on call, who I act as, and the shift clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from oncall_tui import format as fmt
from oncall_tui.domain.models import OnCall


class CockpitHeader(Horizontal):
    """One line: title and identity on the left, on-call in the middle, clock on the right."""

    def __init__(self, *, tz: tzinfo | None, read_only: bool = False) -> None:
        super().__init__(id="header")
        self._tz = tz
        self._read_only = read_only
        self._me = ""
        self._on_call: tuple[OnCall, ...] = ()
        self._shift_end: datetime | None = None

    def compose(self) -> ComposeResult:
        # Kept by reference: the clock ticks every second, also while the cockpit closes.
        self._identity = Static("oncall-tui", id="header-identity", markup=False)
        self._oncall = Static("on call: waiting for PagerDuty…", id="header-oncall", markup=False)
        self._clock = Static("", id="header-clock", markup=False)
        yield self._identity
        yield self._oncall
        yield self._clock

    def on_mount(self) -> None:
        self._render_identity()

    def set_on_call(
        self, me: str, on_call: Sequence[OnCall], shift_end: datetime | None, now: datetime
    ) -> None:
        """Show who holds levels 1 and 2, marking me, and when my shift ends."""
        self._me = me
        self._on_call = tuple(on_call)
        self._shift_end = shift_end
        if not self.is_attached:
            return
        self._render_identity()
        self._oncall.update(self._on_call_text(now))
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """Move the clock (and the countdown to the end of my shift)."""
        if not self.is_attached:
            return
        clock = now.astimezone(self._tz) if self._tz is not None else now
        text = clock.strftime("%a %H:%M %Z").strip()
        if self._shift_end is not None:
            text += f" · shift ends {fmt.until(self._shift_end, now)}"
        self._clock.update(text)

    def _render_identity(self) -> None:
        who = f" · {self._me}" if self._me else ""
        mode = " · READ-ONLY" if self._read_only else ""
        self._identity.update(f"oncall-tui{who}{mode}")

    def _on_call_text(self, now: datetime) -> str:
        """Levels 1 and 2 across my escalation policies, names once each, me first; then
        who takes over from me next."""
        current = [o for o in self._on_call if o.start is None or o.start <= now]
        if not current:
            return "on call: no escalation policy configured"
        parts: list[str] = []
        for level in (1, 2):
            names: list[str] = []
            for entry in current:
                if entry.level == level and entry.user_name not in names:
                    names.append(entry.user_name)
            if not names:
                continue
            names.sort(key=lambda n: n != self._me)
            shown = [f"{n} (you)" if n == self._me else n for n in names]
            parts.append(f"L{level} {', '.join(shown)}")
        text = " · ".join(parts)
        mine = [o for o in current if o.user_name == self._me]
        if mine:
            after = [
                o
                for o in self._on_call
                if o.start is not None
                and o.start > now
                and o.user_name != self._me
                and any(
                    o.level == m.level and o.escalation_policy == m.escalation_policy for m in mine
                )
            ]
            if after:
                nxt = min(after, key=lambda o: o.start or now)
                text += f" · next {nxt.user_name} {fmt.clock_time(nxt.start, self._tz)}"
        return text
