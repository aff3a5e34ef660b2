"""What the benches share: a standalone simulator process, and driving a cockpit on a
FakeClock from one poller deadline to the next."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oncall_tui.domain.clock import FakeClock
from oncall_tui.ui.app import OncallApp


@contextmanager
def simulator_process(config: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`oncall-tui simulate --write-config CONFIG [ARGS]` in its own process, until the end
    of the block (SIGTERM, then SIGKILL if it lingers)."""
    exe = shutil.which("oncall-tui") or str(Path(sys.executable).parent / "oncall-tui")
    proc = subprocess.Popen(
        [exe, "simulate", *args, "--write-config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for out in proc.stdout:
            if out.startswith("Press Ctrl-C"):
                break
        else:
            raise RuntimeError("the simulator did not start")
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def next_deadline(clock: FakeClock) -> float | None:
    """Seconds until the earliest sleeper on `clock` wakes (None: nobody sleeps)."""
    pending = [d for d, f in clock._sleepers if not f.done()]  # bench-only peek
    return min(pending) - clock.monotonic() if pending else None


async def settle(
    app: OncallApp, clock: FakeClock, expected_sleepers: int, *, timeout: float = 60
) -> None:
    """Wait (real time) until every poller is parked on the clock again."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.005)
        if clock.sleepers >= expected_sleepers and not any(
            p.freshness.polling for p in app.pollers.values()
        ):
            await asyncio.sleep(0.01)  # let the posted messages reach the panes
            return
    raise RuntimeError(f"pollers did not settle within {timeout:g} s")
