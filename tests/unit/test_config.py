"""Unit tests for oncall_tui.config: loading, validation, secrets, locations.

Every test writes its own config under tmp_path and passes an explicit `env`, so the real
user config and the developer's exported tokens never leak in.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import trustme

from oncall_tui.config import (
    DATADOG_SITES,
    ConfigError,
    DatadogSettings,
    GitHubSettings,
    HandoverSettings,
    KeyBindings,
    Locations,
    PagerDutySettings,
    RepositorySettings,
    Secret,
    ServiceSettings,
    Settings,
    ShiftSettings,
    UiSettings,
    config_path_report,
    load_settings,
    locations,
    run_shell_command,
)
from oncall_tui.config import _load as load_module
from oncall_tui.config._fields import SECTION_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
CANARY = "CANARY-s3cr3t-7f1e9b"
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def no_commands(command: str) -> str:
    raise AssertionError(f"no command should run here: {command}")


def write(tmp_path: Path, text: str, name: str = "config.toml", mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    path.chmod(mode)
    return path


def load(
    path: Path,
    env: Mapping[str, str] | None = None,
    run: Callable[[str], str] = no_commands,
) -> Settings:
    return load_settings(path, env=env or {}, run_command=run)


def error_of(
    tmp_path: Path,
    text: str,
    env: Mapping[str, str] | None = None,
    run: Callable[[str], str] = no_commands,
) -> str:
    """Load `text` expecting a ConfigError; check its shape and return its message."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, env, run)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert "; " in message, "every message says what to do"
    return message


# -- which file ----------------------------------------------------------------------------


def test_empty_file_gives_defaults_and_nothing_configured(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load(path)
    assert settings.source == path
    assert settings.warnings == ()
    assert not settings.pagerduty.configured
    assert not settings.datadog.configured
    assert not settings.github.configured
    assert settings.pagerduty == Settings().pagerduty
    assert settings.github.environments == ("dev", "qa", "sandbox", "prod-test", "prod")
    assert settings.datadog.states == ("Alert", "Warn", "No Data")


def test_missing_default_file_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Locations(
        config_file=tmp_path / "nowhere" / "config.toml",
        data_dir=tmp_path / "data",
        themes_dir=tmp_path / "themes",
        cache_dir=tmp_path / "cache",
        state_file=tmp_path / "data" / "ui-state.json",
    )
    monkeypatch.setattr(load_module, "locations", lambda env=None: fake)
    settings = load_settings(env={}, run_command=no_commands)
    assert settings.source is None
    assert not settings.pagerduty.configured
    assert settings.shift.timezone == "America/New_York"


def test_missing_default_file_still_uses_env_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = locations({"ONCALL_TUI_CONFIG": str(tmp_path / "absent.toml")})
    monkeypatch.setattr(load_module, "locations", lambda env=None: fake)
    settings = load_settings(env={"PAGERDUTY_TOKEN": "pd-env"}, run_command=no_commands)
    assert settings.pagerduty.token is not None
    assert settings.pagerduty.token.reveal() == "pd-env"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert message == (f"{path}: no such file; create it from config.toml.example or drop --config")


def test_env_named_file_is_used_and_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, '[ui]\ntheme = "from-env"\n', name="env.toml")
    settings = load_settings(env={"ONCALL_TUI_CONFIG": str(path)}, run_command=no_commands)
    assert settings.ui.theme == "from-env"
    assert settings.source == path

    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="no such file; .*unset ONCALL_TUI_CONFIG"):
        load_settings(env={"ONCALL_TUI_CONFIG": str(missing)}, run_command=no_commands)


def test_explicit_path_beats_env(tmp_path: Path) -> None:
    explicit = write(tmp_path, '[ui]\ntheme = "explicit"\n', name="a.toml")
    named = write(tmp_path, '[ui]\ntheme = "env"\n', name="b.toml")
    settings = load(explicit, env={"ONCALL_TUI_CONFIG": str(named)})
    assert settings.ui.theme == "explicit"


def test_directory_and_bad_encoding_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load(tmp_path)
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[shift]\nengineer = "Jos\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[shift]\nengineer = "Jos\xc3\xa9"\n')
    assert load(path).shift.engineer == "José"


# -- locations -----------------------------------------------------------------------------


