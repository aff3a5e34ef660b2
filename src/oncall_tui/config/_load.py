"""Reading config.toml into `Settings`: which file, TOML parsing, validation, warnings.

Validation is strict on purpose: a typo in a key would otherwise silently fall back to a
default, and on call that means a pane watching the wrong thing. Every failure is a one-line
`ConfigError` in TOML terms (file, `[section] key`, what is wrong, what to do), and no
message ever repeats a secret: values of secret keys, command output and environment
variables are never quoted back.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from oncall_tui.config._fields import (
    NAMED_SECTIONS,
    REPOSITORY_KEYS,
    SECTION_KEYS,
    SERVICE_KEYS,
    Section,
    describe,
    did_you_mean,
)
from oncall_tui.config._locations import CONFIG_ENV_VAR, locations
from oncall_tui.config._secrets import RunCommand, SecretResolver, run_shell_command
from oncall_tui.config._settings import (
    DATADOG_SITES,
    MERGE_METHODS,
    MONITOR_STATES,
    NOTIFY_STYLES,
    ConfigError,
    DatadogSettings,
    GitHubSettings,
    HandoverSettings,
    KeyBindings,
    PagerDutySettings,
    RepositorySettings,
    ServiceSettings,
    Settings,
    ShiftSettings,
    UiSettings,
)

__all__ = ["load_settings"]

_MIN_POLL_SECONDS = 5.0
_MIN_DEPENDABOT_SECONDS = 60.0
_MAX_TIMEOUT_SECONDS = 300.0
_MAX_LINK_WINDOW_MINUTES = 24 * 60.0

_REPO_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_ORG_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_PAGERDUTY_ID = re.compile(r"[A-Za-z0-9]+")
_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_WORKING_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_TOML_POSITION = re.compile(r"^(?P<what>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOML_AT_END = re.compile(r"^(?P<what>.*?)\s*\(at end of document\)$")
# Region names people type instead of the site parameter (docs: "Getting Started with
# Datadog Sites").
_SITE_REGIONS: Mapping[str, str] = MappingProxyType(
    {
        "us1": "datadoghq.com",
        "us3": "us3.datadoghq.com",
        "us5": "us5.datadoghq.com",
        "eu": "datadoghq.eu",
        "eu1": "datadoghq.eu",
        "ap1": "ap1.datadoghq.com",
        "ap2": "ap2.datadoghq.com",
        "uk1": "uk1.datadoghq.com",
        "gov": "ddog-gov.com",
        "us1-fed": "ddog-gov.com",
        "us2-fed": "us2.ddog-gov.com",
    }
)


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    run_command: RunCommand | None = None,
) -> Settings:
    """Read and validate the config file, resolving secrets, into `Settings`.

    The file is `path` (from `--config`), else `$ONCALL_TUI_CONFIG`, else the platform
    default; only the default may be missing, which leaves every provider unconfigured.
    `env` stands in for `os.environ` (secrets fall back to the ecosystems' own variables
    such as `DD_API_KEY`); `run_command` runs `*_command` settings and is swapped in tests.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if path is not None:
        file, required, escape = Path(path).expanduser(), True, "drop --config"
    elif environ.get(CONFIG_ENV_VAR, "").strip():
        file = Path(environ[CONFIG_ENV_VAR].strip()).expanduser()
        required, escape = True, f"unset {CONFIG_ENV_VAR}"
    else:
        file, required, escape = locations(environ).config_file, False, ""

    document = _read_toml(file, required, escape)
    tables = _sections(file, document or {})
    pagerduty = _pagerduty(tables["pagerduty"])
    datadog = _datadog(tables["datadog"], environ)
    github = _github(tables["github"])
    ui = _ui(tables["ui"])
    shift = _shift(tables["shift"])
    services = _services(tables["services"])
    handover = _handover(tables["handover"])
    # Secrets last: a typo elsewhere should not cost a password-manager prompt first.
    secrets = SecretResolver(file, environ, run_command or run_shell_command)
    pagerduty = replace(
        pagerduty,
        token=secrets.resolve(tables["pagerduty"], "token", ("PAGERDUTY_TOKEN",)),
    )
    datadog = replace(
        datadog,
        api_key=secrets.resolve(tables["datadog"], "api_key", ("DD_API_KEY",)),
        app_key=secrets.resolve(tables["datadog"], "app_key", ("DD_APP_KEY",)),
    )
    github = replace(
        github,
        token=secrets.resolve(tables["github"], "token", ("GITHUB_TOKEN", "GH_TOKEN")),
    )
    webhook = secrets.resolve(tables["handover"], "slack_webhook", ("ONCALL_SLACK_WEBHOOK",))
    if webhook is not None:
        _check_webhook(tables["handover"], webhook.reveal(), webhook.origin)
    handover = replace(handover, slack_webhook=webhook)
    warnings = list(secrets.warnings)
    if secrets.secret_in_file and _readable_by_others(file):
        warnings.append(
            f"{file.name} is readable by other users and holds secrets: chmod 600 {file}"
        )
    return Settings(
        pagerduty=pagerduty,
        datadog=datadog,
        github=github,
        ui=ui,
        shift=shift,
        services=services,
        handover=handover,
        source=file if document is not None else None,
        warnings=tuple(warnings),
    )


