"""GitHub Dependabot: open Dependabot pull requests across the configured repositories.

`GET /pulls` has no author filter, so the PRs come from one GraphQL search
(`is:pr is:open author:app/dependabot repo:A repo:B ...`, or `org:X`), which also brings
each PR's labels, latest reviews, review decision, mergeability and CI rollup; the same
query reads every listed repository's open Dependabot alerts, linked to the PR that fixes
them. A token that may not read alerts gets a FORBIDDEN error on that field only: the PRs
still come, with the severity unknown. Grouped updates ("Bump the gradle group with 3
updates") need their body; it is asked once per PR and head commit, then remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.models import DependabotPR, Snapshot
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.sources.github._client import GitHubClient, GitHubSourceBase, Refused
from oncall_tui.sources.github._parse import (
    BUMP_RANK,
    ci_state,
    ecosystem,
    is_group_title,
    mergeable,
    parse_title,
    review_state,
    severity,
)
from oncall_tui.sources.github._queries import (
    alerts_query,
    bodies_query,
    dependabot_query,
    search_string,
)

if TYPE_CHECKING:
    from oncall_tui.config import GitHubSettings

DEPENDABOT_LOGINS = frozenset({"dependabot", "dependabot[bot]", "app/dependabot"})
REPOS_PER_SEARCH = 20
"""`repo:` qualifiers per search (GitHub limits a search to 256 characters of text and five
boolean operators; qualifiers are exempt, but a shorter query is a safer query)."""
MAX_PAGES = 10
"""GitHub search stops at 1,000 results (10 pages of 100)."""
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
MERGE_METHODS = ("squash", "merge", "rebase")
CLOCK_SKEW = timedelta(minutes=5)
"""How far GitHub's clock may be behind ours when a retried comment looks for its first try."""
VERBS = {"approve": "approve", "merge": "merge", "comment": "comment on"}


@dataclass(frozen=True, slots=True)
class _Alert:
    package: str
    severity: str | None
    patched: str
    pull_number: int | None