def test_locations_honours_env_override(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.toml"
    locs = locations({"ONCALL_TUI_CONFIG": str(target)})
    assert locs.config_file == target
    assert locs.state_file == locs.data_dir / "ui-state.json"
    assert locs.themes_dir.name == "themes"
    assert "oncall-tui" in str(locs.data_dir)
    assert "oncall-tui" in str(locs.cache_dir)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG paths are Linux-only")
def test_locations_follow_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    locs = locations({})
    assert locs.config_file == tmp_path / "cfg" / "oncall-tui" / "config.toml"
    assert locs.themes_dir == tmp_path / "cfg" / "oncall-tui" / "themes"
    assert locs.data_dir == tmp_path / "data" / "oncall-tui"
    assert locs.cache_dir == tmp_path / "cache" / "oncall-tui"
    assert locs.state_file == tmp_path / "data" / "oncall-tui" / "ui-state.json"


def test_config_path_report(tmp_path: Path) -> None:
    locs = Locations(
        config_file=tmp_path / "config.toml",
        data_dir=tmp_path / "data",
        themes_dir=tmp_path / "themes",
        cache_dir=tmp_path / "cache",
        state_file=tmp_path / "data" / "ui-state.json",
    )
    assert config_path_report(locs).splitlines() == [
        f"config: {tmp_path / 'config.toml'} (missing)",
        f"data: {tmp_path / 'data'}",
        f"themes: {tmp_path / 'themes'}",
        f"cache: {tmp_path / 'cache'}",
    ]
    (tmp_path / "config.toml").write_text("")
    assert config_path_report(locs).splitlines()[0].endswith("(exists)")


# -- syntax and structure ------------------------------------------------------------------


def test_invalid_toml_names_line_and_column(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[pagerduty]\ninterval = 30\nbase_url = https://x\n")
    assert "line 3, column 12" in message
    assert "invalid TOML" in message


def test_truncated_toml_says_end_of_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[github]\nenvironments = ["dev",\n')
    assert f"{tmp_path / 'config.toml'}: end of file: invalid TOML" in message


def test_unknown_section_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[pagerdutty]\ninterval = 30\n")
    assert message.endswith("[pagerdutty]: unknown section; did you mean [pagerduty]?")


def test_unknown_section_without_close_match_lists_sections(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[slack]\nchannel = 'x'\n")
    assert "known sections: [pagerduty], [datadog], [github], [ui], [shift]" in message


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[pagerduty]\nintervall = 30\n")
    assert message.endswith("[pagerduty] intervall: unknown key; did you mean 'interval'?")


def test_key_in_the_wrong_section_says_where_it_belongs(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[pagerduty]\nrepositories = ["a/b"]\n')
    assert "[pagerduty] repositories: unknown key; it belongs in [github]" in message


def test_key_outside_any_section(tmp_path: Path) -> None:
    message = error_of(tmp_path, 'site = "ddog-gov.com"\n')
    assert message.endswith("site: key outside any section; move it under [datadog]")
    message = error_of(tmp_path, "interval = 30\n")
    assert "move it under its section ([pagerduty], [datadog], [github])" in message


def test_section_must_be_a_table(tmp_path: Path) -> None:
    message = error_of(tmp_path, "pagerduty = 3\n")
    assert "[pagerduty]: expected a table, got an integer" in message


# -- types and ranges ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("pagerduty", "interval", '"fast"', "expected a number of seconds, got a string"),
        ("pagerduty", "interval", "true", "expected a number of seconds, got a boolean"),
        ("pagerduty", "interval", "0", "must be a positive number of seconds"),
        ("pagerduty", "interval", "-5", "must be a positive number of seconds"),
        ("pagerduty", "interval", "nan", "must be a positive number of seconds"),
        ("pagerduty", "interval", "2", "2 s is too short (the minimum is 5 s)"),
        ("pagerduty", "interval", "1e9", "is too long"),
        ("pagerduty", "timeout", "0", "must be a positive number of seconds"),
        ("pagerduty", "timeout", "900", "is too long (the maximum is 300 s)"),
        ("datadog", "interval", "1.5", "too short"),
        ("github", "interval", "[]", "got an array"),
        ("github", "dependabot_interval", "30", "30 s is too short (the minimum is 60 s)"),
        ("pagerduty", "only_mine", '"yes"', "expected true or false, got a string"),
        ("ui", "bell", "1", "expected true or false, got an integer"),
        ("pagerduty", "service_ids", '"PABC123"', "expected an array of strings, got a string"),
        ("pagerduty", "team_ids", "[1]", "expected a string, got an integer"),
        ("github", "environments", '["dev", "dev"]', "'dev' is listed twice"),
        ("github", "environments", '["dev", " "]', "is empty"),
        ("github", "environments", "[]", "is empty"),
        ("datadog", "query", "42", "expected a string, got an integer"),
        ("shift", "engineer", "{name = 'x'}", "expected a string, got a table"),
    ],
)
def test_wrong_types_and_ranges(
    tmp_path: Path, section: str, key: str, value: str, expected: str
) -> None:
    message = error_of(tmp_path, f"[{section}]\n{key} = {value}\n")
    assert f"[{section}] {key}" in message
    assert expected in message


def test_integers_are_accepted_for_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, "[pagerduty]\ninterval = 5\ntimeout = 7.5\n")
    settings = load(path)
    assert settings.pagerduty.interval == 5.0
    assert settings.pagerduty.timeout == 7.5


@pytest.mark.parametrize("section", ["pagerduty", "datadog", "github"])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://api.example.com", "must start with https:// (the provider SDKs refuse plain"),
        ("api.example.com", "must start with https://"),
        ("https://", "has no host name"),
        ("https://user:pw@api.example.com", "must not contain credentials"),
        ("https://api.example.com/?x=1", "must not have a query string"),
        ("https://api.example.com:notaport", "is not a valid URL"),
    ],
)
def test_bad_urls(tmp_path: Path, section: str, url: str, expected: str) -> None:
    message = error_of(tmp_path, f'[{section}]\nbase_url = "{url}"\n')
    assert f"[{section}] base_url: {expected}" in message
    assert "https://HOST" in message


