"""Import-boundary check: the headless core must not import textual or rich.

Each headless module is imported in a fresh interpreter and `sys.modules` is inspected, so
transitive imports (a dependency that pulls in rich) are caught too, not only direct ones.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("textual", "rich")
SRC = Path(__file__).resolve().parents[1] / "src"


def headless_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(SRC / "oncall_tui")], prefix="oncall_tui."):
        if info.name == "oncall_tui.ui" or info.name.startswith("oncall_tui.ui."):
            continue
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return ["oncall_tui", *names]


PROBE = """
import importlib, sys
importlib.import_module(sys.argv[1])
bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})
print(' '.join(bad))
"""


def main() -> int:
    failures = []
    for name in headless_modules():
        result = subprocess.run(
            [sys.executable, "-c", PROBE.format(forbidden=set(FORBIDDEN)), name],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            failures.append(f"{name}: failed to import: {result.stderr.strip().splitlines()[-1]}")
        elif result.stdout.strip():
            failures.append(f"{name}: imports {result.stdout.strip().split()[0]}")
    for failure in failures:
        print(f"import boundary: {failure}", file=sys.stderr)
    if not failures:
        print(f"import boundary: {len(headless_modules())} headless modules; no textual, no rich")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
