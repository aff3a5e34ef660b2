"""Theme files: the ones shipped in the wheel plus the user's own, as Textual themes.

A theme is a TOML file whose top-level keys are Textual `Theme` fields and whose
`[variables]` table sets the cockpit's own colours (severity, stale). A broken user theme
is skipped with a one-line reason, so one typo never stops the cockpit from starting.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from textual.theme import Theme

DEFAULT_THEME = "oncall-dark"

COCKPIT_VARIABLES: dict[str, str] = {
    "severity-critical": "#FF5F57",
    "severity-warning": "#E6B450",
    "severity-ok": "#5FB85F",
    "severity-info": "#7FB4F0",
    "stale": "#B07FE0",
    "muted-text": "#7A8595",
}
"""Colours the cockpit uses beyond Textual's; a theme that omits one gets this value."""

_THEME_FIELDS = {f.name for f in fields(Theme)}


@dataclass(frozen=True)
class ThemeLoad:
    """The themes found, and a line for each file that could not be used."""

    themes: tuple[Theme, ...]
    problems: tuple[str, ...]


def shipped_themes_dir() -> Path:
    """Where the wheel keeps its themes (`oncall_tui/themes`), or the repository's `themes/`."""
    package_dir = Path(__file__).resolve().parents[1]
    installed = package_dir / "themes"
    if installed.is_dir():
        return installed
    return package_dir.parents[1] / "themes"


def parse_theme(path: Path) -> Theme:
    """Read one theme file; raises ValueError with a one-line reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: cannot read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - _THEME_FIELDS)
    if unknown:
        raise ValueError(f"{path.name}: unknown key '{unknown[0]}'")
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise ValueError(f"{path.name}: needs a 'name'")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError(f"{path.name}: [variables] must map names to colour strings")
    data["variables"] = {**COCKPIT_VARIABLES, **variables}
    try:
        theme = Theme(**data)
        theme.to_color_system().generate()  # bad colours fail here, not mid-render
    except Exception as exc:  # Textual raises several kinds for bad colour strings
        raise ValueError(f"{path.name}: {exc}") from None
    return theme


def load_themes(*directories: Path) -> ThemeLoad:
    """Every `*.toml` theme in the directories, later directories overriding earlier ones."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = parse_theme(path)
            except ValueError as exc:
                problems.append(f"theme skipped: {exc}")
                continue
            themes[theme.name] = theme
    return ThemeLoad(tuple(themes.values()), tuple(problems))
