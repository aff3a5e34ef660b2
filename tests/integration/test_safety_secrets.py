"""The secrets canary sweep (issue 7, item 5): no secret ever shows or is stored.

A simulator that accepts only canary values (one per secret: the PagerDuty token, the
Datadog API and application keys, the GitHub token, and a Slack webhook on a local receiver)
is driven through everything that prints or stores text: the headless cockpit (writes,
401 and 500 faults, detail views, timeline, help, handover export and publish, screenshots,
notifications) with the real log file at DEBUG, the CLI (`status` plain, `--json`,
`--format tmux`, `handover`, `handover --publish`), and the sources' own errors (401, 500,
connection refused, untrusted certificate). Then every place is searched for every canary,
as is and in the forms a leak takes on the way out: URL-encoded (a webhook in a URL) and
base64 at each alignment (a Basic auth header, a token inside a longer encoded string);
text places also for the 4-character tail SDK messages like to quote.

A leak fails with "<which secret> (<form>) in <place>", never the value itself. Each test
also checks that its places really hold text (the log has SDK debug lines, the screenshots
show the panes), so an empty sweep cannot pass, and `test_the_sweep_catches_planted_canaries`
shows the search finds what it looks for.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
import socket
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from tests.ui.test_cockpit import SIZE, until
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Static

from oncall_tui import logs
from oncall_tui.cli import main, secret_values
from oncall_tui.config import HandoverSettings, Secret, Settings, locations
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Deploy
from oncall_tui.handover import PublishError, publish_github, publish_slack
from oncall_tui.simulator import Simulator, World
from oncall_tui.simulator.datadog import DatadogApp
from oncall_tui.simulator.github import GitHubApp
from oncall_tui.simulator.pagerduty import PagerDutyApp
from oncall_tui.simulator.server import write_config_file
from oncall_tui.sources.base import Source, SourceError
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import JOURNAL_FILE, Journal
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.actions import ConfirmScreen, MuteScreen, NoteScreen
from oncall_tui.ui.screens.handover import HandoverScreen
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.screens.item_detail import ItemDetailScreen
from oncall_tui.ui.screens.page_detail import PageDetailScreen
from oncall_tui.ui.screens.timeline import TimelineScreen

# "+" and "/" make the URL-encoded forms differ from the plain one.
CANARIES: dict[str, str] = {
    "PagerDuty token": "canary-pd-7f3a+9c1e/5b2dKqWz",
    "Datadog API key": "canary-ddapi-4b8e+2d6f/0a1cMvXr",
    "Datadog application key": "canary-ddapp-9e7c+3a5b/1d2fJtLp",
    "GitHub token": "canary-gh-2c6e+8a0b/4d9fYhNs",
    "Slack webhook": "canary-slack-5a1f+7c3e/9b0dRgUk",
}
LOUD_LOGGERS = ("httpx", "httpx2", "httpcore", "urllib3", "datadog_api_client", "github")

Places = dict[str, "str | bytes"]


# -- the search ----------------------------------------------------------------------------


def _upper_to_lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def forms(secret: str) -> dict[str, str]:
    """The secret as it would look leaked: plain, URL-encoded, base64 at every alignment."""
    found = {"as is": secret}
    for name, encoded in (
        ("URL-encoded", quote(secret, safe="")),
        ("form-encoded", quote_plus(secret)),
    ):
        found[name] = encoded
        found[f"{name}, lower-case escapes"] = _upper_to_lower_escapes(encoded)
    raw = secret.encode()
    for shift in range(3):
        for name, encode in (
            ("base64", base64.b64encode),
            ("URL-safe base64", base64.urlsafe_b64encode),
        ):
            encoded = encode(b"\0" * shift + raw).decode()
            # Only the characters made of the secret's bits alone: whatever came before or
            # after it in the encoded string cannot change them.
            first = -(-8 * shift // 6)
            last = 8 * (shift + len(raw)) // 6
            found[f"{name}, offset {shift}"] = encoded[first:last]
    assert all(len(value) >= 20 for value in found.values())
    return found


def leaks(places: Mapping[str, str | bytes]) -> list[str]:
    """'<secret> (<form>) in <place>' for every canary found; never the canary itself.

    Text places are also searched for each canary's last four characters.
    """
    found = []
    for place, content in places.items():
        for secret_name, secret in CANARIES.items():
            needles = dict(forms(secret))
            if isinstance(content, str):
                needles["its last 4 characters"] = secret[-4:]
                haystack: str | bytes = content
            else:
                haystack = content
            for form, needle in needles.items():
                wanted: str | bytes = needle if isinstance(content, str) else needle.encode()
                if wanted in haystack:  # type: ignore[operator]
                    found.append(f"{secret_name} ({form}) in {place}")
    return found


def assert_no_leaks(places: Mapping[str, str | bytes]) -> None:
    found = leaks(places)
    assert not found, "secrets leaked: " + "; ".join(found)


def require(condition: object, what: str) -> None:
    """`assert`, minus pytest's display of the values compared: they may hold a canary."""
    if not condition:
        pytest.fail(what, pytrace=False)


