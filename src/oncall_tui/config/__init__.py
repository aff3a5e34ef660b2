"""Configuration: the typed settings the cockpit runs with, and where its files live.

`load_settings()` reads `config.toml` (path from `--config`, `$ONCALL_TUI_CONFIG` or the
platform default), validates it strictly and resolves secrets; `locations()` says where
config, data, themes and cache live. Everything here is headless: the standard library and
platformdirs only, so `doctor`, `status` and the tests use it without a terminal.

Errors::

    ConfigError   one line: "<file>: [section] key: what is wrong; what to do"
"""

from oncall_tui.config._load import load_settings
from oncall_tui.config._locations import (
    APP_NAME,
    CONFIG_ENV_VAR,
    Locations,
    config_path_report,
    locations,
)
from oncall_tui.config._secrets import COMMAND_TIMEOUT, RunCommand, run_shell_command
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
    Secret,
    ServiceSettings,
    Settings,
    ShiftSettings,
    UiSettings,
)

__all__ = [
    "APP_NAME",
    "COMMAND_TIMEOUT",
    "CONFIG_ENV_VAR",
    "DATADOG_SITES",
    "MERGE_METHODS",
    "MONITOR_STATES",
    "NOTIFY_STYLES",
    "ConfigError",
    "DatadogSettings",
    "GitHubSettings",
    "HandoverSettings",
    "KeyBindings",
    "Locations",
    "PagerDutySettings",
    "RepositorySettings",
    "RunCommand",
    "Secret",
    "ServiceSettings",
    "Settings",
    "ShiftSettings",
    "UiSettings",
    "config_path_report",
    "load_settings",
    "locations",
    "run_shell_command",
]
