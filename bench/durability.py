"""Durability: `kill -9` the cockpit at random moments while it writes and while the handover
is being typed, then check what survived (issue 7, item 4).

`python bench/durability.py [--trials N] [--seed S]` prints, after N trials (default 50):

- `durability_trials`: trials run; each is one SIGKILL of a real cockpit process.
- `durability_integrity_failures`: journals whose `PRAGMA integrity_check` was not "ok".
- `durability_confirmed_lost`: confirmed writes missing from the journal after the kill, or
  never applied after the restart (a refusal by the provider is not a loss; it is counted in
  `durability_refused`), and confirmed annotations missing from the journal.
- `durability_applied_twice`: writes the provider got twice (two identical notes, two
  downtimes with the same reason, two comments or approvals, a page acknowledged twice),
  whether the kill came before or after the cockpit confirmed them.
- `durability_unqueued_applied`: notes or mutes applied with no journal entry for them.
- `durability_draft_chars_lost`: handover characters the journal lost against the last draft
  save reported before the kill; `..._vs_keys` against every key press the cockpit had
  processed.
- how much was at stake and where the kills landed: confirmed writes per trial, draft saves,
  kill times, kills during start-up / the script / after it, with a write in flight, with a
  failed write waiting for its retry, in the middle of typing; and two control runs that are
  not killed and are checked the same way.

How a trial works. One simulator (`oncall-tui simulate`) runs in its own process for the
whole run, so the kills do not touch it. The bench imports the cockpit once and forks a child
per cockpit run (so a trial does not pay two seconds of imports; the child is an ordinary
process and dies by a real SIGKILL). The victim child runs the real `OncallApp` headless
(`run_test`) on a journal file, pointed at the simulator by the config file the simulator
wrote, and Pilot presses keys from a script drawn from the trial's seed: notes on pages
(`n`, text, `ctrl+s`), acknowledgements (`a`), mutes (`m`, reason, `enter`), `@dependabot
rebase` comments (`c`), approvals (`v`), and one burst of typing in the handover (`h`, key by
key, each saved by the cockpit). The child reports on a pipe, each line written only after
the journal call returned (its SQLite commit): every outbox entry queued ("confirmed"), every
annotation, every draft save with its text, every key press the cockpit had processed. When
the cockpit is ready, the parent may make every provider fail its next few requests (500),
or answer slowly until the kill, so that writes are waiting for a retry or in flight. The
kill lands at a moment drawn uniformly from 0.05 s after the fork to the end of a typical
script (the longer of the two control runs).

After the kill: `PRAGMA integrity_check`, every confirmed entry and annotation in the journal,
the handover draft against the last reported save. Then a recovery child (the cockpit started
again on the same journal, no faults) drains the outbox, and the simulator's state, compared
with its state before the trial, shows how often each write landed. Both children shorten
the outbox backoff to 0.5 s (cap 2 s) so retries happen within a trial. After slow answers
the parent waits for the simulator to finish the requests it was still serving when the
child died before restarting the cockpit (a restart takes longer than that anyway): a write
still being processed by the provider while the restarted cockpit checks for it is a race no
client can close without idempotency keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import select
import signal
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import traceback
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import TextArea

from harness import simulator_process
from oncall_tui.config import load_settings
from oncall_tui.domain.clock import SystemClock
from oncall_tui.engine.outbox import Outbox, Writer
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Annotation, Journal, OutboxEntry
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.actions import ChoiceScreen, MuteScreen, NoteScreen
from oncall_tui.ui.screens.handover import DRAFT_NAME, HandoverScreen

Figure = tuple[str, float, str, str]
Event = dict[str, Any]

TRIALS = 50
KILL_FLOOR = 0.05
"""The earliest kill, in seconds after the fork."""
CHILD_TIMEOUT = 120.0
DRAIN_TIMEOUT = 60.0
COMMENT_REUSE = 6 * 60.0
"""Seconds before the bench asks Dependabot to rebase the same PR again: a retried comment
takes an identical one of the last 5 minutes for its own earlier try, so two in a row would
be a loss by design, not by the crash."""
PROVIDERS = ("pagerduty", "datadog", "github")
WORDS = ("checking", "rollback", "queue", "lag", "paged", "data", "team", "fix", "deploy")


# -- the child: a real cockpit, driven by keys, reporting on a pipe -------------------------


class Reporter:
    """JSON lines on the pipe to the parent, each written at once (nothing buffered)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._start = time.monotonic()

    def __call__(self, kind: str, **fields: Any) -> None:
        data = json.dumps({"kind": kind, "t": time.monotonic() - self._start, **fields}) + "\n"
        view = memoryview(data.encode())
        while view:
            view = view[os.write(self._fd, view) :]


