"""Benchmarks: `python bench/run.py [NAME ...]` prints one line per figure.

Each line reads `name: value unit (target)`. The figures:

- `demo_first_paint`: `oncall-tui --demo` started in a pseudo-terminal, until the first page
  row is painted (median of 3 starts).
- `apply_keyed` / `apply_refill` / `apply_ratio`: a Pages pane holding 2,000 pages gets a
  snapshot in which 20 changed; applying it in place by key vs clearing and refilling the
  table. Measured as CPU time of the event-loop thread over the apply and the repaint work
  the table defers to idle, so waiting for the next frame does not count (median of 15).
- `stall_slow_provider`: the longest event-loop stall while the simulator takes 5 s to answer
  a poll (SDK calls run in threads, so the loop must stay responsive).
- `github_points_per_hour`: GitHub rate-limit points the two GitHub sources spend in one
  simulated hour watching 20 repositories at the default intervals (`bench/github_budget.py`).
- `scale` (`bench/scale.py`), `soak` (`bench/soak.py`), `faults` (`bench/faults.py`, a
  matrix of scenario, outcome and requests sent during the fault) and `durability`
  (`bench/durability.py`, 50 kill -9 trials during writes and handover editing): issue 7's
  hardening figures; together they take several minutes.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.pilot import Pilot

from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock, SystemClock
from oncall_tui.domain.models import Page
from oncall_tui.simulator import Simulator, World
from oncall_tui.sources.factory import build_sources
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.widgets.pages import PagesPane

Figure = tuple[str, float, str, str]


def line(name: str, value: float, unit: str, target: str) -> str:
    """`name: value unit (target)`, the one format every figure is printed in."""
    digits = 2 if unit == "s" else 1
    return f"{name}: {value:.{digits}f} {unit} ({target})"


# -- (a) demo start to first paint --------------------------------------------------------


def demo_first_paint(runs: int = 3) -> list[Figure]:
    """Wall time from process start to the first Pages row on a real pseudo-terminal."""
    exe = shutil.which("oncall-tui") or str(Path(sys.executable).parent / "oncall-tui")
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {
                **os.environ,
                "TERM": "xterm-256color",
                "COLUMNS": "160",
                "LINES": "48",
                "XDG_CONFIG_HOME": f"{home}/config",
                "XDG_DATA_HOME": f"{home}/data",
                "XDG_CACHE_HOME": f"{home}/cache",
            }
            env.pop("ONCALL_TUI_CONFIG", None)
            times.append(_time_to_text(exe, ["--demo"], env, b"TRIG", timeout=30))
    return [("demo_first_paint", statistics.median(times), "s", "target <= 1.5 s")]


def _time_to_text(
    exe: str, args: list[str], env: dict[str, str], marker: bytes, timeout: float
) -> float:
    main, sub = pty.openpty()
    os.set_blocking(main, False)
    fcntl.ioctl(sub, termios.TIOCSWINSZ, struct.pack("HHHH", 48, 160, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [exe, *args], stdin=sub, stdout=sub, stderr=sub, env=env, start_new_session=True
    )
    os.close(sub)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([main], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
                if marker in seen:
                    return time.perf_counter() - start
        raise RuntimeError(f"no {marker!r} on screen within {timeout} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(main)


# -- (b) keyed update vs clear-and-refill ----------------------------------------------------


def _pages(n: int, now: datetime) -> list[Page]:
    return [
        Page(
            id=f"Q{i:06d}",
            number=10_000 + i,
            title=f"[Datadog] svc-{i % 40} p99 latency > 2s on env:prod ({i})",
            status="triggered" if i % 3 else "acknowledged",
            urgency="high" if i % 5 == 0 else "low",
            service_id=f"S{i % 40}",
            service_name=f"svc-{i % 40}",
            created_at=now - timedelta(minutes=i),
            last_status_change_at=now - timedelta(minutes=i),
            html_url=f"https://benefits.pagerduty.com/incidents/Q{i:06d}",
            assignees=("Alex Rivera",),
        )
        for i in range(n)
    ]


async def _settle(pilot: Pilot[None], pane: PagesPane) -> None:
    """Wait until the whole snapshot is on screen (a fill is spread over loop turns)."""
    while not pane.settled:
        await pilot.pause()


def apply_snapshot(rows: int = 2000, changed: int = 20, repeats: int = 15) -> list[Figure]:
    return asyncio.run(_apply_snapshot(rows, changed, repeats))


async def _apply_snapshot(rows: int, changed: int, repeats: int) -> list[Figure]:
    now = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    base = _pages(rows, now)
    app = OncallApp(Settings(), {}, FakeClock(now), poll=False)
    keyed: list[float] = []
    refill: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.pane("pages")
        assert isinstance(pane, PagesPane)
        pane.show(base, now)
        await _settle(pilot, pane)
        for round_ in range(repeats):
            # 20 pages flip state; which ones moves each round, so every round is real work.
            step = rows // changed
            flipped = {(round_ + k * step) % rows for k in range(changed)}
            current = [
                replace(p, status="acknowledged" if p.status == "triggered" else "triggered")
                if i in flipped
                else p
                for i, p in enumerate(base)
            ]
            current.sort(key=Page.sort_key)
            t0 = time.thread_time()
            pane.show(current, now)
            await pilot.pause()
            keyed.append((time.thread_time() - t0) * 1000)

            table = pane.table
            t0 = time.thread_time()
            with app.batch_update():
                table.clear()
                for page in current:
                    table.add_row(*pane.cells(page, now), key=page.id)
            await pilot.pause()
            refill.append((time.thread_time() - t0) * 1000)
            # Put the pane back in the keyed state for the next round.
            table.clear()
            pane._items.clear()
            pane._rendered.clear()
            pane.show(base, now)
            await _settle(pilot, pane)
    k, r = statistics.median(keyed), statistics.median(refill)
    return [
        ("apply_keyed", k, "ms", "target <= 20 ms"),
        ("apply_refill", r, "ms", "for comparison"),
        ("apply_ratio", r / k, "x", "target >= 5x faster than refill"),
    ]


# -- (c) event-loop stall while the provider is slow ----------------------------------------


def stall_slow_provider(delay: float = 5.0) -> list[Figure]:
    return asyncio.run(_stall(delay))


async def _stall(delay: float) -> list[Figure]:
    clock = SystemClock()
    with Simulator(World(seed=7, clock=clock)) as simulator:
        settings = demo_settings(Settings(), simulator)
        app = OncallApp(settings, build_sources(settings, clock), clock)
        async with app.run_test(size=(160, 48)) as pilot:
            pane = app.pane("pages")
            while not pane.items:
                await pilot.pause(0.05)
            simulator.set_fault("pagerduty", "slow", delay=delay)
            worst = 0.0
            await pilot.press("r")
            end = time.perf_counter() + delay + 1.5
            tick = 0.005
            last = time.perf_counter()
            while time.perf_counter() < end:
                await asyncio.sleep(tick)
                now = time.perf_counter()
                worst = max(worst, now - last - tick)
                last = now
            simulator.set_fault("pagerduty", None)
    return [("stall_slow_provider", worst * 1000, "ms", "target <= 50 ms")]


def github_budget() -> list[Figure]:
    from github_budget import figures  # bench/github_budget.py, beside this file

    return figures()


def scale() -> list[Figure]:
    from scale import figures  # bench/scale.py

    return figures()


def soak() -> list[Figure]:
    from soak import figures  # bench/soak.py

    return figures()


def durability() -> list[Figure]:
    from durability import figures  # bench/durability.py

    return figures()


def faults() -> list[Figure]:
    """The fault matrix prints rows, not figures (bench/faults.py)."""
    from faults import main as matrix

    matrix([])
    return []


BENCHES: dict[str, Callable[[], list[Figure]]] = {
    "first_paint": demo_first_paint,
    "apply": apply_snapshot,
    "stall": stall_slow_provider,
    "github_budget": github_budget,
    "scale": scale,
    "soak": soak,
    "faults": faults,
    "durability": durability,
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown bench {unknown[0]!r}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    for name in names:
        for figure in BENCHES[name]():
            print(line(*figure), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
