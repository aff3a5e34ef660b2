"""Typed access to one TOML table, with errors phrased in TOML terms.

`Section` is the small vocabulary every section of config.toml is validated with: strings,
booleans, seconds, arrays, choices, URLs and paths. Its errors quote the key and, for
non-secret keys, the offending value; a value of the wrong type is described by its TOML
type only, because a misplaced secret must never be echoed back.
"""

from __future__ import annotations

import difflib
import math
import ssl
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from oncall_tui.config._settings import ConfigError

__all__ = [
    "NAMED_SECTIONS",
    "REPOSITORY_KEYS",
    "SECTION_KEYS",
    "SERVICE_KEYS",
    "Section",
    "describe",
    "did_you_mean",
]

# Every key each section accepts; anything else is a typo worth stopping for.
SECTION_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pagerduty": (
            "token",
            "token_command",
            "base_url",
            "ca_bundle",
            "interval",
            "timeout",
            "from_email",
            "service_ids",
            "team_ids",
            "only_mine",
            "escalation_policy_ids",
        ),
        "datadog": (
            "api_key",
            "api_key_command",
            "app_key",
            "app_key_command",
            "site",
            "base_url",
            "ca_bundle",
            "interval",
            "timeout",
            "query",
            "states",
        ),
        "github": (
            "token",
            "token_command",
            "base_url",
            "ca_bundle",
            "interval",
            "dependabot_interval",
            "timeout",
            "repositories",
            "org",
            "environments",
            "merge_method",
            "handover_repo",
            "handover_issue_pattern",
        ),
        "ui": ("theme", "keys", "read_only", "notify", "bell", "desktop_notify"),
        "shift": (
            "engineer",
            "secondary",
            "incoming",
            "timezone",
            "working_hours",
            "start",
            "end",
        ),
        "handover": ("link_window", "slack_webhook", "slack_webhook_command", "publish_repo"),
        # One table per service, named by the service ([services.claims-api]): see
        # NAMED_SECTIONS and SERVICE_KEYS.
        "services": (),
    }
)
NAMED_SECTIONS: tuple[str, ...] = ("services",)
"""Sections whose keys are names the user chooses, each a table of SERVICE_KEYS."""
REPOSITORY_KEYS: tuple[str, ...] = ("name", "deploy_source", "environments")
SERVICE_KEYS: tuple[str, ...] = ("pagerduty", "repository", "datadog")

MAX_INTERVAL_SECONDS = 86_400.0


def describe(value: object) -> str:
    """The TOML type of a value, for type errors; never the value, which may be a secret."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str], quote: str = "'") -> str:
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {option.lower(): option for option in options}
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    if close:
        return f"did you mean {quote}{close[0]}{quote}?"
    return "expected one of " + ", ".join(f"{quote}{o}{quote}" for o in options)


class Section:
    """One TOML table being validated, with messages that name it in TOML terms."""

    def __init__(self, file: Path, name: str, table: Mapping[str, object]) -> None:
        self.file = file
        self.name = name
        self.table = table

    def error(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(
            f"{self.file}: [{self.name}] {key}: {problem}; {fix}",
            file=str(self.file),
            section=self.name,
            key=key,
        )

    def check_keys(self, known: Sequence[str], prefix: str = "") -> None:
        for key in self.table:
            if key in known:
                continue
            hint = did_you_mean(key, known)
            if hint.startswith("expected"):
                home = [name for name, keys in SECTION_KEYS.items() if key in keys]
                if home and not prefix and self.name not in home:
                    hint = f"it belongs in [{home[0]}]"
                else:
                    hint = "known keys: " + ", ".join(known)
            raise self.error(prefix + key, "unknown key", hint)

    def has(self, key: str) -> bool:
        return key in self.table

    def string(self, key: str, default: str = "") -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {describe(value)}", "put it in quotes")
        return value.strip()

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(
                key, f"expected true or false, got {describe(value)}", "write true or false"
            )
        return value

    def seconds(
        self,
        key: str,
        default: float,
        minimum: float,
        maximum: float = MAX_INTERVAL_SECONDS,
    ) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(
                key,
                f"expected a number of seconds, got {describe(value)}",
                f"write a number without quotes, e.g. {key} = {default:g}",
            )
        seconds = float(value)
        if not math.isfinite(seconds) or seconds <= 0:
            raise self.error(
                key, "must be a positive number of seconds", f"e.g. {key} = {default:g}"
            )
        if seconds < minimum:
            raise self.error(
                key,
                f"{seconds:g} s is too short (the minimum is {minimum:g} s)",
                f"set it to {minimum:g} or more; polling faster only burns the rate limit",
            )
        if seconds > maximum:
            raise self.error(
                key,
                f"{seconds:g} s is too long (the maximum is {maximum:g} s)",
                f"set it to {maximum:g} or less",
            )
        return seconds

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.table.get(key, list(default))
        return self.string_list(key, value)

    def string_list(self, key: str, value: object) -> tuple[str, ...]:
        example = f'{key} = ["one", "two"]'
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of strings, got {describe(value)}", example)
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(
                    f"{key}[{index}]",
                    f"expected a string, got {describe(item)}",
                    "put each entry in quotes",
                )
            text = item.strip()
            if not text:
                raise self.error(f"{key}[{index}]", "is empty", "remove the empty entry")
            if text in items:
                raise self.error(
                    f"{key}[{index}]", f"'{text}' is listed twice", "remove the duplicate"
                )
            items.append(text)
        return tuple(items)

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.error(key, f"unknown value '{value}'", did_you_mean(value, choices))
        return value

    def url(self, key: str, default: str, example: str = "") -> str:
        value = self.string(key, default)
        if not value:
            return value
        problem = _url_problem(value)
        if problem:
            example = example or default
            raise self.error(key, problem, f'write it as https://HOST, e.g. {key} = "{example}"')
        return value.rstrip("/")

    def path(self, key: str) -> Path | None:
        if not self.has(key):
            return None
        text = self.string(key)
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.file.parent / path
        if not path.is_file():
            raise self.error(
                key,
                f"no such file {path}",
                "give the path of a PEM file with your CA certificates, or remove the key",
            )
        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, OSError, UnicodeDecodeError):
            raise self.error(
                key,
                f"{path} holds no readable PEM certificate",
                "give the path of a PEM file with your CA certificates, or remove the key",
            ) from None
        return path


def _url_problem(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme != "https":
        return "must start with https:// (the provider SDKs refuse plain http)"
    if not parts.hostname:
        return "has no host name"
    if parts.username or parts.password:
        return "must not contain credentials (put them in the token settings)"
    if parts.query or parts.fragment:
        return "must not have a query string or fragment"
    return None