def test_the_sweep_catches_planted_canaries() -> None:
    token = CANARIES["GitHub token"]
    webhook = f"https://hooks.slack.com/services/T0/B0/{CANARIES['Slack webhook']}"
    user = "x-access-token:"
    basic = base64.b64encode(f"{user}{token}".encode()).decode()
    scratch: dict[str, str | bytes] = {
        "a log line": f"GET /user Authorization: token {token} ==> 200",
        "a Basic auth header": f"Authorization: Basic {basic}",
        "a shifted base64 blob": base64.b64encode(
            b"ab" + CANARIES["PagerDuty token"].encode()
        ).decode(),
        "a URL-safe base64 blob": base64.urlsafe_b64encode(
            b"a" + CANARIES["Datadog API key"].encode()
        ).decode(),
        "an encoded redirect": f"/login?next={quote(webhook, safe='')}",
        "a lower-case encoded form": _upper_to_lower_escapes(
            quote_plus(CANARIES["Datadog application key"])
        ),
        "a quoted tail": "key ending in ..." + CANARIES["PagerDuty token"][-4:],
        "SQLite bytes": b"\x00\x01" + token.encode() + b"\x00",
        "a clean text": "nothing to see: canary- pd 7f3a",
    }
    found = leaks(scratch)
    assert "GitHub token (as is) in a log line" in found
    assert f"GitHub token (base64, offset {len(user) % 3}) in a Basic auth header" in found
    assert "PagerDuty token (base64, offset 2) in a shifted base64 blob" in found
    assert "Datadog API key (URL-safe base64, offset 1) in a URL-safe base64 blob" in found
    assert "Slack webhook (URL-encoded) in an encoded redirect" in found
    assert (
        "Datadog application key (form-encoded, lower-case escapes) in a lower-case encoded form"
        in found
    )
    assert "PagerDuty token (its last 4 characters) in a quoted tail" in found
    assert "GitHub token (as is) in SQLite bytes" in found
    assert not [f for f in found if f.endswith(" in a clean text")]
    with pytest.raises(AssertionError) as caught:
        assert_no_leaks(scratch)
    message = str(caught.value)
    assert "a Basic auth header" in message
    for secret in CANARIES.values():
        for form in forms(secret).values():
            assert form not in message, "the failure message never shows a canary"


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def canary_simulator() -> Iterator[Simulator]:
    """A simulator (seed 7, fake clock) that accepts the canaries and nothing else."""
    world = World(seed=7, clock=FakeClock(), scenario="default")
    tokens = {
        "pagerduty": CANARIES["PagerDuty token"],
        "datadog": CANARIES["Datadog API key"],
        "github": CANARIES["GitHub token"],
    }
    apps = [PagerDutyApp(), DatadogApp(app_key=CANARIES["Datadog application key"]), GitHubApp()]
    with Simulator(world, tokens=tokens, apps=apps) as sim:  # type: ignore[list-item]
        yield sim


class _SlackReceiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]]

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


