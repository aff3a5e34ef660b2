"""Soak: a 12-hour shift compressed on a FakeClock, at least 10,000 poll cycles.

`python bench/soak.py [HOURS]` prints:

- `soak_polls`: poll cycles run (all four sources, real SDKs over HTTPS to the in-process
  simulator, `Poller.poll_once()` driven directly; the world moves with the same clock).
- `soak_rss_growth`: VmRSS at the end minus VmRSS after a warm-up hour (gc'd both times).
- `soak_threads` / `soak_fds`: thread count and open file descriptors, after warm-up vs end.
- `soak_journal_rows_per_poll`: journal events written per poll (disk journal, the events
  `diff` finds), with the events per world transition for comparison.

Intervals are shortened (pages 10 s, monitors 15 s, deploys 15 s, Dependabot 30 s) so that a
12-hour shift is more than 10,000 polls; the world runs the `default` scenario (seed 7).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.engine.poller import Poller
from oncall_tui.simulator import Simulator, World
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Journal

Figure = tuple[str, float, str, str]
INTERVALS = {"pages": 10.0, "monitors": 15.0, "deploys": 15.0, "dependabot": 30.0}
STEP = 5.0


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _soak(hours: float) -> list[Figure]:
    clock = FakeClock()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Simulator(World(seed=7, clock=clock, scenario="default")) as simulator,
    ):
        journal = Journal.open(Path(tmp) / "journal.sqlite3")
        settings = demo_settings(Settings(), simulator)
        sources = build_sources(settings, clock)
        events_seen = 0
        failures = 0

        def on_snapshot(snapshot, events, freshness) -> None:  # type: ignore[no-untyped-def]
            nonlocal events_seen
            events_seen += len(events)
            journal.add_events(events)

        pollers = {
            name: Poller(
                source,
                interval=INTERVALS[name],
                clock=clock,
                on_snapshot=on_snapshot,
                on_freshness=lambda f: None,
                timeout=30.0,
            )
            for name, source in sources.items()
        }
        due = dict.fromkeys(pollers, 0.0)
        polls = 0
        elapsed = 0.0
        total = hours * 3600
        warm = 3600.0
        base: tuple[float, int, int, int, int] | None = None
        wall = time.perf_counter()
        while elapsed < total:
            ready = [n for n, t in due.items() if t <= elapsed]
            if ready:
                delays = await asyncio.gather(*(pollers[n].poll_once() for n in ready))
                for name, delay in zip(ready, delays, strict=True):
                    due[name] = elapsed + delay
                    failures += pollers[name].freshness.failures > 0
                polls += len(ready)
            clock.advance(STEP)
            elapsed += STEP
            if base is None and elapsed >= warm:
                gc.collect()
                base = (rss_mb(), threading.active_count(), fds(), journal.event_count(), polls)
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
            f"target >= 10000; {hours:g} h simulated in {wall:.0f} s wall, {failures} failed",
        ),
        (
            "soak_rss_growth",
            end[0] - base[0],
            "MB",
            f"target <= 10 MB; {base[0]:.1f} MB after 1 h -> {end[0]:.1f} MB at {hours:g} h",
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
            "soak_journal_rows_per_poll",
            rows / polls,
            "rows",
            f"events grow with transitions, not polls; {rows} events over {polls} polls; "
            f"{base[3]} in the first hour's {base[4]} polls",
        ),
    ]


def figures(hours: float = 12.0) -> list[Figure]:
    logging.getLogger().addHandler(logging.NullHandler())
    return asyncio.run(_soak(hours))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import line

    for figure in figures(float(sys.argv[1]) if len(sys.argv) > 1 else 12.0):
        print(line(*figure), flush=True)