class ReportingJournal(Journal):
    """The cockpit's journal, reporting each write once it has committed."""

    report: Reporter | None = None  # set in the child

    def _say(self, kind: str, **fields: Any) -> None:
        if self.report is not None:
            self.report(kind, **fields)

    def add_outbox(self, **kwargs: Any) -> OutboxEntry:
        entry = super().add_outbox(**kwargs)
        self._say("confirmed", id=entry.id, action=entry.action, targets=list(entry.targets))
        return entry

    def add_annotation(self, **kwargs: Any) -> Annotation:
        annotation = super().add_annotation(**kwargs)
        self._say("annotated", key=annotation.key, text=annotation.text)
        return annotation

    def save_draft(self, name: str, text: str, at: Any) -> None:
        super().save_draft(name, text, at)
        self._say("draft", name=name, text=text)


def _child(mode: str, trial: int, seed: int, work: Path, config: Path, fd: int) -> None:
    """Run one cockpit in this (forked) process; never returns."""
    code = 0
    try:
        os.dup2(os.open(work / f"{mode}.stderr", os.O_WRONLY | os.O_CREAT, 0o600), 2)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        ReportingJournal.report = Reporter(fd)
        asyncio.run(_cockpit(mode, trial, seed, work, config))
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


async def _cockpit(mode: str, trial: int, seed: int, work: Path, config: Path) -> None:
    """victim: start, run the script, wait to be killed; calibrate: the same, then drain and
    stop; recover: start on the journal left behind and drain the outbox."""
    report = ReportingJournal.report
    assert report is not None
    settings = load_settings(config, env={})
    clock = SystemClock()
    sources = build_sources(settings, clock)
    journal = ReportingJournal.open(work / "journal.sqlite3")
    app = OncallApp(
        settings,
        sources,
        clock,
        journal=journal,
        poll=mode != "recover",
        data_dir=work / "data",
        state_file=work / "ui-state.json",
    )
    # The cockpit's own outbox with a shorter backoff, so that retries happen within a trial.
    app.outbox = Outbox(
        journal,
        {name: s for name, s in sources.items() if isinstance(s, Writer)},
        clock,
        on_change=app._outbox_changed,
        backoff_base=0.5,
        backoff_cap=2.0,
    )
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            if mode != "recover":
                await _until(
                    pilot,
                    lambda: all(p.freshness.last_success for p in app.pollers.values()),
                    60,
                )
                report("ready")
                avoid = set(json.loads((work / "avoid.json").read_text()))
                await Script(app, pilot, random.Random(seed), trial, report, avoid).run()
                report("end")
                if mode == "victim":
                    await asyncio.sleep(3600)  # until the kill
            await _until(pilot, lambda: not journal.open_outbox(), DRAIN_TIMEOUT)
            report("drained", entries=[_row(e) for e in journal.recent_outbox(10_000)])
    finally:
        journal.close()
        for source in sources.values():
            source.close()


def _row(entry: OutboxEntry) -> dict[str, Any]:
    return {"id": entry.id, "state": entry.state, "error": entry.last_error}


