"""The command table: one list feeds the key bindings, the footer, the palette and help.

Every command has a stable id; `[ui.keys]` in the config rebinds by that id.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class Command:
    """One thing the engineer can do from the cockpit."""

    id: str
    key: str
    action: str
    label: str
    description: str
    footer: bool = True


COMMANDS: tuple[Command, ...] = (
    Command("focus-pages", "1", "focus_pane('pages')", "Pages", "Focus the Pages pane", False),
    Command(
        "focus-monitors",
        "2",
        "focus_pane('monitors')",
        "Monitors",
        "Focus the Monitors pane",
        False,
    ),
    Command(
        "focus-deploys", "3", "focus_pane('deploys')", "Deploys", "Focus the Deploys pane", False
    ),
    Command(
        "focus-dependabot",
        "4",
        "focus_pane('dependabot')",
        "Dependabot",
        "Focus the Dependabot pane",
        False,
    ),
    Command("open", "o", "open_selected", "Open", "Open the selected item in the browser"),
    Command("copy-url", "y", "copy_selected", "Copy URL", "Copy the selected item's URL"),
    Command("filter", "slash", "filter", "Filter", "Filter the focused pane (esc clears)"),
    Command("group", "g", "group", "Group", "Group Dependabot PRs by package", footer=False),
    Command("zoom", "z", "zoom", "Zoom", "Let the focused pane fill the screen (z again: back)"),
    Command("timeline", "t", "timeline", "Timeline", "The shift's events, actions and notes"),
    Command("handover", "h", "handover", "Handover", "Draft, edit, export, publish the handover"),
    Command("refresh", "r", "refresh", "Refresh", "Refresh every source now"),
    Command("help", "question_mark", "help", "Help", "Show every key"),
    Command("quit", "q", "quit", "Quit", "Quit the cockpit"),
)

PAGE_COMMANDS: tuple[Command, ...] = (
    Command("acknowledge", "a", "acknowledge", "Ack", "Acknowledge the page (or the marked ones)"),
    Command("resolve", "R", "resolve", "Resolve", "Resolve the page (or the marked ones)"),
    Command("note", "n", "note", "Note", "Add a note to the page"),
    Command("snooze", "s", "snooze", "Snooze", "Snooze the page for a while"),
    Command("reassign", "A", "reassign", "Reassign", "Reassign to a user or escalation policy"),
    Command("escalate", "E", "escalate", "Escalate", "Escalate to the next level"),
    Command("mark", "space", "mark", "Mark", "Mark or unmark the page for a bulk action"),
)
"""Keys of the Pages pane and the page detail view."""

MONITOR_COMMANDS: tuple[Command, ...] = (
    Command("mute", "m", "mute", "Mute", "Mute the monitor (or the marked ones) for a while"),
    Command("unmute", "u", "unmute", "Unmute", "Cancel the monitor's downtime"),
    Command("annotate", "n", "annotate", "Note", "Note on the item (kept for the handover)"),
    Command("mark", "space", "mark", "Mark", "Mark or unmark for a bulk action"),
)

DEPENDABOT_COMMANDS: tuple[Command, ...] = (
    Command("approve", "v", "approve", "Approve", "Approve the PR (or the marked ones)"),
    Command("merge", "M", "merge", "Merge", "Merge the PR (or the marked ones), after a check"),
    Command("comment", "c", "comment", "Comment", "Ask Dependabot to rebase or recreate"),
    Command("annotate", "n", "annotate", "Note", "Note on the item (kept for the handover)"),
    Command("mark", "space", "mark", "Mark", "Mark or unmark for a bulk action"),
)

DEPLOY_COMMANDS: tuple[Command, ...] = (
    Command("rerun", "R", "rerun", "Re-run", "Re-run the failed jobs of a failed deploy run"),
    Command("annotate", "n", "annotate", "Note", "Note on the item (kept for the handover)"),
)

PANE_KEYS: tuple[tuple[str, str, str], ...] = (
    ("tab / shift+tab", "Move between panes", "(Textual focus keys)"),
    ("↑ ↓ pgup pgdn home end", "Move in a pane", "(table keys)"),
    ("enter", "Open the selected item's detail", "detail"),
    ("ctrl+p", "Command palette: every command, themes", "(Textual)"),
)


def bindings() -> list[Binding]:
    """The app's bindings, each with its command's id so a keymap can rebind it."""
    return [
        Binding(c.key, c.action, c.label, show=c.footer, id=c.id, tooltip=c.description)
        for c in COMMANDS
    ]


_KEY_NAMES = {"slash": "/", "question_mark": "?", "space": "space", "enter": "enter"}


def key_display(keys: str) -> str:
    """`slash,f5` -> `/ f5`: how keys read in help."""
    return " ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def page_bindings(*, footer: bool = True) -> list[BindingType]:
    """Bindings for page actions, for the Pages pane and the page detail view."""
    return table_bindings(PAGE_COMMANDS, footer=footer)


def table_bindings(table: tuple[Command, ...], *, footer: bool = True) -> list[BindingType]:
    """Bindings for one pane's command table."""
    return [
        Binding(c.key, c.action, c.label, show=footer and c.footer, id=c.id, tooltip=c.description)
        for c in table
    ]


ALL_COMMANDS: tuple[Command, ...] = (
    *COMMANDS,
    *PAGE_COMMANDS,
    *(c for c in MONITOR_COMMANDS if c.id != "mark"),
    *(c for c in DEPENDABOT_COMMANDS if c.id not in ("mark", "annotate")),
    *(c for c in DEPLOY_COMMANDS if c.id != "annotate"),
)
"""Every command once, for help and for checking `[ui.keys]`."""


def binding_ids() -> frozenset[str]:
    """Every id `[ui.keys]` may name (app commands, table and screen bindings)."""
    return frozenset(
        {c.id for c in ALL_COMMANDS}
        | {"detail", "close-detail", "detail-open", "detail-copy", "close-help"}
        | {"dialog-cancel", "note-send", "mute-send", "close-timeline", "close-handover"}
        | {"handover-export", "handover-publish", "handover-redraft", "handover-editor"}
    )