class GitHubDependabotSource(GitHubSourceBase):
    """Open Dependabot PRs, with what is needed to merge them or not; and the actions."""

    name = "dependabot"
    product = "Dependabot"

    def __init__(
        self,
        settings: GitHubSettings,
        clock: Clock,
        *,
        client: GitHubClient | None = None,
        write_spacing: float | None = None,
    ) -> None:
        super().__init__(settings, clock, client=client, write_spacing=write_spacing)
        self._bodies: dict[tuple[str, int, str], str] = {}
        self.alerts_readable: bool | None = None
        """False once GitHub said the token may not read Dependabot alerts."""

    # -- reading -------------------------------------------------------------------------

    def fetch(self) -> Snapshot:
        settings = self._settings
        repositories = [r.name for r in settings.repositories]
        scopes: list[tuple[list[str], list[str]]] = []
        if repositories:
            for start in range(0, len(repositories), REPOS_PER_SEARCH):
                chunk = repositories[start : start + REPOS_PER_SEARCH]
                scopes.append(([f"repo:{name}" for name in chunk], chunk))
        elif settings.org:
            scopes.append(([f"org:{settings.org}"], []))
        else:
            return Snapshot(source=self.name, taken_at=self._clock.now())
        pulls: list[dict[str, Any]] = []
        alerts: dict[str, list[_Alert]] = {}
        truncated = False
        for qualifiers, alert_repos in scopes:
            found, repo_alerts, cut = self._search(search_string(qualifiers), alert_repos)
            pulls.extend(found)
            alerts.update(repo_alerts)
            truncated = truncated or cut
        if not repositories:
            seen = sorted({_repo_of(p) for p in pulls} - set(alerts))
            for start in range(0, len(seen), REPOS_PER_SEARCH):
                alerts.update(self._alerts(seen[start : start + REPOS_PER_SEARCH]))
        self._fill_bodies(pulls)
        items = [self._item(p, alerts.get(_repo_of(p))) for p in pulls if _is_dependabot(p)]
        items.sort(key=_order)
        return Snapshot(
            source=self.name, taken_at=self._clock.now(), items=tuple(items), truncated=truncated
        )

    def _search(
        self, query: str, alert_repos: Sequence[str]
    ) -> tuple[list[dict[str, Any]], dict[str, list[_Alert]], bool]:
        pulls: list[dict[str, Any]] = []
        alerts: dict[str, list[_Alert]] = {}
        after: str | None = None
        for page in range(MAX_PAGES):
            repos = alert_repos if page == 0 else []
            data, errors = self._client.graphql(
                dependabot_query(repos), {"q": query, "after": after}
            )
            search = data.get("search")
            if not isinstance(search, dict) or not isinstance(search.get("nodes"), list):
                raise BadResponse("GitHub GraphQL: the search answer has no nodes")
            pulls.extend(n for n in search["nodes"] if isinstance(n, dict) and n.get("number"))
            if repos:
                alerts.update(self._read_alerts(data, errors, repos))
            info = search.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return pulls, alerts, False
            after = info.get("endCursor")
        return pulls, alerts, True

    def _alerts(self, repositories: Sequence[str]) -> dict[str, list[_Alert]]:
        data, errors = self._client.graphql(alerts_query(repositories))
        return self._read_alerts(data, errors, repositories)

    def _read_alerts(
        self,
        data: Mapping[str, Any],
        errors: Sequence[Mapping[str, Any]],
        repositories: Sequence[str],
    ) -> dict[str, list[_Alert]]:
        forbidden = {
            str(e["path"][0])
            for e in errors
            if e.get("type") == "FORBIDDEN" and isinstance(e.get("path"), list) and e["path"]
        }
        result: dict[str, list[_Alert]] = {}
        for index, full_name in enumerate(repositories):
            alias = f"a{index}"
            node = data.get(alias)
            if alias in forbidden:
                self.alerts_readable = False
                continue
            if not isinstance(node, dict):
                continue  # an unknown repository: the search already said nothing for it
            connection = node.get("vulnerabilityAlerts")
            if not isinstance(connection, dict):
                continue
            self.alerts_readable = True
            found = []
            for alert in connection.get("nodes") or []:
                vulnerability = alert.get("securityVulnerability") or {}
                update = (alert.get("dependabotUpdate") or {}).get("pullRequest") or {}
                found.append(
                    _Alert(
                        package=str((vulnerability.get("package") or {}).get("name") or ""),
                        severity=severity(vulnerability.get("severity")),
                        patched=str(
                            (vulnerability.get("firstPatchedVersion") or {}).get("identifier") or ""
                        ),
                        pull_number=update.get("number"),
                    )
                )
            result[full_name] = found
        return result

    def _fill_bodies(self, pulls: list[dict[str, Any]]) -> None:
        wanted = []
        for pull in pulls:
            if is_group_title(str(pull.get("title") or "")):
                key = (_repo_of(pull), int(pull["number"]), str(pull.get("headRefOid") or ""))
                if key in self._bodies:
                    pull["body"] = self._bodies[key]
                else:
                    wanted.append((pull, key))
        if not wanted:
            return
        data, _ = self._client.graphql(bodies_query([(k[0], k[1]) for _, k in wanted]))
        by_repo: dict[str, Mapping[str, Any]] = {}
        repos = list(dict.fromkeys(k[0] for _, k in wanted))
        for index, full_name in enumerate(repos):
            node = data.get(f"b{index}")
            if isinstance(node, dict):
                by_repo[full_name] = node
        for pull, key in wanted:
            node = by_repo.get(key[0], {}).get(f"p{key[1]}") or {}
            body = str(node.get("body") or "")
            self._bodies[key] = body
            pull["body"] = body

    def _item(self, pull: Mapping[str, Any], alerts: list[_Alert] | None) -> DependabotPR:
        try:
            repo = _repo_of(pull)
            number = int(pull["number"])
            title = str(pull.get("title") or "")
            labels = tuple(
                str(n.get("name")) for n in (pull.get("labels") or {}).get("nodes") or [] if n
            )
            parsed = parse_title(title, str(pull.get("body") or ""))
            commits = (pull.get("commits") or {}).get("nodes") or []
            rollup = None
            if commits:
                rollup = ((commits[-1].get("commit") or {}).get("statusCheckRollup") or {}).get(
                    "state"
                )
            reviews = [
                str(n.get("state"))
                for n in (pull.get("latestReviews") or {}).get("nodes") or []
                if n
            ]
            alert = _matching_alert(alerts or [], number, parsed.package, parsed.to_version)
            security = alert is not None or parsed.security or "security" in labels
            return DependabotPR(
                repo=repo,
                number=number,
                title=title,
                url=str(pull.get("url") or ""),
                package=parsed.package,
                from_version=parsed.from_version,
                to_version=parsed.to_version,
                bump=parsed.bump,
                ecosystem=ecosystem(str(pull.get("headRefName") or ""), labels),
                ci=ci_state(rollup),
                created_at=_when(pull["createdAt"]),
                mergeable=mergeable(pull.get("mergeable")),
                review=review_state(pull.get("reviewDecision"), reviews),
                security=security,
                severity=alert.severity if alert is not None else None,
                head_sha=str(pull.get("headRefOid") or ""),
                base=str(pull.get("baseRefName") or ""),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BadResponse(f"GitHub pull request has an unexpected shape ({exc!r})") from None

    # -- writing (called by the outbox, in a worker thread) ------------------------------

    def apply(
        self, action: str, targets: Sequence[str], payload: Mapping[str, Any], *, attempt: int
    ) -> None:
        """Apply one outbox write to every target pull request (`"owner/repo#N"`).

        - `approve`, `{}`: a PR the token's user already approved is skipped.
        - `merge`, `{"method": "squash"|"merge"|"rebase", "shas": {key: head_sha}}`: with a
          SHA GitHub refuses (409) if the head moved since the engineer looked; a PR that
          is already merged counts as done.
        - `comment`, `{"body": ..., "since": ISO-8601?}`: on a retry, an identical comment
          by the token's user made since `since` (when the write was submitted; without
          it, any time) counts as done.

        Every target is tried: one PR's refusal (a 4xx: conflict, failing check, own PR)
        does not stop the others, and the refusals are raised together at the end as one
        final `SourceError` in GitHub's own words. A transient failure (rate limit, 5xx,
        network, token) is raised at once for the outbox to retry, and the retry skips the
        PRs already done. The client spaces the writes (`WRITE_SPACING`: at most 80
        content-creating requests a minute).
        """
        keys = [_pr_key(target) for target in targets]
        step: Callable[[str, int, str], None]
        if action == "approve":
            step = self._approve_once
        elif action == "merge":
            method = str(payload.get("method") or self._settings.merge_method)
            if method not in MERGE_METHODS:
                raise SourceError(f"GitHub cannot merge by {method!r}: use squash, merge or rebase")
            shas = payload.get("shas") or {}
            if not isinstance(shas, Mapping):
                raise SourceError("merge: 'shas' must map pull request keys to head SHAs")

            def step(repo: str, number: int, key: str) -> None:
                sha = str(shas.get(key) or "")
                self._merge_once(repo, number, key, method, sha, attempt=attempt)

        elif action == "comment":
            body = str(payload.get("body") or "")
            if not body.strip():
                raise SourceError("A comment needs some text")
            since = _since(payload.get("since"))

            def step(repo: str, number: int, key: str) -> None:
                self._comment_once(repo, number, key, body, since, attempt=attempt)

        else:
            raise SourceError(f"Dependabot cannot {action}")
        refused: list[tuple[str, SourceError]] = []
        for repo, number, key in keys:
            try:
                step(repo, number, key)
            except (RateLimited, Unavailable, AuthFailed, BadResponse):
                # Not a refusal: the write may even have landed (an unreadable answer), so
                # the outbox retries, and the retry looks for it first.
                raise
            except SourceError as exc:
                refused.append((key, exc))
        if refused:
            raise _refusal(VERBS[action], len(keys), refused)

    def _approve_once(self, repo: str, number: int, key: str) -> None:
        if not self._approved_by_me(repo, number, key):
            self.approve(repo, number)

    def _approved_by_me(self, repo: str, number: int, key: str) -> bool:
        """Whether the token's user's latest deciding review is an approval."""
        me = self._client.me().lower()

        def read() -> bool:
            latest = ""
            for review in self._client.gh.get_repo(repo).get_pull(number).get_reviews():
                login = review.user.login if review.user is not None else ""
                deciding = review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")
                if login.lower() == me and deciding:
                    latest = review.state
            return latest == "APPROVED"

        return self._client.call(f"reviews of {key}", read)

    def _merge_once(
        self, repo: str, number: int, key: str, method: str, sha: str, *, attempt: int
    ) -> None:
        if attempt > 0 and self._pull(repo, number).get("merged"):
            return
        try:
            self.merge(repo, number, method, sha)
        except Refused as exc:
            # Refused: done if the PR is merged after all (an earlier try, or a teammate);
            # otherwise say why in GitHub's words, and name a conflict as one.
            pull = self._pull(repo, number)
            if pull.get("merged"):
                return
            reason = exc.reason or exc.message
            if pull.get("mergeable_state") == "dirty" and "conflict" not in reason.lower():
                reason = f"{reason} (merge conflict)"
            elif pull.get("state") == "closed":
                reason = f"{reason} (closed without merging)"
            raise Refused(exc.message, status=exc.status, reason=reason) from None

    def _pull(self, repo: str, number: int) -> Mapping[str, Any]:
        pull = self._client.get_json(f"/repos/{repo}/pulls/{number}")
        if not isinstance(pull, dict):
            raise BadResponse(f"GitHub pull request {repo}#{number}: expected an object")
        return pull

    def _comment_once(
        self,
        repo: str,
        number: int,
        key: str,
        body: str,
        since: datetime | None,
        *,
        attempt: int,
    ) -> None:
        if attempt > 0 and self._has_comment(repo, number, key, body, since):
            return
        self.comment(repo, number, body)

    def _has_comment(
        self, repo: str, number: int, key: str, body: str, since: datetime | None
    ) -> bool:
        """Whether the token's user already left this comment (since `since`, give or take
        the clocks' skew)."""
        me = self._client.me().lower()
        after = since - CLOCK_SKEW if since is not None else None
        text = body.strip()

        def read() -> bool:
            issue = self._client.gh.get_repo(repo).get_issue(number)
            comments = (
                issue.get_comments(since=after) if after is not None else issue.get_comments()
            )
            for comment in comments:
                login = comment.user.login if comment.user is not None else ""
                if login.lower() != me or (comment.body or "").strip() != text:
                    continue
                if after is None or comment.created_at >= after:
                    return True
            return False

        return self._client.call(f"comments of {key}", read)

    # -- actions (one pull request each) -------------------------------------------------

    def approve(self, repo: str, number: int, body: str = "") -> None:
        """Approve the pull request (GitHub refuses 422 on your own)."""

        def run() -> None:
            pull = self._client.gh.get_repo(repo).get_pull(number)
            if body:
                pull.create_review(event="APPROVE", body=body)
            else:
                pull.create_review(event="APPROVE")

        self._client.call(f"approval of {repo}#{number}", run)

    def merge(self, repo: str, number: int, method: str | None = None, sha: str = "") -> str:
        """Merge with `method` (default: the configured merge method); returns the merge SHA.

        With `sha`, GitHub refuses (409) if the head moved since the engineer looked.
        """
        chosen = method or self._settings.merge_method

        def run() -> str:
            pull = self._client.gh.get_repo(repo).get_pull(number)
            if sha:
                status = pull.merge(merge_method=chosen, sha=sha)
            else:
                status = pull.merge(merge_method=chosen)
            return str(status.sha or "")

        return self._client.call(f"merge of {repo}#{number}", run)

    def comment(self, repo: str, number: int, body: str) -> str:
        """Comment on the pull request (or issue); returns the comment's URL."""
        if not body.strip():
            raise SourceError("A comment needs some text")

        def run() -> str:
            comment = self._client.gh.get_repo(repo).get_issue(number).create_comment(body)
            return str(comment.html_url or "")

        return self._client.call(f"comment on {repo}#{number}", run)

    def publish_comment(self, repo: str, issue_number: int, body: str) -> str:
        """Post a comment (the handover) on an issue; returns its URL."""
        return self.comment(repo, issue_number, body)


def _pr_key(target: str) -> tuple[str, int, str]:
    """`"owner/repo#N"` as (repo, number, key)."""
    repo, _, number = str(target).strip().rpartition("#")
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name or not number.isdigit():
        raise SourceError(f"not a pull request key (owner/repo#N): {target!r}")
    return repo, int(number), f"{repo}#{int(number)}"


def _since(value: Any) -> datetime | None:
    """The `since` of a comment payload; unreadable counts as absent (any time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _refusal(verb: str, total: int, refused: Sequence[tuple[str, SourceError]]) -> SourceError:
    """One final error for the PRs GitHub refused, each with GitHub's reason."""

    def reason_of(exc: SourceError) -> str:
        return exc.reason if isinstance(exc, Refused) and exc.reason else exc.message

    def why(key: str, exc: SourceError) -> str:
        status = f" ({exc.status})" if exc.status is not None else ""
        return f"{key}{status}: {reason_of(exc)}"

    status = refused[0][1].status
    if total == 1:
        key, exc = refused[0]
        return Refused(
            f"GitHub refused to {verb} {why(key, exc)}", status=status, reason=reason_of(exc)
        )
    reasons = "; ".join(why(key, exc) for key, exc in refused)
    return Refused(
        f"GitHub refused to {verb} {len(refused)} of {total} pull requests: {reasons}",
        status=status,
        reason=reasons,
    )


def _repo_of(pull: Mapping[str, Any]) -> str:
    return str((pull.get("repository") or {}).get("nameWithOwner") or "")


def _is_dependabot(pull: Mapping[str, Any]) -> bool:
    return str((pull.get("author") or {}).get("login") or "").lower() in DEPENDABOT_LOGINS


def _matching_alert(
    alerts: Sequence[_Alert], number: int, package: str, to_version: str
) -> _Alert | None:
    for alert in alerts:
        if alert.pull_number == number:
            return alert
    for alert in alerts:
        if alert.pull_number is None and alert.package == package and alert.patched == to_version:
            return alert
    return None


def _order(pr: DependabotPR) -> tuple[int, int, int, float]:
    """Security updates first (worst severity first), then major bumps, then the oldest."""
    return (
        0 if pr.security else 1,
        SEVERITY_RANK.get(pr.severity or "", 4),
        -BUMP_RANK.get(pr.bump, -1),
        pr.created_at.timestamp(),
    )


def _when(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
