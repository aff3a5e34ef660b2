"""The handover as Markdown: stable (the same handover always gives the same text, which the
golden-file tests rely on), readable as plain text, and rendered well by GitHub.

Lists, not tables: they survive Slack, e-mail and a terminal pager as well as GitHub. Times
are wall-clock times in the shift's zone; durations are rounded to the second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from oncall_tui.domain.models import DependabotPR, Deploy
from oncall_tui.handover.build import (
    ActionRecord,
    ActiveIncident,
    DeployChange,
    Handover,
    MutedMonitor,
    ResolvedPage,
)
from oncall_tui.handover.metrics import Durations, ShiftMetrics, spark_step, sparkline

__all__ = ["DEPLOY_LIMIT", "SPARK_WIDTH", "duration", "render_markdown"]

DEPLOY_LIMIT = 15
"""Successful deploys listed by name; failed and rolled-back ones are always all listed."""
SPARK_WIDTH = 48
PANE_PROVIDERS = {
    "pages": "PagerDuty",
    "monitors": "Datadog",
    "deploys": "GitHub deploys",
    "dependabot": "GitHub Dependabot",
}
REVIEWS = {
    "approved": "approved",
    "review_required": "needs review",
    "changes_requested": "changes requested",
}
VERBS = {
    "acknowledge": "acknowledged",
    "resolve": "resolved",
    "note": "note",
    "snooze": "snoozed",
    "reassign": "reassigned",
    "escalate": "escalated",
    "mute": "muted",
    "unmute": "unmuted",
    "approve": "approved",
    "merge": "merged",
    "comment": "commented on",
    "rerun": "re-ran",
}


def render_markdown(handover: Handover) -> str:
    """The handover as a Markdown document ending with one newline."""
    r = _Renderer(handover)
    parts = [
        r.header(),
        r.active(),
        r.watch(),
        r.resolved(),
        r.changes(),
        r.monitors(),
        r.pending(),
        r.stats(),
        r.sign_off(),
    ]
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"


class _Renderer:
    def __init__(self, handover: Handover) -> None:
        self.h = handover
        self.tz = ZoneInfo(handover.period.timezone)
        self.now = handover.written_at
        self.me = handover.outgoing or "the outgoing engineer"

    # -- 1. header ---------------------------------------------------------------------------

    def header(self) -> str:
        h, period = self.h, self.h.period
        title = f"# On-call handover: {h.outgoing or 'outgoing engineer'}"
        if h.incoming:
            title += f" → {h.incoming}"
        about = ["now"] if period.end == self.now else []
        about.append(
            {
                "since": "as asked (--since)",
                "journal": "from the shift journal",
                "config": "from [shift] start",
                "default": "the last 24 hours: no shift recorded",
            }[period.origin]
        )
        if period.scheduled_end is not None:
            about.append(f"planned to end {self.full(period.scheduled_end)}")
        lines = [
            title,
            "",
            f"- **Outgoing:** {h.outgoing or _missing('[shift] engineer')}",
            f"- **Incoming:** {h.incoming or _missing('[shift] incoming')}",
            f"- **Secondary:** {h.secondary or _missing('[shift] secondary')}",
            f"- **Shift:** {self.full(period.start)} → {self.full(period.end)} "
            f"({'; '.join(about)})",
            f"- **Written:** {self.full(self.now)}",
            "",
            f"Times are in {period.timezone}. {self.glance()}",
        ]
        if h.unavailable:
            names = ", ".join(f"{PANE_PROVIDERS.get(n, n)} ({n})" for n in h.unavailable)
            lines += [
                "",
                f"> No current data from {names}: not configured, or the poll failed. "
                "What depends on it comes from the journal alone.",
            ]
        return "\n".join(lines)

    def glance(self) -> str:
        h = self.h
        metrics = h.metrics
        triggered = sum(1 for a in h.active if a.status == "triggered")
        parts = [_count(len(h.active), "active incident")]
        if triggered:
            parts[0] += f" ({triggered} not acknowledged)"
        if metrics is not None:
            pages = _count(metrics.pages, "page")
            if metrics.outside_hours:
                pages += f" ({metrics.outside_hours} outside working hours)"
            parts.append(pages)
        parts.append(f"{len(h.resolved)} resolved")
        failed = sum(1 for d in h.deploys if d.failed)
        if failed:
            parts.append(_count(failed, "failed deploy"))
        muted = sum(1 for m in h.muted if m.unmuted_at is None)
        if muted:
            parts.append(_count(muted, "muted monitor"))
        if h.watch:
            parts.append(_count(len(h.watch), "watch item"))
        return "At a glance: " + ", ".join(parts) + "."

    # -- 2. active incidents -----------------------------------------------------------------

    def active(self) -> str:
        lines = [f"## Active incidents ({len(self.h.active)})", ""]
        if "pages" in self.h.unavailable and self.h.active:
            lines += ["Open as far as the journal knows (no current PagerDuty data):", ""]
        if not self.h.active:
            lines.append(
                "None open as of the last poll."
                if "pages" not in self.h.unavailable
                else "Unknown: no current PagerDuty data, and the journal knows of none."
            )
        for incident in self.h.active:
            lines += self.incident(incident)
        return "\n".join(lines)

    def incident(self, incident: ActiveIncident) -> list[str]:
        record = incident.record
        name = self.page_name(record.number, record.title)
        service = f" ({record.service_name})" if record.service_name else ""
        lines = [
            f"- **{record.severity} · {incident.status}** {_link(name, record.url)}{service}",
        ]
        if incident.status == "triggered":
            owner = (
                f"{incident.owner} (assigned, not acknowledged)"
                if incident.owner
                else ("nobody yet (not acknowledged)")
            )
        else:
            owner = incident.owner or "unknown"
        opened = ""
        if record.triggered_at is not None:
            opened = (
                f" · open for {duration(self.now - record.triggered_at)}, "
                f"since {self.at(record.triggered_at)}"
            )
        lines.append(f"  - Owner: {_inline(owner)}{opened}")
        if incident.next_action:
            assert incident.next_action_at is not None
            lines.append(
                f"  - Next action: {_inline(incident.next_action)} "
                f"(noted {self.at(incident.next_action_at)})"
            )
        else:
            lines.append("  - Next action: none noted")
        if incident.actions:
            lines.append(f"  - Done from the cockpit: {self.action_list(incident.actions)}")
        if record.urgent:
            lines.append("  - SEV1/SEV2 or high urgency: log it in an incident report")
        lines += self.links(incident.links, record.triggered_at, "page")
        return lines

    # -- 3. watch items ----------------------------------------------------------------------

    def watch(self) -> str:
        lines = [f"## Watch items ({len(self.h.watch)})", ""]
        if not self.h.watch:
            lines.append("None.")
        for item in self.h.watch:
            title = _link(item.title or item.key, item.url)
            trigger = (
                f"**trigger:** {_inline(item.trigger)}"
                if item.trigger
                else "**trigger:** none given, ask the outgoing engineer"
            )
            lines.append(
                f"- {title} ({item.source}): {_inline(item.text)} · {trigger} "
                f"(set {self.at(item.at)})"
            )
        return "\n".join(lines)

    # -- 4. resolved -------------------------------------------------------------------------

    def resolved(self) -> str:
        lines = [f"## Resolved this shift ({len(self.h.resolved)})", ""]
        if not self.h.resolved:
            lines.append("None.")
        for item in self.h.resolved:
            lines += self.resolved_page(item)
        return "\n".join(lines)

    def resolved_page(self, item: ResolvedPage) -> list[str]:
        record = item.record
        name = _link(self.page_name(record.number, record.title), record.url)
        about = ", ".join(x for x in (record.service_name, record.severity) if x)
        times = []
        if record.triggered_at is not None:
            times.append(f"triggered {self.at(record.triggered_at)}")
        tta = record.time_to_acknowledge
        if tta is not None:
            times.append(
                f"acknowledged after {duration(tta)}"
                + (f" (by {self.me})" if record.acknowledged_by_me else "")
            )
        else:
            times.append("never acknowledged")
        ttr = record.time_to_resolve
        assert record.resolved_at is not None
        resolved = f"resolved {self.at(record.resolved_at)}"
        if ttr is not None:
            resolved += f", after {duration(ttr)}"
        if record.resolved_by_me:
            resolved += f" (by {self.me})"
        times.append(resolved)
        lines = [f"- {name} ({about}): " + "; ".join(times)]
        if item.notes:
            lines.append("  - Notes: " + " / ".join(_inline(n) for n in item.notes))
        closing = [a.detail for a in item.actions if a.action == "resolve" and a.detail]
        if closing:
            lines.append("  - Resolution note: " + " / ".join(_inline(n) for n in closing))
        others = [a for a in item.actions if a.action not in ("acknowledge", "resolve")]
        if others:
            lines.append(f"  - Done from the cockpit: {self.action_list(others)}")
        if record.urgent:
            lines.append("  - SEV1/SEV2 or high urgency: needs an incident report")
        lines += self.links(item.links, record.triggered_at, "page")
        return lines

    # -- 5. recent changes -------------------------------------------------------------------

    def changes(self) -> str:
        deploys = self.h.deploys
        lines = [f"## Recent changes: deploys this shift ({len(deploys)})", ""]
        if not deploys:
            lines.append(
                "None seen."
                if "deploys" not in self.h.unavailable
                else "None in the journal (no current deploy data)."
            )
        shown = 0
        hidden = 0
        for change in deploys:
            if not (change.failed or change.rolled_back):
                if shown >= DEPLOY_LIMIT:
                    hidden += 1
                    continue
                shown += 1
            lines.append(self.deploy_line(change))
        if hidden:
            lines.append(f"- … and {_count(hidden, 'more successful deploy')}")
        for rerun in self.h.reruns:
            what = ", ".join(rerun.titles)
            lines.append(f"- {self.me} re-ran the failed jobs of {what} ({self.state_of(rerun)})")
        return "\n".join(lines)

    def deploy_line(self, change: DeployChange) -> str:
        d = change.deploy
        mark = "**FAILED** " if change.failed else "**ROLLED BACK** " if change.rolled_back else ""
        return f"- {mark}{self.deploy_text(d)}"

    def deploy_text(self, d: Deploy) -> str:
        text = _link(f"{d.repo} → {d.environment}", d.url)
        if d.short_sha:
            text += f" `{d.short_sha}`"
        if d.creator:
            text += f" by {_inline(d.creator)}"
        if d.finished_at is not None:
            text += f", finished {self.at(d.finished_at)}"
        text += f" ({d.deploy_state})"
        if d.description:
            text += f": {_inline(d.description)}"
        return text

    # -- 6. monitors -------------------------------------------------------------------------

    def monitors(self) -> str:
        count = sum(1 for m in self.h.muted if m.unmuted_at is None)
        lines = [f"## Muted monitors and noisy alerts ({count} muted)", ""]
        if not self.h.muted:
            lines.append("No muted monitors.")
        for muted in self.h.muted:
            lines.append(self.muted_line(muted))
        lines += ["", "Noisy alerts (most state changes this shift):", ""]
        if not self.h.noisy:
            lines.append("None: no monitor changed state more than twice.")
        for noisy in self.h.noisy:
            state = f", now {noisy.state}" if noisy.state else ""
            lines.append(f"- {_link(noisy.name, noisy.url)}: {noisy.changes} state changes{state}")
        return "\n".join(lines)

    def muted_line(self, m: MutedMonitor) -> str:
        text = f"- {_link(m.name, m.url)}"
        if m.state:
            text += f" ({m.state})"
        if m.unmuted_at is not None:
            text += f": was muted, unmuted {self.at(m.unmuted_at)}"
        else:
            text += ": muted " + (f"until {self.at(m.until)}" if m.until else "with no end")
        who = []
        if m.by_me:
            who.append(f"by {self.me}" + (f", {self.at(m.muted_at)}" if m.muted_at else ""))
        reason = f"why: {_inline(m.reason)}" if m.reason else "why: no reason recorded"
        return text + (f" ({who[0]})" if who else "") + f"; {reason}"

    # -- 7. pending work ---------------------------------------------------------------------

    def pending(self) -> str:
        h = self.h
        lines = [f"## Dependabot and pending work ({len(h.dependabot)} open Dependabot PRs)", ""]
        if not h.dependabot:
            lines.append(
                "No open Dependabot PRs."
                if "dependabot" not in h.unavailable
                else "Open Dependabot PRs unknown (no current data)."
            )
        for pr in h.dependabot:
            lines.append(self.pr_line(pr))
        if h.dependabot_actions:
            lines += ["", "Done this shift:", ""]
            for action in h.dependabot_actions:
                detail = f" ({action.detail})" if action.detail else ""
                lines.append(
                    f"- {VERBS.get(action.action, action.action).capitalize()} "
                    f"{', '.join(action.titles)}{detail}, {self.at(action.at)}"
                )
        lines += ["", "Not applied (pending, or refused by the provider):", ""]
        if not h.unsettled:
            lines.append("Nothing: every write of the shift was applied.")
        for action in h.unsettled:
            lines.append(
                f"- {action.action} {', '.join(action.titles)} "
                f"({action.source}): {self.state_of(action)}"
            )
        lines += ["", "Notes, deferred items and what was tried:", ""]
        if not h.notes:
            lines.append("None.")
        for note in h.notes:
            lines.append(
                f"- {self.at(note.at)} · {_inline(note.title or note.key)}: {_inline(note.text)}"
            )
        return "\n".join(lines)

    def pr_line(self, pr: DependabotPR) -> str:
        flags = ", ".join(f for f in (pr.bump, pr.ecosystem) if f)
        versions = ""
        if pr.from_version or pr.to_version:
            versions = f" {pr.from_version or '?'} → {pr.to_version or '?'}"
        text = f"- {_link(pr.key, pr.url)} {_inline(pr.package)}{versions} ({flags})"
        text += f", CI {pr.ci}"
        if pr.security:
            text += ", **security**" + (f" ({pr.severity})" if pr.severity else "")
        if pr.review:
            text += f", {REVIEWS.get(pr.review, pr.review.replace('_', ' '))}"
        return text + f", open {duration(self.now - pr.created_at, coarse=True)}"

    # -- 8. stats ----------------------------------------------------------------------------

    def stats(self) -> str:
        m = self.h.metrics
        lines = ["## Shift stats", ""]
        if m is None:
            return "\n".join([*lines, "No metrics."])
        urgencies = ", ".join(f"{n} {u}" for u, n in m.by_urgency)
        if urgencies:
            urgencies += " urgency"
        lines += [
            f"- Pages: {m.pages}" + (f" ({urgencies})" if urgencies else ""),
            f"- Pages outside working hours: {m.outside_hours}",
            f"- Incidents resolved: {m.resolved}",
            f"- MTTA: {_durations(m.mtta)}",
            f"- MTTR: {_durations(m.mttr)}",
            f"- Pages per hour: {self.spark(m)}",
        ]
        return "\n".join(lines)

    def spark(self, m: ShiftMetrics) -> str:
        if not m.per_hour or m.first_hour is None:
            return "-"
        step = spark_step(len(m.per_hour), SPARK_WIDTH)
        unit = "one bar per hour" if step == 1 else f"one bar per {step} hours"
        line = sparkline(m.per_hour, SPARK_WIDTH)
        return f"`{line}` ({self.at(m.first_hour)} →, {unit}, busiest {max(m.per_hour)})"

    # -- 9. sign-off -------------------------------------------------------------------------

    def sign_off(self) -> str:
        who = self.h.incoming or "Incoming engineer"
        return "\n".join(
            [
                "## Sign-off",
                "",
                f"- [ ] {who}: I have read this handover and I am taking over on call "
                "(time: ________)",
            ]
        )

    # -- pieces ------------------------------------------------------------------------------

    def links(self, deploys: Sequence[Deploy], at: datetime | None, what: str) -> list[str]:
        lines = []
        for d in deploys:
            before = ""
            if at is not None and d.finished_at is not None:
                before = f", {duration(at - d.finished_at)} before the {what}"
            lines.append(f"  - What changed: {self.deploy_text(d)}{before}")
        return lines

    def action_list(self, actions: Iterable[ActionRecord]) -> str:
        parts = []
        for a in actions:
            text = VERBS.get(a.action, a.action)
            if a.detail:
                text += f" ({_inline(a.detail)})"
            if a.state == "done":
                text += f" {self.at(a.at)}"
            else:
                text += f" [{self.state_of(a)}]"
            parts.append(text)
        return "; ".join(parts)

    def state_of(self, action: ActionRecord) -> str:
        if action.state == "rejected":
            return f"refused: {_inline(action.error)}" if action.error else "refused"
        if action.state in ("pending", "in_flight"):
            since = f" since {self.at(action.at)}"
            return (
                f"not applied yet{since}: {_inline(action.error)}"
                if action.error
                else f"not applied yet{since}"
            )
        return f"{action.state} {self.at(action.at)}"

    def page_name(self, number: int | None, title: str) -> str:
        return f"#{number} {title}" if number is not None else title

    def at(self, when: datetime) -> str:
        return when.astimezone(self.tz).strftime("%a %b %d %H:%M")

    def full(self, when: datetime) -> str:
        return when.astimezone(self.tz).strftime("%a %Y-%m-%d %H:%M %Z")


def duration(value: timedelta, *, coarse: bool = False) -> str:
    """45 s, 4 min 30 s, 42 min, 1 h 05 min, 2 d 3 h: seconds only under ten minutes (none
    when `coarse`), minutes only under a day."""
    seconds = max(0, round(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        precise = secs and minutes < 10 and not coarse
        return f"{minutes} min" + (f" {secs} s" if precise else "")
    return "under a minute" if coarse else f"{secs} s"


def _durations(d: Durations) -> str:
    if d.count == 0 or d.median is None or d.mean is None:
        return "- (none)"
    return f"median {duration(d.median)}, mean {duration(d.mean)} (n={d.count})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _missing(key: str) -> str:
    return f"_not set ({key})_"


def _inline(text: str) -> str:
    """One line of text: newlines and runs of spaces become one space."""
    return " ".join(text.split())


def _link(text: str, url: str) -> str:
    label = _inline(text).replace("[", "\\[").replace("]", "\\]")
    return f"[{label}]({url})" if url else label
