"""Dialogs for the write actions: confirm, note, choose from a list, mute.

Each dialog returns its answer through `dismiss`; none talks to a provider. What was typed
into a dialog that is cancelled is handed back (`Draft`) so the cockpit can offer it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

SNOOZE_CHOICES: tuple[tuple[str, int], ...] = (
    ("15 minutes", 15 * 60),
    ("30 minutes", 30 * 60),
    ("1 hour", 3600),
    ("2 hours", 2 * 3600),
    ("4 hours", 4 * 3600),
    ("8 hours", 8 * 3600),
    ("24 hours", 24 * 3600),
)


@dataclass(frozen=True)
class Confirmed:
    """The engineer confirmed; `note` is the optional text typed with it."""

    note: str = ""


@dataclass(frozen=True)
class Draft:
    """The dialog was closed without sending; `text` is what had been typed."""

    text: str


class ConfirmScreen(ModalScreen[Confirmed | None]):
    """A yes/no question, optionally with a one-line note (e.g. a resolution note)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
    ]

    def __init__(
        self, title: str, question: str, *, verb: str, note_label: str | None = None
    ) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._question = question
        self._verb = verb
        self._note_label = note_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body") as body:
            body.border_title = self._title
            yield Static(self._question, classes="question", markup=False)
            if self._note_label is not None:
                yield Label(self._note_label)
                yield Input(placeholder="optional", id="dialog-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._verb, variant="error", id="dialog-yes")
                yield Button("Cancel", id="dialog-no")

    def on_mount(self) -> None:
        if self._note_label is not None:
            self.query_one("#dialog-note", Input).focus()
        else:
            self.query_one("#dialog-yes", Button).focus()

    @on(Input.Submitted, "#dialog-note")
    @on(Button.Pressed, "#dialog-yes")
    def confirm(self) -> None:
        note = ""
        if self._note_label is not None:
            note = self.query_one("#dialog-note", Input).value.strip()
        self.dismiss(Confirmed(note))

    @on(Button.Pressed, "#dialog-no")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class NoteAnswer:
    """A note to send; `watch` puts it on the handover's watch list with its trigger."""

    text: str
    watch: bool = False
    trigger: str = ""


class NoteScreen(ModalScreen[NoteAnswer | Draft | None]):
    """Multi-line note, optionally a watch item. ctrl+s sends; escape keeps a draft."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send note", id="note-send", priority=True),
        Binding("escape", "cancel", "Keep as draft", id="dialog-cancel"),
    ]

    def __init__(
        self,
        title: str,
        draft: str = "",
        *,
        hint: str = "",
        save: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._draft = draft
        self._hint = hint
        self._save = save

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body note-body") as body:
            body.border_title = self._title
            yield TextArea(self._draft, id="note-text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="watch-row"):
                yield Checkbox("watch item", id="note-watch")
                yield Input(
                    placeholder="trigger, e.g. if queue lag > 5 min, page the data team",
                    id="note-trigger",
                )
            yield Static(
                f"ctrl+s send · esc keep as draft{' · ' + self._hint if self._hint else ''}",
                classes="hint",
            )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @on(TextArea.Changed, "#note-text")
    def _typed(self, event: TextArea.Changed) -> None:
        """Every keystroke is kept (`save`), like the handover's."""
        if self._save is not None:
            self._save(event.text_area.text)

    def action_send(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("The note is empty: type something or press esc.", severity="warning")
            return
        trigger = self.query_one("#note-trigger", Input).value.strip()
        watch = self.query_one("#note-watch", Checkbox).value or bool(trigger)
        self.dismiss(NoteAnswer(text, watch, trigger))

    def action_cancel(self) -> None:
        text = self.query_one(TextArea).text
        self.dismiss(Draft(text) if text.strip() else None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one option (by id) from a list that can be filtered by typing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]] | None = None) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._choices = choices
        self._all: list[tuple[str, str]] = list(choices or [])

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body choice-body") as body:
            body.border_title = self._title
            yield Input(placeholder="type to filter", id="choice-filter")
            yield OptionList(id="choice-list")
            yield Static("loading…" if self._choices is None else "", classes="hint")

    def on_mount(self) -> None:
        if self._choices is not None:
            self.set_choices(self._choices)
        self.query_one("#choice-filter", Input).focus()

    def set_choices(self, choices: list[tuple[str, str]]) -> None:
        """Fill the list (for choices loaded after the dialog opened)."""
        self._all = list(choices)
        self.query_one(".hint", Static).update("" if choices else "nothing to choose from")
        self._show(self.query_one("#choice-filter", Input).value)

    def show_error(self, message: str) -> None:
        self.query_one(".hint", Static).update(f"could not load: {message}")

    def _show(self, text: str) -> None:
        words = text.lower().split()
        options = self.query_one("#choice-list", OptionList)
        options.clear_options()
        options.add_options(
            Option(label, id=choice_id)
            for choice_id, label in self._all
            if all(w in label.lower() for w in words)
        )
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#choice-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#choice-filter")
    def _pick_highlighted(self) -> None:
        options = self.query_one("#choice-list", OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#choice-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def key_down(self) -> None:
        self.query_one("#choice-list", OptionList).action_cursor_down()

    def key_up(self) -> None:
        self.query_one("#choice-list", OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


MUTE_DURATIONS: tuple[tuple[str, int | None], ...] = (
    ("30 minutes", 30 * 60),
    ("1 hour", 3600),
    ("4 hours", 4 * 3600),
    ("until a time…", -1),
    ("indefinitely", None),
)


@dataclass(frozen=True)
class MuteAnswer:
    """Mute this scope (None: the whole monitor) until `end` (None: indefinitely)."""

    scope: str | None
    end: datetime | None
    reason: str


class MuteScreen(ModalScreen[MuteAnswer | None]):
    """Scope, duration and a reason (kept for the handover). ctrl+s or the button mutes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "mute", "Mute", id="mute-send", priority=True),
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
    ]

    def __init__(self, title: str, groups: Sequence[str], now: datetime, tz: tzinfo | None) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._groups = list(groups)
        self._now = now
        self._tz = tz

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body mute-body") as body:
            body.border_title = self._title
            yield Label("Scope")
            with RadioSet(id="mute-scope"):
                yield RadioButton("the whole monitor", value=True)
                for group in self._groups:
                    yield RadioButton(f"only {group}")
            yield Label("For")
            with RadioSet(id="mute-for"):
                for index, (label, _) in enumerate(MUTE_DURATIONS):
                    yield RadioButton(label, value=index == 1)
            yield Input(placeholder="until HH:MM (shift time zone)", id="mute-until")
            yield Label("Reason (goes into the downtime and the handover)")
            yield Input(placeholder="e.g. known issue, fix deploying", id="mute-reason")
            yield Static("", classes="hint", id="mute-problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Mute", variant="warning", id="dialog-yes")
                yield Button("Cancel", id="dialog-no")

    def on_mount(self) -> None:
        self.query_one("#mute-reason", Input).focus()

    @on(Button.Pressed, "#dialog-yes")
    @on(Input.Submitted)
    def action_mute(self) -> None:
        reason = self.query_one("#mute-reason", Input).value.strip()
        if not reason:
            self._problem("Say why (the next engineer will read it).")
            return
        scope_index = self.query_one("#mute-scope", RadioSet).pressed_index
        scope = self._groups[scope_index - 1] if scope_index > 0 else None
        duration = MUTE_DURATIONS[max(0, self.query_one("#mute-for", RadioSet).pressed_index)][1]
        end: datetime | None
        if duration is None:
            end = None
        elif duration == -1:
            parsed = parse_until(self.query_one("#mute-until", Input).value, self._now, self._tz)
            if parsed is None:
                self._problem("Give the end as HH:MM, e.g. 17:30.")
                return
            end = parsed
        else:
            end = self._now + timedelta(seconds=duration)
        self.dismiss(MuteAnswer(scope, end, reason))

    def _problem(self, text: str) -> None:
        self.query_one("#mute-problem", Static).update(text)

    @on(Button.Pressed, "#dialog-no")
    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_until(text: str, now: datetime, tz: tzinfo | None) -> datetime | None:
    """`HH:MM` in the shift's zone, the next time it comes round; None if not a time."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        local_now = now.astimezone(tz) if tz is not None else now
        end = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        return None
    if end <= local_now:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)