async def _until(pilot: Pilot[None], predicate: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not reached within {timeout:g} s")
        await pilot.pause(0.02)


def _key(char: str) -> str:
    return {" ": "space", "\n": "enter", "-": "minus"}.get(char, char)


class Script:
    """One trial's keys: 2 to 4 writes and one burst of handover typing, in random order."""

    WRITES = ("note", "note", "mute", "mute", "comment", "ack", "approve")

    def __init__(
        self,
        app: OncallApp,
        pilot: Pilot[None],
        rng: random.Random,
        trial: int,
        report: Reporter,
        avoid: set[str],
    ) -> None:
        self.app = app
        self.pilot = pilot
        self.rng = rng
        self.trial = trial
        self.report = report
        self.avoid = avoid  # PRs asked to rebase in the last few minutes
        self.used: set[str] = set()
        self.count = 0

    async def run(self) -> None:
        steps = [self.rng.choice(self.WRITES) for _ in range(self.rng.randint(2, 4))]
        steps.insert(self.rng.randint(0, len(steps)), "handover")
        for step in steps:
            # A write with nothing to act on (no triggered page, no alerting monitor) gives
            # way to the next one that has something.
            order = [step, *(w for w in dict.fromkeys(self.WRITES) if w != step)]
            for name in order:
                if await getattr(self, name)():
                    break
            else:
                self.report("skipped", step=step)
            await _until(self.pilot, lambda: len(self.app.screen_stack) == 1, 10)
            await self.pilot.pause(self.rng.uniform(0.0, 0.3))

    def marker(self) -> str:
        """A text no other write of the run has, so the provider's copies can be counted."""
        self.count += 1
        return f"dur-{self.trial}-{self.count} {self.rng.choice(WORDS)}"

    async def select(self, pane_name: str, key: str) -> None:
        await self.pilot.press(str(list(self.app.panes).index(pane_name) + 1))
        pane = self.app.pane(pane_name)
        pane.table.move_cursor(row=pane.table.get_row_index(key))
        await self.pilot.pause()
        assert pane.selected is not None and pane.selected.key == key

    async def type_in(self, text: str) -> None:
        await self.pilot.press(*[_key(c) for c in text])

    async def opened(self, screen: type) -> None:
        await _until(self.pilot, lambda: isinstance(self.app.screen, screen), 10)

    async def note(self) -> bool:
        pages = sorted(self.app.pane("pages").items)
        if not pages:
            return False
        page = self.rng.choice(pages)
        await self.select("pages", page)
        await self.pilot.press("n")
        await self.opened(NoteScreen)
        text = self.marker()
        self.report("intend", action="note", target=page, marker=text)
        await self.type_in(text)
        await self.pilot.press("ctrl+s")
        return True

    async def ack(self) -> bool:
        items = self.app.pane("pages").items
        pages = sorted(
            k for k, p in items.items() if p.status == "triggered" and k not in self.used
        )
        if not pages:
            return False
        page = self.rng.choice(pages)
        self.used.add(page)
        await self.select("pages", page)
        self.report("intend", action="acknowledge", target=page, marker=page)
        await self.pilot.press("a")
        return True

    async def mute(self) -> bool:
        monitors = sorted(self.app.pane("monitors").items)
        if not monitors:
            return False
        monitor = self.rng.choice(monitors)
        await self.select("monitors", monitor)
        await self.pilot.press("m")
        await self.opened(MuteScreen)
        reason = self.marker()
        self.report("intend", action="mute", target=monitor, marker=reason)
        await self.type_in(reason)
        await self.pilot.press("enter")
        return True

    async def comment(self) -> bool:
        items = self.app.pane("dependabot").items
        prs = sorted(k for k in items if k not in self.used and k not in self.avoid)
        if not prs:
            return False
        pr = self.rng.choice(prs)
        self.used.add(pr)
        await self.select("dependabot", pr)
        await self.pilot.press("c")
        await self.opened(ChoiceScreen)
        self.report("intend", action="comment", target=pr, marker=pr)
        await self.pilot.press("enter")  # the first choice: @dependabot rebase
        return True

    async def approve(self) -> bool:
        items = self.app.pane("dependabot").items
        prs = sorted(k for k, p in items.items() if p.review != "approved" and k not in self.used)
        if not prs:
            return False
        pr = self.rng.choice(prs)
        self.used.add(pr)
        await self.select("dependabot", pr)
        self.report("intend", action="approve", target=pr, marker=pr)
        await self.pilot.press("v")
        return True

    async def handover(self) -> bool:
        await self.pilot.press("h")
        await self.opened(HandoverScreen)
        area = self.app.screen.query_one(TextArea)
        area.move_cursor(area.document.end)
        await self.pilot.pause()
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randint(2, 6))]
        text = "\n" + " ".join(words) + f" dur-{self.trial}"
        self.report("typing", base=area.text, text=text)
        for n, char in enumerate(text, start=1):
            await self.pilot.press(_key(char))
            self.report("typed", n=n)  # the cockpit has processed the key
        self.report("closing")
        await self.pilot.press("escape")
        return True