def test_good_urls_are_normalized(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [pagerduty]
        base_url = "https://api.eu.pagerduty.com/"
        [github]
        base_url = "https://github.example.gov/api/v3"
        [datadog]
        base_url = "https://127.0.0.1:8443"
        """,
    )
    settings = load(path)
    assert settings.pagerduty.base_url == "https://api.eu.pagerduty.com"
    assert settings.github.base_url == "https://github.example.gov/api/v3"
    assert settings.github.graphql_url == "https://github.example.gov/api/graphql"
    assert settings.datadog.api_url == "https://127.0.0.1:8443"
    assert GitHubSettings().graphql_url == "https://api.github.com/graphql"


def test_ca_bundle_resolves_next_to_the_file_and_must_exist(tmp_path: Path) -> None:
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "corp-ca.pem"))
    path = write(tmp_path, '[github]\nca_bundle = "corp-ca.pem"\n')
    assert load(path).github.ca_bundle == tmp_path / "corp-ca.pem"

    (tmp_path / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    message = error_of(tmp_path, '[github]\nca_bundle = "broken.pem"\n')
    assert "[github] ca_bundle:" in message and "no readable PEM certificate" in message

    message = error_of(tmp_path, '[datadog]\nca_bundle = "missing.pem"\n')
    assert f"[datadog] ca_bundle: no such file {tmp_path / 'missing.pem'}" in message


# -- PagerDuty -----------------------------------------------------------------------------


def test_pagerduty_ids_must_be_ids(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[pagerduty]\nservice_ids = ["PABC123", "claims-api"]\n')
    assert "[pagerduty] service_ids[1]: 'claims-api' looks like a name" in message


def test_pagerduty_from_email(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[pagerduty]\nfrom_email = "jane"\n')
    assert "[pagerduty] from_email: 'jane' is not an email address" in message
    path = write(tmp_path, '[pagerduty]\nfrom_email = "jane@example.com"\n')
    assert load(path).pagerduty.from_email == "jane@example.com"


# -- Datadog -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "api_url", "app_url"),
    [
        ("datadoghq.com", "https://api.datadoghq.com", "https://app.datadoghq.com"),
        ("datadoghq.eu", "https://api.datadoghq.eu", "https://app.datadoghq.eu"),
        ("ddog-gov.com", "https://api.ddog-gov.com", "https://app.ddog-gov.com"),
        ("us3.datadoghq.com", "https://api.us3.datadoghq.com", "https://us3.datadoghq.com"),
        ("us5.datadoghq.com", "https://api.us5.datadoghq.com", "https://us5.datadoghq.com"),
        ("ap1.datadoghq.com", "https://api.ap1.datadoghq.com", "https://ap1.datadoghq.com"),
        ("us2.ddog-gov.com", "https://api.us2.ddog-gov.com", "https://us2.ddog-gov.com"),
    ],
)
def test_datadog_site_urls(tmp_path: Path, site: str, api_url: str, app_url: str) -> None:
    settings = load(write(tmp_path, f'[datadog]\nsite = "{site}"\n'))
    assert settings.datadog.site == site
    assert settings.datadog.api_url == api_url
    assert settings.datadog.app_url == app_url


def test_every_known_site_loads(tmp_path: Path) -> None:
    for site in DATADOG_SITES:
        assert load(write(tmp_path, f'[datadog]\nsite = "{site}"\n')).datadog.site == site


def test_unknown_site_suggests(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[datadog]\nsite = "ddog-gov.co"\n')
    assert "[datadog] site: unknown Datadog site 'ddog-gov.co'; did you mean 'ddog-gov.com'?" in (
        message
    )
    message = error_of(tmp_path, '[datadog]\nsite = "https://app.datadoghq.eu"\n')
    assert "write the site parameter only: 'datadoghq.eu'" in message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("us1.datadoghq.com", "the US1 site parameter is 'datadoghq.com'"),
        ("US1-FED", "the US1-FED site parameter is 'ddog-gov.com'"),
        ("eu1", "the EU1 site parameter is 'datadoghq.eu'"),
    ],
)
def test_region_names_point_at_the_site_parameter(
    tmp_path: Path, typed: str, expected: str
) -> None:
    assert expected in error_of(tmp_path, f'[datadog]\nsite = "{typed}"\n')


def test_dd_site_env_applies_only_when_file_has_no_site(tmp_path: Path) -> None:
    bare = write(tmp_path, "[datadog]\n", name="bare.toml")
    assert load(bare, env={"DD_SITE": "ddog-gov.com"}).datadog.site == "ddog-gov.com"
    with_site = write(tmp_path, '[datadog]\nsite = "datadoghq.eu"\n', name="site.toml")
    assert load(with_site, env={"DD_SITE": "ddog-gov.com"}).datadog.site == "datadoghq.eu"
    message = error_of(tmp_path, "[datadog]\n", env={"DD_SITE": "datadoghq.gov"})
    assert "[datadog] site (from DD_SITE): unknown Datadog site 'datadoghq.gov'" in message
    assert "set it in DD_SITE or in [datadog] site" in message


def test_datadog_base_url_overrides_api_url_only(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[datadog]\nsite = "ddog-gov.com"\nbase_url = "https://dd-proxy.example"\n'
    )
    datadog = load(path).datadog
    assert datadog.api_url == "https://dd-proxy.example"
    assert datadog.app_url == "https://app.ddog-gov.com"
    assert DatadogSettings().api_url == "https://api.datadoghq.com"


def test_datadog_states(tmp_path: Path) -> None:
    path = write(tmp_path, '[datadog]\nstates = ["alert", "no  data", "OK"]\n')
    assert load(path).datadog.states == ("Alert", "No Data", "OK")
    message = error_of(tmp_path, '[datadog]\nstates = ["Alert", "Warning"]\n')
    assert "[datadog] states[1]: unknown monitor state 'Warning'; did you mean 'Warn'?" in message
    message = error_of(tmp_path, '[datadog]\nstates = ["Alert", "alert"]\n')
    assert "'Alert' is listed twice" in message
    message = error_of(tmp_path, "[datadog]\nstates = []\n")
    assert "[datadog] states: is empty" in message


# -- GitHub --------------------------------------------------------------------------------


def test_repositories_accept_strings_and_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [github]
        environments = ["dev", "qa", "prod"]
        repositories = [
            "benefits/claims-api",
            { name = "benefits/ee-ep-merge-app", deploy_source = "workflow:update-deployment.yml" },
            { name = "benefits/domain-cc", environments = ["dev", "prod"] },
        ]
        """,
    )
    github = load(path).github
    claims, merge_app, domain_cc = github.repositories
    assert claims == RepositorySettings("benefits/claims-api")
    assert claims.workflow is None
    assert (claims.owner, claims.repo) == ("benefits", "claims-api")
    assert merge_app.deploy_source == "workflow:update-deployment.yml"
    assert merge_app.workflow == "update-deployment.yml"
    assert domain_cc.deploy_source == "deployments"
    assert github.environments_for(claims) == ("dev", "qa", "prod")
    assert github.environments_for(domain_cc) == ("dev", "prod")


