"""A config file holding secrets that others can read is warned about (issue 7, item 5).

`tests/unit/test_config.py` covers the loader's warning for a PagerDuty token (0644) and a
Datadog application key (0640), and no warning without a secret in the file. Here: every
kind of secret the file can hold (the Slack webhook too), every way the file can be open
to others, that the warning never quotes the secret, and that the cockpit shows it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.ui.test_cockpit import SIZE
from textual.notifications import Notify

from oncall_tui.config import load_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.ui.app import OncallApp

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

CANARY = "canary-cfg-3e9a+51c7/d2b8QpLm"
SECRET_LINES = {
    "[pagerduty] token": f'[pagerduty]\ntoken = "{CANARY}"\n',
    "[datadog] api_key": f'[datadog]\napi_key = "{CANARY}"\napp_key_command = "x"\n',
    "[datadog] app_key": f'[datadog]\napp_key = "{CANARY}"\napi_key_command = "x"\n',
    "[github] token": f'[github]\ntoken = "{CANARY}"\n',
    "[handover] slack_webhook": (
        f'[handover]\nslack_webhook = "https://hooks.slack.com/services/T0/B0/{CANARY}"\n'
    ),
}
OPEN_MODES = {"0644": 0o644, "0640": 0o640, "0604": 0o604, "0660": 0o660, "0444": 0o444}
PRIVATE_MODES = {"0600": 0o600, "0400": 0o400}


def config(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def warnings_for(path: Path) -> tuple[str, ...]:
    return load_settings(
        path, env={}, run_command=lambda command: "https://hooks.example/x"
    ).warnings


@pytest.mark.parametrize("secret", list(SECRET_LINES))
def test_every_secret_in_a_file_others_can_read_is_warned_about(
    tmp_path: Path, secret: str
) -> None:
    for mode_name, mode in OPEN_MODES.items():
        path = config(tmp_path, SECRET_LINES[secret], mode)
        found = warnings_for(path)
        wanted = f"config.toml is readable by other users and holds secrets: chmod 600 {path}"
        assert found == (wanted,), f"{secret} in a {mode_name} file"
        assert not any(CANARY in w or CANARY[-4:] in w for w in found)
    for mode_name, mode in PRIVATE_MODES.items():
        path = config(tmp_path, SECRET_LINES[secret], mode)
        assert warnings_for(path) == (), f"{secret} in a {mode_name} file"


def test_secrets_from_commands_or_the_environment_need_no_private_file(tmp_path: Path) -> None:
    text = '[pagerduty]\ntoken_command = "pass show pd"\n[handover]\nslack_webhook_command = "x"\n'
    path = config(tmp_path, text, 0o644)
    assert warnings_for(path) == ()
    settings = load_settings(
        path, env={"GITHUB_TOKEN": CANARY}, run_command=lambda c: "https://h/x"
    )
    assert settings.warnings == ()


async def test_the_cockpit_shows_the_warning(tmp_path: Path) -> None:
    path = config(tmp_path, SECRET_LINES["[github] token"], 0o644)
    settings = load_settings(path, env={})
    notes: list[Notify] = []

    def hook(message: object) -> None:
        if isinstance(message, Notify):
            notes.append(message)

    app = OncallApp(settings, {}, FakeClock(), poll=False)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await pilot.pause()
    shown = [n.notification for n in notes if "chmod 600" in n.notification.message]
    assert len(shown) == 1 and shown[0].severity == "warning"
    assert str(path) in shown[0].message
    assert not any(CANARY in n.notification.message for n in notes)
