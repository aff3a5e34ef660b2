"""TLS verification is never turned off (issue 7, item 5).

Two halves:

- a static scan of `src/oncall_tui` for the ways Python code switches certificate checks off
  (`verify=False`, `CERT_NONE`, `_create_unverified_context`, `disable_warnings` ...). The
  simulator is the one place that builds an SSL context, and it must be a *server* context;
  the client-side switches are refused there too.
- a behavioural check per provider: the real sources (and the handover's GitHub publish)
  pointed at the simulator *without* its CA bundle, with the CA environment variables
  cleared, must refuse the connection with one line that says "certificate", before a
  single request reaches the simulator (so no token travelled over an unverified link).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import oncall_tui
from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.handover import PublishError, publish_github
from oncall_tui.simulator import Simulator
from oncall_tui.sources.base import Source, SourceError
from oncall_tui.sources.factory import build_sources

SRC = Path(oncall_tui.__file__).resolve().parent
SIMULATOR = SRC / "simulator"

# (what it is, pattern): every way we know to make a Python HTTPS client trust anything.
INSECURE: tuple[tuple[str, str], ...] = (
    ("verify=False (requests, httpx, PyGithub, pagerduty)", r"\bverify\s*=\s*(False|0)\b"),
    ("'verify': False in a kwargs dict", r"""["']verify["']\s*[:\]]\s*=?\s*(False|0)\b"""),
    ("verify_ssl = False (datadog-api-client)", r"\bverify_ssl\s*=\s*(False|0)\b"),
    ("ssl.CERT_NONE / CERT_OPTIONAL", r"\bCERT_(NONE|OPTIONAL)\b"),
    ("check_hostname = False", r"\bcheck_hostname\s*=\s*(False|0)\b"),
    ("assert_hostname = False (urllib3)", r"\bassert_hostname\s*=\s*(False|0)\b"),
    ("ssl._create_unverified_context", r"_create_unverified_context"),
    ("ssl._create_default_https_context patched", r"_create_default_https_context\s*="),
    ("PYTHONHTTPSVERIFY", r"PYTHONHTTPSVERIFY"),
    ("urllib3.disable_warnings", r"\bdisable_warnings\b"),
    ("InsecureRequestWarning silenced", r"InsecureRequestWarning"),
    ("cert_reqs = 'CERT_NONE' / 'none'", r"""\bcert_reqs\s*=\s*["']?(CERT_NONE|none)"""),
    ("verify_mode set", r"\bverify_mode\s*="),
)

CA_ENV = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")


def insecure_lines(text: str) -> list[tuple[int, str]]:
    """(line number, what) for every line of `text` that turns verification off."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in INSECURE:
            if re.search(pattern, line):
                found.append((number, what))
    return found


def python_files(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts)


# -- static ------------------------------------------------------------------------------


def test_the_scan_catches_every_pattern() -> None:
    """The scan can fail: each way of switching verification off is caught."""
    snippets = [
        "httpx.Client(verify=False)",
        "requests.get(url, verify = 0)",
        "kwargs['verify'] = False",
        "client(**{'verify': False})",
        "configuration.verify_ssl = False",
        "context.verify_mode = ssl.CERT_NONE",
        "context.check_hostname = False",
        "PoolManager(assert_hostname=False)",
        "ssl._create_unverified_context()",
        "ssl._create_default_https_context = ssl._create_unverified_context",
        "os.environ['PYTHONHTTPSVERIFY'] = '0'",
        "urllib3.disable_warnings()",
        "warnings.simplefilter('ignore', InsecureRequestWarning)",
        "PoolManager(cert_reqs='CERT_NONE')",
        "ctx.verify_mode = ssl.CERT_OPTIONAL",
    ]
    for snippet in snippets:
        assert insecure_lines(snippet), f"the scan misses: {snippet}"
    seen = {what for snippet in snippets for _, what in insecure_lines(snippet)}
    assert seen == {what for what, _ in INSECURE}, "a pattern has no snippet proving it works"
    safe = "verify: bool | str = str(ca) if ca is not None else True\nverify=context"
    assert insecure_lines(safe) == []


def test_no_client_code_turns_tls_verification_off() -> None:
    files = [p for p in python_files(SRC) if SIMULATOR not in p.parents]
    assert len(files) > 30, "the scan looked at the source tree"
    problems = [
        f"{path.relative_to(SRC)}:{number}: {what}"
        for path in files
        for number, what in insecure_lines(path.read_text(encoding="utf-8"))
    ]
    assert problems == []


def test_the_simulator_builds_server_contexts_only() -> None:
    """The simulator is where TLS is set up by hand: only its server side, never a client
    that trusts anything (its own tests and the demo trust it through its CA file)."""
    contexts: list[str] = []
    problems: list[str] = []
    for path in python_files(SIMULATOR):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            if "SSLContext(" in line:
                contexts.append(line.strip())
                if "PROTOCOL_TLS_SERVER" not in line:
                    problems.append(f"{path.name}:{number}: a non-server SSLContext")
        problems += [f"{path.name}:{n}: {what}" for n, what in insecure_lines(text)]
    assert contexts, "the simulator's server context was found"
    assert problems == []


# -- behaviour ---------------------------------------------------------------------------


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CA from the environment: only what the settings say is trusted (here: nothing)."""
    for name in CA_ENV:
        monkeypatch.delenv(name, raising=False)


