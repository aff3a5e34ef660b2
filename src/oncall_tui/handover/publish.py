"""Where a handover goes: a Markdown file, a comment on the sprint's GitHub issue, Slack.

- `export` writes a new file and never overwrites one: by default in the data directory's
  `handovers/`, named by the moment it was written (`handover-2025-03-04-084500.md`, then
  `-2`, `-3` ... if that exists); an explicit file that exists is refused.
- `publish_github` comments on the newest open issue of the handover repository
  (`[handover] publish_repo`, else `[github] handover_repo`) whose title matches
  `[github] handover_issue_pattern`, `{n}` standing for any number ("On call for Sprint 42").
  It goes through PyGithub's requester (the settings' base URL, CA bundle and token; no
  SDK retries: the engineer is there to press the key again).
- `publish_slack` posts `{"text": ...}` to a Slack incoming webhook with httpx, the Markdown
  turned into Slack's mrkdwn.

Every failure is a `PublishError` with a one-line message that never holds a token or the
webhook URL (the webhook *is* the secret). Publishing writes to GitHub and Slack, so
read-only mode (`--read-only`, `[ui] read_only`) refuses it with `PublishReadOnly`; exporting
a file is still allowed.
"""

from __future__ import annotations

import math
import os
import re
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import github
import httpx
import requests

from oncall_tui.config import Secret, Settings, locations

__all__ = [
    "GITHUB_COMMENT_LIMIT",
    "HANDOVERS_DIR",
    "SLACK_TEXT_LIMIT",
    "PublishError",
    "PublishReadOnly",
    "export",
    "handover_issue_regex",
    "handover_repo",
    "handovers_dir",
    "publish_github",
    "publish_slack",
    "slack_text",
]

HANDOVERS_DIR = "handovers"
GITHUB_COMMENT_LIMIT = 65_536
"""GitHub refuses issue comments longer than this (characters)."""
SLACK_TEXT_LIMIT = 39_000
"""Slack truncates message text past 40,000 characters; stay clear of it."""
ISSUE_PAGES = 3
"""Pages of 100 open issues (newest first) searched for the handover issue."""
USER_AGENT = "oncall-tui"


class PublishError(Exception):
    """Exporting or publishing failed; `str()` is one line, safe to print."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class PublishReadOnly(PublishError):
    """Read-only mode: nothing was published."""

    def __init__(self) -> None:
        super().__init__("read-only mode: the handover was not published (export it instead)")


# -- file ------------------------------------------------------------------------------------


def handovers_dir() -> Path:
    """The data directory's `handovers/` folder (created when the first handover is saved)."""
    return locations().data_dir / HANDOVERS_DIR


def export(markdown: str, target: Path | None = None, *, now: datetime | None = None) -> Path:
    """Write `markdown` to a new file and return its path; never overwrites anything.

    `target` is a directory (the file gets a timestamped name in it; default
    `handovers_dir()`) or a file name (refused if it exists). `now` names the file (in its
    own time zone; default the local time).
    """
    moment = now if now is not None else datetime.now(UTC).astimezone()
    if target is not None:
        target = target.expanduser()
    if target is not None and not target.is_dir():
        if target.exists() or target.is_symlink():
            raise PublishError(
                f"{target} exists and a handover never overwrites a file; "
                "give a new file name, or a directory"
            )
        _make_dir(target.parent)
        try:
            _write_new(target, markdown)
        except FileExistsError:
            raise PublishError(
                f"{target} appeared while writing; give a new file name, or a directory"
            ) from None
        return target
    directory = target if target is not None else handovers_dir()
    _make_dir(directory)
    stem = f"handover-{moment.strftime('%Y-%m-%d-%H%M%S')}"
    for attempt in range(1, 1000):
        path = directory / (f"{stem}.md" if attempt == 1 else f"{stem}-{attempt}.md")
        try:
            _write_new(path, markdown)
        except FileExistsError:
            continue
        return path
    raise PublishError(f"{directory} already holds 999 handovers named {stem}; clean it up")


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(
            f"cannot create {directory}: {exc.strerror or type(exc).__name__}"
        ) from None


def _write_new(path: Path, text: str) -> None:
    """Create `path` (failing if it exists, even in a race) and write `text` durably."""
    try:
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except FileExistsError:
        raise
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None


# -- GitHub ----------------------------------------------------------------------------------


def handover_repo(settings: Settings) -> str:
    """The repository the handover is published to ("" if none is configured)."""
    return settings.handover.publish_repo or settings.github.handover_repo


def handover_issue_regex(pattern: str) -> re.Pattern[str]:
    """The issue-title pattern ("On call for Sprint {n}") as a regex, `{n}` any number."""
    before, _, after = pattern.partition("{n}")
    return re.compile(
        re.escape(_unbrace(before).strip()) + r"\s*(\d+)\s*" + re.escape(_unbrace(after).strip()),
        re.IGNORECASE,
    )


