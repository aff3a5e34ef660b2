"""The handover editor: the draft written from the journal, edited in place or in $EDITOR.

Every change is saved to the journal at once (a `kill -9` mid-sentence loses nothing), and
the draft is reopened as it was left. Export and publish run in a worker thread.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from oncall_tui.handover.publish import PublishReadOnly

DRAFT_NAME = "handover"


class HandoverScreen(ModalScreen[None]):
    """Edit the handover; ctrl+e exports it, ctrl+g publishes it, ctrl+r redrafts it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close (kept)", id="close-handover"),
        Binding("ctrl+e", "export", "Export", id="handover-export", priority=True),
        Binding("ctrl+g", "publish", "Publish", id="handover-publish", priority=True),
        Binding("ctrl+r", "redraft", "Redraft", id="handover-redraft", priority=True),
        Binding("ctrl+o", "editor", "$EDITOR", id="handover-editor", priority=True),
    ]

    def __init__(
        self,
        text: str,
        *,
        save: Callable[[str], None],
        draft: Callable[[], str],
        export: Callable[[str], Path],
        publish: Callable[[str], str],
    ) -> None:
        super().__init__(classes="detail")
        self._text = text
        self._save = save
        self._draft = draft
        self._export = export
        self._publish = publish

    def compose(self) -> ComposeResult:
        with Vertical(id="handover-body") as body:
            body.border_title = "Handover (saved as you type)"
            yield TextArea(self._text, language="markdown", id="handover-text", soft_wrap=True)
            yield Static("", id="handover-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(TextArea.Changed, "#handover-text")
    def _autosave(self, event: TextArea.Changed) -> None:
        self._save(event.text_area.text)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _status(self, message: str) -> None:
        self.query_one("#handover-status", Static).update(message)

    def action_redraft(self) -> None:
        """Write the draft again from the journal (the current text is kept in the undo)."""
        self.query_one(TextArea).text = self._draft()
        self._status("redrafted from the journal; ctrl+z brings your edits back")

    @work(thread=True, exclusive=True, exit_on_error=False, group="handover")
    def action_export(self) -> None:
        text = self.app.call_from_thread(lambda: self.text)
        try:
            path = self._export(text)
        except Exception as exc:  # PublishError and OSError: both worth a line, not a crash
            self.app.call_from_thread(self._status, f"export failed: {exc}")
            return
        self.app.call_from_thread(self._status, f"exported to {path}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="handover")
    def action_publish(self) -> None:
        text = self.app.call_from_thread(lambda: self.text)
        self.app.call_from_thread(self._status, "publishing…")
        try:
            url = self._publish(text)
        except PublishReadOnly as exc:
            self.app.call_from_thread(self._status, f"not published: {exc}")
            self.app.call_from_thread(
                self.app.notify, str(exc), severity="warning", title="Read-only"
            )
            return
        except Exception as exc:
            self.app.call_from_thread(self._status, f"not published: {exc}")
            return
        self.app.call_from_thread(self._status, f"published: {url}")

    def action_editor(self) -> None:
        """Hand the draft to $EDITOR (the cockpit is suspended meanwhile)."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as handle:
            handle.write(self.text)
            path = Path(handle.name)
        try:
            with self.app.suspend():
                result = subprocess.run([*editor.split(), str(path)], check=False)
            if result.returncode == 0:
                self.query_one(TextArea).text = path.read_text(encoding="utf-8")
                self._status(f"edited in {editor}")
            else:
                self._status(f"{editor} exited with {result.returncode}; draft unchanged")
        except (OSError, Exception) as exc:
            self._status(f"could not run {editor}: {exc}")
        finally:
            path.unlink(missing_ok=True)