def _read_toml(file: Path, required: bool, escape: str) -> dict[str, object] | None:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        if not required:
            return None
        raise ConfigError(
            f"{file}: no such file; create it from config.toml.example or {escape}", file=str(file)
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{file}: is a directory, not a file; point at the config.toml inside it",
            file=str(file),
        ) from None
    except PermissionError:
        raise ConfigError(
            f"{file}: permission denied while reading; make it yours and chmod 600 {file}",
            file=str(file),
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{file}: cannot be read ({exc.strerror}); check the path", file=str(file)
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{file}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8",
            file=str(file),
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        match = _TOML_POSITION.match(detail)
        at_end = _TOML_AT_END.match(detail)
        if match:
            where = f"line {match['line']}, column {match['col']}"
            what = match["what"].rstrip(".")
        elif at_end:
            where, what = "end of file", at_end["what"].rstrip(".")
        else:
            where, what = "syntax", detail
        raise ConfigError(
            f"{file}: {where}: invalid TOML ({what}); fix the syntax there "
            '(strings need quotes, e.g. site = "ddog-gov.com")',
            file=str(file),
        ) from None


def _readable_by_others(file: Path) -> bool:
    if os.name != "posix":
        return False
    try:
        return bool(file.stat().st_mode & 0o077)
    except OSError:
        return False


def _sections(file: Path, document: Mapping[str, object]) -> dict[str, Section]:
    for key, value in document.items():
        if key in SECTION_KEYS:
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{file}: [{key}]: expected a table, got {describe(value)}; "
                    f"write it as a [{key}] section with its keys below",
                    file=str(file),
                    section=key,
                )
            continue
        if isinstance(value, dict):
            close = difflib.get_close_matches(key.lower(), SECTION_KEYS, n=1, cutoff=0.6)
            hint = (
                f"did you mean [{close[0]}]?"
                if close
                else "known sections: " + ", ".join(f"[{name}]" for name in SECTION_KEYS)
            )
            raise ConfigError(
                f"{file}: [{key}]: unknown section; {hint}",
                file=str(file),
                section=key,
            )
        home = [name for name, keys in SECTION_KEYS.items() if key in keys]
        where = f"move it under [{home[0]}]" if len(home) == 1 else "move it under its section"
        if len(home) > 1:
            where += " (" + ", ".join(f"[{h}]" for h in home) + ")"
        raise ConfigError(
            f"{file}: {key}: key outside any section; {where}",
            file=str(file),
            key=key,
        )
    tables: dict[str, Section] = {}
    for name, known in SECTION_KEYS.items():
        raw = document.get(name, {})
        section = Section(file, name, raw if isinstance(raw, dict) else {})
        if name not in NAMED_SECTIONS:
            section.check_keys(known)
        tables[name] = section
    return tables


def _pagerduty(s: Section) -> PagerDutySettings:
    from_email = s.string("from_email")
    if from_email and not _EMAIL.fullmatch(from_email):
        raise s.error(
            "from_email",
            f"'{from_email}' is not an email address",
            "use the email of your PagerDuty user, or leave it empty to use the token's",
        )
    ids = {key: s.strings(key) for key in ("service_ids", "team_ids", "escalation_policy_ids")}
    for key, values in ids.items():
        for index, value in enumerate(values):
            if not _PAGERDUTY_ID.fullmatch(value):
                raise s.error(
                    f"{key}[{index}]",
                    f"'{value}' looks like a name, not a PagerDuty ID",
                    "copy the ID (such as PABC123) from the object's URL in PagerDuty",
                )
    return PagerDutySettings(
        base_url=s.url("base_url", PagerDutySettings.base_url),
        ca_bundle=s.path("ca_bundle"),
        interval=s.seconds("interval", PagerDutySettings.interval, _MIN_POLL_SECONDS),
        timeout=s.seconds("timeout", PagerDutySettings.timeout, 1.0, _MAX_TIMEOUT_SECONDS),
        from_email=from_email,
        service_ids=ids["service_ids"],
        team_ids=ids["team_ids"],
        only_mine=s.boolean("only_mine", PagerDutySettings.only_mine),
        escalation_policy_ids=ids["escalation_policy_ids"],
    )


