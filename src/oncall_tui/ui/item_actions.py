"""What the keys of the Monitors, Dependabot and Deploys panes do.

As with pages: ask what is needed in a dialog, then queue the write in the outbox, which
applies it, retries it and reports a refusal with the provider's own reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oncall_tui.domain.models import DependabotPR, Deploy, Monitor
from oncall_tui.ui.page_actions import Submitter
from oncall_tui.ui.screens.actions import (
    ChoiceScreen,
    Confirmed,
    ConfirmScreen,
    MuteAnswer,
    MuteScreen,
)

GITHUB_BATCH = 10
"""PRs per outbox write: GitHub writes are spaced (secondary rate limits), so a write to many
PRs is split to stay well inside the outbox's per-write timeout."""

DEPENDABOT_COMMENTS: tuple[tuple[str, str], ...] = (
    ("@dependabot rebase", "@dependabot rebase: rebase the PR on its base branch"),
    ("@dependabot recreate", "@dependabot recreate: recreate it, dropping edits made to it"),
)


class MonitorActions(Submitter):
    """Mute (a Datadog downtime) and unmute monitors."""

    source_name = "monitors"

    def mute(self, monitors: Sequence[Monitor]) -> None:
        if not self.chosen(monitors):
            return
        app: Any = self._app
        groups = monitors[0].groups_alerting if len(monitors) == 1 else ()
        title = monitors[0].name if len(monitors) == 1 else f"{len(monitors)} monitors"

        def answered(answer: MuteAnswer | None) -> None:
            if answer is None:
                return
            payload = {
                "scope": answer.scope,
                "end": answer.end.isoformat() if answer.end else None,
                "reason": answer.reason,
            }
            for monitor in monitors:
                if not self.submit("mute", [monitor.key], payload):
                    return

        self._app.push_screen(
            MuteScreen(f"Mute {title}", groups, app.clock.now(), getattr(app, "tz", None)),
            answered,
        )

    def unmute(self, monitors: Sequence[Monitor]) -> None:
        muted = [m for m in monitors if m.downtime_ids]
        if not self.chosen(monitors):
            return
        if not muted:
            self._app.notify("Not muted by a downtime.", timeout=3)
            return
        names = ", ".join(m.name for m in muted[:3]) + (" …" if len(muted) > 3 else "")

        def answered(answer: Confirmed | None) -> None:
            if answer is not None:
                for monitor in muted:
                    payload = {"downtime_ids": list(monitor.downtime_ids)}
                    if not self.submit("unmute", [monitor.key], payload):
                        return

        self._app.push_screen(
            ConfirmScreen("Unmute", f"Cancel the downtime on {names}?", verb="Unmute"), answered
        )


class DependabotActions(Submitter):
    """Approve, merge and comment on Dependabot PRs (one, or all marked)."""

    source_name = "dependabot"

    def __init__(self, *args: Any, merge_method: str = "squash", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merge_method = merge_method

    def approve(self, prs: Sequence[DependabotPR]) -> None:
        todo = [p for p in prs if p.review != "approved"]
        if not self.chosen(prs):
            return
        if not todo:
            self._app.notify("Already approved.", timeout=3)
            return
        self._batched("approve", todo, {})

    def merge(self, prs: Sequence[DependabotPR]) -> None:
        if not self.chosen(prs):
            return
        failing = [p for p in prs if p.ci == "failure"]
        lines = "\n".join(
            f"{p.key}  {p.package} {p.from_version} → {p.to_version}  CI {p.ci}" for p in prs[:10]
        )
        more = f"\n… and {len(prs) - 10} more" if len(prs) > 10 else ""
        payload = {"method": self.merge_method, "shas": {p.key: p.head_sha for p in prs}}

        def merge_now(answer: Confirmed | None) -> None:
            if answer is not None:
                self._batched("merge", prs, payload)

        def first(answer: Confirmed | None) -> None:
            if answer is None:
                return
            if not failing:
                merge_now(answer)
                return
            names = ", ".join(p.key for p in failing[:5])
            self._app.push_screen(
                ConfirmScreen(
                    "CI is failing",
                    f"CI fails on {names}. Merge anyway?",
                    verb="Merge anyway",
                ),
                merge_now,
            )

        self._app.push_screen(
            ConfirmScreen(f"Merge ({self.merge_method})", f"{lines}{more}\n\nMerge?", verb="Merge"),
            first,
        )

    def comment(self, prs: Sequence[DependabotPR]) -> None:
        if not self.chosen(prs):
            return
        app: Any = self._app

        def answered(body: str | None) -> None:
            if body is not None:
                payload = {"body": body, "since": app.clock.now().isoformat()}
                self._batched("comment", prs, payload)

        self._app.push_screen(
            ChoiceScreen("Ask Dependabot to", list(DEPENDABOT_COMMENTS)), answered
        )

    def _batched(self, action: str, prs: Sequence[DependabotPR], payload: dict[str, Any]) -> None:
        for start in range(0, len(prs), GITHUB_BATCH):
            if not self.submit(action, [p.key for p in prs[start : start + GITHUB_BATCH]], payload):
                return


class DeployActions(Submitter):
    """Re-run the failed jobs of a failed deploy workflow run."""

    source_name = "deploys"

    def rerun(self, deploys: Sequence[Deploy]) -> None:
        if not self.chosen(deploys):
            return
        deploy = deploys[0]
        if deploy.origin != "workflow" or deploy.run_id is None:
            self._app.notify(
                "Only deploy workflow runs can be re-run (this one is a deployment).", timeout=5
            )
            return
        if deploy.deploy_state not in ("failure", "error", "cancelled"):
            self._app.notify(f"Nothing to re-run: the run is {deploy.deploy_state}.", timeout=4)
            return

        def answered(answer: Confirmed | None) -> None:
            if answer is not None:
                payload = {"repo": deploy.repo, "run_id": deploy.run_id}
                self.submit("rerun", [deploy.key], payload)

        self._app.push_screen(
            ConfirmScreen(
                "Re-run failed jobs",
                f"Re-run the failed jobs of {deploy.workflow or 'the deploy'} run "
                f"{deploy.run_id} ({deploy.repo} → {deploy.environment})?",
                verb="Re-run",
            ),
            answered,
        )
