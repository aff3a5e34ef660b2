"""`engine.heap.Collector`: the garbage collector runs on the cockpit's schedule.

`gc.freeze` and `gc.collect` are recorded, not run: freezing the test process's heap would
keep every later test's cycles alive.
"""

from __future__ import annotations

import gc

import pytest

from oncall_tui.engine.heap import Collector


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: seen.append("freeze"))
    monkeypatch.setattr(
        gc, "collect", lambda generation=2: seen.append(f"collect({generation})") or 0
    )
    return seen


def test_young_collections_each_tick_one_freeze_when_loaded_full_on_schedule(
    calls: list[str],
) -> None:
    now = [0.0]
    collector = Collector(
        full_every=600, clock=lambda: now[0], before_full=lambda: calls.append("drop caches")
    )
    collector.tick(loaded=False)
    assert calls == ["collect(1)"]
    collector.tick(loaded=True)
    collector.tick(loaded=True)
    assert calls == ["collect(1)", "collect(1)", "freeze", "collect(1)"]
    calls.clear()
    now[0] = 600.0
    collector.tick(loaded=True)
    collector.tick(loaded=True)
    assert calls == ["drop caches", "collect(2)", "collect(1)"]
    assert set(collector.longest_ms) == {"young", "freeze", "full"}


def test_start_turns_automatic_collection_off_and_stop_restores_it() -> None:
    assert gc.isenabled()
    collector = Collector()
    collector.start()
    try:
        assert not gc.isenabled()
    finally:
        collector.stop()
    assert gc.isenabled()


def test_freeze_startup_collects_then_freezes(calls: list[str]) -> None:
    Collector.freeze_startup()
    assert calls == ["collect(2)", "freeze"]