def _datadog(s: Section, environ: Mapping[str, str]) -> DatadogSettings:
    if s.has("site"):
        site = _site(s, "site", s.string("site"), "")
    elif environ.get("DD_SITE", "").strip():
        site = _site(s, "site (from DD_SITE)", environ["DD_SITE"], "DD_SITE")
    else:
        site = DatadogSettings.site
    states: list[str] = []
    canonical = {state.lower(): state for state in MONITOR_STATES}
    for index, state in enumerate(s.strings("states", DatadogSettings.states)):
        found = canonical.get(" ".join(state.lower().split()))
        if found is None:
            raise s.error(
                f"states[{index}]",
                f"unknown monitor state '{state}'",
                did_you_mean(state, MONITOR_STATES),
            )
        if found in states:
            raise s.error(f"states[{index}]", f"'{found}' is listed twice", "remove it")
        states.append(found)
    if not states:
        raise s.error(
            "states", "is empty", 'list the states to show, e.g. ["Alert", "Warn", "No Data"]'
        )
    return DatadogSettings(
        site=site,
        base_url=s.url("base_url", "", example=f"https://api.{site}"),
        ca_bundle=s.path("ca_bundle"),
        interval=s.seconds("interval", DatadogSettings.interval, _MIN_POLL_SECONDS),
        timeout=s.seconds("timeout", DatadogSettings.timeout, 1.0, _MAX_TIMEOUT_SECONDS),
        query=s.string("query"),
        states=tuple(states),
    )


def _github(s: Section) -> GitHubSettings:
    org = s.string("org")
    if org and not _ORG_NAME.fullmatch(org):
        raise s.error("org", f"'{org}' is not a GitHub organization name", 'e.g. org = "benefits"')
    handover_repo = s.string("handover_repo")
    if handover_repo and not _REPO_NAME.fullmatch(handover_repo):
        raise s.error(
            "handover_repo",
            f"'{handover_repo}' is not an owner/repo name",
            'e.g. handover_repo = "benefits/on-call"',
        )
    pattern = s.string("handover_issue_pattern", GitHubSettings.handover_issue_pattern)
    try:
        valid = "{n}" in pattern and bool(pattern.format(n=1))
    except (KeyError, IndexError, ValueError):
        valid = False
    if not valid:
        raise s.error(
            "handover_issue_pattern",
            "must contain {n} (the sprint number) and no other {...} fields",
            'e.g. handover_issue_pattern = "On call for Sprint {n}" (write {{ for a brace)',
        )
    environments = s.strings("environments", GitHubSettings.environments)
    if not environments:
        raise s.error(
            "environments", "is empty", 'list your environments, e.g. ["dev", "qa", "prod"]'
        )
    return GitHubSettings(
        base_url=s.url("base_url", GitHubSettings.base_url),
        ca_bundle=s.path("ca_bundle"),
        interval=s.seconds("interval", GitHubSettings.interval, _MIN_POLL_SECONDS),
        dependabot_interval=s.seconds(
            "dependabot_interval", GitHubSettings.dependabot_interval, _MIN_DEPENDABOT_SECONDS
        ),
        timeout=s.seconds("timeout", GitHubSettings.timeout, 1.0, _MAX_TIMEOUT_SECONDS),
        repositories=_repositories(s),
        org=org,
        environments=environments,
        merge_method=s.choice("merge_method", GitHubSettings.merge_method, MERGE_METHODS),
        handover_repo=handover_repo,
        handover_issue_pattern=pattern,
    )


def _ui(s: Section) -> UiSettings:
    theme = s.string("theme", UiSettings.theme)
    if not theme:
        raise s.error("theme", "is empty", 'name a theme, e.g. theme = "oncall-dark"')
    raw_keys = s.table.get("keys", {})
    if not isinstance(raw_keys, dict):
        raise s.error(
            "keys",
            f"expected a table, got {describe(raw_keys)}",
            'write [ui.keys] with lines such as refresh = "f5"',
        )
    keys: dict[str, str] = {}
    for binding, key in raw_keys.items():
        if not isinstance(key, str) or not key.strip():
            raise s.error(
                f"keys.{binding}",
                f'expected a key such as "f5" or "ctrl+r", got {describe(key)}'
                if not isinstance(key, str)
                else "is empty",
                'write it as a quoted key name, e.g. refresh = "f5"',
            )
        if any(char.isspace() for char in key.strip()):
            raise s.error(
                f"keys.{binding}",
                f"'{key.strip()}' contains a space",
                'join modifiers with + and alternatives with commas, e.g. "ctrl+r,f5"',
            )
        keys[binding] = key.strip()
    return UiSettings(
        theme=theme,
        keys=KeyBindings(keys),
        read_only=s.boolean("read_only", UiSettings.read_only),
        notify=s.boolean("notify", UiSettings.notify),
        bell=s.boolean("bell", UiSettings.bell),
        desktop_notify=s.choice("desktop_notify", UiSettings.desktop_notify, NOTIFY_STYLES),
    )


