"""Scale: the `scale` world (5,000 open pages, 2,000+ alerting monitors, 200 repositories x 5
environments, 500 Dependabot PRs) through the real sources into a headless cockpit.

`python bench/scale.py` prints:

- `scale_stall_max`: the longest event-loop stall (a 5 ms ticker on the cockpit's loop, late
  by how much) from start until all four panes are filled, and then over one full refresh
  (`r`) after the world moved on by 10 simulated minutes.
- `scale_apply_<pane>`: wall time from `pane.show(...)` with the refresh snapshot until
  every row of it is on screen (the keyed update of one pane; a big change is spread over
  several event-loop turns, so this includes whatever else ran in between). The first fill
  is printed too, for comparison (`scale_fill_<pane>`).
- `scale_stall_steady`: the longest stall over the next 2 minutes, the pollers running at
  their configured intervals against the moving world (wall clock; external simulator only
  moves in real time), and `scale_gc_longest`, the longest collection the cockpit's garbage
  collection schedule ran (`engine/heap.py`; a full one each minute here).
- `scale_rss`: VmRSS of the process after the refresh. The simulator runs in the same
  process, so this includes the simulated world and its server; `scale_rss_cockpit` is the
  growth from just after the world was built (before the cockpit started) to the end.

World and pollers share one `FakeClock`, so no poll fires on its own; the two rounds of polls
are the cockpit's start and one `r`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness import simulator_process
from oncall_tui.config import Settings, load_settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import Clock, FakeClock, SystemClock
from oncall_tui.engine.heap import Collector
from oncall_tui.simulator import Simulator, World
from oncall_tui.sources.factory import build_sources
from oncall_tui.ui.app import OncallApp

Figure = tuple[str, float, str, str]
PANES = ("pages", "monitors", "deploys", "dependabot")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class StallMeter:
    """A task that sleeps 5 ms at a time and records how late it wakes."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.tick)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - self.tick)
            last = now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


@contextlib.contextmanager
def _external_simulator() -> Iterator[Settings]:
    """`oncall-tui simulate --scenario scale` in its own process; settings pointing at it."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        with simulator_process(config, "--scenario", "scale"):
            yield load_settings(config, env={})


@contextlib.contextmanager
def _inprocess_simulator(clock: Clock) -> Iterator[Settings]:
    with Simulator(World(seed=7, clock=clock, scenario="scale")) as simulator:
        yield demo_settings(Settings(), simulator)


async def _measure(external: bool, steady: float = 120.0) -> list[Figure]:
    clock: Clock = SystemClock() if external else FakeClock()
    opened = _external_simulator() if external else _inprocess_simulator(clock)
    tag = "" if external else "_inproc"
    with opened as settings:
        sources = build_sources(settings, clock)
        gc.collect()
        rss_before = rss_mb()
        # Full collections every minute here (the CLI: every 10), so the steady phase has some.
        collector = Collector(full_every=60.0)
        app = OncallApp(settings, sources, clock, collector=collector)
        Collector.freeze_startup()  # as `oncall-tui` does before it runs the cockpit
        shows: dict[str, list[float]] = {name: [] for name in PANES}
        # Plain sleeps, not Pilot: its waits render and walk the screen themselves, which
        # the stall meter would count against the cockpit.
        async with app.run_test(size=(160, 48)):
            starts: dict[str, float | None] = {name: None for name in PANES}
            for name in PANES:
                pane = app.pane(name)
                show: Callable[..., Any] = pane.show
                apply_some: Callable[[], bool] = pane._apply_some

                def timed_show(items: Any, now: Any, _o: Any = show, _n: str = name) -> None:
                    if starts[_n] is None:
                        starts[_n] = time.perf_counter()
                    _o(items, now)
                    started = starts[_n]
                    if app.pane(_n).settled and started is not None:  # all in this turn
                        shows[_n].append((time.perf_counter() - started) * 1000)
                        starts[_n] = None

                def timed_apply(_o: Callable[[], bool] = apply_some, _n: str = name) -> bool:
                    done = _o()
                    started = starts[_n]
                    if done and started is not None:
                        shows[_n].append((time.perf_counter() - started) * 1000)
                        starts[_n] = None
                    return done

                pane.show = timed_show  # type: ignore[method-assign]
                pane._apply_some = timed_apply  # type: ignore[method-assign]
            meter = StallMeter()
            meter.start()
            started = time.perf_counter()
            while not all(shows[n] for n in PANES):
                if time.perf_counter() - started > 90:
                    raise RuntimeError(f"panes not filled: {[n for n in PANES if not shows[n]]}")
                await asyncio.sleep(0.05)
            fill_seconds = time.perf_counter() - started
            await asyncio.sleep(0.5)
            stall_fill, meter.worst = meter.worst, 0.0
            counts = {n: len(app.pane(n).items) for n in PANES}
            if isinstance(clock, FakeClock):
                clock.advance(600)
            else:
                await asyncio.sleep(5)  # let the world move on a little
            app.action_refresh()  # the `r` key
            started = time.perf_counter()
            while not all(len(shows[n]) >= 2 for n in PANES):
                if time.perf_counter() - started > 90:
                    raise RuntimeError("refresh did not arrive")
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            stall_refresh, meter.worst = meter.worst, 0.0
            # Steady state: the pollers at their own intervals, the world moving on.
            await asyncio.sleep(steady)
            meter.stop()
            gc.collect()
            rss_after = rss_mb()
    where = "simulator in another process" if external else "simulator in-process"
    figures: list[Figure] = [
        (
            f"scale_rows{tag}",
            float(sum(counts.values())),
            "rows",
            "pages/monitors/deploys/dependabot = " + "/".join(str(counts[n]) for n in PANES),
        ),
        (f"scale_fill_time{tag}", fill_seconds, "s", "start to all panes filled, for reference"),
        (f"scale_stall_fill{tag}", stall_fill * 1000, "ms", f"target <= 50 ms; {where}"),
        (f"scale_stall_refresh{tag}", stall_refresh * 1000, "ms", f"target <= 50 ms; {where}"),
        (
            f"scale_stall_steady{tag}",
            meter.worst * 1000,
            "ms",
            f"target <= 50 ms; {steady:g} s of polling at the configured intervals afterwards",
        ),
        (
            f"scale_gc_longest{tag}",
            max(collector.longest_ms.values()),
            "ms",
            "the longest scheduled collection; by kind: "
            + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in collector.longest_ms.items()),
        ),
    ]
    for name in PANES:
        figures.append((f"scale_fill_{name}{tag}", shows[name][0], "ms", "first fill, reference"))
    for name in PANES:
        figures.append((f"scale_apply_{name}{tag}", shows[name][-1], "ms", "target <= 100 ms"))
    figures.append((f"scale_rss{tag}", rss_after, "MB", f"target <= 300 MB; {where}"))
    figures.append(
        (
            f"scale_rss_growth{tag}",
            rss_after - rss_before,
            "MB",
            "growth over the cockpit run, for reference",
        )
    )
    return figures


def figures(inprocess: bool = False) -> list[Figure]:
    """The cockpit against a simulator in its own process (like real providers, which do not
    share the cockpit's GIL); `inprocess=True` adds the same run with the simulator in-process
    on a FakeClock, for comparison."""
    logging.getLogger().addHandler(logging.NullHandler())
    out = asyncio.run(_measure(external=True))
    if inprocess:
        out += asyncio.run(_measure(external=False))
    return out


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from run import line

    for figure in figures(inprocess="--inprocess" in sys.argv):
        print(line(*figure), flush=True)
