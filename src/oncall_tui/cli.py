"""Command line: the cockpit, `--demo`, `status`, `handover`, `shift`, `config path` and
`simulate`.

Exit codes: 0 fine, 1 a source failed (status) or publishing failed (handover), 2 bad
configuration or usage. Every error is one line on stderr; no traceback reaches the user
for bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncall_tui import __version__, logs
from oncall_tui.config import ConfigError, Settings, config_path_report, load_settings, locations
from oncall_tui.domain.clock import SystemClock
from oncall_tui.domain.models import Snapshot
from oncall_tui.sources.base import Source, SourceError
from oncall_tui.sources.factory import PANE_NAMES, build_sources

if TYPE_CHECKING:
    from oncall_tui.simulator import Simulator

EXIT_OK = 0
EXIT_SOURCE_FAILED = 1
EXIT_BAD_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oncall-tui",
        description="A terminal cockpit for the on-call engineer.",
    )
    parser.add_argument("--version", action="version", version=f"oncall-tui {__version__}")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file to read")
    parser.add_argument(
        "--demo", action="store_true", help="run against the built-in simulator (no accounts)"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="never write to a provider (same as [ui] read_only)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    status = sub.add_parser("status", help="poll every configured source once and summarize")
    status.add_argument("--demo", action="store_true", dest="status_demo")
    fmt = status.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="machine-readable summary")
    fmt.add_argument(
        "--format", choices=["text", "tmux"], default="text", help="tmux: one short line"
    )

    config = sub.add_parser("config", help="configuration helpers")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("path", help="print where config, data, themes and cache live")

    handover = sub.add_parser(
        "handover",
        help="write the shift's handover (Markdown) from the journal and one fresh poll",
    )
    handover.add_argument(
        "--since", metavar="ISO", help="start of the period (default: the shift's start)"
    )
    handover.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="file or directory to write to (default: the data folder's handovers/)",
    )
    handover.add_argument(
        "--publish",
        action="store_true",
        help="also comment on the sprint's handover issue and post to the Slack webhook",
    )
    handover.add_argument(
        "--demo",
        action="store_true",
        dest="handover_demo",
        help="the demo journal and the built-in simulator (publishes there only)",
    )

    shift = sub.add_parser("shift", help="record the start or the end of your shift")
    shift_sub = shift.add_subparsers(dest="shift_command", metavar="ACTION", required=True)
    shift_start = shift_sub.add_parser("start", help="start a shift (names from [shift])")
    shift_end = shift_sub.add_parser("end", help="end the open shift")
    for action in (shift_start, shift_end):
        action.add_argument("--at", metavar="ISO", help="when (default: now)")
        action.add_argument(
            "--demo", action="store_true", dest="shift_demo", help="in the demo journal"
        )
    for name in ("engineer", "secondary", "incoming"):
        shift_start.add_argument(f"--{name}", metavar="NAME", help=f"default: [shift] {name}")

    simulate = sub.add_parser("simulate", help="run the provider simulator standalone")
    simulate.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any)")
    simulate.add_argument(
        "--scenario", default="default", help="default, quiet, storm or scale[:N]"
    )
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument(
        "--write-config", type=Path, metavar="FILE", help="write a config that points at it"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "config":
            print(config_path_report(locations()))
            return EXIT_OK
        if args.command == "simulate":
            return _simulate(args)
        settings = load_settings(args.config)
        logs.configure(locations().cache_dir, secret_values(settings))
        if args.read_only:
            settings = _read_only(settings)
        if args.command == "status":
            return _status(settings, demo=args.demo or args.status_demo, args=args)
        if args.command == "handover":
            return _handover(settings, demo=args.demo or args.handover_demo, args=args)
        if args.command == "shift":
            return _shift(settings, demo=args.demo or args.shift_demo, args=args)
        return _cockpit(settings, demo=args.demo)
    except ConfigError as exc:
        print(f"oncall-tui: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the log redaction filter."""
    secrets = (
        settings.pagerduty.token,
        settings.datadog.api_key,
        settings.datadog.app_key,
        settings.github.token,
        settings.handover.slack_webhook,
    )
    return [s.reveal() for s in secrets if s is not None]


def _read_only(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, ui=replace(settings.ui, read_only=True))


