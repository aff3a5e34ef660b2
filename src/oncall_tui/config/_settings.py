"""The settings model: frozen dataclasses the rest of the cockpit reads.

Every field has a working default, so `Settings()` is a cockpit with nothing configured and
each provider's `configured` property says whether its pane can poll. Secrets are wrapped in
`Secret` so that no repr, log line or traceback can show them by accident.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

__all__ = [
    "DATADOG_SITES",
    "MERGE_METHODS",
    "MONITOR_STATES",
    "NOTIFY_STYLES",
    "ConfigError",
    "DatadogSettings",
    "GitHubSettings",
    "HandoverSettings",
    "KeyBindings",
    "PagerDutySettings",
    "RepositorySettings",
    "Secret",
    "ServiceSettings",
    "Settings",
    "ShiftSettings",
    "UiSettings",
]

# The site parameter values the Datadog API client accepts (its `site` server variable).
DATADOG_SITES: tuple[str, ...] = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
)
# Sites whose web app lives on an `app.` host; the regional ones use the site host itself
# (docs.datadoghq.com, "Getting Started with Datadog Sites").
_APP_PREFIXED_SITES = frozenset({"datadoghq.com", "datadoghq.eu", "ddog-gov.com"})

MONITOR_STATES: tuple[str, ...] = (
    "Alert",
    "Warn",
    "No Data",
    "OK",
    "Ignored",
    "Skipped",
    "Unknown",
)
MERGE_METHODS: tuple[str, ...] = ("squash", "merge", "rebase")
NOTIFY_STYLES: tuple[str, ...] = ("osc9", "osc777", "off")

_MASK = "Secret('********')"


class ConfigError(Exception):
    """A configuration problem the user must fix before the cockpit can start.

    `str(err)` is one line, "<file>: [section] key: what is wrong; what to do", so the CLI
    can print it as is and exit. The parts are kept as attributes for screens that want to
    point at the offending key. No message ever contains a secret value.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        section: str = "",
        key: str = "",
    ) -> None:
        super().__init__(" ".join(message.split()))
        self.file = file
        self.section = section
        self.key = key


