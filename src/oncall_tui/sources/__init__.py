"""Provider adapters: SDK payloads in, frozen domain models out."""

from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    PageSource,
    RateBudget,
    RateLimited,
    Source,
    SourceError,
    Unavailable,
)

__all__ = [
    "AuthFailed",
    "BadResponse",
    "PageSource",
    "RateBudget",
    "RateLimited",
    "Source",
    "SourceError",
    "Unavailable",
]