def _check_keymap(settings: Settings) -> None:
    from oncall_tui.ui.commands import binding_ids

    known = binding_ids()
    for binding_id in settings.ui.keys:
        if binding_id not in known:
            import difflib

            close = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            where = settings.source or Path("config.toml")
            raise ConfigError(
                f"{where}: [ui.keys] {binding_id}: no such binding{hint}; "
                "`?` in the cockpit lists every binding id"
            )


def _cockpit(settings: Settings, *, demo: bool) -> int:
    from oncall_tui.engine.heap import Collector
    from oncall_tui.ui.app import OncallApp

    _check_keymap(settings)
    clock = SystemClock()
    simulator = None
    if demo:
        from oncall_tui.demo import start_demo

        simulator, settings = start_demo(settings, clock)
    from oncall_tui.store.journal import JOURNAL_FILE, Journal, JournalError

    locs = locations()
    try:
        # The demo keeps its own journal: its pending writes belong to its simulator.
        journal_name = f"demo-{JOURNAL_FILE}" if demo else JOURNAL_FILE
        journal = Journal.open(locs.data_dir / journal_name)
    except JournalError as exc:
        raise ConfigError(str(exc)) from None
    sources = build_sources(settings, clock)
    try:
        app = OncallApp(
            settings,
            sources,
            clock,
            journal=journal,
            state_file=locs.state_file,
            user_themes_dir=locs.themes_dir,
            banner=_demo_banner(simulator) if simulator is not None else None,
            data_dir=locs.data_dir,
            collector=Collector(),
        )
        Collector.freeze_startup()
        app.run()
    finally:
        journal.close()
        _release(sources, simulator)
    return EXIT_OK


def _demo_banner(simulator: Any) -> str:
    return (
        f"Built-in simulator on {simulator.url}: see {simulator.url}/_sim/state "
        f"(CA: {simulator.ca_pem_path})"
    )


# -- status ------------------------------------------------------------------------------


def _status(settings: Settings, *, demo: bool, args: argparse.Namespace) -> int:
    clock = SystemClock()
    simulator = None
    if demo:
        from oncall_tui.demo import start_demo

        simulator, settings = start_demo(settings, clock)
    sources = build_sources(settings, clock)
    try:
        results = asyncio.run(_poll_once(sources))
    finally:
        _release(sources, simulator)
    if args.json:
        print(json.dumps(status_document(results), indent=2))
    elif args.format == "tmux":
        print(tmux_line(results))
    else:
        print(status_text(results))
    failed = any(not isinstance(r, Snapshot) for r in results.values() if r is not None)
    return EXIT_SOURCE_FAILED if failed else EXIT_OK


StatusResults = Mapping[str, "Snapshot | str | None"]


async def _poll_once(sources: Mapping[str, Source]) -> dict[str, Snapshot | str | None]:
    """Each configured source polled once, concurrently; a failure is its one-line message."""

    async def one(source: Source) -> Snapshot | str:
        try:
            return await asyncio.wait_for(asyncio.to_thread(source.fetch), timeout=60)
        except SourceError as exc:
            return exc.message
        except TimeoutError:
            return "no answer within 60 s"

    names = [n for n in PANE_NAMES if n in sources]
    answers = await asyncio.gather(*(one(sources[n]) for n in names))
    results: dict[str, Snapshot | str | None] = dict.fromkeys(PANE_NAMES)
    results.update(zip(names, answers, strict=True))
    return results


def status_document(results: StatusResults) -> dict[str, Any]:
    """The `status --json` document."""
    sources: dict[str, Any] = {}
    for name in PANE_NAMES:
        result = results.get(name)
        entry: dict[str, Any] = {
            "configured": result is not None,
            "ok": isinstance(result, Snapshot),
            "error": result if isinstance(result, str) else None,
            "items": [],
        }
        if isinstance(result, Snapshot):
            entry["items"] = [_item_json(item) for item in result.items]
            entry["taken_at"] = result.taken_at.isoformat()
            if result.on_call:
                entry["on_call"] = [
                    {
                        "user": o.user_name,
                        "escalation_policy": o.escalation_policy,
                        "level": o.level,
                        "start": o.start.isoformat() if o.start else None,
                        "end": o.end.isoformat() if o.end else None,
                    }
                    for o in result.on_call
                ]
        sources[name] = entry
    return {"sources": sources}


