"""Soak: a 12-hour shift compressed on a FakeClock, at least 10,000 poll cycles, through the
headless cockpit.

`python bench/soak.py [HOURS]` prints:

- `soak_polls`: poll cycles run by the cockpit's own pollers (all four sources, real SDKs
  over HTTPS), with the wall time it took.
- `soak_rss_growth`: VmRSS of the cockpit's process at the end minus after a warm-up hour
  (gc'd both times). The simulator runs in a forked child process, so its world (which
  grows with 12 hours of history) is not counted against the cockpit.
- `soak_rss_second_half`: the growth over the second half alone, and RSS hour by hour.
- `soak_threads` / `soak_fds`: thread count and open file descriptors, after warm-up vs end.
- `soak_gc_longest`: the longest garbage collection the cockpit's schedule ran (see
  `engine/heap.py`; here a full one every wall-clock minute instead of every 10).
- `soak_journal_rows_per_poll`: journal events written per poll (on-disk journal, written by
  the cockpit as snapshots arrive).

The cockpit (`OncallApp.run_test`, panes, journal, outbox) and the world share the fake
time: the child's world clock is advanced first, then the cockpit's clock, from one poller
deadline to the next; after each step the bench waits until every poller is parked again.
Intervals are shortened (pages 10 s, monitors 15 s, deploys 15 s, Dependabot 30 s) so that a
12-hour shift is more than 10,000 polls; the world runs the `default` scenario (seed 7).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness import next_deadline, settle
from oncall_tui.config import Settings, load_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.engine.heap import Collector
from oncall_tui.simulator import Simulator, World, write_config_file
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Journal
from oncall_tui.ui.app import OncallApp

Figure = tuple[str, float, str, str]
INTERVALS = {"pages": 10.0, "monitors": 15.0, "deploys": 15.0, "dependabot": 30.0}


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _serve(conn: Connection, config: Path) -> None:
    """The forked child: the simulated world on its own FakeClock, advanced on request.

    It tells the cockpit where it answers through a config file, as `oncall-tui simulate
    --write-config` does (settings hold secrets, which refuse to be pickled)."""
    clock = FakeClock()
    with Simulator(World(seed=7, clock=clock, scenario="default")) as simulator:
        write_config_file(simulator, config)
        conn.send(True)
        while True:
            message = conn.recv()
            if message is None:
                break
            clock.advance(message)
            conn.send(True)


def _settings(base: Settings) -> Settings:
    return replace(
        base,
        pagerduty=replace(base.pagerduty, interval=INTERVALS["pages"]),
        datadog=replace(base.datadog, interval=INTERVALS["monitors"]),
        github=replace(
            base.github,
            interval=INTERVALS["deploys"],
            dependabot_interval=INTERVALS["dependabot"],
        ),
    )


async def _soak(hours: float, world: Connection, tmp: Path) -> list[Figure]:
    clock = FakeClock()
    world.recv()
    settings = _settings(load_settings(tmp / "config.toml", env={}))
    journal = Journal.open(tmp / "journal.sqlite3")
    sources = build_sources(settings, clock)
    polls = 0
    for source in sources.values():
        fetch = source.fetch

        def counted(_fetch: Any = fetch) -> Any:
            nonlocal polls
            polls += 1
            return _fetch()

        source.fetch = counted  # type: ignore[method-assign]
    collector = Collector(full_every=60.0)  # a full collection each wall minute, to time it
    app = OncallApp(
        settings,
        sources,
        clock,
        journal=journal,
        state_file=None,
        data_dir=tmp,
        collector=collector,
    )
    Collector.freeze_startup()  # as `oncall-tui` does
    total = hours * 3600
    warm = 3600.0
    elapsed = 0.0
    base: tuple[float, int, int, int, int] | None = None
    hourly: list[float] = []
    wall = time.perf_counter()
    async with app.run_test(size=(160, 48)) as pilot:
        sleepers = len(app.pollers) + 1  # the outbox naps on the clock too
        while not all(app.pane(n).items for n in INTERVALS):
            if time.perf_counter() - wall > 60:
                raise RuntimeError("panes did not fill")
            await pilot.pause(0.02)
        await settle(app, clock, sleepers)
        while elapsed < total:
            step = max(next_deadline(clock) or 1.0, 0.001)
            world.send(step)
            world.recv()
            clock.advance(step)
            elapsed += step
            await settle(app, clock, sleepers)
            if base is None and elapsed >= warm:
                gc.collect()
                base = (rss_mb(), threading.active_count(), fds(), journal.event_count(), polls)
            if elapsed >= 3600 * (len(hourly) + 1):
                gc.collect()
                hourly.append(rss_mb())
        failed = [n for n, p in app.pollers.items() if p.freshness.last_error]
        gc.collect()
        end = (rss_mb(), threading.active_count(), fds(), journal.event_count(), polls)
    wall = time.perf_counter() - wall
    journal.close()
    assert base is not None
    rows = end[3]
    return [
        (
            "soak_polls",
            float(polls),
            "polls",
            f"target >= 10000; {hours:g} h simulated in {wall:.0f} s wall; "
            f"sources failing at the end: {', '.join(failed) or 'none'}",
        ),
        (
            "soak_rss_growth",
            end[0] - base[0],
            "MB",
            f"target <= 10 MB; {base[0]:.1f} MB after 1 h -> {end[0]:.1f} MB at {hours:g} h "
            "(the cockpit's process; the simulator runs in a child process)",
        ),
        (
            "soak_rss_second_half",
            hourly[-1] - hourly[len(hourly) // 2 - 1] if len(hourly) >= 2 else 0.0,
            "MB",
            "growth over the second half of the shift alone (a leak grows on; warm-up does "
            "not); RSS each hour: " + " ".join(f"{mb:.0f}" for mb in hourly),
        ),
        (
            "soak_threads",
            float(end[1] - base[1]),
            "threads",
            f"target 0 growth; {base[1]} after 1 h -> {end[1]}",
        ),
        (
            "soak_fds",
            float(end[2] - base[2]),
            "fds",
            f"target 0 growth; {base[2]} after 1 h -> {end[2]}",
        ),
        (
            "soak_gc_longest",
            max(collector.longest_ms.values()),
            "ms",
            "the longest scheduled garbage collection on the event loop, part of the stall "
            "budget; by kind: "
            + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in collector.longest_ms.items())
            + " (young each wall second, full each wall minute)",
        ),
        (
            "soak_journal_rows_per_poll",
            rows / polls,
            "rows",
            f"events grow with transitions, not polls; {rows} events over {polls} polls; "
            f"{base[3]} in the first hour's {base[4]} polls",
        ),
    ]


def figures(hours: float = 12.0) -> list[Figure]:
    logging.getLogger().addHandler(logging.NullHandler())
    # Fork before the cockpit starts any thread; the child only serves the world.
    fork = multiprocessing.get_context("fork")
    ours, theirs = fork.Pipe()
    with tempfile.TemporaryDirectory() as tmp:
        child = fork.Process(target=_serve, args=(theirs, Path(tmp) / "config.toml"))
        child.start()
        try:
            return asyncio.run(_soak(hours, ours, Path(tmp)))
        finally:
            ours.send(None)
            child.join(10)
            if child.is_alive():
                child.kill()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import line

    for figure in figures(float(sys.argv[1]) if len(sys.argv) > 1 else 12.0):
        print(line(*figure), flush=True)