def test_repositories_as_array_of_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[github.repositories]]
        name = "benefits/svc-bie-kafka"
        deploy_source = "workflow:123456"

        [[github.repositories]]
        name = "benefits/claims-api"
        """,
    )
    names = [repo.name for repo in load(path).github.repositories]
    assert names == ["benefits/svc-bie-kafka", "benefits/claims-api"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('"claims-api"', "[github] repositories[0].name: 'claims-api' is not an owner/repo"),
        ("42", '[github] repositories[0]: expected "owner/repo" or a table, got an integer'),
        ('{ deploy_source = "deployments" }', "repositories[0].name: is missing"),
        ("{ name = 7 }", "repositories[0].name: expected a string, got an integer"),
        (
            '{ name = "a/b", deploy = "deployments" }',
            "repositories[0].deploy: unknown key; did you mean 'deploy_source'?",
        ),
        (
            '{ name = "a/b", deploy_source = "deployment" }',
            "unknown deploy source 'deployment'; did you mean 'deployments'?",
        ),
        (
            '{ name = "a/b", deploy_source = "workflow:.github/workflows/deploy.yml" }',
            'give the workflow file name only, e.g. "workflow:deploy.yml"',
        ),
        (
            '{ name = "a/b", deploy_source = "workflow:deploy" }',
            "'workflow:deploy' does not name a workflow file",
        ),
        (
            '{ name = "a/b", environments = "prod" }',
            "repositories[0].environments: expected an array of strings",
        ),
    ],
)
def test_bad_repository_entries(tmp_path: Path, entry: str, expected: str) -> None:
    message = error_of(tmp_path, f"[github]\nrepositories = [{entry}]\n")
    assert expected in message


def test_duplicate_repository(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[github]\nrepositories = ["a/b", { name = "A/B" }]\n')
    assert "repositories[1].name: 'A/B' is listed twice" in message


def test_repositories_must_be_an_array(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[github]\nrepositories = "a/b"\n')
    assert "[github] repositories: expected an array, got a string" in message


def test_merge_method(tmp_path: Path) -> None:
    assert load(write(tmp_path, '[github]\nmerge_method = "rebase"\n')).github.merge_method == (
        "rebase"
    )
    message = error_of(tmp_path, '[github]\nmerge_method = "sqash"\n')
    assert "[github] merge_method: unknown value 'sqash'; did you mean 'squash'?" in message


def test_handover_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[github]\nhandover_repo = "benefits/on-call"\n'
        'handover_issue_pattern = "Sprint {n} on-call"\norg = "benefits"\n',
    )
    github = load(path).github
    assert github.handover_repo == "benefits/on-call"
    assert github.handover_issue_title(42) == "Sprint 42 on-call"
    assert GitHubSettings().handover_issue_title(7) == "On call for Sprint 7"

    for pattern in ("On call", "Sprint {sprint}", "Sprint {n} {"):
        message = error_of(tmp_path, f'[github]\nhandover_issue_pattern = "{pattern}"\n')
        assert "[github] handover_issue_pattern: must contain {n}" in message
    message = error_of(tmp_path, '[github]\nhandover_repo = "on-call"\n')
    assert "[github] handover_repo: 'on-call' is not an owner/repo name" in message
    message = error_of(tmp_path, '[github]\norg = "bene fits"\n')
    assert "[github] org: 'bene fits' is not a GitHub organization name" in message


def test_handover_section(tmp_path: Path) -> None:
    assert Settings().handover == HandoverSettings(link_window=60.0)
    path = write(
        tmp_path,
        '[handover]\nlink_window = 90\npublish_repo = "benefits/on-call"\n'
        'slack_webhook_command = "pass show slack"\n',
    )
    settings = load(path, run=lambda command: f"https://hooks.slack.com/services/{CANARY}\n")
    handover = settings.handover
    assert (handover.link_window, handover.publish_repo) == (90.0, "benefits/on-call")
    assert handover.slack_webhook is not None
    assert handover.slack_webhook.reveal().endswith(CANARY)
    assert handover.slack_webhook.origin == "[handover] slack_webhook_command"
    assert CANARY not in repr(settings)
    from_env = load(
        write(tmp_path, ""), env={"ONCALL_SLACK_WEBHOOK": "https://hooks.slack.com/services/x"}
    )
    assert from_env.handover.slack_webhook is not None
    assert from_env.handover.slack_webhook.origin == "ONCALL_SLACK_WEBHOOK"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("link_window = 0", "[handover] link_window: 0 min is out of range"),
        ("link_window = 2000", "[handover] link_window: 2000 min is out of range"),
        (
            "link_window = '60'",
            "[handover] link_window: expected a number of minutes, got a string",
        ),
        ("link_window = true", "[handover] link_window: expected a number of minutes"),
        (
            "publish_repo = 'on-call'",
            "[handover] publish_repo: 'on-call' is not an owner/repo name",
        ),
        (
            "slack_webhok = 'x'",
            "[handover] slack_webhok: unknown key; did you mean 'slack_webhook'?",
        ),
        (
            f"slack_webhook = 'http://{CANARY}.example'",
            "[handover] slack_webhook: is not an https://",
        ),
        (f"slack_webhook = '{CANARY} x'", "[handover] slack_webhook: contains spaces"),
    ],
)
def test_bad_handover_settings(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, f"[handover]\n{text}\n")
    assert expected in message
    assert CANARY not in message


def test_services_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [services.claims-api]
        pagerduty = "PCLM4PI"
        repository = "benefits/claims-api"
        datadog = "service:claims-api"

        [services.kafka]
        pagerduty = ["svc-bie-kafka", "PKAFKA1"]
        repository = ["benefits/svc-bie-kafka", "benefits/kafka-config"]
        datadog = ["svc-bie-kafka", "team:data"]

        [services.postgres]
        """,
    )
    services = load(path).services
    assert services == (
        ServiceSettings(
            "claims-api", ("PCLM4PI",), ("benefits/claims-api",), ("service:claims-api",)
        ),
        ServiceSettings(
            "kafka",
            ("svc-bie-kafka", "PKAFKA1"),
            ("benefits/svc-bie-kafka", "benefits/kafka-config"),
            ("service:svc-bie-kafka", "team:data"),
        ),
        ServiceSettings("postgres"),
    )
    assert Settings().services == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[services]\nclaims = 'x'\n", "[services] claims: expected a table, got a string"),
        (
            "[services.claims]\npagerdutty = 'x'\n",
            "[services.claims] pagerdutty: unknown key; did you mean 'pagerduty'?",
        ),
        (
            "[services.claims]\nrepository = 'claims-api'\n",
            "[services.claims] repository: 'claims-api' is not an owner/repo name",
        ),
        (
            "[services.claims]\nrepository = ['a/b', 'c']\n",
            "[services.claims] repository[1]: 'c' is not an owner/repo name",
        ),
        ("[services.claims]\ndatadog = 7\n", "[services.claims] datadog: expected an array of"),
        (
            "[services.claims]\npagerduty = ['a', 'a']\n",
            "[services.claims] pagerduty[1]: 'a' is listed twice",
        ),
        ('[services."claims api"]\n', "[services] claims api: 'claims api' is not a service name"),
    ],
)
def test_bad_services(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


# -- UI ------------------------------------------------------------------------------------


def test_ui_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [ui]
        theme = "oncall-light"
        read_only = true
        desktop_notify = "off"
        [ui.keys]
        refresh = "f5,ctrl+r"
        """,
    )
    ui = load(path).ui
    assert ui.theme == "oncall-light"
    assert ui.read_only is True
    assert ui.desktop_notify == "off"
    assert dict(ui.keys) == {"refresh": "f5,ctrl+r"}
    with pytest.raises(TypeError):
        ui.keys["refresh"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[ui]\ndesktop_notify = "osc99"\n', "unknown value 'osc99'; did you mean 'osc9'?"),
        ('[ui]\nkeys = "f5"\n', "[ui] keys: expected a table, got a string"),
        ("[ui.keys]\nrefresh = 5\n", "[ui] keys.refresh: expected a key such as"),
        ('[ui.keys]\nrefresh = ""\n', "[ui] keys.refresh: is empty"),
        ('[ui.keys]\nrefresh = "ctrl r"\n', "'ctrl r' contains a space"),
        ('[ui]\ntheme = ""\n', "[ui] theme: is empty"),
    ],
)
def test_bad_ui_settings(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


# -- shift ---------------------------------------------------------------------------------


def test_shift_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [shift]
        engineer = "Jane Doe"
        secondary = "Sam Lee"
        timezone = "America/Chicago"
        working_hours = "8:30-17:00"
        start = 2025-03-03T09:00:00
        end = "2025-03-17T09:00:00Z"
        """,
    )
    shift = load(path).shift
    assert shift.engineer == "Jane Doe"
    assert shift.working_hours == "08:30-17:00"
    assert shift.working_hours_start == time(8, 30)
    assert shift.working_hours_end == time(17, 0)
    assert shift.start == datetime(2025, 3, 3, 9, tzinfo=ZoneInfo("America/Chicago"))
    assert shift.end == datetime(2025, 3, 17, 9, tzinfo=UTC)
    assert shift.tz == ZoneInfo("America/Chicago")


