"""A cockpit pane: a keyed table of one source's items, with its freshness in the border.

Rows are keyed by provider id and updated in place, so the cursor and the scroll position
survive every refresh; a pane never clears and refills its table. Subclasses say which
columns there are and how one item becomes cells (`columns`, `cells`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Generic, TypeVar

from rich.markup import escape
from rich.text import Text
from textual import on
from textual._two_way_dict import TwoWayDict
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Key
from textual.geometry import Size
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import CellKey, RowDoesNotExist, RowKey

from oncall_tui import format as fmt
from oncall_tui.engine.poller import Freshness
from oncall_tui.store.journal import OutboxEntry

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

RENDER_CACHE_CELLS = 1_000
RENDER_CACHE_LINES = 200

ROWS_PER_TURN = 200
"""Rows a pane renders in one event-loop turn (about 10-20 ms); a bigger change is spread
over the next turns so keys and repaints are never held up for long."""


def cell(text: str, style: str = "") -> str:
    """A table cell showing `text` (never read as markup) in `style`, as a Rich markup string.

    Not a `rich.text.Text`: a Text is three objects the garbage collector visits on every
    full collection, a str is none. At 8,000 rows of 8 cells that was 180,000 objects, and a
    full collection of over 100 ms landing in the middle of some keystroke.
    """
    if style and text:
        return f"[{style}]{escape(text)}[/]"
    # `escape` doubles a final backslash so that a closing tag may follow; none does here.
    return escape(text + " ")[:-1]


def plain(value: object) -> str:
    """What a cell reads, without its markup."""
    return Text.from_markup(value).plain if isinstance(value, str) else str(value)


class FlatLRU(Generic[K, V]):
    """The least-recently-used cache DataTable needs (`in`, `[]`, `[]=`, `get`, `clear`),
    on an `OrderedDict`.

    Textual's `LRUCache` links its entries in a ring of Python lists: clearing it (DataTable
    does on every style change, e.g. focus) leaves the whole ring as cyclic garbage, which
    only a full collection frees; at 5,000 rows that was ~100,000 objects a minute. Here a
    dropped entry is freed at once.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __getitem__(self, key: K) -> V:
        self._data.move_to_end(key)
        return self._data[key]

    def __setitem__(self, key: K, value: V) -> None:
        self.set(key, value)

    def get(self, key: K, default: V | None = None) -> V | None:
        if key not in self._data:
            return default
        return self[key]

    def set(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def discard(self, key: K) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()


class CockpitTable(DataTable[Any]):
    """The pane's table: row cursor, no zebra noise, Enter selects.

    It reaches into DataTable's internals in a few places, kept here and covered by
    tests/ui/test_pane_table.py (Textual is pinned to one major version). Every column has
    a fixed width and every row is one line high, so the table never needs to measure a
    cell. DataTable measures anyway, on idle: each cell of every new row, and a
    whole column again whenever an updated cell got narrower. With 5,000 rows that is a
    whole-second stall of the event loop on the first fill and one per refresh; the two
    `_update_*` overrides skip the measuring when it cannot change anything.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", id="detail"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The render caches hold rendered cells and lines of every past state of the
        # table until evicted (up to 10,000 cells each); a screen shows a few hundred.
        # Kept small and flat (see `FlatLRU`), they stay out of the garbage collector's way.
        self._cell_render_cache = FlatLRU(RENDER_CACHE_CELLS)  # type: ignore[assignment]
        self._row_render_cache = FlatLRU(RENDER_CACHE_LINES)  # type: ignore[assignment]
        self._row_renderable_cache = FlatLRU(RENDER_CACHE_LINES)  # type: ignore[assignment]
        self._line_cache = FlatLRU(RENDER_CACHE_LINES)  # type: ignore[assignment]
        self._offset_cache = FlatLRU(1)  # type: ignore[assignment]
        self._ordered_row_cache = FlatLRU(1)  # type: ignore[assignment]

    def drop_render_caches(self) -> None:
        """Forget rendered cells and lines; the next repaint renders what it shows."""
        for cache in (
            self._cell_render_cache,
            self._row_render_cache,
            self._row_renderable_cache,
            self._line_cache,
        ):
            cache.clear()

    def order_rows(self, keys: Iterable[str]) -> None:
        """Show the rows in this order (every row's key, each once). `DataTable.sort` orders
        by cell values; the cockpit orders by the items, which it already did."""
        row_keys = {row_key.value: row_key for row_key in self.rows}
        try:
            order = {row_keys[key]: index for index, key in enumerate(keys)}
        except KeyError:
            order = {}
        if len(order) != len(row_keys):
            raise ValueError("order_rows needs every row's key exactly once")
        self._row_locations = TwoWayDict(order)
        self._update_count += 1
        self.refresh()

    def remove_rows(self, keys: Iterable[str]) -> None:
        """Remove these rows in one pass. `DataTable.remove_row` re-indexes every remaining
        row on each call: resolving 500 of 5,000 pages would cost 2.5 million steps."""
        gone = {RowKey(key) for key in keys if key in self._row_locations}
        if not gone:
            return
        kept = sorted(
            (index, key)
            for key in self._row_locations
            if key not in gone and (index := self._row_locations.get(key)) is not None
        )
        self._row_locations = TwoWayDict({key: index for index, (_, key) in enumerate(kept)})
        for key in gone:
            for column_key in self._data[key]:
                self._updated_cells.discard(CellKey(key, column_key))
            del self.rows[key]
            del self._data[key]
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def _measuring_is_moot(self) -> bool:
        return not self._labelled_row_exists and not any(
            column.auto_width for column in self.columns.values()
        )

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        if not self._measuring_is_moot():
            super()._update_column_widths(updated_cells)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        if not self._measuring_is_moot() or any(
            (row := self.rows.get(key)) is not None and (row.auto_height or row.label)
            for key in new_rows
        ):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        width += self._row_label_column_width
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header)


class Pane(Vertical, Generic[T]):
    """One source's pane. `show(items)` applies a snapshot; `set_freshness` the border line."""

    ALLOW_MAXIMIZE = True

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = ()
    """(key, label, width or None for auto). Fixed widths keep repaints cheap and stable: an
    auto width is measured again whenever a cell changes. The last column is wide and
    clipped at the pane's edge."""

    def __init__(self, *, number: int, title: str, pane_id: str) -> None:
        super().__init__(id=pane_id, classes="pane")
        self.number = number
        self.title = title
        self._items: dict[str, T] = {}
        self._rendered: dict[str, dict[str, Any]] = {}
        self._configured = True
        self._summary = ""
        self._freshness_text = ""
        self._filter: Callable[[T], bool] | None = None
        self._filter_text = ""
        self._all: list[T] = []
        self._now: datetime | None = None
        self._goal: dict[str, T] = {}
        self._todo: list[str] = []
        self._applying = False
        self.marked: set[str] = set()
        self.pending: dict[str, OutboxEntry] = {}
        self.annotated: set[str] = set()
        self.border_title = self._title()

    # -- composition ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        table = CockpitTable(cursor_type="row", zebra_stripes=False, id=f"{self.id}-table")
        for key, label, width in self.COLUMNS:
            table.add_column(label, key=key, width=width)
        self._table = table
        yield table
        yield Static("", classes="placeholder")
        yield Input(placeholder="filter: words to match, esc clears", classes="filter")

    @property
    def table(self) -> CockpitTable:
        return self._table

    def focus_table(self) -> None:
        self.table.focus()

    # -- subclass hooks ------------------------------------------------------------------

    def cells(self, item: T, now: datetime) -> Sequence[Any]:
        """The row's cells, in COLUMNS order."""
        raise NotImplementedError

    def key_of(self, item: T) -> str:
        raise NotImplementedError

    def summarize(self, items: Sequence[T]) -> str:
        """The counts shown in the border title."""
        return f"{len(items)}"

    def searchable(self, item: T) -> str:
        """The text the `/` filter matches against."""
        shown = self._rendered.get(self.key_of(item), {}).values()
        return " ".join(plain(value) for value in shown)

    # -- marks and pending writes --------------------------------------------------------

    def targets(self) -> list[T]:
        """The marked items still shown, or else the one under the cursor."""
        marked = [self._items[k] for k in self.marked if k in self._items]
        if marked:
            return marked
        selected = self.selected
        return [selected] if selected is not None else []

    def toggle_mark(self) -> None:
        item = self.selected
        if item is None:
            return
        key = self.key_of(item)
        self.marked.symmetric_difference_update({key})
        self.refresh_rows([key])
        self.table.action_cursor_down()
        self.border_title = self._title()

    def clear_marks(self) -> None:
        keys = list(self.marked)
        self.marked.clear()
        self.refresh_rows(keys)
        self.border_title = self._title()

    def set_pending(self, entries: Mapping[str, OutboxEntry]) -> None:
        """Show these outbox entries on their rows (by item key); re-render what changed."""
        changed = {
            k for k in set(entries) | set(self.pending) if entries.get(k) != self.pending.get(k)
        }
        self.pending = dict(entries)
        self.refresh_rows(changed)

    def mark_cell(self, key: str) -> str:
        """The narrow column left of the data: `…` a write is pending, `⟳` it is being
        retried after a failure, `●` marked for a bulk action, `✎` it has a note."""
        colours = self.app.theme_variables
        entry = self.pending.get(key)
        if entry is not None and entry.open:
            symbol = "…" if entry.last_error is None else "⟳"
            return cell(symbol, f"bold {colours.get('severity-warning', 'yellow')}")
        if key in self.marked:
            return cell("●", colours.get("accent", "cyan"))
        if key in self.annotated:
            return cell("✎", colours.get("severity-info", "blue"))
        return cell("")

    def set_annotated(self, keys: set[str]) -> None:
        """Items with a note in the journal get `✎` beside them."""
        changed = keys ^ self.annotated
        self.annotated = set(keys)
        self.refresh_rows(changed)

    def action_annotate(self) -> None:
        annotate = getattr(self.app, "annotate", None)
        if annotate is not None:
            annotate(self)

    def action_mark(self) -> None:
        self.toggle_mark()

    def act(self, name: str, *, single: bool = False) -> None:
        """Run the pane's write action `name` on the marked items (or the selected one)."""
        actions = getattr(self.app, "actions", {}).get(self.id)
        if actions is None:
            self.app.notify(f"{self.title}: writes need this source configured.", timeout=4)
            return
        targets = self.targets()
        getattr(actions, name)(targets[:1] if single else targets)

    # -- filter --------------------------------------------------------------------------

    def start_filter(self) -> None:
        """Show the filter box (keeping what was typed before) and focus it."""
        self.add_class("-filtering")
        box = self.query_one(".filter", Input)
        box.value = self._filter_text
        box.focus()

    def set_filter(self, text: str) -> None:
        """Show only items whose text contains every word of `text` (case-insensitive)."""
        self._filter_text = text.strip()
        words = self._filter_text.lower().split()
        if words:
            self._filter = lambda item: all(w in self.searchable(item).lower() for w in words)
        else:
            self._filter = None
        if self._now is not None:
            self.show(self._all, self._now)
        self.border_title = self._title()

    @on(Input.Changed, ".filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    @on(Input.Submitted, ".filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        if not self._filter_text:
            self.remove_class("-filtering")
        self.focus_table()

    def on_key(self, event: Key) -> None:
        if event.key == "escape" and self.has_class("-filtering"):
            event.stop()
            self.query_one(".filter", Input).value = ""
            self.set_filter("")
            self.remove_class("-filtering")
            self.focus_table()

    # -- state ---------------------------------------------------------------------------

    @property
    def items(self) -> dict[str, T]:
        return self._items

    @property
    def selected(self) -> T | None:
        """The item under the cursor, if any."""
        table = self.table
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None
        return self._items.get(key) if key is not None else None

    def show_not_configured(self, message: str) -> None:
        """Replace the table with a calm explanation: not configured is not an error."""
        self._configured = False
        self.add_class("-not-configured")
        self.query_one(".placeholder", Static).update(Text(message))
        self.border_subtitle = "not configured"

    def show_waiting(self, message: str) -> None:
        """A line under the empty table until the first data arrives."""
        self.query_one(".placeholder", Static).update(Text(message))

    def show(self, items: Sequence[T], now: datetime) -> None:
        """Apply a snapshot: update changed rows, add new ones, drop gone ones, keep order.

        Only items that differ from the previous snapshot are re-rendered, and only their
        cells whose look changed are touched: a poll that changed 20 rows out of 2,000 costs
        20 row renders, not a refill. At most `ROWS_PER_TURN` rows are rendered in one
        event-loop turn; the rest follow in the next turns (a first fill of 5,000 rows in
        one go froze the cockpit for half a second), and a newer snapshot arriving meanwhile
        simply becomes the new goal.
        """
        self._all = list(items)
        self._now = now
        visible = [item for item in items if self._filter is None or self._filter(item)]
        self._goal = {self.key_of(item): item for item in visible}
        self._todo = [
            key
            for key, item in self._goal.items()
            if (shown := self._items.get(key)) is not item and (shown is None or shown != item)
        ]
        self._todo.reverse()  # popped from the end: first rows first
        gone = [key for key in self._items if key not in self._goal]
        if gone:
            selected = self.selected
            self.table.remove_rows(gone)
            for key in gone:
                del self._items[key]
                del self._rendered[key]
            if selected is not None and self.key_of(selected) in self._items:
                row = self.table.get_row_index(self.key_of(selected))
                if row != self.table.cursor_row:
                    self.table.move_cursor(row=row, animate=False)
        if not self._apply_some() and not self._applying:
            self._applying = True
            self.run_worker(self._apply_rest(), group="apply", exit_on_error=True)
        self._summary = self.summarize(list(items))
        self.border_title = self._title()
        placeholder = self.query_one(".placeholder", Static)
        if visible:
            placeholder.update("")
            self.remove_class("-empty")
        else:
            placeholder.update(Text(self.empty_message(filtered=bool(items))))
            self.add_class("-empty")

    @property
    def settled(self) -> bool:
        """Every row of the last snapshot is on screen (none waits for a later turn)."""
        return not self._todo and not self._applying

    def _apply_some(self) -> bool:
        """Render up to `ROWS_PER_TURN` waiting rows; True when the goal is reached."""
        now = self._now
        assert now is not None
        with self.app.batch_update():
            for _ in range(min(ROWS_PER_TURN, len(self._todo))):
                key = self._todo.pop()
                item = self._goal[key]
                self._put_row(key, self.cells(item, now))
                self._items[key] = item
            if self._todo:
                return False
            # `_items` lists the rows in table order: removals keep it, new rows are last.
            shown_order = list(self._items)
            self._items = dict(self._goal)
            if list(self._goal) != shown_order:
                self._reorder(self._goal)
        return True

    async def _apply_rest(self) -> None:
        try:
            while True:
                await asyncio.sleep(0)  # let keys and repaints in between
                if not self.is_attached or self._apply_some():
                    return
        finally:
            self._applying = False

    def refresh_rows(self, keys: Iterable[str]) -> None:
        """Re-render these rows now (their look changed without a new snapshot)."""
        if self._now is None:
            return
        with self.app.batch_update():
            for key in keys:
                item = self._items.get(key)
                if item is not None:
                    self._put_row(key, self.cells(item, self._now))

    def time_cells(self, item: T, now: datetime) -> dict[str, Any]:
        """Only the cells that change with the clock (ages), by column key.

        Subclasses override this with a cheap version; the default renders the whole row.
        """
        column_keys = [key for key, _, _ in self.COLUMNS]
        return dict(zip(column_keys, self.cells(item, now), strict=True))

    def refresh_ages(self, now: datetime) -> None:
        """Re-render the cells that depend on the time, without a new snapshot."""
        with self.app.batch_update():
            for key, item in self._items.items():
                self._put_cells(key, self.time_cells(item, now))

    def _put_row(self, key: str, row: Sequence[Any]) -> None:
        """Add the row, or update the cells of it that look different."""
        column_keys = [column for column, _, _ in self.COLUMNS]
        if key not in self._rendered:
            self.table.add_row(*row, key=key)
            self._rendered[key] = dict(zip(column_keys, row, strict=True))
        else:
            self._put_cells(key, dict(zip(column_keys, row, strict=True)))

    def _put_cells(self, key: str, cells: Mapping[str, Any]) -> None:
        """Update changed cells; `_rendered` holds exactly the objects the table holds."""
        shown = self._rendered[key]
        for column, value in cells.items():
            old = shown.get(column)
            if old != value:
                self.table.update_cell(key, column, value)
                shown[column] = value

    def empty_message(self, *, filtered: bool) -> str:
        return "nothing matches the filter" if filtered else "all clear"

    def set_freshness(self, freshness: Freshness, now: datetime) -> None:
        """The border subtitle: age of the data, next poll, last error, rate budget."""
        if not self._configured:
            return
        parts: list[str] = []
        age = freshness.age(now)
        if freshness.polling and age is None:
            parts.append("loading…")
        elif age is not None:
            parts.append(f"updated {fmt.age(age)} ago")
        if freshness.last_error:
            retry = fmt.until(freshness.next_poll, now)
            parts.append(f"⚠ {freshness.last_error} · retry {retry}")
        elif freshness.polling:
            parts.append("polling…")
        budget = freshness.budget
        if budget.remaining is not None and budget.limit:
            # A share, not a count: it is what the engineer can act on ("am I about to be
            # throttled?"), and it does not twitch with every request of a busy minute.
            parts.append(f"rate limit {budget.remaining * 100 // budget.limit}% left")
        elif budget.remaining is not None:
            parts.append(f"rate limit {budget.remaining} left")
        self.set_class(freshness.is_stale(now), "-stale")
        self.set_class(freshness.last_error is not None, "-error")
        if freshness.is_stale(now) and age is not None:
            parts.insert(0, "STALE")
        self._freshness_text = " · ".join(parts)
        self.border_subtitle = self._freshness_text

    # -- internals -----------------------------------------------------------------------

    @property
    def tz(self) -> tzinfo | None:
        """The shift's time zone, for wall-clock cells."""
        zone = getattr(self.app, "tz", None)
        return zone if isinstance(zone, tzinfo) else None

    def _title(self) -> str:
        summary = f" · {self._summary}" if self._summary else ""
        shown = f" · filter “{self._filter_text}”" if self._filter_text else ""
        marked = len([k for k in getattr(self, "marked", ()) if k in self._items])
        marks = f" · {marked} marked" if marked else ""
        return f"[{self.number}] {self.title}{summary}{shown}{marks}"

    def _reorder(self, order: Iterable[str]) -> None:
        """Put rows in `order`, keeping the cursor on the same item."""
        table = self.table
        selected = self.selected
        selected_key = self.key_of(selected) if selected is not None else None
        table.order_rows(order)
        if selected_key is not None and selected_key in self._items:
            row = table.get_row_index(selected_key)
            if row != table.cursor_row:
                table.move_cursor(row=row, animate=False)
