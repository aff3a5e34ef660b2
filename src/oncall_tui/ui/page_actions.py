"""What the page keys do: ask what is needed in a dialog, then hand the write to the outbox.

Shared by the Pages pane and the page detail view, so a key does the same thing in both.
Nothing here waits on PagerDuty: look-ups for the dialogs (users, the next escalation
level) run in thread workers, and writes are queued in the outbox, which applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from oncall_tui.domain.models import Page
from oncall_tui.engine.outbox import Outbox, ReadOnly
from oncall_tui.sources.base import SourceError
from oncall_tui.store.journal import NoteDrafts
from oncall_tui.ui.screens.actions import (
    SNOOZE_CHOICES,
    ChoiceScreen,
    Confirmed,
    ConfirmScreen,
    Draft,
    NoteAnswer,
    NoteScreen,
)

if TYPE_CHECKING:
    from textual.app import App


@runtime_checkable
class PageWriter(Protocol):
    """The look-ups the dialogs need from the PagerDuty source."""

    def users(self) -> list[tuple[str, str]]: ...

    def escalation_policies(self) -> list[tuple[str, str]]: ...

    def next_escalation_level(self, page_id: str) -> int: ...


def _names(pages: Sequence[Page]) -> str:
    if len(pages) == 1:
        return f"#{pages[0].number} {pages[0].title}"
    return (
        f"{len(pages)} pages: "
        + ", ".join(f"#{p.number}" for p in pages[:8])
        + (" …" if len(pages) > 8 else "")
    )


class Submitter:
    """Queues one source's writes in the outbox and says plainly when it cannot."""

    source_name = ""

    def __init__(
        self, app: App[Any], outbox: Outbox, *, after_submit: Callable[[], None] = lambda: None
    ) -> None:
        self._app = app
        self._outbox = outbox
        self._after_submit = after_submit

    def submit(self, action: str, keys: Sequence[str], payload: Mapping[str, Any]) -> bool:
        """Queue the write; False (and a toast saying why) if it was not queued."""
        try:
            self._outbox.submit(self.source_name, action, list(keys), payload)
        except ReadOnly as exc:
            self._app.notify(str(exc), severity="warning", title="Read-only")
            return False
        except SourceError as exc:
            self._app.notify(exc.message, severity="error")
            return False
        self._after_submit()
        return True

    def annotate(self, key: str, title: str, answer: NoteAnswer) -> None:
        """Keep a note on an item in the journal (shown beside it, used by the handover)."""
        app: Any = self._app
        app.journal.add_annotation(
            at=app.clock.now(),
            source=self.source_name,
            key=key,
            title=title,
            text=answer.text,
            watch=answer.watch,
            watch_trigger=answer.trigger,
        )
        app.annotations_changed()

    def chosen(self, items: Sequence[object]) -> bool:
        """True if there is something to act on; otherwise say so."""
        if not items:
            self._app.notify("Select an item first.", timeout=3)
        return bool(items)