# -- the parent: the simulator, the children, the checks ------------------------------------


@dataclass
class Sim:
    """The standalone simulator: the config file it wrote and its control API."""

    config: Path
    url: str
    context: ssl.SSLContext
    me_email: str = ""
    me_login: str = ""

    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:
            return json.load(answer)

    def state(self) -> dict[str, Any]:
        return self._call("/_sim/state")  # type: ignore[no-any-return]

    def trigger(self) -> None:
        self._call("/_sim/trigger", {})

    def fault(self, provider: str, mode: str | None, **extra: Any) -> None:
        self._call("/_sim/faults", {"provider": provider, "mode": mode, **extra})

    def clear(self) -> None:
        for provider in PROVIDERS:
            self.fault(provider, None)


@contextmanager
def simulator(tmp: Path) -> Iterator[Sim]:
    """`oncall-tui simulate --write-config` in its own process, for the whole run."""
    config = tmp / "sim.toml"
    with simulator_process(config):
        pagerduty = tomllib.loads(config.read_text())["pagerduty"]
        context = ssl.create_default_context(cafile=pagerduty["ca_bundle"])
        sim = Sim(config, pagerduty["base_url"].rsplit("/pagerduty", 1)[0], context)
        state = sim.state()
        sim.me_email = state["pagerduty"]["me"]["email"]
        sim.me_login = state["github"]["me"]
        yield sim


@dataclass
class Run:
    """One child cockpit as the parent saw it."""

    events: list[Event]
    killed_at: float | None
    seconds: float

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e["kind"] == kind]

    def first(self, kind: str) -> Event | None:
        found = self.of(kind)
        return found[0] if found else None


def run_child(
    mode: str,
    trial: int,
    seed: int,
    work: Path,
    sim: Sim,
    *,
    kill_at: float | None = None,
    on_event: Callable[[Event], None] = lambda e: None,
) -> Run:
    """Fork a cockpit; SIGKILL it `kill_at` s after the fork, or wait until it exits."""
    if threading.active_count() != 1:
        raise RuntimeError("the bench forks its cockpits, so it must not run threads itself")
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(mode, trial, seed, work, sim.config, write)
    os.close(write)
    events: list[Event] = []
    pending = b""
    killed_at: float | None = None
    try:
        while True:
            elapsed = time.monotonic() - start
            if kill_at is not None and killed_at is None and elapsed >= kill_at:
                os.kill(pid, signal.SIGKILL)
                killed_at = elapsed
            if elapsed > CHILD_TIMEOUT:
                os.kill(pid, signal.SIGKILL)
                raise RuntimeError(
                    f"the {mode} cockpit of trial {trial} hangs: {_tail(work, mode)}"
                )
            wait = 0.5 if kill_at is None or killed_at is not None else kill_at - elapsed
            ready, _, _ = select.select([read], [], [], max(0.0, min(wait, 0.5)))
            if not ready:
                continue
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break  # the child is gone (its end of the pipe closed)
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                events.append(json.loads(raw))
                on_event(events[-1])
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    # A line the kill cut short was never reported: `pending` is dropped.
    return Run(events, killed_at, time.monotonic() - start)


def _tail(work: Path, mode: str) -> str:
    path = work / f"{mode}.stderr"
    return path.read_text()[-3000:] if path.exists() else "(no stderr)"


