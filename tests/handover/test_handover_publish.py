"""Exporting and publishing: files are never overwritten; the GitHub comment lands on the
newest matching open issue of the simulator (every request and answer validated against
GitHub's description); Slack gets `{"text": ...}`; no error ever shows a secret."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from github_spec import validate_github_exchange  # noqa: E402
from handover_story import NOW  # noqa: E402

from oncall_tui.config import HandoverSettings, Secret, Settings  # noqa: E402
from oncall_tui.demo import demo_settings  # noqa: E402
from oncall_tui.domain.clock import FakeClock  # noqa: E402
from oncall_tui.handover import PublishError, export, publish_github, publish_slack  # noqa: E402
from oncall_tui.handover.publish import handover_issue_regex, slack_text  # noqa: E402
from oncall_tui.simulator import Simulator  # noqa: E402
from oncall_tui.simulator.github_world import ME  # noqa: E402

CANARY = "canary-token-5c1d0e77ab"
WEBHOOK_CANARY = "T0CANARY/B0CANARY/xoxsecret0451"
TEXT = "# On-call handover: Jane Doe → Alex Kim\n\n- **Incoming:** Alex Kim\n"


# -- export --------------------------------------------------------------------------------


def test_export_to_the_handovers_dir_with_a_timestamped_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = export(TEXT, now=NOW)
    assert path == tmp_path / "data" / "oncall-tui" / "handovers" / "handover-2025-03-04-084500.md"
    assert path.read_text(encoding="utf-8") == TEXT


def test_export_never_overwrites(tmp_path: Path) -> None:
    first = export("one\n", tmp_path, now=NOW)
    second = export("two\n", tmp_path, now=NOW)
    third = export("three\n", tmp_path, now=NOW)
    assert [p.name for p in (first, second, third)] == [
        "handover-2025-03-04-084500.md",
        "handover-2025-03-04-084500-2.md",
        "handover-2025-03-04-084500-3.md",
    ]
    assert [p.read_text() for p in (first, second, third)] == ["one\n", "two\n", "three\n"]


def test_export_to_a_chosen_file_refuses_an_existing_one(tmp_path: Path) -> None:
    chosen = tmp_path / "deep" / "er" / "handover.md"
    assert export(TEXT, chosen) == chosen
    assert chosen.read_text(encoding="utf-8") == TEXT
    with pytest.raises(PublishError, match="never overwrites"):
        export("other\n", chosen)
    assert chosen.read_text(encoding="utf-8") == TEXT


def test_export_failure_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PublishError) as caught:
        export(TEXT, blocker / "sub" / "h.md")
    assert "\n" not in str(caught.value)
    assert "cannot create" in str(caught.value)


# -- GitHub --------------------------------------------------------------------------------


def settings_for(sim: Simulator) -> Settings:
    return demo_settings(Settings(), sim)


def github_exchanges(sim: Simulator) -> list[Any]:
    found = [e for e in sim.exchanges if e.request.provider == "github"]
    for exchange in found:
        validate_github_exchange(exchange)
    return found


def sim_state(sim: Simulator) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=str(sim.ca_pem_path))
    response = httpx.get(f"{sim.url}/_sim/state", verify=context)
    response.raise_for_status()
    return dict(response.json())


def test_publish_github_comments_on_the_newest_matching_issue(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    settings = settings_for(simulator)
    repo_name = settings.github.handover_repo
    world = simulator.world.github
    repo = world.repositories[repo_name]
    # A newer issue that does not match, and a newer one that does (sprint 43).
    world.create_issue(repo, ME, "Flaky test in CI", "", (), sim_clock.now())
    newest = world.create_issue(
        repo, ME, "On call for Sprint 43", "", ("on-call",), sim_clock.now() + timedelta(hours=1)
    )
    world.create_issue(repo, ME, "Not on call for Sprint 44 at all", "", (), sim_clock.now())
    simulator.clear_exchanges()

    url = publish_github(TEXT, settings)

    assert url.endswith(f"/{repo_name}/issues/{newest.number}#issuecomment-{newest.comments[0].id}")
    assert newest.comments[0].body == TEXT
    comments = [c for c in sim_state(simulator)["github"]["comments"] if c["kind"] == "issue"]
    assert [(c["number"], c["body"]) for c in comments] == [(newest.number, TEXT)]
    exchanges = github_exchanges(simulator)
    assert [(e.request.method, e.response.status) for e in exchanges] == [
        ("GET", 200),
        ("POST", 201),
    ]
    listing = exchanges[0].request
    assert listing.path == f"/repos/{repo_name}/issues"
    assert listing.query["state"] == ["open"]
    assert listing.query["sort"] == ["created"]
    assert json.loads(exchanges[1].request.body) == {"body": TEXT}


def test_publish_github_finds_the_seeded_sprint_issue(simulator: Simulator) -> None:
    settings = settings_for(simulator)
    url = publish_github(TEXT, settings)
    issues = simulator.world.github.issues_of(settings.github.handover_repo)
    sprint = next(i for i in issues if i.title == "On call for Sprint 42")
    assert url.endswith(f"/issues/{sprint.number}#issuecomment-{sprint.comments[0].id}")
    github_exchanges(simulator)


def test_publish_repo_overrides_the_github_handover_repo(simulator: Simulator) -> None:
    settings = settings_for(simulator)
    other = simulator.world.github.repository_names()[1]
    settings = replace(settings, handover=HandoverSettings(publish_repo=other))
    with pytest.raises(PublishError) as caught:
        publish_github(TEXT, settings)
    message = str(caught.value)
    assert message == (
        f"no open issue in {other} is titled like 'On call for Sprint N'; open the sprint's "
        "issue first, or fix [github] handover_issue_pattern"
    )
    github_exchanges(simulator)


def test_publish_github_needs_a_repository_and_a_token() -> None:
    with pytest.raises(PublishError, match=r"set \[handover\] publish_repo"):
        publish_github(TEXT, Settings())
    settings = replace(Settings(), handover=HandoverSettings(publish_repo="benefits/on-call"))
    with pytest.raises(PublishError, match="no token"):
        publish_github(TEXT, settings)


def test_publish_github_refuses_a_comment_github_would_refuse(simulator: Simulator) -> None:
    with pytest.raises(PublishError, match="at most 65,536"):
        publish_github("x" * 70_000, settings_for(simulator))
    assert not [e for e in simulator.exchanges if e.request.provider == "github"]


def test_publish_github_errors_never_show_the_token(simulator: Simulator) -> None:
    settings = settings_for(simulator)
    bad = replace(settings, github=replace(settings.github, token=Secret(CANARY)))
    with pytest.raises(PublishError) as caught:
        publish_github(TEXT, bad)
    assert str(caught.value).startswith("GitHub refused the token (401")
    missing = replace(settings, handover=HandoverSettings(publish_repo="benefits/nope"))
    with pytest.raises(PublishError) as missing_caught:
        publish_github(TEXT, missing)
    assert "404" in str(missing_caught.value)
    down = replace(
        settings,
        github=replace(settings.github, token=Secret(CANARY), base_url="https://127.0.0.1:9"),
    )
    with pytest.raises(PublishError) as down_caught:
        publish_github(TEXT, down)
    assert "cannot reach GitHub" in str(down_caught.value)
    for error in (caught.value, missing_caught.value, down_caught.value):
        for text in (str(error), repr(error)):
            assert CANARY not in text
            assert "\n" not in text
        assert error.__cause__ is None and error.__suppress_context__


def test_issue_title_pattern() -> None:
    title = handover_issue_regex("On call for Sprint {n}")
    assert title.fullmatch("On call for Sprint 42")
    assert title.fullmatch("on call for sprint 7")
    assert not title.fullmatch("On call for Sprint N")
    assert not title.fullmatch("Re: On call for Sprint 42")
    braces = handover_issue_regex("{{team}} rota #{n} (on call)")
    assert braces.fullmatch("{team} rota #12 (on call)")


# -- Slack ---------------------------------------------------------------------------------


class _Slack(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []
    answer: tuple[int, bytes] = (200, b"ok")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).received.append((self.path, dict(self.headers), body))
        status, text = type(self).answer
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slack() -> Iterator[tuple[str, type[_Slack]]]:
    handler = type("Slack", (_Slack,), {"received": [], "answer": (200, b"ok")})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/{WEBHOOK_CANARY}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_publish_slack_posts_text(slack: tuple[str, type[_Slack]]) -> None:
    url, handler = slack
    publish_slack(TEXT + "- [PR](https://x/1) & <b>\n", Secret(url))
    [(path, headers, body)] = handler.received
    assert path == f"/services/{WEBHOOK_CANARY}"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "text": "*On-call handover: Jane Doe → Alex Kim*\n\n- *Incoming:* Alex Kim\n"
        "- <https://x/1|PR> &amp; &lt;b&gt;"
    }


def test_publish_slack_errors_never_show_the_webhook(slack: tuple[str, type[_Slack]]) -> None:
    url, handler = slack
    handler.answer = (404, f"no_service {url}".encode())
    with pytest.raises(PublishError) as refused:
        publish_slack(TEXT, Secret(url))
    assert str(refused.value) == "Slack refused the handover (404: no_service [webhook])"
    with pytest.raises(PublishError) as unreachable:
        publish_slack(TEXT, f"http://127.0.0.1:9/services/{WEBHOOK_CANARY}")
    assert str(unreachable.value) == "cannot reach the Slack webhook (ConnectError)"
    with pytest.raises(PublishError) as unset:
        publish_slack(TEXT, None)
    assert "ONCALL_SLACK_WEBHOOK" in str(unset.value)
    for error in (refused.value, unreachable.value, unset.value):
        assert WEBHOOK_CANARY not in str(error) and WEBHOOK_CANARY not in repr(error)
        assert error.__cause__ is None


def test_slack_text() -> None:
    markdown = (
        "# Title\n\n## Section (2)\n\n- **SEV1 · triggered** [#1 a \\[b\\] | c](https://pd/1)\n"
        "> No current data\n- `abc1234` a < b\n"
    )
    assert slack_text(markdown) == (
        "*Title*\n\n*Section (2)*\n\n- *SEV1 · triggered* <https://pd/1|#1 a [b] / c>\n"
        "> No current data\n- `abc1234` a &lt; b"
    )
    long = "\n".join(f"- line {i}" for i in range(10_000))
    cut = slack_text(long)
    assert len(cut) < 40_000
    assert cut.endswith("… (cut short: see the full handover)")
