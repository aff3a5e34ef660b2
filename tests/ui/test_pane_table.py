"""The pane's table at scale: bulk removal, ordering by key, rows spread over loop turns,
cells that are markup strings, and the DataTable internals `CockpitTable` relies on.

These run a bare `OncallApp` with no sources (`poll=False`) and feed panes directly.
"""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable

from oncall_tui.config import Settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Deploy, Page
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.widgets.pane import ROWS_PER_TURN, CockpitTable, FlatLRU, cell, plain

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def pages(n: int, *, title: str = "svc p99 latency") -> list[Page]:
    return [
        Page(
            id=f"Q{i:05d}",
            number=1000 + i,
            title=f"{title} {i}",
            status="triggered",
            urgency="low",
            service_id="S1",
            service_name="svc",
            created_at=NOW - timedelta(minutes=i),
            last_status_change_at=NOW - timedelta(minutes=i),
            html_url=f"https://example.pagerduty.com/incidents/Q{i:05d}",
            assignees=("Alex Rivera",),
        )
        for i in range(n)
    ]


def shown_keys(table: CockpitTable) -> list[str]:
    return [str(row.key.value) for row in table.ordered_rows]


def app() -> OncallApp:
    return OncallApp(Settings(), {}, FakeClock(NOW), poll=False)


def test_the_datatable_internals_we_lean_on_are_there() -> None:
    """`CockpitTable` overrides or sets these; a Textual that renamed them would silently
    bring back the measuring stalls and the oversized caches."""
    table = DataTable[object]()
    for name in (
        "_update_dimensions",
        "_update_column_widths",
        "_row_locations",
        "_cell_render_cache",
        "_row_render_cache",
        "_row_renderable_cache",
        "_line_cache",
        "_labelled_row_exists",
        "_total_row_height",
    ):
        assert hasattr(table, name), name
    assert hasattr(DataTable, "_update_dimensions")


def test_cells_are_markup_strings_the_gc_does_not_track() -> None:
    styled = cell("[prod] API down", "bold red")
    assert isinstance(styled, str) and not gc.is_tracked(styled)
    assert plain(styled) == "[prod] API down"  # never read as markup
    assert plain(cell("C:\\path\\")) == "C:\\path\\"
    assert cell("", "bold") == ""


async def test_a_big_snapshot_fills_over_several_turns_and_ends_in_order() -> None:
    cockpit = app()
    async with cockpit.run_test(size=(160, 48)) as pilot:
        pane = cockpit.pane("pages")
        items = pages(ROWS_PER_TURN * 5 + 7)
        pane.show(items, NOW)
        # Only the first turn's share is on screen right after `show`.
        assert pane.table.row_count == ROWS_PER_TURN
        assert not pane.settled
        for _ in range(100):
            if pane.settled:
                break
            await pilot.pause()
        assert pane.settled
        assert shown_keys(pane.table) == [p.id for p in items]
        assert set(pane.items) == {p.id for p in items}


async def test_a_newer_snapshot_mid_fill_becomes_the_goal() -> None:
    cockpit = app()
    async with cockpit.run_test(size=(160, 48)) as pilot:
        pane = cockpit.pane("pages")
        first = pages(ROWS_PER_TURN * 4)
        pane.show(first, NOW)
        # Before the rest arrives: half the pages are gone, one changed, order reversed.
        second = [replace(p, title="changed") if i == 0 else p for i, p in enumerate(first)]
        second = second[: len(second) // 2][::-1]
        pane.show(second, NOW)
        for _ in range(100):
            if pane.settled:
                break
            await pilot.pause()
        assert shown_keys(pane.table) == [p.id for p in second]
        assert pane.table.get_row(second[-1].id)[-1] == cell("changed", "bold")


async def test_small_snapshots_apply_at_once_and_keep_the_cursor_on_its_item() -> None:
    cockpit = app()
    async with cockpit.run_test(size=(160, 48)) as pilot:
        pane = cockpit.pane("pages")
        items = pages(50)
        pane.show(items, NOW)
        assert pane.settled and pane.table.row_count == 50
        pane.table.move_cursor(row=11)
        chosen = items[11].id
        # Ten pages resolved (bulk removal) and the rest reversed (order by key).
        remaining = [p for i, p in enumerate(items) if i % 5 != 0][::-1]
        pane.show(remaining, NOW)
        await pilot.pause()
        assert shown_keys(pane.table) == [p.id for p in remaining]
        selected = pane.selected
        assert selected is not None and selected.id == chosen


async def test_remove_rows_and_order_rows_keep_the_table_consistent() -> None:
    cockpit = app()
    async with cockpit.run_test(size=(80, 24)) as pilot:
        table = cockpit.pane("pages").table
        table.clear()
        for key in "abcdef":
            table.add_row(*([key] * len(table.columns)), key=key)
        table.remove_rows(["b", "e", "not-there"])
        assert shown_keys(table) == ["a", "c", "d", "f"]
        assert [table.get_row_index(k) for k in "acdf"] == [0, 1, 2, 3]
        table.order_rows(["f", "a", "d", "c"])
        assert shown_keys(table) == ["f", "a", "d", "c"]
        with pytest.raises(ValueError):
            table.order_rows(["f", "a"])
        await pilot.pause()
        # The virtual height follows the rows (the measuring it skips would change nothing).
        assert table.virtual_size.height == 4 + table.header_height


async def test_a_pending_rerun_does_not_add_a_row_to_the_deploy_grid() -> None:
    """The grid's rows are repositories; redrawing a deploy's row once added a stray row
    keyed by the deploy (repo:environment)."""
    cockpit = app()
    async with cockpit.run_test(size=(160, 48)) as pilot:
        pane = cockpit.pane("deploys")
        deploys = [
            Deploy(
                repo=f"org/repo-{r}",
                environment=env,
                deploy_state="success",
                sha="abcdef1234567",
                ref="main",
                creator="ci",
                started_at=NOW - timedelta(minutes=5),
                finished_at=NOW - timedelta(minutes=4),
                url="https://github.com/org/repo",
            )
            for r in range(3)
            for env in ("staging", "production")
        ]
        pane.show(deploys, NOW)
        pane.refresh_rows([deploys[0].key])
        pane.set_annotated({deploys[1].key})
        await pilot.pause()
        assert shown_keys(pane.table) == ["org/repo-0", "org/repo-1", "org/repo-2"]


def test_the_flat_lru_keeps_the_most_recent_and_leaves_no_cycles_behind() -> None:
    class Rendered:
        """Something weakly referable, like a rendered line."""

    cache: FlatLRU[str, Rendered] = FlatLRU(2)
    a, b, c = Rendered(), Rendered(), Rendered()
    cache["a"], cache["b"] = a, b
    assert cache["a"] is a  # "a" is now the most recent
    cache["c"] = c
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    assert cache.get("zz") is None
    refs = [weakref.ref(x) for x in (a, b, c)]
    del a, b, c
    gc.disable()  # freed by reference counting alone, not by a cycle collection
    try:
        assert refs[1]() is None  # evicted
        cache.clear()
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


async def test_the_pages_filter_matches_what_the_row_shows() -> None:
    cockpit = app()
    async with cockpit.run_test(size=(160, 48)):
        pane = cockpit.pane("pages")
        items = [*pages(3), replace(pages(4)[3], status="acknowledged", acknowledgers=("Sam",))]
        pane.show(items, NOW)
        pane.set_filter("trig")
        assert len(pane.items) == 3
        pane.set_filter("ack sam")
        assert list(pane.items) == [items[3].id]
        pane.set_filter("#1001 latency")
        assert list(pane.items) == [items[1].id]