def _item_json(item: Any) -> dict[str, Any]:
    """Every field of the item, plus the common `id`, `state`, `title` and `url`."""
    doc: dict[str, Any] = {
        "id": item.key,
        "state": item.state,
        "title": item.title,
        "url": item.url,
    }
    for field in dataclasses.fields(item):
        if field.name not in doc:
            doc[field.name] = _json_value(getattr(item, field.name))
    return doc


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def status_text(results: StatusResults) -> str:
    """A few human lines, one per pane."""
    lines = []
    for name in PANE_NAMES:
        result = results.get(name)
        if result is None:
            lines.append(f"{name:<11} not configured")
        elif isinstance(result, str):
            lines.append(f"{name:<11} FAILED: {result}")
        else:
            lines.append(f"{name:<11} {_summary(name, result)}")
    return "\n".join(lines)


def tmux_line(results: StatusResults) -> str:
    """One short line for a tmux status bar: only what needs eyes."""
    parts = []
    for name in PANE_NAMES:
        result = results.get(name)
        if result is None:
            continue
        short = {"pages": "PD", "monitors": "DD", "deploys": "GH", "dependabot": "DB"}[name]
        if isinstance(result, str):
            parts.append(f"{short} err")
        else:
            parts.append(f"{short} {_summary(name, result, short=True)}")
    return " | ".join(parts) if parts else "oncall-tui: nothing configured"


def _summary(name: str, snapshot: Snapshot, *, short: bool = False) -> str:
    """What needs eyes in one pane; `short` for a status bar (successes are not news)."""
    states: dict[str, int] = {}
    for item in snapshot.items:
        states[item.state] = states.get(item.state, 0) + 1
    if name == "pages":
        counts = [("T", "triggered"), ("A", "acknowledged")]
    elif name == "monitors":
        counts = [("A", "Alert"), ("W", "Warn"), ("ND", "No Data")]
    elif name == "deploys":
        states["failed"] = states.get("failure", 0) + states.get("error", 0)
        states["running"] = sum(states.get(s, 0) for s in ("in_progress", "queued", "pending"))
        counts = [("✗", "failed"), ("▶", "running")]
    else:
        states["failing CI"] = states.get("failure", 0)
        states["open"] = len(snapshot.items)
        counts = [(" open", "open"), ("✗", "failing CI")]
    if short:
        parts = [f"{states[s]}{mark}" for mark, s in counts if states.get(s)]
        return " ".join(parts) or "ok"
    parts = [f"{states.get(s, 0)} {s}" for _, s in counts]
    return ", ".join(parts)


# -- handover and shift ------------------------------------------------------------------


def _open_journal(demo: bool) -> Any:
    from oncall_tui.store.journal import JOURNAL_FILE, Journal, JournalError

    # The same file the cockpit uses (the demo keeps its own).
    name = f"demo-{JOURNAL_FILE}" if demo else JOURNAL_FILE
    try:
        return Journal.open(locations().data_dir / name)
    except JournalError as exc:
        raise ConfigError(str(exc)) from None


