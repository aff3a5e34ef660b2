"""Logging: to a file in the cache directory, never to the terminal, secrets redacted.

The SDKs log warnings and errors (the pagerduty client logs every 5xx). With no handler
configured, Python prints those on stderr, which would tear through the cockpit's screen, so
the entry point routes everything to a rotating file instead and masks every secret value
the settings hold (and its last four characters, which SDK messages like to quote).
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path

LOG_NAME = "oncall-tui.log"
CONSOLE_LOGGERS = ("github",)
"""Loggers an SDK hands its own console handler when it is imported (PyGithub puts a stderr
`StreamHandler` on "github"): their records would reach the terminal unredacted."""


class RedactingFormatter(logging.Formatter):
    """Formats a record, then masks every known secret (and its 4-character tail).

    Masking the *formatted* text covers the message, its arguments, the traceback and
    the stack, whichever of them quotes the secret.
    """

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        values = {s for s in secrets if s}
        tails = {s[-4:] for s in values if len(s) >= 12}
        # Longest first, so a secret is masked whole before its tail is looked at.
        self._needles = sorted(values | tails, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for needle in self._needles:
            text = text.replace(needle, "****")
        return text


def configure(log_dir: Path, secrets: Iterable[str], *, level: int = logging.INFO) -> Path:
    """Send all logging to `log_dir/oncall-tui.log` (rotated), redacting `secrets`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=2, encoding="utf-8"
    )
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The SDKs are imported before this runs (the CLI imports the sources): take their
    # console handlers away, so their records go through the file handler alone.
    for name in CONSOLE_LOGGERS:
        sdk = logging.getLogger(name)
        for old in list(sdk.handlers):
            if isinstance(old, logging.StreamHandler) and not isinstance(old, logging.FileHandler):
                sdk.removeHandler(old)
    # One INFO line per HTTP request would grow the log with polls, not with events.
    for chatty in ("httpx", "httpx2", "httpcore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path
