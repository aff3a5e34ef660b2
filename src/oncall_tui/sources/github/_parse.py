"""Pure parsing: Dependabot titles and bodies, version bumps, ecosystems, states.

Dependabot writes its pull requests in a handful of shapes (dependabot-core's message
builder), with an optional commit-message prefix in front:

    Bump requests from 2.31.0 to 2.32.0 in /scripts
    chore(deps): bump actions/checkout from 3 to 4
    [Security] Bump urllib3 from 1.26.18 to 1.26.19
    Update pyyaml requirement from <6.1,>=6.0 to >=6.0,<6.2
    Bump actions/checkout from 4.1.0 to 4.2.0 in the github-actions group
    Bump the gradle group across 1 directory with 3 updates      (details in the body:
    Bump the pip group in /app with 2 updates                     "Updates `x` from a to b")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from oncall_tui.domain.models import Bump, CiState, DeployState

_PREFIX = r"(?:\[security\]\s*)?(?:[\w-]+(?:\([\w-]+\))?!?:\s*)?"
_SINGLE = re.compile(
    rf"^{_PREFIX}(?:bump|update)\s+(?P<package>.+?)\s+(?:requirement\s+)?from\s+(?P<from>.+?)"
    r"\s+to\s+(?P<to>\S+?)(?:\s+in\s+the\s+(?P<group>\S+)\s+group)?(?:\s+in\s+(?P<dir>\S+))?"
    r"(?:\s+in\s+the\s+(?P<group2>\S+)\s+group)?\s*$",
    re.IGNORECASE,
)
_GROUP = re.compile(
    rf"^{_PREFIX}bump\s+the\s+(?P<group>\S+)\s+group(?:\s+across\s+\d+\s+director(?:y|ies))?"
    r"(?:\s+in\s+(?P<dir>\S+))?\s+with\s+(?P<count>\d+)\s+updates?\s*$",
    re.IGNORECASE,
)
_BODY_UPDATE = re.compile(
    r"Updates (?:the requirements on )?`?\[?(?P<package>[^`\]\s]+)\]?`?(?:\([^)]*\))?"
    r" (?:from|to permit) (?P<from>\S+?)(?: to (?P<to>\S+?))?\.?\s*$",
    re.MULTILINE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_SECURITY_TITLE = re.compile(r"^\s*\[security\]", re.IGNORECASE)

BUMP_RANK: dict[str, int] = {"unknown": -1, "patch": 0, "minor": 1, "major": 2}

ECOSYSTEM_NAMES: dict[str, str] = {
    "github_actions": "github-actions",
    "npm_and_yarn": "npm",
    "go_modules": "go",
    "gitsubmodule": "git-submodule",
}
"""Dependabot's package-manager names (in branch names) as the pane shows them."""
LABEL_ECOSYSTEMS: dict[str, str] = {
    "github_actions": "github-actions",
    "github-actions": "github-actions",
    "java": "gradle",
    "gradle": "gradle",
    "maven": "maven",
    "python": "pip",
    "pip": "pip",
    "docker": "docker",
    "javascript": "npm",
    "npm": "npm",
    "ruby": "bundler",
    "go": "go",
    "rust": "cargo",
    "terraform": "terraform",
}
"""Dependabot's default labels per ecosystem, for branches that do not name it."""


@dataclass(frozen=True, slots=True)
class ParsedTitle:
    package: str
    from_version: str
    to_version: str
    bump: Bump
    group: str = ""
    updates: int = 1
    directory: str = ""
    security: bool = False


def parse_title(title: str, body: str = "") -> ParsedTitle:
    """Package, versions and bump from a Dependabot title (and, for groups, its body)."""
    security = bool(_SECURITY_TITLE.match(title))
    single = _SINGLE.match(title.strip())
    if single is not None:
        from_version = single["from"]
        to_version = single["to"].rstrip(".")
        return ParsedTitle(
            package=single["package"],
            from_version=from_version,
            to_version=to_version,
            bump=bump_level(from_version, to_version),
            group=single["group"] or single["group2"] or "",
            directory=single["dir"] or "",
            security=security,
        )
    grouped = _GROUP.match(title.strip())
    if grouped is not None:
        updates = [
            (m["package"], m["from"], m["to"] or "") for m in _BODY_UPDATE.finditer(body or "")
        ]
        bump: Bump = "unknown"
        from_version = to_version = ""
        if updates:
            levels = [bump_level(a, b) for _, a, b in updates]
            bump = max(levels, key=BUMP_RANK.__getitem__)
            if len(updates) == 1:
                from_version, to_version = updates[0][1], updates[0][2]
        group = grouped["group"]
        count = int(grouped["count"])
        return ParsedTitle(
            package=f"{group} group ({count})",
            from_version=from_version,
            to_version=to_version,
            bump=bump,
            group=group,
            updates=count,
            directory=grouped["dir"] or "",
            security=security,
        )
    return ParsedTitle(
        package=title.strip(), from_version="", to_version="", bump="unknown", security=security
    )