def _moment(text: str, settings: Settings, option: str, now: datetime) -> datetime:
    """An ISO date-time from the command line; without an offset, in the shift's zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{option}: '{text}' is not an ISO date and time; e.g. {option} 2025-03-03T09:00"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=settings.shift.tz)
    if value > now:
        raise ConfigError(f"{option}: {value.isoformat()} is in the future; give a past moment")
    return value


def _handover(settings: Settings, *, demo: bool, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from oncall_tui.handover import (
        PublishError,
        build_handover,
        export,
        publish_github,
        publish_slack,
        read_journal,
        render_markdown,
    )
    from oncall_tui.handover.publish import handover_repo

    clock = SystemClock()
    since = _moment(args.since, settings, "--since", clock.now()) if args.since else None
    if demo:
        # The demo publishes to its simulator only: never to the user's own Slack.
        settings = replace(
            settings, handover=replace(settings.handover, slack_webhook=None, publish_repo="")
        )
    if args.publish and settings.ui.read_only:
        # Publishing writes to GitHub and Slack: read-only refuses it before anything runs.
        raise ConfigError(
            "--publish: read-only mode (--read-only or [ui] read_only) never writes to "
            "GitHub or Slack; drop --publish to write the file only"
        )
    if (
        args.publish
        and not demo
        and not (handover_repo(settings) or settings.handover.slack_webhook)
    ):
        raise ConfigError(
            "--publish: nowhere to publish to; set [handover] publish_repo (or [github] "
            "handover_repo) and/or [handover] slack_webhook"
        )
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ConfigError(
            f"--out: {args.out} exists and a handover never overwrites a file; "
            "give a new file name, or a directory"
        )
    simulator = None
    if demo:
        from oncall_tui.demo import start_demo

        simulator, settings = start_demo(settings, clock)
    journal = _open_journal(demo)
    sources = build_sources(settings, clock)
    try:
        results = asyncio.run(_poll_once(sources))
        for name, result in results.items():
            if isinstance(result, str):
                print(
                    f"oncall-tui: {name}: {result}; the handover uses the journal alone for it",
                    file=sys.stderr,
                )
        snapshots = {n: r if isinstance(r, Snapshot) else None for n, r in results.items()}
        now = clock.now()
        view = read_journal(journal, settings, now, since)
        text = render_markdown(build_handover(view, snapshots, settings, now, since))
        try:
            path = export(text, args.out, now=now.astimezone(settings.shift.tz))
        except PublishError as exc:
            raise ConfigError(str(exc)) from None
        print(path)
        failed = False
        if args.publish:
            targets = []
            if handover_repo(settings):
                targets.append("github")
            if settings.handover.slack_webhook is not None:
                targets.append("slack")
            for target in targets:
                try:
                    if target == "github":
                        print(publish_github(text, settings))
                    else:
                        publish_slack(text, settings.handover.slack_webhook)
                        print("oncall-tui: posted to Slack", file=sys.stderr)
                except PublishError as exc:
                    print(f"oncall-tui: publish to {target}: {exc}", file=sys.stderr)
                    failed = True
    finally:
        journal.close()
        _release(sources, simulator)
    return EXIT_SOURCE_FAILED if failed else EXIT_OK


def _release(sources: Mapping[str, Source], simulator: Simulator | None) -> None:
    """Close the sources' clients and stop the demo's simulator, if any."""
    for source in sources.values():
        source.close()
    if simulator is not None:
        simulator.stop()


def _shift(settings: Settings, *, demo: bool, args: argparse.Namespace) -> int:
    clock = SystemClock()
    now = clock.now()
    at = _moment(args.at, settings, "--at", now) if args.at else now
    zone = settings.shift.tz

    def when(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")

    journal = _open_journal(demo)
    try:
        current = journal.current_shift()
        if args.shift_command == "start":
            if current is not None and current.ended_at is None and at < current.started_at:
                raise ConfigError(
                    f"--at: the open shift started {when(current.started_at)}, after "
                    f"{when(at)}; end it first or give a later time"
                )
            shift = journal.start_shift(
                at,
                engineer=args.engineer or settings.shift.engineer,
                secondary=args.secondary or settings.shift.secondary,
                incoming=args.incoming or settings.shift.incoming,
            )
            who = [shift.engineer or "engineer not set ([shift] engineer or --engineer)"]
            if shift.secondary:
                who.append(f"secondary {shift.secondary}")
            if shift.incoming:
                who.append(f"incoming {shift.incoming}")
            print(f"shift started {when(at)}: {'; '.join(who)}")
            return EXIT_OK
        if current is None or current.ended_at is not None:
            raise ConfigError("shift end: no shift is open; `oncall-tui shift start` begins one")
        if at < current.started_at:
            raise ConfigError(
                f"--at: {when(at)} is before the shift started ({when(current.started_at)})"
            )
        journal.end_shift(at)
        print(f"shift ended {when(at)} (started {when(current.started_at)})")
        return EXIT_OK
    finally:
        journal.close()


# -- simulate ----------------------------------------------------------------------------


def _simulate(args: argparse.Namespace) -> int:
    from oncall_tui.simulator import run_standalone
    from oncall_tui.simulator.scenarios import resolve_scenario

    try:
        resolve_scenario(args.scenario)
    except ValueError as exc:
        print(f"oncall-tui: --scenario: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if not 0 <= args.port <= 65535:
        print("oncall-tui: --port must be between 0 and 65535", file=sys.stderr)
        return EXIT_BAD_CONFIG
    return run_standalone(args.port, args.scenario, args.write_config, args.seed)