def test_in_working_hours_uses_the_shift_zone_and_wraps() -> None:
    day = ShiftSettings(timezone="America/New_York", working_hours="09:00-17:00")
    nine_eastern = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert day.in_working_hours(nine_eastern)
    assert not day.in_working_hours(nine_eastern - timedelta(minutes=1))
    assert not day.in_working_hours(nine_eastern + timedelta(hours=8))  # 17:00 is out
    night = ShiftSettings(timezone="UTC", working_hours="22:00-06:00")
    assert night.in_working_hours(datetime(2025, 3, 4, 23, 0, tzinfo=UTC))
    assert night.in_working_hours(datetime(2025, 3, 4, 5, 59, tzinfo=UTC))
    assert not night.in_working_hours(datetime(2025, 3, 4, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('timezone = "America/New_Yrok"', "unknown time zone 'America/New_Yrok'; did you mean"),
        ('timezone = "Mars/Olympus"', "[shift] timezone: unknown time zone 'Mars/Olympus'"),
        ('timezone = "../etc"', "[shift] timezone: unknown time zone"),
        ('working_hours = "9-5"', "[shift] working_hours: '9-5' is not a range"),
        ('working_hours = "25:00-17:00"', "[shift] working_hours: '25:00-17:00' is not a range"),
        ('working_hours = "09:00-09:00"', "is not a range of two different 24-hour times"),
        ('working_hours = "09:60-17:00"', "is not a range"),
        ("start = 2025-03-03", "[shift] start: expected a date and time, got a date"),
        ('start = "next monday"', "[shift] start: 'next monday' is not an ISO date and time"),
        (
            "start = 2025-03-17T09:00:00Z\nend = 2025-03-03T09:00:00Z",
            "[shift] end: is not after start",
        ),
    ],
)
def test_bad_shift_settings(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, f"[shift]\n{text}\n")


