"""The Dependabot pane: open Dependabot PRs, security fixes and failing CI first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from textual.binding import BindingType

from oncall_tui import format as fmt
from oncall_tui.domain.models import DependabotPR
from oncall_tui.ui import commands
from oncall_tui.ui.widgets.pane import Pane, cell

BUMP_RANK = {"major": 0, "minor": 1, "patch": 2, "unknown": 3}


class DependabotPane(Pane[DependabotPR]):
    """One row per PR; `g` groups the same bump across repositories."""

    BINDINGS: ClassVar[list[BindingType]] = commands.table_bindings(commands.DEPENDABOT_COMMANDS)

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = (
        ("mark", "", 1),
        ("package", "Package", 20),
        ("bump", "Bump", 5),
        ("ci", "CI", 7),
        ("security", "Sec", 6),
        ("age", "Age", 6),
        ("merge", "Merge", 8),
        ("pr", "PR", 18),
        ("versions", "From → To", 40),
    )

    def __init__(self, *, number: int, title: str, pane_id: str) -> None:
        super().__init__(number=number, title=title, pane_id=pane_id)
        self.grouped = False
        self._package_counts: Counter[tuple[str, str]] = Counter()

    def toggle_grouping(self) -> None:
        """Group the same package bump across repositories, or go back to urgency order."""
        self.grouped = not self.grouped
        if self._now is not None:
            self.show(self._all, self._now)

    def key_of(self, item: DependabotPR) -> str:
        return item.key

    def order(self, items: Sequence[DependabotPR]) -> list[DependabotPR]:
        if self.grouped:
            return sorted(items, key=lambda p: (p.package, p.to_version, p.repo, p.number))
        return sorted(
            items,
            key=lambda p: (not p.security, p.ci != "failure", BUMP_RANK[p.bump], p.created_at),
        )

    def cells(self, item: DependabotPR, now: datetime) -> Sequence[Any]:
        colours = self.app.theme_variables
        critical = colours.get("severity-critical", "red")
        warning = colours.get("severity-warning", "yellow")
        ok = colours.get("severity-ok", "green")
        muted = colours.get("muted-text", "grey50")
        ci_style = {"success": ok, "failure": f"bold {critical}", "pending": warning}.get(
            item.ci, muted
        )
        bump_style = {"major": f"bold {critical}", "minor": warning}.get(item.bump, "")
        security = cell(item.severity or "yes", f"bold {critical}") if item.security else cell("")
        if item.review == "approved":
            merge = cell("approved", ok)
        elif item.mergeable is False:
            merge = cell("conflict", critical)
        elif item.mergeable:
            merge = cell("ready")
        else:
            merge = cell("?", muted)
        package = item.package
        if self.grouped:
            same = self._package_counts.get((item.package, item.to_version), 1)
            if same > 1:
                package = f"{package} (×{same})"
        return (
            self.mark_cell(item.key),
            cell(package),
            cell(item.bump, bump_style),
            cell(item.ci, ci_style),
            security,
            cell(fmt.since(item.created_at, now)),
            merge,
            cell(f"{item.repo.rsplit('/', 1)[-1]}#{item.number}", style=muted),
            cell(
                f"{item.from_version} → {item.to_version}"
                if item.from_version or item.to_version
                else "grouped update (see PR)",
                style="" if item.from_version or item.to_version else muted,
            ),
        )

    def show(self, items: Sequence[DependabotPR], now: datetime) -> None:
        self._package_counts = Counter((p.package, p.to_version) for p in items)
        super().show(self.order(items), now)

    def time_cells(self, item: DependabotPR, now: datetime) -> dict[str, Any]:
        return {"age": cell(fmt.since(item.created_at, now))}

    def action_approve(self) -> None:
        self.act("approve")

    def action_merge(self) -> None:
        self.act("merge")

    def action_comment(self) -> None:
        self.act("comment")

    def summarize(self, items: Sequence[DependabotPR]) -> str:
        security = sum(1 for p in items if p.security)
        failing = sum(1 for p in items if p.ci == "failure")
        parts = [f"{len(items)} open"]
        if security:
            parts.append(f"{security} security")
        if failing:
            parts.append(f"{failing} failing CI")
        return " · ".join(parts)

    def searchable(self, item: DependabotPR) -> str:
        return " ".join((item.key, item.title, item.package, item.ecosystem, item.bump, item.ci))

    def empty_message(self, *, filtered: bool) -> str:
        return "no PR matches the filter" if filtered else "no open Dependabot PRs"
