"""Fault matrix: each provider x each fault, through a headless cockpit on the simulator.

`python bench/faults.py [PROVIDER ...]` prints one row per scenario:
`scenario | outcome | write | requests sent during the fault`.

Every scenario builds a fresh demo world (seed 7, default scenario) on a `FakeClock`, starts
`OncallApp` headless (`run_test`) with the real sources (real SDKs over HTTPS), waits for the
four panes to fill, then:

1. injects the fault on one provider, submits one write to it through the cockpit's keys (a
   PagerDuty note on the first page: `n`, text, `ctrl+s`; a Datadog mute of the first
   monitor: `m`, reason, `enter`; `@dependabot rebase` on the first Dependabot PR: `c`,
   `rebase`, `enter`), so the outbox sends it into the fault, and presses `r`;
2. drives the fake clock from one poller deadline to the next for `FAULT_SECONDS` of
   simulated time (the pollers' real backoff and Retry-After decide when they poll);
3. checks after every step that the cockpit still runs, that the affected panes (GitHub
   feeds two: Deploys and Dependabot) show "⚠" with the age of their last good data and keep
   their last good rows, and that no other pane shows "⚠";
4. counts the provider requests the simulator received during the fault, the poll attempts
   and the write's tries, and checks the polls and the tries against the most their backoff
   schedules allow (a fixed-interval poller with no backoff would make `FAULT_SECONDS /
   interval` attempts) and the requests against the provider's per-minute rate limit;
5. clears the fault *without* pressing `r` and drives the clock until the panes recover by
   themselves (within the backoff cap);
6. drives the clock until the outbox has settled the write, then counts in the simulator's
   world how many times it was applied: the `write` column says `write ok` (applied once,
   the outbox says done, after N tries), `write lost`, `write applied Nx`, or `write applied,
   shown refused` (it landed but the cockpit says it did not).

The status faults (429, 5xx, 401, 403) are answered instead of the request; the body faults
(`truncated`: half the JSON; `bad_json`: a complete body that is not JSON; `wrong_shape`:
JSON of the wrong shape) spoil the answer to a request that *was* applied, so a write made
during them lands but its answer cannot be read. The last column counts every request the
simulator received for the provider during the fault: the polls' (each GitHub poll is one per
pane) and the write's tries (one request each while the fault lasts); the write's tries are
held to the outbox's own backoff schedule as the polls are to the poller's.

Timeouts are shortened so the bench runs in seconds: the faulted provider's `timeout` is set to
`SOURCE_TIMEOUT` (1 s) and "slow" answers after `SLOW_DELAY` (3 s), longer than the timeout.
The "latency 10 s" row uses the simulator's 10 s delay with the same 1 s timeout, so it is a
timeout case too; it costs ~1 s of wall time per attempt, not 10 (the handler threads sleep
on, the cockpit does not wait for them). A slow request is applied when its delay is over,
so the write is counted only once every delayed request has had its delay (wall time).

Connection refused goes through a small TCP forwarder in front of one provider (the other
providers talk to the simulator directly); the forwarder is closed for the fault and opened
again on the same port to recover. Its last column counts refused connection attempts as the
cockpit made them (polls and write tries), since nothing listens to count them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from harness import next_deadline, settle
from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World
from oncall_tui.simulator.github_world import ME
from oncall_tui.sources.factory import build_sources
from oncall_tui.ui.app import OncallApp

PROVIDERS: dict[str, tuple[str, ...]] = {
    "pagerduty": ("pages",),
    "datadog": ("monitors",),
    "github": ("deploys", "dependabot"),
}
SOURCE_TIMEOUT = 1.0
SLOW_DELAY = 3.0
FAULT_SECONDS = 600.0
"""Simulated seconds each fault lasts."""
RETRY_AFTER = 120
SIZE = (160, 48)

WRITE_SETTLE = 1800.0
"""Simulated seconds the outbox gets, after recovery, to settle the write (its backoff cap
is 300 s)."""

Row = tuple[str, str, str, str]


@dataclass(frozen=True)
class Fault:
    name: str
    mode: str | None  # simulator mode, or None for the special cases below
    retry_after: int | None = None
    delay: float | None = None
    refused: bool = False
    alternating: bool = False


FAULTS: tuple[Fault, ...] = (
    Fault("429 Retry-After 120", "429", retry_after=RETRY_AFTER),
    Fault("500", "500"),
    Fault("502 (gateway)", "502"),
    Fault("503 (gateway)", "503"),
    Fault(f"timeout (slow {SLOW_DELAY:g}s > {SOURCE_TIMEOUT:g}s)", "slow", delay=SLOW_DELAY),
    Fault("401", "401"),
    Fault("403 (no permission)", "403"),
    Fault("truncated body (half the JSON)", "truncated"),
    Fault("bad JSON (complete body)", "bad_json"),
    Fault("wrong shape (valid JSON)", "wrong_shape"),
    Fault("connection refused", None, refused=True),
    Fault(f"latency 10s (timeout {SOURCE_TIMEOUT:g}s)", "slow", delay=10.0),
    Fault("flapping 500/ok (every other step)", "500", alternating=True),
)


# -- a TCP forwarder that can be closed (connection refused) and opened again ---------------


class Forwarder:
    """Forwards 127.0.0.1:port to the simulator; `close()` refuses, `open()` serves again."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.accepted = 0

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