# -- secrets -------------------------------------------------------------------------------


class Runner:
    """A fake `run_command` that answers from a table and records what ran."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self.answers = answers
        self.ran: list[str] = []

    def __call__(self, command: str) -> str:
        self.ran.append(command)
        return self.answers[command]


SECRETS_FILE = """
[pagerduty]
token = "pd-file"
token_command = "get pd"
[datadog]
api_key = "dd-api-file"
api_key_command = "get dd-api"
app_key = "dd-app-file"
app_key_command = "get dd-app"
[github]
token = "gh-file"
token_command = "get gh"
"""
ALL_ENV = {
    "PAGERDUTY_TOKEN": "pd-env",
    "DD_API_KEY": "dd-api-env",
    "DD_APP_KEY": "dd-app-env",
    "GITHUB_TOKEN": "gh-env",
    "GH_TOKEN": "gh-env-2",
}


def revealed(settings: Settings) -> tuple[str | None, ...]:
    secrets = (
        settings.pagerduty.token,
        settings.datadog.api_key,
        settings.datadog.app_key,
        settings.github.token,
    )
    return tuple(secret.reveal() if secret else None for secret in secrets)


def test_command_beats_file_beats_env(tmp_path: Path) -> None:
    runner = Runner(
        {
            "get pd": "pd-cmd\n",
            "get dd-api": " dd-api-cmd ",
            "get dd-app": "dd-app-cmd",
            "get gh": "gh-cmd",
        }
    )
    settings = load(write(tmp_path, SECRETS_FILE), env=ALL_ENV, run=runner)
    assert revealed(settings) == ("pd-cmd", "dd-api-cmd", "dd-app-cmd", "gh-cmd")
    assert sorted(runner.ran) == ["get dd-api", "get dd-app", "get gh", "get pd"]
    assert settings.pagerduty.token is not None
    assert settings.pagerduty.token.origin == "[pagerduty] token_command"
    assert any("token and token_command are both set" in w for w in settings.warnings)

    without_commands = "\n".join(
        line for line in SECRETS_FILE.splitlines() if "_command" not in line
    )
    settings = load(write(tmp_path, without_commands), env=ALL_ENV)
    assert revealed(settings) == ("pd-file", "dd-api-file", "dd-app-file", "gh-file")
    assert settings.github.token is not None
    assert settings.github.token.origin == "[github] token"

    settings = load(write(tmp_path, ""), env=ALL_ENV)
    assert revealed(settings) == ("pd-env", "dd-api-env", "dd-app-env", "gh-env")
    assert settings.datadog.api_key is not None
    assert settings.datadog.api_key.origin == "DD_API_KEY"
    assert settings.pagerduty.configured and settings.datadog.configured
    assert settings.github.configured


def test_gh_token_is_the_github_fallback(tmp_path: Path) -> None:
    settings = load(write(tmp_path, ""), env={"GH_TOKEN": "gh-2", "GITHUB_TOKEN": "  "})
    assert settings.github.token is not None
    assert settings.github.token.reveal() == "gh-2"
    assert settings.github.token.origin == "GH_TOKEN"


def test_datadog_needs_both_keys(tmp_path: Path) -> None:
    settings = load(write(tmp_path, ""), env={"DD_API_KEY": "only-api"})
    assert settings.datadog.api_key is not None
    assert not settings.datadog.configured


def test_empty_secret_values_mean_unset(tmp_path: Path) -> None:
    settings = load(write(tmp_path, '[pagerduty]\ntoken = ""\n'), env={"PAGERDUTY_TOKEN": "e"})
    assert settings.pagerduty.token is not None
    assert settings.pagerduty.token.origin == "PAGERDUTY_TOKEN"


def test_commands_run_only_after_the_file_validates(tmp_path: Path) -> None:
    text = '[pagerduty]\ntoken_command = "get pd"\n[ui]\ntheme = 3\n'
    assert "[ui] theme" in error_of(tmp_path, text, run=no_commands)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (subprocess.CalledProcessError(1, "get pd"), "exited with status 1"),
        (
            subprocess.CalledProcessError(127, "get pd"),
            "exited with status 127 (command not found)",
        ),
        (subprocess.TimeoutExpired("get pd", 10), "did not finish within 10 s"),
        (FileNotFoundError("no shell"), "could not be started (FileNotFoundError)"),
        (RuntimeError("boom"), "failed (RuntimeError)"),
    ],
)
def test_failing_token_command(tmp_path: Path, failure: Exception, expected: str) -> None:
    def run(command: str) -> str:
        raise failure

    message = error_of(tmp_path, '[pagerduty]\ntoken_command = "get pd"\n', run=run)
    assert f"[pagerduty] token_command: {expected}; run the token_command in a shell" in message


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("", "printed nothing"),
        ("  \n", "printed nothing"),
        ("secret\nlabel: x\n", "printed more than one line"),
        ("sec ret", "output contains spaces or control characters"),
    ],
)
def test_bad_token_command_output(tmp_path: Path, output: str, expected: str) -> None:
    message = error_of(tmp_path, '[datadog]\napp_key_command = "get"\n', run=lambda command: output)
    assert f"[datadog] app_key_command: {expected}" in message


def test_secret_types_and_junk(tmp_path: Path) -> None:
    assert "[github] token: expected a string, got an integer" in error_of(
        tmp_path, "[github]\ntoken = 12345\n"
    )
    assert "[github] token: contains spaces" in error_of(tmp_path, '[github]\ntoken = "a b"\n')
    assert "[github] token_command: expected a string" in error_of(
        tmp_path, "[github]\ntoken_command = ['gh', 'auth', 'token']\n"
    )
    message = error_of(tmp_path, "", env={"PAGERDUTY_TOKEN": "ab\x07cd"})
    assert "[pagerduty] token (from PAGERDUTY_TOKEN): contains spaces or control characters" in (
        message
    )
    assert "fix the PAGERDUTY_TOKEN environment variable" in message


def test_real_shell_runner() -> None:
    assert run_shell_command("printf 'tok-123\\n'") == "tok-123\n"
    with pytest.raises(subprocess.CalledProcessError) as caught:
        run_shell_command("echo leaked; echo leaked >&2; exit 3")
    assert caught.value.returncode == 3
    assert caught.value.output is None
    assert "leaked" not in str(caught.value)


def test_default_runner_is_used(tmp_path: Path) -> None:
    path = write(tmp_path, "[github]\ntoken_command = \"printf 'gh-from-shell'\"\n")
    settings = load_settings(path, env={})
    assert settings.github.token is not None
    assert settings.github.token.reveal() == "gh-from-shell"


# -- warnings ------------------------------------------------------------------------------


@posix_only
def test_world_readable_file_with_secrets_warns(tmp_path: Path) -> None:
    path = write(tmp_path, '[pagerduty]\ntoken = "pd-file"\n', mode=0o644)
    settings = load(path)
    assert settings.warnings == (
        f"config.toml is readable by other users and holds secrets: chmod 600 {path}",
    )


@posix_only
def test_group_readable_file_with_secrets_warns(tmp_path: Path) -> None:
    path = write(tmp_path, '[datadog]\napp_key = "k"\n', mode=0o640)
    assert any("chmod 600" in warning for warning in load(path).warnings)


@posix_only
def test_no_permission_warning_without_secrets_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[github]\ntoken_command = "get gh"\n', mode=0o644)
    settings = load(path, env={"PAGERDUTY_TOKEN": "pd"}, run=lambda command: "gh")
    assert settings.warnings == ()
    private = write(tmp_path, '[github]\ntoken = "gh"\n', name="private.toml", mode=0o600)
    assert load(private).warnings == ()


# -- Secret and settings objects ----------------------------------------------------------


def test_secret_never_shows_its_value() -> None:
    secret = Secret(CANARY, origin="PAGERDUTY_TOKEN")
    assert secret.reveal() == CANARY
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>40}"):
        assert CANARY not in text
    assert repr(secret) == "Secret('********')"
    assert Secret(CANARY) == Secret(CANARY, origin="elsewhere")
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_settings_default_hashable_and_dumpable() -> None:
    settings = Settings(
        pagerduty=PagerDutySettings(token=Secret(CANARY, origin="PAGERDUTY_TOKEN")),
        ui=UiSettings(keys=KeyBindings({"refresh": "f5"})),
    )
    assert Settings().source is None
    assert hash(Settings()) == hash(Settings())
    assert Settings().ui.keys == {}
    assert hash(settings) != hash(Settings())
    dumped = dataclasses.asdict(settings)
    assert dumped["pagerduty"]["token"] == {"origin": "PAGERDUTY_TOKEN"}
    assert dict(dumped["ui"]["keys"]) == {"refresh": "f5"}
    assert copy.deepcopy(settings) == settings


# -- the canary: no secret in any repr, error or warning ----------------------------------

CANARY_FILE = f"""
[pagerduty]
token = "{CANARY}-pd"
[datadog]
api_key = "{CANARY}-api"
app_key = "{CANARY}-app"
[github]
token = "{CANARY}-gh"
"""

# (section header to add a line under, or "" to append, and the line that breaks the file)
CANARY_BREAKAGES = [
    ("[pagerduty]", "interval = 'fast'"),
    ("[pagerduty]", "intervall = 30"),
    ("[pagerduty]", "token_command = 'get'"),
    ("[github]", "repositories = ['nope']"),
    ("[github]", f"api_token = '{CANARY}-misplaced'"),
    ("[datadog]", "site = 'datadoghq.gov'"),
    ("[datadog]", "states = ['Alert', 'Critical']"),
    ("", "[shift]\ntimezone = 'Nowhere/Land'"),
    ("", "[pagerdutty]\nx = 1"),
    ("", "this is not toml"),
]


@posix_only
def test_canary_never_leaks(tmp_path: Path) -> None:
    leaks: list[str] = []

    # The happy path: every secret set, file world-readable, so there is a warning too.
    path = write(tmp_path, CANARY_FILE, mode=0o644)
    settings = load(path)
    assert revealed(settings) == tuple(f"{CANARY}-{s}" for s in ("pd", "api", "app", "gh"))
    leaks += [repr(settings), str(settings), str(dataclasses.asdict(settings))]
    leaks += settings.warnings
    assert settings.warnings

    # Every kind of error, in a file that also holds the secrets.
    def fail(command: str) -> str:
        raise subprocess.CalledProcessError(1, command, output=CANARY, stderr=CANARY)

    for header, line in CANARY_BREAKAGES:
        if header:
            text = CANARY_FILE.replace(f"{header}\n", f"{header}\n{line}\n", 1)
        else:
            text = f"{CANARY_FILE}\n{line}\n"
        with pytest.raises(ConfigError) as caught:
            load(write(tmp_path, text), run=fail)
        leaks += [str(caught.value), repr(caught.value), str(caught.value.args)]
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__ or caught.value.__context__ is None

    # Commands whose output holds the secret but is unusable.
    for output in (f"{CANARY}\nmore", f"{CANARY} x", ""):
        with pytest.raises(ConfigError) as caught:
            load(
                write(tmp_path, "[github]\ntoken_command = 'get'\n"), run=lambda c, out=output: out
            )
        leaks.append(str(caught.value))

    # Secrets of the wrong type or shape in the file, and junk in env vars.
    for text in (f"[github]\ntoken = ['{CANARY}']\n", f"[github]\ntoken = '{CANARY} x'\n"):
        with pytest.raises(ConfigError) as caught:
            load(write(tmp_path, text))
        leaks.append(str(caught.value))
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, ""), env={"DD_APP_KEY": f"{CANARY}\tx"})
    leaks.append(str(caught.value))

    assert len(leaks) > len(CANARY_BREAKAGES)
    for text in leaks:
        assert CANARY not in text, text


# -- the shipped example -------------------------------------------------------------------


def test_shipped_example_loads(tmp_path: Path) -> None:
    example = REPO_ROOT / "config.toml.example"
    settings = load(example)
    assert settings.datadog.site == "ddog-gov.com"
    assert settings.datadog.app_url == "https://app.ddog-gov.com"
    assert settings.github.repositories
    assert settings.shift.start is not None
    assert not settings.pagerduty.configured
    assert settings.handover.link_window == 60
    assert settings.handover.slack_webhook is None
    assert [service.name for service in settings.services] == ["claims-api", "ee-ep-merge-app"]


def test_shipped_example_documents_every_key() -> None:
    text = (REPO_ROOT / "config.toml.example").read_text(encoding="utf-8")
    for section, keys in SECTION_KEYS.items():
        assert f"[{section}]" in text
        for key in keys:
            pattern = rf"^(#? ?{key} = |\[{section}\.{key}\])"
            assert re.search(pattern, text, re.MULTILINE), f"[{section}] {key} is undocumented"
    for key in ("name", "deploy_source", "environments"):
        assert f"{key} = " in text
    for key in ("pagerduty", "repository", "datadog"):
        assert re.search(rf"^{key} = ", text, re.MULTILINE), f"[services.NAME] {key}"


def test_config_stays_headless() -> None:
    code = (
        "import sys, oncall_tui.config; "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
