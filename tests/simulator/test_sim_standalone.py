"""`run_standalone` (what `oncall-tui simulate` runs): output, config file, clean stop."""

from __future__ import annotations

import io
import signal
import socket
import ssl
import stat
import threading
import tomllib
from pathlib import Path

import pagerduty
import pytest

from oncall_tui.config import Settings, load_settings
from oncall_tui.demo import demo_settings
from oncall_tui.simulator import Simulator, run_standalone, write_config_file


class Output(io.StringIO):
    """Captured output that says when the simulator is ready (it prints the Ctrl-C hint)."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "Ctrl-C" in text:
            self.ready.set()
        return written


def test_serves_until_stopped_and_writes_a_config(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "oncall.toml"
    out = Output()
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(run_standalone(0, "quiet", config, 3, stop=stop, out=out)),
        daemon=True,
    )
    thread.start()
    assert out.ready.wait(10), out.getvalue()
    try:
        text = out.getvalue()
        assert "listening on https://127.0.0.1:" in text
        assert f"wrote {config}" in text
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        settings = tomllib.loads(config.read_text())["pagerduty"]
        assert settings["base_url"].startswith("https://127.0.0.1:")
        assert settings["base_url"].endswith("/pagerduty")
        assert settings["ca_bundle"] == str(config.parent / "oncall-sim-ca.pem")
        assert settings["token"] == "sim-pd-token"
        assert settings["from_email"] == "alex.rivera@example.com"
        assert len(settings["escalation_policy_ids"]) == 2
        client = pagerduty.RestApiV2Client(
            settings["token"],
            default_from=settings["from_email"],
            base_url=settings["base_url"],
            verify=ssl.create_default_context(cafile=settings["ca_bundle"]),
        )
        assert client.rget("/users/me")["email"] == settings["from_email"]
        oncalls = client.list_all(
            "/oncalls", params={"escalation_policy_ids": settings["escalation_policy_ids"]}
        )
        assert len(oncalls) == 4
        client.close()
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
    assert "simulator stopped" in out.getvalue()


class SignalOnReady(Output):
    """Sends this process a signal as soon as the simulator says it is ready."""

    def __init__(self, signum: signal.Signals) -> None:
        super().__init__()
        self.signum = signum

    def write(self, text: str) -> int:
        written = super().write(text)
        if "Ctrl-C" in text:
            signal.raise_signal(self.signum)
        return written


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_kill_stops_cleanly_with_exit_0(signum: signal.Signals) -> None:
    before = signal.getsignal(signal.SIGTERM)
    out = SignalOnReady(signum)
    assert run_standalone(0, "default", None, 7, out=out) == 0
    assert "simulator stopped" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) == before


def test_unwritable_config_is_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = io.StringIO()
    assert run_standalone(0, "quiet", blocker / "oncall.toml", 7, out=out) == 1
    assert "simulator stopped" in out.getvalue()


def test_unknown_scenario_is_exit_2() -> None:
    assert run_standalone(0, "busy", None, 7, out=io.StringIO()) == 2


def test_busy_port_is_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_standalone(port, "default", None, 7, out=io.StringIO()) == 1


def test_write_config_file_replaces_an_existing_file(simulator: Simulator, tmp_path: Path) -> None:
    target = tmp_path / "oncall.toml"
    target.write_text("old")
    target.chmod(0o644)
    path, ca = write_config_file(simulator, target)
    assert path == target.resolve()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert ca.read_bytes() == simulator.ca_pem_path.read_bytes()
    parsed = tomllib.loads(target.read_text())
    assert parsed["pagerduty"]["base_url"] == simulator.pagerduty_url


def test_written_config_names_each_repositorys_deploy_source_like_the_demo(
    simulator: Simulator, tmp_path: Path
) -> None:
    """A workflow-deployed repository read as Deployments shows empty cells: the file must
    say how each one deploys, exactly as `--demo` does."""
    path, _ = write_config_file(simulator, tmp_path / "oncall.toml")
    loaded = load_settings(path, env={})
    demo = demo_settings(Settings(), simulator)
    assert loaded.github.repositories == demo.github.repositories
    assert {r.deploy_source for r in loaded.github.repositories} != {"deployments"}
