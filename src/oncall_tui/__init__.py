"""oncall-tui: a terminal cockpit for the on-call engineer.

The headless core (domain, config, sources, engine, store, simulator) never imports
Textual or Rich; the cockpit lives in `oncall_tui.ui` on top of it.
"""

__version__ = "0.1.0"