class PageActions(Submitter):
    """Page actions for one cockpit; `after_submit` runs after a write was queued."""

    source_name = "pages"

    def __init__(
        self,
        app: App[Any],
        outbox: Outbox,
        source: PageWriter,
        *,
        drafts: NoteDrafts,
        after_submit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(app, outbox, after_submit=after_submit)
        self._source = source
        self.drafts = drafts

    # -- the actions ---------------------------------------------------------------------

    def acknowledge(self, pages: Sequence[Page]) -> None:
        todo = [p for p in pages if p.status == "triggered"]
        if self._nothing(pages, todo, "acknowledged"):
            return
        self._submit("acknowledge", todo, {})

    def resolve(self, pages: Sequence[Page]) -> None:
        if not self.chosen(pages):
            return

        def answered(answer: Confirmed | None) -> None:
            if answer is not None:
                self._submit("resolve", pages, {"note": answer.note} if answer.note else {})

        self._app.push_screen(
            ConfirmScreen(
                "Resolve",
                f"Resolve {_names(pages)}?",
                verb="Resolve",
                note_label="Resolution note (posted to PagerDuty):",
            ),
            answered,
        )

    def note(self, pages: Sequence[Page]) -> None:
        if not self.chosen(pages):
            return
        page = pages[0]

        def answered(answer: NoteAnswer | Draft | None) -> None:
            if isinstance(answer, Draft):
                self._app.notify("Note kept as a draft: press n on the page to finish it.")
            elif answer is not None:
                self.drafts.clear(self.source_name, page.id)
                if self._submit("note", [page], {"content": answer.text}):
                    self.annotate(page.id, f"#{page.number} {page.title}", answer)

        self._app.push_screen(
            NoteScreen(
                f"Note on #{page.number}",
                self.drafts.get(self.source_name, page.id),
                hint="posted to PagerDuty and kept for the handover",
                save=lambda text: self.drafts.put(self.source_name, page.id, text),
            ),
            answered,
        )

    def snooze(self, pages: Sequence[Page]) -> None:
        if not self.chosen(pages):
            return

        def answered(choice: str | None) -> None:
            if choice is None:
                return
            # PagerDuty snoozes acknowledged pages only: acknowledge first, in order.
            triggered = [p for p in pages if p.status == "triggered"]
            if triggered and not self._submit("acknowledge", triggered, {}):
                return
            self._submit("snooze", pages, {"seconds": int(choice)})

        choices = [(str(seconds), label) for label, seconds in SNOOZE_CHOICES]
        self._app.push_screen(ChoiceScreen(f"Snooze {_names(pages)}", choices), answered)

    def reassign(self, pages: Sequence[Page]) -> None:
        if not self.chosen(pages):
            return
        page = pages[0]
        screen = ChoiceScreen(f"Reassign #{page.number} to")

        def answered(choice: str | None) -> None:
            if choice is None:
                return
            kind, _, target = choice.partition(":")
            payload = (
                {"escalation_policy_id": target} if kind == "policy" else {"user_ids": [target]}
            )
            self._submit("reassign", [page], payload)

        def load() -> None:
            try:
                choices = [(f"user:{i}", f"{n} (user)") for i, n in self._source.users()]
                choices += [
                    (f"policy:{i}", f"{n} (escalation policy)")
                    for i, n in self._source.escalation_policies()
                ]
            except SourceError as exc:
                self._app.call_from_thread(screen.show_error, exc.message)
                return
            self._app.call_from_thread(screen.set_choices, choices)

        self._app.push_screen(screen, answered)
        self._app.run_worker(load, thread=True, group="lookups", exit_on_error=False)

    def escalate(self, pages: Sequence[Page]) -> None:
        if not self.chosen(pages):
            return
        page = pages[0]

        def ask(level: int) -> None:
            def answered(answer: Confirmed | None) -> None:
                if answer is not None:
                    self._submit("escalate", [page], {"level": level})

            self._app.push_screen(
                ConfirmScreen(
                    "Escalate", f"Escalate #{page.number} to level {level}?", verb="Escalate"
                ),
                answered,
            )

        def load() -> None:
            try:
                level = self._source.next_escalation_level(page.id)
            except SourceError as exc:
                self._app.call_from_thread(
                    self._app.notify, f"Cannot escalate: {exc.message}", severity="warning"
                )
                return
            self._app.call_from_thread(ask, level)

        self._app.run_worker(load, thread=True, group="lookups", exit_on_error=False)

    # -- helpers -------------------------------------------------------------------------

    def _nothing(self, pages: Sequence[Page], todo: Sequence[Page], done: str) -> bool:
        if not self.chosen(pages):
            return True
        if not todo:
            self._app.notify(f"Already {done}.", timeout=3)
            return True
        return False

    def _submit(self, action: str, pages: Sequence[Page], payload: Mapping[str, Any]) -> bool:
        return self.submit(action, [p.id for p in pages], payload)