@pytest.fixture
def slack() -> Iterator[tuple[Secret, list[tuple[str, bytes]]]]:
    """A Slack incoming webhook on 127.0.0.1 whose URL holds the Slack canary."""
    handler = type("Slack", (_SlackReceiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T0SAFE/B0SAFE/"
    try:
        yield Secret(url + CANARIES["Slack webhook"]), handler.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class DebugLog:
    """The real log file at DEBUG, the SDKs' loggers at DEBUG too, and a copy of every
    formatted (redacted) line, since the file rotates at 2 MB and PyGithub logs bodies."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.path: Path | None = None

    def configure(self, settings: Settings) -> Path:
        """Call it again after building sources: Datadog's `Configuration` quietens its own."""
        self.path = logs.configure(
            locations().cache_dir, secret_values(settings), level=logging.DEBUG
        )
        root = logging.getLogger()
        tap = logging.Handler()
        tap.setFormatter(root.handlers[0].formatter)
        tap.emit = lambda record: self.lines.append(tap.format(record))  # type: ignore[method-assign]
        root.addHandler(tap)
        for name in LOUD_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        return self.path

    def text(self) -> str:
        """Every log file (rotated ones too), then every line as formatted."""
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert self.path is not None
        files = sorted(self.path.parent.glob(f"{logs.LOG_NAME}*"), reverse=True)
        return "".join(f.read_text(encoding="utf-8") for f in files) + "\n".join(self.lines)


@pytest.fixture
def debug_log(restore_logging: None) -> Iterator[DebugLog]:
    levels = {name: logging.getLogger(name).level for name in LOUD_LOGGERS}
    handlers = list(logging.getLogger("github").handlers)
    yield DebugLog()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler in handlers:  # PyGithub's own, which `logs.configure` takes away
        if handler not in logging.getLogger("github").handlers:
            logging.getLogger("github").addHandler(handler)


def canary_settings(simulator: Simulator, webhook: Secret) -> Settings:
    settings = demo_settings(Settings(handover=HandoverSettings(slack_webhook=webhook)), simulator)
    expected = [*(v for k, v in CANARIES.items() if k != "Slack webhook"), webhook.reveal()]
    require(sorted(secret_values(settings)) == sorted(expected), "every secret is a canary")
    return settings


def files_under(root: Path, *, skip: tuple[Path, ...] = ()) -> dict[str, bytes]:
    """Every file below `root` (journal, its WAL, the log, ui state, handovers ...)."""
    return {
        f"file {path.relative_to(root)}": path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path not in skip
    }


def error_text(exc: BaseException) -> str:
    """What an error can show: message, repr, args, and the traceback as it would print."""
    return "\n".join(
        [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    )


def svg_text(svg: str) -> str:
    return html.unescape(svg).replace("\xa0", " ")


# -- the SDKs' own console handlers --------------------------------------------------------


@pytest.mark.usefixtures("isolated", "debug_log")
def test_an_sdk_log_record_reaches_the_redacted_file_only() -> None:
    """PyGithub puts a stderr handler on the "github" logger when it is imported: its
    records went to the terminal, unredacted, beside the redacted file."""
    import github

    sdk = logging.getLogger("github")
    assert github.Github
    terminal = io.StringIO()
    console = logging.StreamHandler(terminal)  # what `import github` does, on a stream we see
    sdk.addHandler(console)
    try:
        token = CANARIES["GitHub token"]
        path = logs.configure(locations().cache_dir, [token])
        logging.getLogger("github.Requester").warning("retrying with token %s", token)
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        sdk.removeHandler(console)
    require(terminal.getvalue() == "", "nothing reached the terminal")
    text = path.read_text(encoding="utf-8")
    require("WARNING github.Requester: retrying with token ****" in text, "the file has it")
    assert_no_leaks({"the log file": text})


# -- the cockpit ---------------------------------------------------------------------------


async def select(
    pilot: Pilot[Any], app: OncallApp, pane_name: str, wanted: Callable[[Any], bool]
) -> Any:
    pane = app.pane(pane_name)
    await pilot.press(str(list(app.panes).index(pane_name) + 1))
    item = next(i for i in pane.items.values() if wanted(i))
    if isinstance(item, Deploy):
        pane.table.move_cursor(
            row=pane.table.get_row_index(item.repo),
            column=pane.table.get_column_index(item.environment),
        )
    else:
        pane.table.move_cursor(row=pane.table.get_row_index(item.key))
    await pilot.pause()
    assert pane.selected == item
    return item


async def test_the_cockpit_never_shows_or_stores_a_secret(
    canary_simulator: Simulator,
    slack: tuple[Secret, list[tuple[str, bytes]]],
    isolated: Path,
    debug_log: DebugLog,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sim = canary_simulator
    clock = sim.world.clock
    assert isinstance(clock, FakeClock)
    webhook, slack_posts = slack
    settings = canary_settings(sim, webhook)
    locs = locations()
    sources = build_sources(settings, clock)
    debug_log.configure(settings)
    journal = Journal.open(locs.data_dir / JOURNAL_FILE)
    app = OncallApp(
        settings,
        sources,
        clock,
        journal=journal,
        state_file=locs.state_file,
        user_themes_dir=locs.themes_dir,
        data_dir=locs.data_dir,
    )
    notes: list[Notify] = []
    shots: dict[str, str] = {}
    places: Places = {}

    def hook(message: object) -> None:
        if isinstance(message, Notify):
            notes.append(message)

    def outbox_settled() -> bool:
        return app.journal.open_outbox() == [] and bool(app.journal.recent_outbox())

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await until(pilot, lambda: all(p.freshness.last_success for p in app.pollers.values()))
        shots["the cockpit"] = app.export_screenshot()

        # Writes through the outbox, each one landing.
        await select(pilot, app, "pages", lambda p: p.status == "triggered")
        await pilot.press("a")
        await until(pilot, outbox_settled)
        await select(pilot, app, "pages", lambda p: p.status == "acknowledged")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteScreen))
        await pilot.press(*"on it", "ctrl+s")
        await until(pilot, lambda: outbox_settled() and len(app.journal.recent_outbox()) == 2)
        await select(pilot, app, "monitors", lambda m: not m.muted)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MuteScreen))
        await pilot.press(*"noisy", "enter")
        await until(pilot, lambda: outbox_settled() and len(app.journal.recent_outbox()) == 3)
        await select(pilot, app, "dependabot", lambda p: p.review != "approved")
        await pilot.press("v")
        await until(pilot, lambda: outbox_settled() and len(app.journal.recent_outbox()) == 4)
        await pilot.press("y")  # copy the URL: a notification
        await select(pilot, app, "deploys", lambda d: d.deploy_state == "failure")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteScreen))
        await pilot.press(*"watch", "ctrl+s")  # a journal-only annotation

        # A write refused with 401: the outbox keeps it, with Datadog's words, and says so.
        sim.set_fault("datadog", "401")
        await select(pilot, app, "monitors", lambda m: bool(m.downtime_ids))
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: any("not applied yet" in n.notification.message for n in notes))
        # Polls failing with 401 (PagerDuty) and 500 (GitHub): freshness lines show them.
        sim.set_fault("pagerduty", "401")
        sim.set_fault("github", "500")
        await pilot.press("r")
        for name in ("pages", "monitors", "deploys", "dependabot"):
            pane = app.pane(name)
            await until(pilot, lambda pane=pane: "⚠" in str(pane.border_subtitle))
        shots["the cockpit with failing sources"] = app.export_screenshot()
        sim.clear_faults()
        await pilot.press("r")
        await until(pilot, lambda: all(not p.freshness.last_error for p in app.pollers.values()))

        # Every kind of detail view.
        await select(pilot, app, "pages", lambda p: p.status == "acknowledged")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PageDetailScreen))
        log_widget = app.screen.query_one("#detail-log", Static)
        await until(pilot, lambda: "loading" not in str(log_widget.content))
        shots["a page's detail"] = app.export_screenshot()
        await pilot.press("escape")
        for name, wanted in (
            ("monitors", lambda m: True),
            ("deploys", lambda d: d.origin == "workflow" and d.deploy_state == "failure"),
            ("dependabot", lambda p: True),
        ):
            await select(pilot, app, name, wanted)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ItemDetailScreen))
            extra = app.screen.query("#detail-extra")
            if extra:
                await until(
                    pilot, lambda extra=extra: "loading" not in str(extra.first(Static).content)
                )
            shots[f"a {name} item's detail"] = app.export_screenshot()
            await pilot.press("escape")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen))
        shots["the timeline"] = app.export_screenshot()
        await pilot.press("escape")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shots["help"] = app.export_screenshot()
        await pilot.press("escape")

        # The handover: exported and published (GitHub comment and Slack post).
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HandoverScreen))
        status = app.screen.query_one("#handover-status", Static)
        await pilot.press("ctrl+e")
        await until(pilot, lambda: str(status.content).startswith("exported to"))
        await pilot.press("ctrl+g")
        await until(pilot, lambda: str(status.content).startswith("published: https://"))
        shots["the handover"] = app.export_screenshot()
        await pilot.press("escape")

        places["the outbox rows"] = "\n".join(repr(e) for e in app.journal.recent_outbox())
        places["the annotations"] = "\n".join(repr(a) for a in app.journal.annotations())
        places["the journal's events"] = "\n".join(repr(e) for e in app.journal.events())
        places["the handover draft"] = app.journal.load_draft("handover") or ""
    journal.close()
    for source in sources.values():
        source.close()

    # What the sweep looks at really holds text from each place.
    log_text = debug_log.text()
    loggers = set(re.findall(r" DEBUG ([\w.]+): ", log_text))
    require(
        {"github.Requester", "pagerduty.api_client", "datadog_api_client.rest"} <= loggers,
        f"the log has the SDKs' debug lines (it has {sorted(loggers)})",
    )
    require("token (oauth token removed)" in log_text, "PyGithub logged its request headers")
    require(places["the journal's events"] and places["the handover draft"], "journal rows")
    rows = str(places["the outbox rows"])
    require(rows.count("state='done'") == 4, "four writes landed")
    require("Datadog refused the keys (" in rows, "the refused write kept Datadog's words")
    texts = {name: svg_text(svg) for name, svg in shots.items()}
    for pane_title in ("Pages", "Monitors", "Deploys", "Dependabot"):
        require(pane_title in texts["the cockpit"], f"the cockpit shows {pane_title}")
    failing = texts["the cockpit with failing sources"]
    require("PagerDuty refused the token (401" in failing, "the 401 is on screen")
    require("(500" in failing, "the 500 is on screen")
    require("published: https://" in texts["the handover"], "the handover was published")
    messages = [f"{n.notification.title}: {n.notification.message}" for n in notes]
    require(any("copied https://" in m for m in messages), "the copy notification")
    require(any("Datadog refused the keys (" in m for m in messages), "the refusal notification")
    require(len(slack_posts) == 1, "one Slack post")
    comments = [c for c in sim.world.snapshot()["github"]["comments"] if c.get("kind") == "issue"]
    require(len(comments) == 1, "the handover was commented on the sprint issue")
    require(len(list((locs.data_dir / "handovers").glob("*.md"))) == 1, "one exported file")
    out, err = capfd.readouterr()
    require(" ==> " not in err + out, "no SDK log line reached the terminal")

    places["the log"] = log_text
    places["notifications"] = "\n".join(messages)
    places.update({f"the screenshot of {name}": svg for name, svg in shots.items()})
    places.update({f"the screenshot text of {name}": text for name, text in texts.items()})
    places["the Slack post"] = slack_posts[0][1]
    places["the GitHub comment"] = json.dumps(comments)
    places["stdout"], places["stderr"] = out, err
    files = files_under(isolated)
    require(f"file xdg_data_home/oncall-tui/{JOURNAL_FILE}" in files, "the journal file")
    require(f"file xdg_cache_home/oncall-tui/{logs.LOG_NAME}" in files, "the log file")
    places.update(files)
    assert_no_leaks(places)