def is_group_title(title: str) -> bool:
    return _GROUP.match(title.strip()) is not None


def bump_level(from_version: str, to_version: str) -> Bump:
    """patch, minor or major, by the first number that changed; unknown if unreadable."""
    old = _numbers(from_version)
    new = _numbers(to_version)
    if not old or not new:
        return "unknown"
    width = max(len(old), len(new))
    old += [0] * (width - len(old))
    new += [0] * (width - len(new))
    if old == new:
        return "unknown"
    if old[0] != new[0]:
        return "major"
    if width > 1 and old[1] != new[1]:
        return "minor"
    return "patch"


def _numbers(version: str) -> list[int]:
    match = _NUMBER.search(version)
    return [int(part) for part in match.group(0).split(".")] if match else []


def ecosystem(head_ref: str, labels: tuple[str, ...] = ()) -> str:
    """The ecosystem from `dependabot/<ecosystem>/...`, else from Dependabot's labels."""
    parts = head_ref.split("/")
    if len(parts) >= 3 and parts[0] == "dependabot":
        return ECOSYSTEM_NAMES.get(parts[1], parts[1].replace("_", "-"))
    for label in labels:
        found = LABEL_ECOSYSTEMS.get(label.lower())
        if found:
            return found
    return "unknown"


def ci_state(rollup: str | None) -> CiState:
    """GraphQL's `statusCheckRollup.state` (checks and statuses together)."""
    if rollup is None:
        return "none"
    return _CI_STATES.get(rollup.upper(), "none")


_CI_STATES: dict[str, CiState] = {
    "SUCCESS": "success",
    "FAILURE": "failure",
    "ERROR": "failure",
    "PENDING": "pending",
    "EXPECTED": "pending",
}


def review_state(decision: str | None, latest: list[str]) -> str:
    """approved / changes_requested / review_required, or from the latest reviews."""
    if decision:
        return decision.lower()
    states = {s.upper() for s in latest}
    if "CHANGES_REQUESTED" in states:
        return "changes_requested"
    if "APPROVED" in states:
        return "approved"
    if "COMMENTED" in states:
        return "commented"
    return ""


def mergeable(state: str | None) -> bool | None:
    return {"MERGEABLE": True, "CONFLICTING": False}.get((state or "").upper())


SEVERITIES: dict[str, str] = {
    "LOW": "low",
    "MODERATE": "medium",
    "MEDIUM": "medium",
    "HIGH": "high",
    "CRITICAL": "critical",
}


def severity(value: str | None) -> str | None:
    return SEVERITIES.get((value or "").upper())


# --------------------------------------------------------------------------- deploys

_DEPLOYMENT_STATES: dict[str, DeployState] = {
    "SUCCESS": "success",
    "ACTIVE": "success",
    "FAILURE": "failure",
    "ERROR": "error",
    "INACTIVE": "inactive",
    "DESTROYED": "inactive",
    "ABANDONED": "cancelled",
    "IN_PROGRESS": "in_progress",
    "QUEUED": "queued",
    "PENDING": "pending",
    "WAITING": "pending",
}
TERMINAL: frozenset[str] = frozenset({"success", "failure", "error", "inactive", "cancelled"})


def deployment_state(status_state: str | None, deployment_state_: str | None) -> DeployState:
    """A deployment's state: its latest status, else the deployment's own state."""
    for value in (status_state, deployment_state_):
        if value:
            found = _DEPLOYMENT_STATES.get(value.upper())
            if found is not None:
                return found
    return "pending"


_CONCLUSIONS: dict[str, DeployState] = {
    "success": "success",
    "neutral": "success",
    "failure": "failure",
    "timed_out": "failure",
    "startup_failure": "failure",
    "cancelled": "cancelled",
    "skipped": "cancelled",
    "stale": "inactive",
    "action_required": "pending",
}


def run_state(status: str | None, conclusion: str | None) -> DeployState:
    """A workflow run's status and conclusion as a deploy state."""
    if status == "completed":
        return _CONCLUSIONS.get(conclusion or "", "error")
    if status == "in_progress":
        return "in_progress"
    if status in ("waiting", "pending", "requested", "action_required"):
        return "pending"
    return "queued"


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHA = re.compile(r"\b[0-9a-f]{7,40}\b")


def target_environment(text: str, environments: tuple[str, ...]) -> str | None:
    """The environment a deploy run's title names (`... to prod-test`), longest name first
    so that "prod" never wins over "prod-test"."""
    tokens = {t.lower().strip(".-") for t in _TOKEN.findall(text)}
    for environment in sorted(environments, key=len, reverse=True):
        if environment.lower() in tokens:
            return environment
    return None


def image_tag(text: str) -> str | None:
    """A commit SHA (the `image_tag` input, 7 characters or more) named in a run title."""
    match = _SHA.search(text)
    return match.group(0) if match else None


Origin = Literal["deployment", "workflow"]