@dataclass(frozen=True, init=False, eq=False)
class Secret:
    """A credential that only shows itself when asked to with `reveal()`.

    Settings objects end up in reprs, debug logs and tracebacks; wrapping tokens here keeps
    them out of all three. The value is deliberately not a dataclass field, so
    `dataclasses.asdict(settings)` (a JSON dump for `doctor`, say) cannot carry it either.
    `origin` says where the value came from (a config key, a command or an environment
    variable), which `doctor` shows when an env var hides a config bug.
    """

    origin: str = field(default="", repr=False)
    _value: ClassVar[str]  # set per instance in __init__; declared for type checkers only

    def __init__(self, value: str, origin: str = "") -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "origin", origin)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def reveal(self) -> str:
        """The raw value, for the one place that needs it: the SDK client constructor."""
        return self._value

    def __repr__(self) -> str:
        return _MASK

    def __str__(self) -> str:
        return _MASK

    def __format__(self, format_spec: str) -> str:
        return _MASK

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the value to disk; nothing in the cockpit needs that.
        raise TypeError("Secret values cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self


@dataclass(frozen=True)
class PagerDutySettings:
    """How to reach PagerDuty and which incidents belong on the Pages pane."""

    token: Secret | None = None
    base_url: str = "https://api.pagerduty.com"
    ca_bundle: Path | None = None
    interval: float = 30.0
    timeout: float = 20.0
    from_email: str = ""
    service_ids: tuple[str, ...] = ()
    team_ids: tuple[str, ...] = ()
    only_mine: bool = False
    escalation_policy_ids: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        """Without a token there is nothing to poll, so the pane shows setup help instead."""
        return self.token is not None


@dataclass(frozen=True)
class DatadogSettings:
    """How to reach Datadog and which monitors belong on the Monitors pane."""

    api_key: Secret | None = None
    app_key: Secret | None = None
    site: str = "datadoghq.com"
    base_url: str = ""
    ca_bundle: Path | None = None
    interval: float = 60.0
    timeout: float = 20.0
    query: str = ""
    states: tuple[str, ...] = ("Alert", "Warn", "No Data")

    @property
    def configured(self) -> bool:
        """Monitor search needs both keys; one alone only earns a 403."""
        return self.api_key is not None and self.app_key is not None

    @property
    def api_url(self) -> str:
        """The API host: `base_url` when set (proxy, simulator), otherwise the site's."""
        return self.base_url or f"https://api.{self.site}"

    @property
    def app_url(self) -> str:
        """The web app, for links from a monitor row to its page in the browser."""
        if self.site in _APP_PREFIXED_SITES:
            return f"https://app.{self.site}"
        return f"https://{self.site}"


@dataclass(frozen=True)
class RepositorySettings:
    """One repository on the Deploys and Dependabot panes, and how its deploys are found."""

    name: str
    deploy_source: str = "deployments"
    environments: tuple[str, ...] = ()

    @property
    def owner(self) -> str:
        return self.name.partition("/")[0]

    @property
    def repo(self) -> str:
        return self.name.partition("/")[2]

    @property
    def workflow(self) -> str | None:
        """The workflow file whose runs are deploys, or None when Deployments are used."""
        kind, _, file = self.deploy_source.partition(":")
        return file if kind == "workflow" else None


@dataclass(frozen=True)
class GitHubSettings:
    """How to reach GitHub (or GitHub Enterprise Server) and which repositories to watch."""

    token: Secret | None = None
    base_url: str = "https://api.github.com"
    ca_bundle: Path | None = None
    interval: float = 60.0
    dependabot_interval: float = 300.0
    timeout: float = 20.0
    repositories: tuple[RepositorySettings, ...] = ()
    org: str = ""
    environments: tuple[str, ...] = ("dev", "qa", "sandbox", "prod-test", "prod")
    merge_method: str = "squash"
    handover_repo: str = ""
    handover_issue_pattern: str = "On call for Sprint {n}"

    @property
    def configured(self) -> bool:
        """Unauthenticated GitHub allows 60 requests an hour: not enough to be worth it."""
        return self.token is not None

    @property
    def graphql_url(self) -> str:
        """GraphQL sits beside REST: /graphql on github.com, /api/graphql on GHES."""
        base = self.base_url.rstrip("/")
        if base.endswith("/api/v3"):
            return base[: -len("/v3")] + "/graphql"
        return base + "/graphql"

    def environments_for(self, repository: RepositorySettings) -> tuple[str, ...]:
        """A repository's own environment list wins; most share the team-wide default."""
        return repository.environments or self.environments

    def handover_issue_title(self, sprint: int) -> str:
        """The title of the recurring handover issue for a sprint ("On call for Sprint 42")."""
        return self.handover_issue_pattern.format(n=sprint)


class KeyBindings(Mapping[str, str]):
    """Binding id -> key string ("refresh" -> "f5,ctrl+r"): an immutable, hashable mapping.

    A dict would let one screen's tweak leak into every holder of the settings, and a
    MappingProxyType breaks `dataclasses.asdict` and hashing; this does neither.
    """

    __slots__ = ("_bindings",)

    def __init__(self, bindings: Mapping[str, str] | None = None) -> None:
        self._bindings: dict[str, str] = dict(bindings or {})

    def __getitem__(self, binding_id: str) -> str:
        return self._bindings[binding_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._bindings)

    def __len__(self) -> int:
        return len(self._bindings)

    def __hash__(self) -> int:
        return hash(frozenset(self._bindings.items()))

    def __repr__(self) -> str:
        return f"KeyBindings({self._bindings!r})"


@dataclass(frozen=True)
class UiSettings:
    """Look and behaviour of the cockpit itself."""

    theme: str = "oncall-dark"
    keys: Mapping[str, str] = field(default_factory=KeyBindings)
    read_only: bool = False
    notify: bool = True
    bell: bool = True
    desktop_notify: str = "osc9"


@dataclass(frozen=True)
class ShiftSettings:
    """Who is on call, where, and when: the header of the cockpit and of the handover."""

    engineer: str = ""
    secondary: str = ""
    incoming: str = ""
    timezone: str = "America/New_York"
    working_hours: str = "09:00-17:00"
    start: datetime | None = None
    end: datetime | None = None

    @property
    def tz(self) -> ZoneInfo:
        """The shift's zone; validated at load time, so this never raises for loaded settings."""
        return ZoneInfo(self.timezone)

    @property
    def working_hours_start(self) -> time:
        return _parse_clock(self.working_hours.partition("-")[0])

    @property
    def working_hours_end(self) -> time:
        return _parse_clock(self.working_hours.partition("-")[2])

    def in_working_hours(self, moment: datetime) -> bool:
        """Whether a page at `moment` arrived in working hours (pages outside them are a
        burnout signal in the shift metrics). Only the time of day counts, in the shift's
        zone; a range such as 22:00-06:00 wraps past midnight."""
        local = moment.astimezone(self.tz).time().replace(tzinfo=None)
        start, end = self.working_hours_start, self.working_hours_end
        if start < end:
            return start <= local < end
        return local >= start or local < end


@dataclass(frozen=True)
class ServiceSettings:
    """One service as each provider names it (`[services.NAME]`): what links a deploy of a
    repository to a page on a PagerDuty service or an alert on a Datadog `service:` tag."""

    name: str
    pagerduty: tuple[str, ...] = ()
    """PagerDuty service IDs or names."""
    repositories: tuple[str, ...] = ()
    """owner/repo names whose deploys are this service's."""
    datadog: tuple[str, ...] = ()
    """Datadog tags, such as "service:claims-api"."""


@dataclass(frozen=True)
class HandoverSettings:
    """Where the handover goes and how far back a deploy counts as "what changed"."""

    link_window: float = 60.0
    """Minutes before a page or an alert in which a deploy to the same service is linked."""
    slack_webhook: Secret | None = None
    publish_repo: str = ""
    """owner/repo whose handover issue gets the comment; empty = `[github] handover_repo`."""


def _parse_clock(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Settings:
    """Everything the cockpit was configured with, plus where it came from.

    `warnings` are problems worth showing once at start-up but not worth refusing to start
    for, such as a config file holding secrets that other users can read.
    """

    pagerduty: PagerDutySettings = field(default_factory=PagerDutySettings)
    datadog: DatadogSettings = field(default_factory=DatadogSettings)
    github: GitHubSettings = field(default_factory=GitHubSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    shift: ShiftSettings = field(default_factory=ShiftSettings)
    services: tuple[ServiceSettings, ...] = ()
    handover: HandoverSettings = field(default_factory=HandoverSettings)
    source: Path | None = None
    warnings: tuple[str, ...] = ()