# -- driving the cockpit on a fake clock ---------------------------------------------------


def _settings(simulator: Simulator, provider: str, forward: int | None) -> Settings:
    s = demo_settings(Settings(), simulator)
    # Only the faulted provider gets the short timeout: the others keep the default, so a
    # busy machine cannot make a healthy pane time out and look like a leaked error.
    section = getattr(s, provider)
    s = replace(s, **{provider: replace(section, timeout=SOURCE_TIMEOUT)})
    if forward is not None:
        section = getattr(s, provider)
        url = section.base_url.replace(f":{simulator.port}/", f":{forward}/")
        s = replace(s, **{provider: replace(section, base_url=url)})
    return s


def _min_gap(
    failures: int, base: float, cap: float, fault: Fault, *, auth_waits_cap: bool
) -> float:
    """The shortest wait the backoff allows after `failures` consecutive failures."""
    step = min(cap, base * 2 ** max(0, failures - 1))
    gap = max(base, step / 2)
    if fault.mode == "429" and fault.retry_after is not None:
        gap = max(gap, fault.retry_after)
    if auth_waits_cap and fault.mode in ("401", "403"):
        gap = cap  # a poller whose token is refused waits the cap (`r` retries at once)
    return gap


def _max_attempts(
    seconds: float, base: float, cap: float, fault: Fault, *, auth_waits_cap: bool = True
) -> int:
    """Most attempts the backoff schedule allows in `seconds` (+1 for the first one)."""
    attempts, elapsed = 1, 0.0
    while True:
        elapsed += _min_gap(attempts, base, cap, fault, auth_waits_cap=auth_waits_cap)
        if elapsed > seconds:
            return attempts + 1
        attempts += 1


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)

    def fail(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


@dataclass
class Write:
    """One write submitted through the cockpit, and how to count it in the simulator."""

    entry_id: int
    applied: Callable[[], int]
    """How many times the simulator's world holds it now."""
    before: int


async def _first_row(app: OncallApp, pilot: Any, pane_name: str, key: str) -> Any:
    """Focus the pane (its number key) and put the cursor on the first row."""
    await pilot.press(key)
    pane = app.pane(pane_name)
    pane.table.move_cursor(row=0)
    await pilot.pause()
    item = pane.selected
    if item is None:
        raise RuntimeError(f"{pane_name}: no row to act on")
    return item


async def _submit_write(
    app: OncallApp, pilot: Any, simulator: Simulator, provider: str, text: str
) -> Write:
    """Submit one write to `provider` the way an engineer would, through the keys."""
    world = simulator.world
    applied: Callable[[], int]
    keys: tuple[str, ...]
    if provider == "pagerduty":
        page = await _first_row(app, pilot, "pages", "1")
        keys = ("n", *text, "ctrl+s")

        def applied() -> int:
            with world.lock:
                notes = world.pagerduty.incidents[page.id].notes
                return sum(1 for note in notes if note.content == text)

    elif provider == "datadog":
        monitor = await _first_row(app, pilot, "monitors", "2")
        keys = ("m", *text, "enter")

        def applied() -> int:
            with world.lock:
                return sum(
                    1
                    for downtime in world.datadog.downtimes.values()
                    if downtime.monitor_id == monitor.id and text in downtime.message
                )

    else:
        pr = await _first_row(app, pilot, "dependabot", "4")
        keys = ("c", *"rebase", "enter")
        pull = world.github.pulls[(pr.repo, pr.number)]

        def applied() -> int:
            with world.lock:
                return sum(
                    1
                    for comment in pull.comments
                    if comment.user.login == ME.login and comment.body == "@dependabot rebase"
                )

    before = applied()  # the GitHub comment's text is fixed: some may be there already
    await pilot.press(*keys)
    deadline = time.perf_counter() + 10
    while not app.journal.recent_outbox(1):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the {provider} write was not queued (screen {app.screen!r})")
        await pilot.pause(0.02)
    return Write(app.journal.recent_outbox(1)[0].id, applied, before)


def _write_outcome(app: OncallApp, write: Write) -> str:
    entry = app.journal.outbox_entry(write.entry_id)
    times = write.applied() - write.before
    tries = f"{entry.attempts} {'try' if entry.attempts == 1 else 'tries'}"
    if times == 1 and entry.state == "done":
        return f"write ok, {tries}"
    if times == 0:
        return f"write lost ({entry.state}, {tries})"
    if times > 1:
        return f"write applied {times}x ({tries})"
    if entry.state == "rejected":
        return f"write applied, shown refused ({tries})"
    return f"write {entry.state} ({tries})"


async def _scenario(provider: str, fault: Fault, number: int = 0) -> Row:
    panes = PROVIDERS[provider]
    clock = FakeClock()
    name = f"{provider} {fault.name}"
    check = Check()
    with Simulator(World(seed=7, clock=clock, scenario="default")) as simulator:
        forwarder = Forwarder(simulator.port) if fault.refused else None
        if forwarder is not None:
            forwarder.open()
        settings = _settings(simulator, provider, forwarder.port if forwarder else None)
        app = OncallApp(settings, build_sources(settings, clock), clock, state_file=None)
        try:
            async with app.run_test(size=SIZE) as pilot:
                sleepers = len(app.pollers) + 1  # the outbox naps on the clock too
                start = time.perf_counter()
                while not all(app.pane(n).items for n in PROVIDERS_ALL):
                    if time.perf_counter() - start > 30:
                        raise RuntimeError("panes did not fill")
                    await pilot.pause(0.02)
                await settle(app, clock, sleepers)
                before = {n: set(app.pane(n).items) for n in panes}
                counts0 = simulator.request_counts[provider]
                # -- the fault, and a write sent into it ----------------------------------
                if forwarder is not None:
                    forwarder.close()
                elif fault.mode is not None:
                    simulator.set_fault(
                        provider, fault.mode, retry_after=fault.retry_after, delay=fault.delay
                    )
                write = await _submit_write(
                    app, pilot, simulator, provider, f"fault bench write {number}"
                )
                await pilot.press("r")
                await settle(app, clock, sleepers)
                elapsed = 0.0
                attempts = 1
                flips = 0
                failed_steps = 0
                while elapsed < FAULT_SECONDS and app.is_running:
                    _inspect(
                        app, panes, before, check, during_fault=True, alternating=fault.alternating
                    )
                    gap = next_deadline(clock)
                    if gap is None:
                        check.fail("no poller waiting on the clock")
                        break
                    step = max(gap, 0.001)
                    if elapsed + step > FAULT_SECONDS:
                        clock.advance(FAULT_SECONDS - elapsed)
                        elapsed = FAULT_SECONDS
                        break
                    if fault.alternating:
                        # Fail every other poll of this provider.
                        flips += 1
                        simulator.set_fault(provider, "500" if flips % 2 == 0 else None)
                    clock.advance(step)
                    elapsed += step
                    await settle(app, clock, sleepers)
                    if any(app.pollers[n].freshness.last_error for n in panes):
                        failed_steps += 1
                poller = app.pollers[panes[0]]
                attempts = max(app.pollers[n].freshness.failures for n in panes)
                if fault.alternating:
                    attempts = failed_steps  # failed polls seen (failures reset on success)
                requests = simulator.request_counts[provider] - counts0
                write_tries = app.journal.outbox_entry(write.entry_id).attempts
                # -- bounded? -------------------------------------------------------------
                if not fault.alternating:
                    base, cap = poller._backoff_base, poller._backoff_cap
                    limit = _max_attempts(FAULT_SECONDS, base, cap, fault)
                    if attempts > limit:
                        check.fail(f"{attempts} polls > {limit} allowed by backoff")
                    box = app.outbox
                    base, cap = box._backoff_base, box._backoff_cap
                    limit = _max_attempts(FAULT_SECONDS, base, cap, fault, auth_waits_cap=False)
                    if write_tries > limit:
                        check.fail(f"{write_tries} write tries > {limit} allowed by backoff")
                    per_minute = requests / (FAULT_SECONDS / 60)
                    if per_minute > simulator.app(provider).rate_limit:
                        check.fail(f"{per_minute:.0f} req/min over the provider limit")
                    if attempts < 2:
                        check.fail("no retry during the fault")
                # -- recovery, without pressing r -----------------------------------------
                if forwarder is not None:
                    forwarder.open()
                simulator.set_fault(provider, None)
                recovered_after = None
                waited = 0.0
                cap = poller._backoff_cap + 60
                while waited <= cap and app.is_running:
                    if all("⚠" not in str(app.pane(n).border_subtitle) for n in panes) and all(
                        app.pollers[n].freshness.last_error is None for n in panes
                    ):
                        recovered_after = waited
                        break
                    gap = next_deadline(clock) or 1.0
                    clock.advance(max(gap, 0.001))
                    waited += max(gap, 0.001)
                    await settle(app, clock, sleepers)
                if recovered_after is None:
                    check.fail(f"not recovered {cap:g} s after the fault cleared")
                # -- the write: settled, and applied exactly once? ------------------------
                if fault.delay is not None:
                    # Slow answers apply their request when the delay is over: let every
                    # one still sleeping in the simulator finish first (wall time).
                    await asyncio.sleep(fault.delay + 0.5)
                settled = 0.0
                while app.is_running and settled <= WRITE_SETTLE:
                    entry = app.journal.outbox_entry(write.entry_id)
                    if entry.state in ("done", "rejected"):
                        break
                    gap = max(next_deadline(clock) or 1.0, 0.001)
                    clock.advance(gap)
                    settled += gap
                    await settle(app, clock, sleepers)
                written = _write_outcome(app, write)
                if not written.startswith("write ok"):
                    check.fail(written)
                if not app.is_running:
                    check.fail("cockpit exited")
        except Exception as exc:  # the cockpit crashed (run_test re-raises app errors)
            check.fail(f"crash: {type(exc).__name__}: {str(exc)[:120]}")
            attempts, requests, write_tries, recovered_after = 0, 0, 0, None
            written = "write not checked"
        finally:
            if forwarder is not None:
                forwarder.close()
    outcome = "ok" if not check.problems else "; ".join(check.problems)
    polls = f"{attempts} {'failed ' if fault.alternating else ''}polls"
    tries = f"{write_tries} write {'try' if write_tries == 1 else 'tries'}"
    if fault.refused:
        counted = f"{polls} + {tries} (refused at TCP)"
    else:
        counted = f"{requests} req: {polls} + {tries} in {FAULT_SECONDS:g} s"
    if recovered_after is not None:
        counted += f", recovered {recovered_after:.0f} s after clearing"
    return (name, outcome, written, counted)


PROVIDERS_ALL = ("pages", "monitors", "deploys", "dependabot")


def _inspect(
    app: OncallApp,
    panes: tuple[str, ...],
    before: dict[str, set[str]],
    check: Check,
    *,
    during_fault: bool,
    alternating: bool,
) -> None:
    for name in PROVIDERS_ALL:
        pane = app.pane(name)
        subtitle = str(pane.border_subtitle)
        if name in panes:
            if not pane.items:
                check.fail(f"{name}: rows dropped")
            if not alternating:
                if set(pane.items) != before[name]:
                    check.fail(f"{name}: rows changed during the fault")
                if app.pollers[name].freshness.last_error and "⚠" not in subtitle:
                    check.fail(f"{name}: error not shown")
                if "updated" not in subtitle:
                    check.fail(f"{name}: age of last good data not shown")
        elif "⚠" in subtitle:
            check.fail(f"{name}: shows ⚠ for another provider's fault ({subtitle[:60]})")


def _scenarios(providers: list[str] | None = None) -> list[tuple[int, str, Fault]]:
    chosen = providers or list(PROVIDERS)
    return [
        (number, provider, fault)
        for number, (provider, fault) in enumerate(
            ((p, f) for p in chosen for f in FAULTS), start=1
        )
    ]


def rows(providers: list[str] | None = None) -> list[Row]:
    return [
        asyncio.run(_scenario(provider, fault, number))
        for number, provider, fault in _scenarios(providers)
    ]


def main(argv: list[str]) -> int:
    logging.getLogger().addHandler(logging.NullHandler())  # the pagerduty SDK logs each 5xx
    started = time.perf_counter()
    print(f"{'scenario':<48} | {'outcome':<10} | {'write':<20} | requests during the fault")
    for number, provider, fault in _scenarios(argv):
        scenario, outcome, written, counted = asyncio.run(_scenario(provider, fault, number))
        print(f"{scenario:<48} | {outcome:<10} | {written:<20} | {counted}", flush=True)
    print(f"({time.perf_counter() - started:.0f} s wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
