"""`python -m oncall_tui` runs the same entry point as the `oncall-tui` script."""

from oncall_tui.cli import main

raise SystemExit(main())