@dataclass
class JournalFile:
    """The journal as the kill left it, read with plain sqlite3."""

    integrity: str
    outbox: list[dict[str, Any]]
    annotations: set[tuple[str, str]]
    draft: str

    @classmethod
    def read(cls, path: Path) -> JournalFile:
        db = sqlite3.connect(path)  # replays the WAL, as the cockpit's next start would
        try:
            integrity = "; ".join(str(r[0]) for r in db.execute("PRAGMA integrity_check"))
            db.row_factory = sqlite3.Row
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            outbox, annotations, draft = [], set(), ""
            if "outbox" in tables:  # a kill before the first migration leaves none
                outbox = [dict(r) for r in db.execute("SELECT * FROM outbox ORDER BY id")]
            if "annotations" in tables:
                annotations = {
                    (r[0], r[1]) for r in db.execute("SELECT key, text FROM annotations")
                }
                row = db.execute("SELECT text FROM drafts WHERE name = ?", (DRAFT_NAME,)).fetchone()
                draft = row[0] if row else ""
        finally:
            db.close()
        return cls(integrity, outbox, annotations, draft)


class World:
    """What the simulator's state says about our writes, to count how often each landed."""

    def __init__(self, state: dict[str, Any], sim: Sim) -> None:
        incidents = state["pagerduty"]["incidents"]
        self.notes = Counter((i["id"], n["content"]) for i in incidents for n in i["notes"])
        self.note_texts = Counter(n["content"] for i in incidents for n in i["notes"])
        self.status = {i["id"]: i["status"] for i in incidents}
        self.acks = Counter(
            i["id"] for i in incidents for a in i["acknowledged"] if a["by"] == sim.me_email
        )
        downtimes = state["datadog"]["downtimes"]
        self.downtimes = Counter((str(d["monitor_id"]), d["message"]) for d in downtimes)
        self.downtime_texts = Counter(d["message"] for d in downtimes)
        github = state["github"]
        self.comments = {
            c["id"]: f"{c['repo']}#{c['number']}"
            for c in github["comments"]
            if c["user"] == sim.me_login and c["body"].startswith("@dependabot")
        }
        self.approvals = {
            r["id"]: f"{r['repo']}#{r['number']}"
            for r in github["reviews"]
            if r["user"] == sim.me_login and r["state"] == "APPROVED"
        }


def landed(row: dict[str, Any], before: World, after: World) -> dict[str, int]:
    """How many times the provider applied an outbox entry during the trial, per target."""
    action, payload = row["action"], json.loads(row["payload"])
    counts = {}
    for target in json.loads(row["targets"]):
        if action == "note":
            key = (target, payload["content"])
            counts[target] = after.notes[key] - before.notes[key]
        elif action == "mute":
            key = (target, payload["reason"])
            counts[target] = after.downtimes[key] - before.downtimes[key]
        elif action == "comment":
            new = [pr for i, pr in after.comments.items() if i not in before.comments]
            counts[target] = new.count(target)
        elif action == "approve":
            new = [pr for i, pr in after.approvals.items() if i not in before.approvals]
            # Approved by me before the trial (a CHANGES_REQUESTED by another kept the PR
            # "not approved"): the writer rightly skips it.
            already = target in before.approvals.values()
            counts[target] = new.count(target) or int(already)
        elif action == "acknowledge":
            acks = after.acks[target] - before.acks[target]
            counts[target] = acks or int(after.status.get(target) != "triggered")
    return counts


@dataclass
class Outcome:
    """What one trial (or control run) found."""

    kill_at: float | None = None
    phase: str = "not killed"
    fault: str = "none"
    integrity: str = "ok"
    confirmed: int = 0
    unconfirmed_queued: int = 0
    annotations: int = 0
    lost: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)
    unqueued: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    draft_saves: int = 0
    draft_lost: int = 0
    keys_lost: int = 0
    in_flight: list[str] = field(default_factory=list)
    retrying: int = 0
    mid_typing: bool = False

    @property
    def problems(self) -> list[str]:
        found = self.lost + self.twice + self.unqueued
        if self.integrity != "ok":
            found.append(f"integrity_check: {self.integrity}")
        if self.draft_lost or self.keys_lost:
            found.append(f"draft lost {self.draft_lost} chars ({self.keys_lost} vs keys)")
        return found

    def summary(self) -> str:
        refused = f", {len(self.refused)} refused" if self.refused else ""
        return (
            f"{self.confirmed} confirmed{refused}, {self.draft_saves} draft saves, "
            f"in flight {self.in_flight or '-'}, {self.retrying} retrying"
            + (f" -- PROBLEMS: {self.problems}" if self.problems else "")
        )


