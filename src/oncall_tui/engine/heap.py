"""When the garbage collector runs: on the event loop's clock, not wherever an allocation trips it.

CPython's automatic collector runs in whichever thread crosses an allocation threshold, and
a full collection visits every tracked object while holding the GIL. At 5,000 pages that
is 50-150 ms, and it landed mostly in the pollers' worker threads (the SDKs build large
object graphs while parsing an answer), freezing the event loop in the middle of a
keystroke or a repaint.

The cockpit instead:

1. freezes what start-up built (`freeze_startup`: modules, classes, clients), before it runs;
2. turns automatic collection off and collects the young generations once a second
   (`tick`): they hold only what was allocated since, typically a few thousand objects;
3. freezes the loaded heap once, when every pane first shows its data (`tick(loaded=True)`):
   thousands of rows that live as long as the shift leave the collector's sight;
4. runs a full collection every `full_every` seconds, over what is not frozen, after
   `before_full` (the cockpit drops its tables' render caches, the bulk of it).

Frozen objects are still freed as soon as nothing refers to them (snapshots, rows and
render caches are plain trees). Only a cycle that was alive at a freeze and became garbage
afterwards is never collected; each freeze happens once per process, so that is bounded.
A test run creating many cockpits must not freeze: only the CLI (and the benches that
measure it) turn this on.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FULL_EVERY = 600.0
"""Seconds between full collections (of the objects not frozen)."""


class Collector:
    """The cockpit's garbage-collection schedule (see the module's docstring)."""

    def __init__(
        self,
        *,
        full_every: float = FULL_EVERY,
        clock: Callable[[], float] = time.monotonic,
        before_full: Callable[[], None] = lambda: None,
    ) -> None:
        self.full_every = full_every
        self.before_full = before_full
        """Called just before a full collection: a chance to drop caches (most of what is
        not frozen is the tables' render caches, rebuilt by the next repaint)."""
        self._clock = clock
        self._loaded_frozen = False
        self._last_full = clock()
        self._was_enabled = gc.isenabled()
        self.longest_ms: dict[str, float] = {"young": 0.0, "freeze": 0.0, "full": 0.0}
        """The longest collection of each kind this schedule ran, for the benches."""

    @staticmethod
    def freeze_startup() -> None:
        """Collect, then freeze everything alive: call once, just before the cockpit runs."""
        gc.collect()
        gc.freeze()

    def start(self) -> None:
        gc.disable()

    def stop(self) -> None:
        if self._was_enabled:
            gc.enable()

    def tick(self, *, loaded: bool) -> None:
        """Once a second, on the event loop. `loaded`: every pane shows its first data."""
        started = time.perf_counter()
        if loaded and not self._loaded_frozen:
            self._loaded_frozen = True
            kind = "freeze"
            gc.collect(1)
            gc.freeze()
        elif self._clock() - self._last_full >= self.full_every:
            self._last_full = self._clock()
            kind = "full"
            self.before_full()
            gc.collect()
        else:
            kind = "young"
            gc.collect(1)
        took = (time.perf_counter() - started) * 1000
        self.longest_ms[kind] = max(self.longest_ms[kind], took)
