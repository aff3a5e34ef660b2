"""The handover: drafted from the journal and the latest snapshots, rendered as Markdown,
exported to a file and optionally published to GitHub and Slack.

Headless (no textual, no rich): the cockpit's `h` and `oncall-tui handover` share it.

    journal.add_events(with_detail(events, previous, snapshot))   # on every poll
    view = read_journal(journal, settings, now, since)
    handover = build_handover(view, snapshots, settings, now, since)   # pure
    handover.links_for(page)                  # "what changed" before a page or an alert
    text = render_markdown(handover)
    path = export(text)                       # data dir's handovers/, never overwrites
    url = publish_github(text, settings)      # comment on the sprint's handover issue
    publish_slack(text, settings.handover.slack_webhook)

`read_journal`, `export` and the two `publish_*` do blocking I/O (the last two over the
network): the cockpit runs them in a worker thread.
"""

from oncall_tui.handover.build import (
    ActionRecord,
    ActiveIncident,
    ChangeLinker,
    DeployChange,
    Handover,
    JournalView,
    MutedMonitor,
    NoisyMonitor,
    Note,
    PageRecord,
    Period,
    ResolvedPage,
    WatchItem,
    build_handover,
    event_detail,
    link_deploys,
    metrics_for,
    page_records,
    read_journal,
    shift_period,
    with_detail,
)
from oncall_tui.handover.metrics import Durations, ShiftMetrics, shift_metrics, sparkline
from oncall_tui.handover.publish import (
    PublishError,
    export,
    handovers_dir,
    publish_github,
    publish_slack,
)
from oncall_tui.handover.render import render_markdown

__all__ = [
    "ActionRecord",
    "ActiveIncident",
    "ChangeLinker",
    "DeployChange",
    "Durations",
    "Handover",
    "JournalView",
    "MutedMonitor",
    "NoisyMonitor",
    "Note",
    "PageRecord",
    "Period",
    "PublishError",
    "ResolvedPage",
    "ShiftMetrics",
    "WatchItem",
    "build_handover",
    "event_detail",
    "export",
    "handovers_dir",
    "link_deploys",
    "metrics_for",
    "page_records",
    "publish_github",
    "publish_slack",
    "read_journal",
    "render_markdown",
    "shift_metrics",
    "shift_period",
    "sparkline",
    "with_detail",
]