def _shift(s: Section) -> ShiftSettings:
    timezone = s.string("timezone", ShiftSettings.timezone)
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = difflib.get_close_matches(timezone, zoneinfo.available_timezones(), n=1)
        raise s.error(
            "timezone",
            f"unknown time zone '{timezone}'",
            f"did you mean '{hint[0]}'?" if hint else 'use an IANA name, e.g. "America/New_York"',
        ) from None
    working_hours = s.string("working_hours", ShiftSettings.working_hours)
    match = _WORKING_HOURS.fullmatch(working_hours)
    bounds = [int(part) for part in match.groups()] if match else []
    if (
        not bounds
        or bounds[0] > 23
        or bounds[2] > 23
        or bounds[1] > 59
        or bounds[3] > 59
        or bounds[:2] == bounds[2:]
    ):
        raise s.error(
            "working_hours",
            f"'{working_hours}' is not a range of two different 24-hour times",
            'write it as HH:MM-HH:MM, e.g. working_hours = "09:00-17:00"',
        )
    normalized = f"{bounds[0]:02d}:{bounds[1]:02d}-{bounds[2]:02d}:{bounds[3]:02d}"
    start = _moment(s, "start", zone)
    end = _moment(s, "end", zone)
    if start is not None and end is not None and end <= start:
        raise s.error("end", "is not after start", "check the dates of your shift")
    return ShiftSettings(
        engineer=s.string("engineer"),
        secondary=s.string("secondary"),
        incoming=s.string("incoming"),
        timezone=timezone,
        working_hours=normalized,
        start=start,
        end=end,
    )


def _services(s: Section) -> tuple[ServiceSettings, ...]:
    """`[services.NAME]` tables: one service as PagerDuty, GitHub and Datadog name it."""
    result: list[ServiceSettings] = []
    for name, raw in s.table.items():
        if not isinstance(raw, dict):
            raise s.error(
                name,
                f"expected a table, got {describe(raw)}",
                f'write it as [services.{name}] with pagerduty = "..." and repository = "..."',
            )
        if not _SERVICE_NAME.fullmatch(name):
            raise s.error(
                name, f"'{name}' is not a service name", "use letters, digits, '.', '_' and '-'"
            )
        item = Section(s.file, f"services.{name}", raw)
        item.check_keys(SERVICE_KEYS)
        pagerduty = _one_or_many(item, "pagerduty")
        repositories = _one_or_many(item, "repository")
        for index, repo in enumerate(repositories):
            if not _REPO_NAME.fullmatch(repo):
                where = "repository" if len(repositories) == 1 else f"repository[{index}]"
                raise item.error(
                    where, f"'{repo}' is not an owner/repo name", 'e.g. "benefits/claims-api"'
                )
        tags = tuple(
            tag if ":" in tag else f"service:{tag}" for tag in _one_or_many(item, "datadog")
        )
        result.append(ServiceSettings(name, pagerduty, repositories, tags))
    return tuple(result)


def _one_or_many(s: Section, key: str) -> tuple[str, ...]:
    """A key that takes one string or an array of them."""
    value = s.table.get(key, [])
    if isinstance(value, str):
        value = [value] if value.strip() else []
    return s.string_list(key, value)


def _handover(s: Section) -> HandoverSettings:
    window = s.table.get("link_window", HandoverSettings.link_window)
    fix = "write a number of minutes without quotes, e.g. link_window = 60"
    if isinstance(window, bool) or not isinstance(window, int | float):
        raise s.error("link_window", f"expected a number of minutes, got {describe(window)}", fix)
    if not 0 < float(window) <= _MAX_LINK_WINDOW_MINUTES:
        raise s.error(
            "link_window",
            f"{float(window):g} min is out of range (more than 0, at most one day)",
            fix,
        )
    publish_repo = s.string("publish_repo")
    if publish_repo and not _REPO_NAME.fullmatch(publish_repo):
        raise s.error(
            "publish_repo",
            f"'{publish_repo}' is not an owner/repo name",
            'e.g. publish_repo = "benefits/on-call", or leave it out to use [github] handover_repo',
        )
    return HandoverSettings(link_window=float(window), publish_repo=publish_repo)