# -- the command line ----------------------------------------------------------------------


@pytest.mark.usefixtures("restore_logging")
def test_the_cli_never_prints_or_stores_a_secret(
    canary_simulator: Simulator,
    slack: tuple[Secret, list[tuple[str, bytes]]],
    isolated: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim = canary_simulator
    webhook, slack_posts = slack
    config, _ = write_config_file(sim, tmp_path / "config" / "config.toml")
    repo = sim.world.github.repository_names()[0]
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            f'handover_repo = "{repo}"\n\n[handover]\nslack_webhook = "{webhook.reveal()}"\n'
        )
    require(all(value in config.read_text() for value in CANARIES.values()), "canary config")
    base = ["--config", str(config)]
    outputs: Places = {}

    def run(name: str, argv: list[str], expected: int) -> str:
        code = main([*base, *argv])
        out, err = capsys.readouterr()
        require(code == expected, f"{name}: exit {code}, not {expected}")
        outputs[f"`{name}` stdout"], outputs[f"`{name}` stderr"] = out, err
        return out + err

    text = run("status", ["status"], 0)
    require("triggered" in text and "FAILED" not in text, "status lists the pages")
    document = json.loads(run("status --json", ["status", "--json"], 0))
    require(document["sources"]["pages"]["items"], "status --json lists the pages")
    require("PD " in run("status --format tmux", ["status", "--format", "tmux"], 0), "tmux line")
    sim.set_fault("pagerduty", "500")
    sim.set_fault("datadog", "401")
    sim.set_fault("github", "401")
    text = run("status, failing", ["status"], 1)
    require("FAILED: PagerDuty failed on its side (500" in text, "status shows the 500")
    require("Datadog refused the keys" in text, "status shows Datadog's 401")
    require("GitHub refused the token (401" in text, "status shows GitHub's 401")
    failed = json.loads(run("status --json, failing", ["status", "--json"], 1))
    require(failed["sources"]["deploys"]["error"], "status --json has the error")
    tmux = run("status --format tmux, failing", ["status", "--format", "tmux"], 1)
    require("PD err" in tmux, "the tmux line says err")
    sim.clear_faults()
    out_dir = tmp_path / "handovers"
    out_dir.mkdir()
    written = run("handover", ["handover", "--out", str(out_dir)], 0)
    require(written.strip().endswith(".md"), "handover prints the file it wrote")
    published = run("handover --publish", ["handover", "--publish", "--out", str(out_dir)], 0)
    require("posted to Slack" in published and "#issuecomment-" in published, "published")
    require(len(slack_posts) == 1, "one Slack post")
    sim.set_fault("github", "401")
    argv = ["handover", "--publish", "--out", str(out_dir)]
    failing = run("handover --publish, failing", argv, 1)
    require("publish to github: GitHub refused the token (401" in failing, "publish error")

    log_text = (locations().cache_dir / logs.LOG_NAME).read_text(encoding="utf-8")
    require("PagerDuty API server error" in log_text, "the CLI's log has the SDK's error")
    handovers = sorted(out_dir.glob("*.md"))
    require(len(handovers) == 3, "three handover files")
    require(all(p.read_text().startswith("# ") for p in handovers), "handovers are Markdown")
    places: Places = dict(outputs)
    places.update(files_under(isolated))
    places.update(files_under(out_dir))
    places["the Slack post"] = slack_posts[0][1]
    places["the GitHub comments"] = json.dumps(sim.world.snapshot()["github"]["comments"])
    assert_no_leaks(places)


