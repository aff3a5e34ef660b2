"""The help screen: every key, read from the live bindings so rebinding shows up here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """A table of key, action and binding id (the name to use in `[ui.keys]`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="close-help"),
    ]

    def __init__(self, rows: Iterable[tuple[str, str, str]]) -> None:
        super().__init__(classes="detail")
        self._rows = list(rows)

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 2), header_style="bold")
        table.add_column("Key", no_wrap=True)
        table.add_column("Does")
        table.add_column(Text("Rebind as ([ui.keys])"), style="dim", no_wrap=True)
        for key, description, binding_id in self._rows:
            table.add_row(key, description, binding_id)
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys"
            yield Static(table)
            yield Static(
                'Rebind any key in config.toml, e.g. [ui.keys] refresh = "f5". '
                "ctrl+p opens the command palette.",
                classes="hint",
            )