def _check_webhook(s: Section, url: str, origin: str) -> None:
    """A Slack incoming webhook is an https URL; the value itself is never quoted back."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is not None and host:
        local = parts.scheme == "http" and host in ("127.0.0.1", "localhost")
        if parts.scheme == "https" or local:
            return
    if origin.startswith(f"[{s.name}] "):
        where = origin.removeprefix(f"[{s.name}] ")
    else:
        where = f"slack_webhook (from {origin})"
    raise s.error(
        where,
        "is not an https:// URL",
        "copy the webhook URL from the Slack app's Incoming Webhooks page",
    )


def _site(s: Section, key: str, raw: str, env_name: str) -> str:
    site = raw.strip().lower()
    if site in DATADOG_SITES:
        return site
    host = urlsplit(site).hostname if "://" in site else site
    host = (host or "").removeprefix("app.").removeprefix("api.")
    region = _SITE_REGIONS.get(host.split(".")[0])
    if host in DATADOG_SITES:
        hint = f"write the site parameter only: '{host}'"
    elif region:
        hint = f"the {host.split('.')[0].upper()} site parameter is '{region}'"
    else:
        hint = did_you_mean(site, DATADOG_SITES)
    fix = f"{hint} (set it in {env_name} or in [datadog] site)" if env_name else hint
    raise s.error(key, f"unknown Datadog site '{raw.strip()}'", fix)


def _moment(s: Section, key: str, zone: zoneinfo.ZoneInfo) -> datetime | None:
    if not s.has(key):
        return None
    value = s.table[key]
    fix = f"write a date and time, e.g. {key} = 2025-03-03T09:00:00-05:00"
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise s.error(key, f"'{value}' is not an ISO date and time", fix) from None
    if not isinstance(value, datetime):
        raise s.error(key, f"expected a date and time, got {describe(value)}", fix)
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _repositories(s: Section) -> tuple[RepositorySettings, ...]:
    raw = s.table.get("repositories", [])
    if not isinstance(raw, list):
        raise s.error(
            "repositories",
            f"expected an array, got {describe(raw)}",
            'write repositories = ["owner/repo", ...] or [[github.repositories]] tables',
        )
    result: list[RepositorySettings] = []
    for index, entry in enumerate(raw):
        where = f"repositories[{index}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise s.error(
                where,
                f'expected "owner/repo" or a table, got {describe(entry)}',
                'write "owner/repo" or {name = "owner/repo", deploy_source = "deployments"}',
            )
        item = Section(s.file, s.name, entry)
        item.check_keys(REPOSITORY_KEYS, prefix=f"{where}.")
        if "name" not in entry:
            raise s.error(f"{where}.name", "is missing", 'add name = "owner/repo"')
        name = _nested(item, where, "name", entry["name"])
        if not _REPO_NAME.fullmatch(name):
            raise s.error(
                f"{where}.name", f"'{name}' is not an owner/repo name", 'e.g. "benefits/claims-api"'
            )
        if any(existing.name.lower() == name.lower() for existing in result):
            raise s.error(f"{where}.name", f"'{name}' is listed twice", "remove the duplicate")
        source = _nested(item, where, "deploy_source", entry.get("deploy_source", "deployments"))
        _check_deploy_source(s, f"{where}.deploy_source", source)
        environments: tuple[str, ...] = ()
        if "environments" in entry:
            environments = s.string_list(f"{where}.environments", entry["environments"])
        result.append(RepositorySettings(name, source, environments))
    return tuple(result)


def _nested(item: Section, where: str, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise item.error(f"{where}.{key}", f"expected a string, got {describe(value)}", "quote it")
    return value.strip()


def _check_deploy_source(s: Section, key: str, source: str) -> None:
    if source == "deployments":
        return
    kind, colon, file = source.partition(":")
    fix = 'use "deployments" or "workflow:FILE", e.g. "workflow:update-deployment.yml"'
    if kind != "workflow" or not colon:
        hint = did_you_mean(source, ("deployments", "workflow:"))
        raise s.error(key, f"unknown deploy source '{source}'", f"{hint} {fix}")
    file = file.strip()
    if "/" in file:
        raise s.error(
            key,
            f"'{source}' has a path",
            f'give the workflow file name only, e.g. "workflow:{file.rsplit("/", 1)[-1]}"',
        )
    if not (file.endswith((".yml", ".yaml")) or file.isdigit()):
        raise s.error(key, f"'{source}' does not name a workflow file", fix)
