"""The handover in the cockpit: drafted from the journal, saved as it is typed (a kill -9
loses nothing), exported and published."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from textual.widgets import TextArea

from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Journal
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.handover import DRAFT_NAME, HandoverScreen
from tests.ui.test_cockpit import SIZE, until
from tests.ui.test_item_actions import loaded


async def test_handover_drafts_exports_and_publishes(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    settings = demo_settings(Settings(), simulator)
    app = OncallApp(
        settings,
        build_sources(settings, sim_clock),
        sim_clock,
        journal=Journal.open(tmp_path / "journal.sqlite3"),
        data_dir=tmp_path / "data",
    )
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("h")
        screen = app.screen
        assert isinstance(screen, HandoverScreen)
        text = screen.query_one(TextArea).text
        assert text.startswith("# On-call handover")
        assert "## Active incidents" in text
        area = screen.query_one(TextArea)
        area.move_cursor(area.document.end)
        await pilot.press(*" Watch claims-api.")
        assert app.journal.load_draft(DRAFT_NAME) == screen.text
        assert screen.text.endswith("Watch claims-api.")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: list((tmp_path / "data" / "handovers").glob("*.md")))
        (written,) = (tmp_path / "data" / "handovers").glob("*.md")
        assert written.read_text(encoding="utf-8") == screen.text
        await pilot.press("ctrl+g")
        await until(
            pilot, lambda: "published:" in str(screen.query_one("#handover-status").content)
        )
        comments = simulator.world.snapshot()["github"]["comments"]
        assert any("Watch claims-api." in str(c) for c in comments)
        await pilot.press("escape")
        await pilot.press("h")  # reopens the draft as it was left
        assert app.screen.query_one(TextArea).text.endswith("Watch claims-api.")


def test_a_kill_9_while_typing_the_handover_loses_nothing(tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from oncall_tui.config import Settings
        from oncall_tui.domain.clock import FakeClock
        from oncall_tui.store.journal import Journal
        from oncall_tui.ui.app import OncallApp

        async def main():
            journal = Journal.open(Path({str(journal_path)!r}))
            app = OncallApp(Settings(), {{}}, FakeClock(), journal=journal)
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.press("h")
                area = app.screen.query_one("#handover-text")
                area.move_cursor(area.document.end)
                await pilot.press(*" typed before the crash")
                await pilot.pause()
                print("typed", flush=True)
                await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == "typed", process.stderr.read() if process.stderr else ""
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    journal = Journal.open(journal_path)
    assert journal.integrity_check() == "ok"
    draft = journal.load_draft(DRAFT_NAME)
    assert draft is not None and draft.endswith("typed before the crash")
