"""Domain objects shared by every layer: frozen, standard library only."""

from oncall_tui.domain.clock import Clock, FakeClock, SystemClock
from oncall_tui.domain.diff import diff
from oncall_tui.domain.models import (
    URGENCY_RANK,
    AnyItem,
    DependabotPR,
    Deploy,
    Event,
    Monitor,
    OnCall,
    Page,
    Snapshot,
)

__all__ = [
    "URGENCY_RANK",
    "AnyItem",
    "Clock",
    "Deploy",
    "DependabotPR",
    "Event",
    "FakeClock",
    "Monitor",
    "OnCall",
    "Page",
    "Snapshot",
    "SystemClock",
    "diff",
]
