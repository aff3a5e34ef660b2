"""`logs`: everything goes to a file, never to the terminal, and no secret reaches it."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from oncall_tui import logs

CANARY = "canary-pd-7c1e5a9f03b2Zq9X"
TAIL = CANARY[-4:]
from tests.conftest import CHATTY_LOGGERS as CHATTY  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_logging")


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("pagerduty", logging.WARNING, __file__, 1, msg, args, None)


def flushed(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------ the formatter


def redactor(*secrets: str) -> logs.RedactingFormatter:
    return logs.RedactingFormatter("%(message)s", secrets)


def test_formatter_masks_a_secret_in_the_message_and_in_its_arguments() -> None:
    redact = redactor(CANARY)
    assert redact.format(record(f"Authorization: Token token={CANARY}")) == (
        "Authorization: Token token=****"
    )
    assert redact.format(record("token %s refused", CANARY)) == "token **** refused"


def test_formatter_masks_the_four_character_tail() -> None:
    text = redactor(CANARY).format(record("The API credential (*%s) may be invalid", TAIL))
    assert TAIL not in text
    assert text == "The API credential (*****) may be invalid"


def test_formatter_masks_every_secret() -> None:
    other = "dd-app-key-0123456789abcdef"
    text = logs.RedactingFormatter("%(message)s", [CANARY, other, ""]).format(
        record("%s and %s", CANARY, other)
    )
    assert CANARY not in text and other not in text
    assert "cdef" not in text


def test_formatter_leaves_clean_records_alone() -> None:
    assert redactor(CANARY).format(record("GET %s answered %d", "/incidents", 200)) == (
        "GET /incidents answered 200"
    )


def test_short_secrets_are_masked_whole_but_their_tail_is_not_hunted() -> None:
    # A 4-character tail of a short value would mask ordinary words all over the log.
    assert redactor("shortpass").format(record("shortpass leaked; pass the salt")) == (
        "**** leaked; pass the salt"
    )


# --------------------------------------------------------------------------- configure


def test_configure_writes_to_the_cache_file_and_never_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = logs.configure(tmp_path / "cache" / "oncall-tui", [CANARY])
    assert path == tmp_path / "cache" / "oncall-tui" / logs.LOG_NAME
    logging.getLogger("pagerduty.api_client").error("PagerDuty API server error (500)!")
    logging.getLogger("oncall_tui").info("poll ok")
    text = flushed(path)
    assert "PagerDuty API server error (500)!" in text and "poll ok" in text
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert len(logging.getLogger().handlers) == 1


def test_a_canary_secret_and_its_tail_never_reach_the_file(tmp_path: Path) -> None:
    path = logs.configure(tmp_path, [CANARY, "gh-token-ffffffffffffAb12"])
    log = logging.getLogger("pagerduty.api_client")
    log.warning("request with Token token=%s", CANARY)
    log.warning(f"inline {CANARY}")
    log.error("The API credential (*%s) may be invalid", TAIL)
    logging.getLogger("github").warning("token %s", "gh-token-ffffffffffffAb12")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated call with {CANARY}", UserWarning, stacklevel=1)
    text = flushed(path)
    assert text.count("****") >= 5
    assert CANARY not in text and TAIL not in text
    assert "gh-token" not in text and "Ab12" not in text


def test_a_secret_in_a_logged_traceback_never_reaches_the_file(tmp_path: Path) -> None:
    path = logs.configure(tmp_path, [CANARY])
    try:
        raise RuntimeError(f"connect failed for token {CANARY}")
    except RuntimeError:
        logging.getLogger("oncall_tui").exception("poll failed")
    text = flushed(path)
    assert "RuntimeError" in text
    assert CANARY not in text and TAIL not in text


def test_chatty_http_loggers_are_kept_at_warning(tmp_path: Path) -> None:
    path = logs.configure(tmp_path, [])
    for name in CHATTY:
        assert logging.getLogger(name).level == logging.WARNING
        logging.getLogger(name).info(f"{name} HTTP Request: GET /incidents 200")
        logging.getLogger(name).warning(f"{name} connection reset")
    text = flushed(path)
    for name in CHATTY:
        assert f"{name} HTTP Request" not in text
        assert f"{name} connection reset" in text


def test_configure_again_replaces_the_handler(tmp_path: Path) -> None:
    first = logs.configure(tmp_path / "a", [])
    second = logs.configure(tmp_path / "b", [CANARY])
    logging.getLogger("oncall_tui").warning("token %s", CANARY)
    assert len(logging.getLogger().handlers) == 1
    assert "token ****" in flushed(second)
    assert "token" not in first.read_text(encoding="utf-8")
