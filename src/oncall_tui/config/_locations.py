"""Where the cockpit keeps its files: config, data (journal, UI state), themes and cache.

Paths come from platformdirs so they follow each OS's conventions (XDG on Linux); only the
config file can be moved, with `ONCALL_TUI_CONFIG`, because that is the one file people keep
in dotfile repositories or switch between accounts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

__all__ = ["APP_NAME", "CONFIG_ENV_VAR", "Locations", "config_path_report", "locations"]

APP_NAME = "oncall-tui"
CONFIG_ENV_VAR = "ONCALL_TUI_CONFIG"


@dataclass(frozen=True)
class Locations:
    """The cockpit's files and folders; nothing here is created until something writes."""

    config_file: Path
    data_dir: Path
    themes_dir: Path
    cache_dir: Path
    state_file: Path


def locations(env: Mapping[str, str] | None = None) -> Locations:
    """Resolve the cockpit's paths for this user.

    `env` stands in for `os.environ` so tests can point `ONCALL_TUI_CONFIG` somewhere
    harmless; platformdirs itself still reads the process environment (XDG_* variables).
    """
    environ = os.environ if env is None else env
    dirs = PlatformDirs(APP_NAME, appauthor=False)
    config_dir = dirs.user_config_path
    data_dir = dirs.user_data_path
    override = environ.get(CONFIG_ENV_VAR, "").strip()
    config_file = Path(override).expanduser() if override else config_dir / "config.toml"
    return Locations(
        config_file=config_file,
        data_dir=data_dir,
        themes_dir=config_dir / "themes",
        cache_dir=dirs.user_cache_path,
        state_file=data_dir / "ui-state.json",
    )


def config_path_report(locs: Locations) -> str:
    """The text `oncall-tui config path` prints, so users can find (and back up) their files."""
    state = "exists" if locs.config_file.is_file() else "missing"
    return "\n".join(
        [
            f"config: {locs.config_file} ({state})",
            f"data: {locs.data_dir}",
            f"themes: {locs.themes_dir}",
            f"cache: {locs.cache_dir}",
        ]
    )