def _text(row: dict[str, Any]) -> str:
    """The text that makes a note or a mute unique (the bench's marker)."""
    payload = json.loads(row["payload"])
    return str(payload.get("content") or payload.get("reason") or "")


def _common_prefix(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def check(
    outcome: Outcome,
    run: Run,
    journal: JournalFile,
    final: dict[int, Event],
    before: World,
    after: World,
) -> None:
    """Fill `outcome` from the child's reports, the journal after the kill, the outbox after
    the recovery (`final`, by entry id) and the provider's state before and after."""
    outcome.integrity = journal.integrity
    rows = {row["id"]: row for row in journal.outbox}
    confirmed = {e["id"]: e for e in run.of("confirmed")}
    outcome.confirmed = len(confirmed)
    outcome.unconfirmed_queued = len(rows.keys() - confirmed.keys())
    for entry_id, event in confirmed.items():
        if entry_id not in rows:
            outcome.lost.append(f"{event['action']} #{entry_id}: not in the journal")
    outcome.annotations = len(run.of("annotated"))
    for event in run.of("annotated"):
        if (event["key"], event["text"]) not in journal.annotations:
            outcome.lost.append(f"annotation {event['text']!r}: not in the journal")
    for entry_id, row in rows.items():
        state = final.get(entry_id, {}).get("state", row["state"])
        counts = landed(row, before, after)
        what = f"{row['action']} #{entry_id}"
        outcome.twice += [f"{what} on {t}: {n} times" for t, n in counts.items() if n > 1]
        if state == "rejected":
            outcome.refused.append(f"{what}: {final[entry_id].get('error')}")
        elif entry_id in confirmed and (state != "done" or 0 in counts.values()):
            outcome.lost.append(f"{what}: {state}, landed {counts}")
    # Notes and mutes the cockpit never queued must not have landed either.
    queued = {_text(row) for row in rows.values()}
    landed_texts = {"note": after.note_texts, "mute": after.downtime_texts}
    for intent in run.of("intend"):
        counter = landed_texts.get(intent["action"])
        if counter is not None and intent["marker"] not in queued and counter[intent["marker"]]:
            outcome.unqueued.append(f"{intent['action']} {intent['marker']!r}")
    # The draft: the last save reported must be in the journal, and every key processed.
    saves = [e for e in run.of("draft") if e["name"] == DRAFT_NAME]
    outcome.draft_saves = len(saves)
    if saves:
        last = saves[-1]["text"]
        outcome.draft_lost = len(last) - _common_prefix(last, journal.draft)
    typing = run.of("typing")
    if typing:
        session = typing[-1]
        keys = max((e["n"] for e in run.of("typed") if e["t"] >= session["t"]), default=0)
        expected = session["base"] + session["text"][:keys]
        outcome.keys_lost = len(expected) - _common_prefix(expected, journal.draft)
        outcome.mid_typing = not any(e["t"] >= session["t"] for e in run.of("closing"))
    # Where the kill landed, as the journal shows it.
    outcome.in_flight = [r["action"] for r in journal.outbox if r["state"] == "in_flight"]
    outcome.retrying = len(
        [r for r in journal.outbox if r["state"] == "pending" and r["attempts"] and r["last_error"]]
    )


class Bench:
    """The simulator, the trials and their outcomes."""

    def __init__(self, tmp: Path, sim: Sim, seed: int) -> None:
        self.tmp = tmp
        self.sim = sim
        self.rng = random.Random(seed)
        self.commented: dict[str, float] = {}  # PR -> when the bench last asked for a rebase

    def _prepare(self, name: str) -> tuple[Path, World]:
        work = self.tmp / name
        work.mkdir()
        recent = [pr for pr, at in self.commented.items() if time.monotonic() - at < COMMENT_REUSE]
        (work / "avoid.json").write_text(json.dumps(recent))
        self.sim.trigger()  # a fresh page to acknowledge
        return work, World(self.sim.state(), self.sim)

    def _finish(
        self, outcome: Outcome, run: Run, journal: JournalFile, drained: Event, before: World
    ) -> None:
        final = {e["id"]: e for e in drained["entries"]}
        check(outcome, run, journal, final, before, World(self.sim.state(), self.sim))
        for event in run.of("confirmed"):
            if event["action"] == "comment":
                self.commented.update(dict.fromkeys(event["targets"], time.monotonic()))

    def control(self, index: int) -> tuple[Outcome, float]:
        """A run that is not killed: the script, then the outbox drained; and its length."""
        work, before = self._prepare(f"control-{index}")
        run = run_child("calibrate", 1000 + index, self.rng.randrange(1 << 30), work, self.sim)
        end, drained = run.first("end"), run.first("drained")
        if end is None or drained is None:
            raise RuntimeError(f"control run {index} failed: {_tail(work, 'calibrate')}")
        outcome = Outcome()
        self._finish(outcome, run, JournalFile.read(work / "journal.sqlite3"), drained, before)
        return outcome, float(end["t"])

    def trial(self, index: int, window: float) -> Outcome:
        seed = self.rng.randrange(1 << 30)
        rng = random.Random(seed)
        work, before = self._prepare(f"trial-{index:03d}")
        outcome = Outcome(kill_at=rng.uniform(KILL_FLOOR, window))
        fault = rng.random()
        slow = round(rng.uniform(0.3, 1.0), 2)

        def once_ready(event: Event) -> None:
            if event["kind"] != "ready":
                return
            if fault < 0.35:
                # The next few requests to every provider fail: writes wait for their retry.
                count = rng.randint(1, 5)
                for name in PROVIDERS:
                    self.sim.fault(name, "500", count=count)
                outcome.fault = f"all 500 x{count}"
            elif fault < 0.7:
                # Every provider late until the kill: each write spends that long in flight.
                for name in PROVIDERS:
                    self.sim.fault(name, "slow", delay=slow)
                outcome.fault = f"all slow {slow} s"

        run = run_child(
            "victim", index, seed, work, self.sim, kill_at=outcome.kill_at, on_event=once_ready
        )
        if run.killed_at is None:
            raise RuntimeError(f"trial {index} ended before the kill: {_tail(work, 'victim')}")
        self.sim.clear()
        ready, end = run.first("ready"), run.first("end")
        if ready is None or ready["t"] > run.killed_at:
            outcome.phase = "start-up"
        else:
            outcome.phase = "script" if end is None or end["t"] > run.killed_at else "after"
        journal = JournalFile.read(work / "journal.sqlite3")
        if outcome.fault.startswith("all slow"):
            time.sleep(slow + 0.3)  # let the simulator finish what it was still serving
        recovery = run_child("recover", index, seed, work, self.sim)
        drained = recovery.first("drained")
        if drained is None:
            raise RuntimeError(
                f"trial {index}: the restart did not drain: {_tail(work, 'recover')}"
            )
        self._finish(outcome, run, journal, drained, before)
        return outcome


def measure(trials: int, seed: int) -> list[Figure]:
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="oncall-durability-") as name,
        simulator(Path(name)) as sim,
    ):
        bench = Bench(Path(name), sim, seed)
        controls, lengths = [], []
        for index in range(2):
            outcome, length = bench.control(index)
            controls.append(outcome)
            lengths.append(length)
            _progress(f"control {index + 1}/2: script {length:.1f} s, {outcome.summary()}")
        window = max(lengths)
        outcomes = []
        for index in range(trials):
            outcome = bench.trial(index, window)
            outcomes.append(outcome)
            _progress(
                f"trial {index + 1}/{trials}: kill at {outcome.kill_at:.2f} s ({outcome.phase}), "
                f"fault {outcome.fault}, {outcome.summary()}"
            )
    return _figures(outcomes, controls, window, time.monotonic() - started)


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _figures(
    outcomes: list[Outcome], controls: list[Outcome], window: float, wall: float
) -> list[Figure]:
    n = max(1, len(outcomes))
    kills = sorted(o.kill_at or 0.0 for o in outcomes) or [0.0]
    phases = Counter(o.phase for o in outcomes)
    confirmed = sum(o.confirmed for o in outcomes)
    annotations = sum(o.annotations for o in outcomes)
    unreported = sum(o.unconfirmed_queued for o in outcomes)

    def total(what: Callable[[Outcome], float]) -> float:
        return float(sum(what(o) for o in outcomes))

    return [
        ("durability_trials", float(len(outcomes)), "trials", f"target 50; {wall:.0f} s wall"),
        (
            "durability_integrity_failures",
            total(lambda o: o.integrity != "ok"),
            "journals",
            "target 0",
        ),
        (
            "durability_confirmed_lost",
            total(lambda o: len(o.lost)),
            "writes",
            f"target 0; of {confirmed} confirmed writes and {annotations} annotations",
        ),
        ("durability_applied_twice", total(lambda o: len(o.twice)), "writes", "target 0"),
        ("durability_unqueued_applied", total(lambda o: len(o.unqueued)), "writes", "target 0"),
        (
            "durability_draft_chars_lost",
            total(lambda o: o.draft_lost),
            "chars",
            f"target 0; against the last save reported, {total(lambda o: o.draft_saves):.0f} saves",
        ),
        (
            "durability_draft_chars_lost_vs_keys",
            total(lambda o: o.keys_lost),
            "chars",
            "target 0; against every key the cockpit processed",
        ),
        (
            "durability_confirmed_per_trial",
            confirmed / n,
            "writes",
            f"mean; {unreported} more were queued but killed before reported",
        ),
        (
            "durability_refused",
            total(lambda o: len(o.refused)),
            "writes",
            "refused by the provider, said so (not a loss)",
        ),
        ("durability_kill_min", kills[0], "s", "after the fork"),
        (
            "durability_kill_median",
            statistics.median(kills),
            "s",
            f"drawn uniformly from {KILL_FLOOR}-{window:.2f} s",
        ),
        ("durability_kill_max", kills[-1], "s", "after the fork"),
        (
            "durability_kills_in_startup",
            float(phases["start-up"]),
            "trials",
            "before the panes were filled",
        ),
        (
            "durability_kills_in_script",
            float(phases["script"]),
            "trials",
            "while keys were being pressed",
        ),
        (
            "durability_kills_after_script",
            float(phases["after"]),
            "trials",
            "keys done, outbox still at work",
        ),
        (
            "durability_kills_write_in_flight",
            total(lambda o: bool(o.in_flight)),
            "trials",
            "an outbox entry in_flight",
        ),
        (
            "durability_kills_retry_pending",
            total(lambda o: o.retrying > 0),
            "trials",
            "a failed write waiting for its retry",
        ),
        (
            "durability_kills_mid_typing",
            total(lambda o: o.mid_typing),
            "trials",
            "the handover open and being typed in",
        ),
        (
            "durability_trials_with_fault",
            total(lambda o: o.fault != "none"),
            "trials",
            "every provider: 500s for a few requests, or slow",
        ),
        (
            "durability_control_problems",
            float(sum(len(o.problems) for o in controls)),
            "problems",
            f"target 0; {len(controls)} runs not killed",
        ),
    ]


def figures(trials: int = TRIALS, seed: int = 1) -> list[Figure]:
    """For bench/run.py: the bench forks its cockpits, so it runs in a process of its own."""
    answer = subprocess.run(
        [sys.executable, __file__, "--json", "--trials", str(trials), "--seed", str(seed)],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return [(str(n), float(v), str(u), str(t)) for n, v, u, t in json.loads(answer.stdout)]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="kill -9 durability trials")
    parser.add_argument("--trials", type=int, default=TRIALS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    results = measure(args.trials, args.seed)
    if args.json:
        print(json.dumps(results))
        return 0
    sys.path.insert(0, str(Path(__file__).parent))
    from run import line

    for figure in results:
        print(line(*figure), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
