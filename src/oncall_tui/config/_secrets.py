"""Resolving credentials: `*_command` settings, values in the file, ecosystem env vars.

Precedence per credential is command > file > environment, so a password manager always
wins and an exported `DD_API_KEY` from another project cannot silently override what the
file asks for. Nothing a command prints and no env var value ever appears in a message:
failures report the exit status only.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from oncall_tui.config._fields import Section, describe
from oncall_tui.config._settings import Secret

__all__ = ["COMMAND_TIMEOUT", "RunCommand", "SecretResolver", "run_shell_command"]

RunCommand = Callable[[str], str]

COMMAND_TIMEOUT = 10.0


def run_shell_command(command: str) -> str:
    """Run a `*_command` setting through the shell and return its stdout.

    stdin is closed and stderr discarded so a command can neither steal the cockpit's
    keystrokes nor scribble over its screen; a non-zero exit raises `CalledProcessError`
    with no output attached, so nothing the command printed can leak into a message.
    """
    completed = subprocess.run(
        command,
        shell=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        raise subprocess.CalledProcessError(completed.returncode, "token command")
    return completed.stdout


class SecretResolver:
    """Resolves every credential of one config file and remembers what it found there.

    `secret_in_file` tells the loader whether the file itself holds a secret value, which
    is when its permissions matter.
    """

    def __init__(self, file: Path, environ: Mapping[str, str], run: RunCommand) -> None:
        self.file = file
        self.environ = environ
        self.run = run
        self.warnings: list[str] = []
        self.secret_in_file = False

    def resolve(self, section: Section, key: str, env_names: Sequence[str]) -> Secret | None:
        """Resolve one credential: `<key>_command` > `<key>` in the file > env vars in order."""
        command_key = f"{key}_command"
        command = section.string(command_key) if section.has(command_key) else ""
        in_file = self._file_secret(section, key)
        if in_file is not None:
            self.secret_in_file = True
        if command:
            if in_file is not None:
                self.warnings.append(
                    f"[{section.name}] {key} and {command_key} are both set; {command_key} "
                    f"wins, so remove {key} from {self.file.name}"
                )
            return self._command_secret(section, key, command_key, command)
        if in_file is not None:
            return in_file
        for name in env_names:
            text = self.environ.get(name, "").strip()
            if text:
                problem = _secret_problem(text)
                if problem:
                    raise section.error(
                        f"{key} (from {name})", problem, f"fix the {name} environment variable"
                    )
                return Secret(text, origin=name)
        return None

    def _file_secret(self, section: Section, key: str) -> Secret | None:
        if not section.has(key):
            return None
        value = section.table[key]
        if not isinstance(value, str):
            raise section.error(key, f"expected a string, got {describe(value)}", "quote it")
        text = value.strip()
        if not text:
            return None
        problem = _secret_problem(text)
        if problem:
            raise section.error(key, problem, "paste the value again")
        return Secret(text, origin=f"[{section.name}] {key}")

    def _command_secret(self, section: Section, key: str, command_key: str, command: str) -> Secret:
        fix = f"run the {command_key} in a shell to see why, or set {key} instead"
        try:
            output = self.run(command)
        except subprocess.CalledProcessError as exc:
            status = f"exited with status {exc.returncode}"
            if exc.returncode == 127:
                status += " (command not found)"
            raise section.error(command_key, status, fix) from None
        except subprocess.TimeoutExpired:
            raise section.error(
                command_key, f"did not finish within {COMMAND_TIMEOUT:g} s", fix
            ) from None
        except OSError as exc:
            raise section.error(
                command_key, f"could not be started ({type(exc).__name__})", fix
            ) from None
        except Exception as exc:  # any failure of an injected runner: never quote it
            raise section.error(command_key, f"failed ({type(exc).__name__})", fix) from None
        text = output.strip() if isinstance(output, str) else ""
        if not text:
            raise section.error(command_key, "printed nothing", fix)
        if "\n" in text:
            raise section.error(
                command_key,
                "printed more than one line",
                "make it print only the secret, e.g. append | head -n 1",
            )
        problem = _secret_problem(text)
        if problem:
            raise section.error(command_key, f"output {problem}", fix)
        return Secret(text, origin=f"[{section.name}] {command_key}")


def _secret_problem(text: str) -> str | None:
    if any(char.isspace() or not char.isprintable() for char in text):
        return "contains spaces or control characters (a stray paste?)"
    return None