def untrusting(simulator: Simulator) -> Settings:
    """Settings for every provider of the simulator, but without its CA bundle."""
    settings = demo_settings(Settings(), simulator)
    return replace(
        settings,
        pagerduty=replace(settings.pagerduty, ca_bundle=None),
        datadog=replace(settings.datadog, ca_bundle=None),
        github=replace(settings.github, ca_bundle=None),
    )


def refused(call: Callable[[], object]) -> str:
    """The one-line message of the `SourceError` that `call` must raise."""
    with pytest.raises(SourceError) as caught:
        call()
    message = caught.value.message
    assert message == str(caught.value) and "\n" not in message
    assert "Traceback" not in message
    return message


WRITES: dict[str, tuple[str, list[str], dict[str, object]]] = {
    "pages": ("acknowledge", ["QFOKWG2VOV6NKN"], {}),
    "monitors": ("mute", ["1"], {"scope": None, "end": None, "reason": "tls test"}),
    "deploys": ("rerun", ["benefits/ee-ep-merge-app:sandbox"], {"repo": "benefits/x", "run_id": 1}),
    "dependabot": ("approve", ["benefits/svc-bgs-api#3"], {}),
}
SECTIONS = {
    "pages": "pagerduty",
    "monitors": "datadog",
    "deploys": "github",
    "dependabot": "github",
}


@pytest.mark.usefixtures("no_ca_env")
@pytest.mark.parametrize("pane", ["pages", "monitors", "deploys", "dependabot"])
def test_without_the_ca_bundle_every_source_refuses_the_certificate(
    simulator: Simulator, sim_clock: FakeClock, pane: str
) -> None:
    sources: dict[str, Source] = build_sources(untrusting(simulator), sim_clock)
    source = sources[pane]
    try:
        section = SECTIONS[pane]
        expected = f"TLS certificate not trusted: check [{section}] ca_bundle"
        assert expected in refused(source.fetch)
        action, targets, payload = WRITES[pane]
        apply = source.apply  # type: ignore[attr-defined]
        assert expected in refused(lambda: apply(action, targets, payload, attempt=0))
    finally:
        for each in sources.values():
            each.close()
    # The handshake failed, so no request (and no token) ever reached the server.
    assert sum(simulator.request_counts.values()) == 0
    # The control: with the CA bundle the very same source reads fine.
    trusted = build_sources(demo_settings(Settings(), simulator), sim_clock)
    try:
        assert trusted[pane].fetch().source == pane
    finally:
        for each in trusted.values():
            each.close()


@pytest.mark.usefixtures("no_ca_env")
def test_without_the_ca_bundle_the_handover_is_not_published(simulator: Simulator) -> None:
    with pytest.raises(PublishError) as caught:
        publish_github("# handover\n", untrusting(simulator))
    assert "\n" not in str(caught.value) and "SSLError" in str(caught.value)
    assert simulator.request_counts["github"] == 0