# -- the sources' own errors -----------------------------------------------------------------


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


WRITES: dict[str, tuple[str, list[str], dict[str, object]]] = {
    "pages": ("acknowledge", ["QFOKWG2VOV6NKN"], {}),
    "monitors": ("mute", ["1"], {"scope": None, "end": None, "reason": "x"}),
    "deploys": ("rerun", ["benefits/ee-ep-merge-app:sandbox"], {"repo": "benefits/x", "run_id": 1}),
    "dependabot": ("approve", ["benefits/svc-bgs-api#3"], {}),
}


@pytest.mark.usefixtures("isolated")
def test_source_and_publish_errors_never_quote_a_secret(
    canary_simulator: Simulator,
    slack: tuple[Secret, list[tuple[str, bytes]]],
    debug_log: DebugLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = canary_simulator
    webhook, _ = slack
    good = canary_settings(sim, webhook)
    dead = f"https://127.0.0.1:{closed_port()}"
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    variants: dict[str, Settings] = {
        "401": good,
        "500": good,
        "connection refused": replace(
            good,
            pagerduty=replace(good.pagerduty, base_url=f"{dead}/pagerduty"),
            datadog=replace(good.datadog, base_url=f"{dead}/datadog"),
            github=replace(good.github, base_url=f"{dead}/github"),
        ),
        "untrusted certificate": replace(
            good,
            pagerduty=replace(good.pagerduty, ca_bundle=None),
            datadog=replace(good.datadog, ca_bundle=None),
            github=replace(good.github, ca_bundle=None),
        ),
    }
    places: Places = {}
    messages: dict[str, str] = {}
    for variant, settings in variants.items():
        for provider in ("pagerduty", "datadog", "github"):
            sim.set_fault(provider, variant if variant in ("401", "500") else None)
        sources: dict[str, Source] = build_sources(settings, sim.world.clock)
        debug_log.configure(good)  # after the sources: Datadog's loggers too
        try:
            for pane, source in sources.items():
                calls: dict[str, Callable[[], object]] = {"fetch": source.fetch}
                action, targets, payload = WRITES[pane]
                apply = source.apply  # type: ignore[attr-defined]
                calls[action] = lambda a=apply, x=action, t=targets, p=payload: a(
                    x, t, p, attempt=1
                )
                if pane == "pages":
                    calls["detail"] = lambda s=source: s.detail("QFOKWG2VOV6NKN")  # type: ignore[attr-defined]
                for what, call in calls.items():
                    where = f"{pane} {what} ({variant})"
                    with pytest.raises(SourceError) as caught:
                        call()
                    messages[where] = caught.value.message
                    places[f"the error of {where}"] = error_text(caught.value)
            publishes: dict[str, Callable[[], object]] = {
                "GitHub": lambda s=settings: publish_github("# handover\n", s),
            }
            if variant == "connection refused":
                hook = Secret(f"{dead.replace('https', 'http')}{urlsplit(webhook.reveal()).path}")
                publishes["Slack"] = lambda w=hook: publish_slack("# handover\n", w)
                # Not a usable URL at all (config only checks the scheme and host).
                bad = Secret(webhook.reveal().replace("127.0.0.1:", "127.0.0.1:1:"))
                publishes["Slack, a bad port"] = lambda w=bad: publish_slack("# handover\n", w)
            for where, call in publishes.items():
                with pytest.raises(PublishError) as failed:
                    call()
                places[f"the publish error ({where}, {variant})"] = error_text(failed.value)
                messages[f"publish {where} ({variant})"] = str(failed.value)
        finally:
            for source in sources.values():
                source.close()
    sim.clear_faults()

    # Every failure was reached, and each says what happened in one line.
    require(len(messages) == 4 * (4 * 2 + 1 + 1) + 2, f"{len(messages)} failures reached")
    for where, message in messages.items():
        require(message and "\n" not in message, f"{where}: one line")
    require("refused the token (401" in messages["pages fetch (401)"], "PagerDuty 401")
    require("failed on its side (500" in messages["pages fetch (500)"], "PagerDuty 500")
    require("unreachable" in messages["monitors fetch (connection refused)"], "refused")
    require("certificate" in messages["dependabot fetch (untrusted certificate)"], "TLS")
    bad_port = messages["publish Slack, a bad port (connection refused)"]
    require(bad_port == "the Slack webhook is not a usable URL", "a bad webhook is one line")
    log_text = debug_log.text()
    require("DEBUG github.Requester" in log_text, "PyGithub's debug lines")
    require("PagerDuty API server error" in log_text, "the pagerduty SDK's error line")
    places["the log"] = log_text
    places["the messages"] = "\n".join(messages.values())
    assert_no_leaks(places)
