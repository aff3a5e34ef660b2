"""The command line, run in-process through `oncall_tui.cli.main`: exit codes, one-line
errors, the `status` documents, and that no token ever reaches the terminal.

Every test runs with XDG_* (and HOME) pointed into `tmp_path` and the provider env vars
removed, so the user's real config, cache and tokens are never read or written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oncall_tui import __version__
from oncall_tui.cli import main, tmux_line
from oncall_tui.domain.models import DependabotPR, Deploy, Page, Snapshot
from oncall_tui.simulator import Simulator
from oncall_tui.simulator.scenarios import SCENARIOS

PANES = ("pages", "monitors", "deploys", "dependabot")
ENTRY_KEYS = {"configured", "ok", "error", "items"}
ITEM_KEYS = {"id", "state", "title", "url"}
CANARY = "canary-pd-3e8d1f6b2a90Zq9X"
SECRET_LIKE = "u+Secret-value-0451"
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("isolated", "restore_logging")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(out: str, err: str) -> str:
    assert out == ""
    assert "Traceback" not in err
    line = err.rstrip("\n")
    assert line and "\n" not in line, f"expected one line on stderr, got {err!r}"
    assert line.startswith("oncall-tui: ")
    return line


# --------------------------------------------------------------------------- config path


def test_config_path_lists_every_location(
    capsys: pytest.CaptureFixture[str], isolated: Path
) -> None:
    code, out, err = run(capsys, "config", "path")
    assert code == 0 and err == ""
    config_dir = isolated / "xdg_config_home" / "oncall-tui"
    assert out.splitlines() == [
        f"config: {config_dir / 'config.toml'} (missing)",
        f"data: {isolated / 'xdg_data_home' / 'oncall-tui'}",
        f"themes: {config_dir / 'themes'}",
        f"cache: {isolated / 'xdg_cache_home' / 'oncall-tui'}",
    ]


def test_config_path_follows_the_env_override_even_when_the_file_is_broken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "dotfiles" / "oncall.toml", "[pagerduty\nthis is not toml")
    monkeypatch.setenv("ONCALL_TUI_CONFIG", str(config))
    code, out, err = run(capsys, "config", "path")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"config: {config} (exists)"


# --------------------------------------------------------------------------- bad config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'[pagerduty]\ntokn = "{SECRET_LIKE}"\n',
            "[pagerduty] tokn: unknown key; did you mean 'token'?",
        ),
        ('[pagerduty]\nbase_url = "http://api.pagerduty.com"\n', "must start with https://"),
        ('[pagerduty]\nbase_url = "https://"\n', "has no host name"),
        ("[pagerduty\n", "invalid TOML"),
        (f'[pagerdutty]\ntoken = "{SECRET_LIKE}"\n', "did you mean [pagerduty]?"),
    ],
    ids=["unknown-key", "http-url", "no-host", "bad-toml", "unknown-section"],
)
def test_a_bad_config_is_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str
) -> None:
    config = write(tmp_path / "config.toml", text)
    code, out, err = run(capsys, "--config", str(config), "status")
    assert code == 2
    line = assert_one_line_error(out, err)
    assert expected in line and str(config) in line
    assert SECRET_LIKE not in line, "a misplaced secret was echoed"


def test_a_missing_config_file_is_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope" / "config.toml"
    code, out, err = run(capsys, "--config", str(missing), "status")
    assert code == 2
    line = assert_one_line_error(out, err)
    assert str(missing) in line and "no such file" in line


def test_a_missing_env_config_file_is_exit_2_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_TUI_CONFIG", str(tmp_path / "gone.toml"))
    code, out, err = run(capsys, "status", "--json")
    assert code == 2
    assert "ONCALL_TUI_CONFIG" in assert_one_line_error(out, err)


def test_a_ca_bundle_that_is_not_pem_is_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "corp-ca.pem", "this is not a certificate\n")
    config = write(
        tmp_path / "config.toml",
        '[pagerduty]\ntoken = "abcdefghijklmnop"\nca_bundle = "corp-ca.pem"\n',
    )
    code, out, err = run(capsys, "--config", str(config), "status")
    assert code == 2
    assert "ca_bundle" in assert_one_line_error(out, err)


def test_an_unknown_key_binding_is_exit_2_with_did_you_mean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncall_tui.ui.app import OncallApp

    def no_cockpit(self: OncallApp, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the cockpit started with a bad keymap")

    monkeypatch.setattr(OncallApp, "run", no_cockpit)
    config = write(tmp_path / "config.toml", '[ui.keys]\nrefersh = "f5"\n')
    code, out, err = run(capsys, "--config", str(config))
    assert code == 2
    line = assert_one_line_error(out, err)
    assert "[ui.keys] refersh" in line and "did you mean 'refresh'" in line


def test_a_known_key_binding_reaches_the_cockpit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncall_tui.ui.app import OncallApp

    started: list[OncallApp] = []
    monkeypatch.setattr(OncallApp, "run", lambda self, *a, **k: started.append(self))
    config = write(tmp_path / "config.toml", '[ui.keys]\nrefresh = "f5"\n')
    code, out, err = run(capsys, "--config", str(config))
    assert code == 0 and err == ""
    assert len(started) == 1


# --------------------------------------------------------------------------- status --demo


def _pages_snapshot(*, triggered: int, acknowledged: int) -> Snapshot:
    states = ["triggered"] * triggered + ["acknowledged"] * acknowledged
    pages = tuple(
        Page(
            id=f"Q{n}",
            number=1000 + n,
            title=f"[Datadog] page {n}",
            status=state,  # type: ignore[arg-type]
            urgency="high",
            service_id="PSVC1",
            service_name="claims-api",
            created_at=NOW,
            last_status_change_at=NOW,
            html_url=f"https://benefits.pagerduty.com/incidents/Q{n}",
        )
        for n, state in enumerate(states)
    )
    return Snapshot(source="pages", taken_at=NOW, items=pages)


def test_status_demo_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "--demo", "--json")
    assert code == 0 and err == ""
    document = json.loads(out)
    assert set(document) == {"sources"}
    sources = document["sources"]
    assert set(sources) == set(PANES)
    for name in PANES:
        entry = sources[name]
        assert set(entry) >= ENTRY_KEYS, name
        if not entry["configured"]:
            assert entry == {"configured": False, "ok": False, "error": None, "items": []}
            continue
        assert (entry["ok"], entry["error"]) == (True, None), name
        assert isinstance(entry["items"], list)
        for item in entry["items"]:
            assert set(item) >= ITEM_KEYS, (name, item)
            assert all(isinstance(item[key], str) and item[key] for key in ITEM_KEYS)
            assert item["url"].startswith("https://")
        keys = [item["id"] for item in entry["items"]]
        assert len(set(keys)) == len(keys), f"{name}: an item is listed twice"
    pages = sources["pages"]
    assert pages["configured"], "the demo always has pages"
    items = pages["items"]
    assert len(items) == SCENARIOS["default"].pagerduty.open_pages
    states = [item["state"] for item in items]
    assert set(states) <= {"triggered", "acknowledged"}
    assert states == sorted(states, key=lambda s: s != "triggered"), "triggered first"


def test_status_demo_tmux_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "--demo", "--format", "tmux")
    assert code == 0 and err == ""
    assert out.endswith("\n") and out.count("\n") == 1
    line = out.rstrip("\n")
    pages, *others = line.split(" | ")
    match = re.fullmatch(r"PD (\d+)T (\d+)A", pages)
    assert match, line
    assert int(match[1]) + int(match[2]) == SCENARIOS["default"].pagerduty.open_pages
    assert all(re.fullmatch(r"(DD|GH|DB) \S.*", part) for part in others), line


def test_tmux_line_for_pages_is_short() -> None:
    results = {"pages": _pages_snapshot(triggered=3, acknowledged=12)}
    assert tmux_line(results) == "PD 3T 12A"
    assert tmux_line({**results, "monitors": "PagerDuty unreachable"}) == "PD 3T 12A | DD err"


def test_tmux_line_stays_short_with_busy_deploys_and_dependabot() -> None:
    deploys = tuple(
        Deploy(
            repo=f"benefits/svc-{n}",
            environment=env,
            deploy_state="failure" if (n, env) == (0, "prod") else "success",
            url=f"https://github.com/benefits/svc-{n}/actions",
        )
        for n in range(5)
        for env in ("dev", "qa", "sandbox", "prod-test", "prod")
    )
    prs = tuple(
        DependabotPR(
            repo="benefits/claims-api",
            number=n,
            title=f"Bump lib{n} from 1.0.0 to 1.0.1",
            url=f"https://github.com/benefits/claims-api/pull/{n}",
            package=f"lib{n}",
            from_version="1.0.0",
            to_version="1.0.1",
            bump="patch",
            ecosystem="gradle",
            ci="success",
            created_at=NOW,
        )
        for n in range(8)
    )
    results = {
        "pages": _pages_snapshot(triggered=2, acknowledged=5),
        "deploys": Snapshot(source="deploys", taken_at=NOW, items=deploys),
        "dependabot": Snapshot(source="dependabot", taken_at=NOW, items=prs),
    }
    line = tmux_line(results)
    assert "\n" not in line
    assert "success" not in line, f"a status bar shows what needs eyes: {line!r}"
    assert len(line) <= 40, line


def test_status_with_nothing_configured_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "--format", "tmux")
    assert (code, out, err) == (0, "oncall-tui: nothing configured\n", "")


# --------------------------------------------------------------------------- status failing


def pagerduty_config(simulator: Simulator, tmp_path: Path, token: str | None = None) -> Path:
    """A config with only [pagerduty], pointed at the simulator."""
    return write(
        tmp_path / "sim" / "config.toml",
        "[pagerduty]\n"
        f'token = "{token or simulator.tokens["pagerduty"]}"\n'
        f'base_url = "{simulator.pagerduty_url}"\n'
        f'ca_bundle = "{simulator.ca_pem_path}"\n'
        f'from_email = "{simulator.world.pagerduty.me_email}"\n',
    )


def test_status_with_a_500_is_exit_1_with_the_error_in_the_json(
    capsys: pytest.CaptureFixture[str], simulator: Simulator, tmp_path: Path
) -> None:
    config = pagerduty_config(simulator, tmp_path)
    simulator.set_fault("pagerduty", "500")
    code, out, err = run(capsys, "--config", str(config), "status", "--json")
    assert code == 1 and err == ""
    pages = json.loads(out)["sources"]["pages"]
    assert (pages["configured"], pages["ok"], pages["items"]) == (True, False, [])
    assert "500" in pages["error"] and "\n" not in pages["error"]

    code, out, err = run(capsys, "--config", str(config), "status")
    assert code == 1 and err == ""
    assert re.search(r"^pages\s+FAILED: .*500", out, re.MULTILINE)

    simulator.set_fault("pagerduty", None)
    code, out, _ = run(capsys, "--config", str(config), "status", "--json")
    assert code == 0 and json.loads(out)["sources"]["pages"]["ok"] is True


@pytest.mark.parametrize(
    ("output", "says"),
    [
        ([], "refused the token"),
        (["--json"], "refused the token"),
        (["--format", "tmux"], "PD err"),
    ],
    ids=["text", "json", "tmux"],
)
def test_a_canary_token_never_reaches_the_terminal(
    capsys: pytest.CaptureFixture[str],
    simulator: Simulator,
    tmp_path: Path,
    isolated: Path,
    output: list[str],
    says: str,
) -> None:
    config = pagerduty_config(simulator, tmp_path, token=CANARY)
    code, out, err = run(capsys, "--config", str(config), "status", *output)
    assert code == 1, "the simulator refuses the canary token"
    assert simulator.exchanges[-1].response.status == 401, "the token was really tried"
    for text in (out, err):
        assert CANARY not in text
        assert CANARY[-4:] not in text
    assert says in out
    log = isolated / "xdg_cache_home" / "oncall-tui" / "oncall-tui.log"
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert CANARY not in log.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- entry point


def test_python_m_version(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "ONCALL_TUI_")) and key != "HOME"
    }
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"oncall-tui {__version__}\n"
    assert done.stderr == ""