def _unbrace(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def publish_github(markdown: str, settings: Settings) -> str:
    """Comment `markdown` on the handover issue; return the comment's web URL."""
    if settings.ui.read_only:
        raise PublishReadOnly()
    repo = handover_repo(settings)
    if not repo:
        raise PublishError(
            "no repository to publish the handover to: set [handover] publish_repo "
            "or [github] handover_repo"
        )
    config = settings.github
    if config.token is None:
        raise PublishError(
            "cannot publish to GitHub: no token ([github] token, token_command or GITHUB_TOKEN)"
        )
    if len(markdown) > GITHUB_COMMENT_LIMIT:
        raise PublishError(
            f"the handover is {len(markdown):,} characters and a GitHub comment holds at most "
            f"{GITHUB_COMMENT_LIMIT:,}; shorten it, or publish the file instead"
        )
    title = handover_issue_regex(config.handover_issue_pattern)
    verify: bool | str = str(config.ca_bundle) if config.ca_bundle is not None else True
    client = github.Github(
        auth=github.Auth.Token(config.token.reveal()),
        base_url=config.base_url.rstrip("/"),
        verify=verify,
        lazy=True,
        retry=None,
        timeout=max(1, math.ceil(config.timeout)),
        per_page=100,
        user_agent=USER_AGENT,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    requester = client.requester
    try:
        issue = _find_issue(requester, repo, title)
        if issue is None:
            raise PublishError(
                f"no open issue in {repo} is titled like "
                f"'{config.handover_issue_pattern.replace('{n}', 'N')}'; open the sprint's "
                "issue first, or fix [github] handover_issue_pattern"
            )
        _, comment = requester.requestJsonAndCheck(
            "POST", f"/repos/{repo}/issues/{issue}/comments", input={"body": markdown}
        )
    except github.GithubException as exc:
        raise PublishError(_github_problem(exc, repo)) from None
    except requests.exceptions.RequestException as exc:
        raise PublishError(
            f"cannot reach GitHub at {config.base_url} ({type(exc).__name__})"
        ) from None
    finally:
        client.close()
    url = comment.get("html_url") if isinstance(comment, dict) else None
    if not isinstance(url, str) or not url:
        raise PublishError("GitHub accepted the comment but sent no html_url back")
    return url


def _find_issue(requester: Any, repo: str, title: re.Pattern[str]) -> int | None:
    """The number of the newest open issue whose title matches (pull requests skipped)."""
    for page in range(1, ISSUE_PAGES + 1):
        _, data = requester.requestJsonAndCheck(
            "GET",
            f"/repos/{repo}/issues",
            parameters={
                "state": "open",
                "sort": "created",
                "direction": "desc",
                "per_page": 100,
                "page": page,
            },
        )
        if not isinstance(data, list):
            raise PublishError(f"GitHub sent something other than a list of issues for {repo}")
        for issue in data:
            if not isinstance(issue, dict) or issue.get("pull_request"):
                continue
            name = issue.get("title")
            number = issue.get("number")
            if isinstance(name, str) and isinstance(number, int) and title.fullmatch(name.strip()):
                return number
        if len(data) < 100:
            break
    return None


def _github_problem(exc: github.GithubException, repo: str) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.message or "").strip()
    detail = f": {message[:200]}" if message else ""
    if exc.status == 401:
        return f"GitHub refused the token (401{detail}); check [github] token"
    if exc.status == 404:
        return f"GitHub has no repository {repo} this token can see (404{detail})"
    if exc.status in (403, 429):
        return f"GitHub refused or rate-limited the request ({exc.status}{detail}); try later"
    return f"GitHub answered {exc.status}{detail}"


# -- Slack -----------------------------------------------------------------------------------


def publish_slack(
    markdown: str,
    webhook: Secret | str | None,
    *,
    timeout: float = 20.0,
    ca_bundle: Path | None = None,
) -> None:
    """Post the handover to a Slack incoming webhook (`{"text": ...}`, Slack's mrkdwn)."""
    if webhook is None:
        raise PublishError(
            "no Slack webhook: set [handover] slack_webhook, slack_webhook_command "
            "or ONCALL_SLACK_WEBHOOK"
        )
    url = webhook.reveal() if isinstance(webhook, Secret) else webhook
    verify: ssl.SSLContext | bool = True
    if ca_bundle is not None:
        verify = ssl.create_default_context(cafile=str(ca_bundle))
    try:
        with httpx.Client(timeout=timeout, verify=verify, follow_redirects=False) as client:
            response = client.post(
                url, json={"text": slack_text(markdown)}, headers={"User-Agent": USER_AGENT}
            )
    except httpx.HTTPError as exc:
        raise PublishError(f"cannot reach the Slack webhook ({type(exc).__name__})") from None
    except (ValueError, httpx.InvalidURL):  # InvalidURL: a bad port, a control character
        raise PublishError("the Slack webhook is not a usable URL") from None
    if response.status_code != 200:
        body = " ".join(response.text.split())[:120].replace(url, "[webhook]")
        raise PublishError(
            f"Slack refused the handover ({response.status_code}"
            + (f": {body}" if body else "")
            + ")"
        )


_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


def slack_text(markdown: str) -> str:
    """Markdown as Slack mrkdwn: headings and **bold** become *bold*, [text](url) becomes
    <url|text>, and &, <, > are escaped; cut short past Slack's limit."""
    lines = []
    for raw in markdown.splitlines():
        quote = "> " if raw.startswith("> ") else ""
        line = raw.removeprefix(quote)
        line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        heading = _HEADING.match(line)
        if heading:
            line = f"*{heading.group(1).strip()}*"
        line = _BOLD.sub(r"*\1*", line)
        line = _LINK.sub(_slack_link, line)
        lines.append(quote + line)
    text = "\n".join(lines)
    if len(text) > SLACK_TEXT_LIMIT:
        text = text[:SLACK_TEXT_LIMIT].rsplit("\n", 1)[0] + "\n… (cut short: see the full handover)"
    return text


def _slack_link(match: re.Match[str]) -> str:
    label = re.sub(r"\\(.)", r"\1", match.group(1)).replace("|", "/")
    return f"<{match.group(2)}|{label}>"
