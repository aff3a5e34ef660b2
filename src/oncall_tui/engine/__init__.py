"""The poll engine: one never-overlapping loop per source, with backoff and freshness."""

from oncall_tui.engine.poller import Freshness, Poller, backoff

__all__ = ["Freshness", "Poller", "backoff"]
