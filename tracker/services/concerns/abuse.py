"""Abuse controls that never refuse a concern (docs/architecture.md#security).

Counts go to Flask-Limiter's storage (memory by default, Redis when configured). When that
storage cannot be reached the count continues in this process's memory and an alarm is raised:
the form keeps working, and staff learn that limits are per server until Redis returns."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from tracker.extensions import limiter

log = logging.getLogger(__name__)

_RETRY_PRIMARY_SECONDS = 30.0


@dataclass
class _State:
    fallback: MovingWindowRateLimiter
    primary_down_until: float = 0.0


_state = _State(fallback=MovingWindowRateLimiter(MemoryStorage()))


@dataclass(frozen=True)
class Count:
    within_limit: bool
    # True when the shared storage failed and this count was kept in local memory instead.
    storage_fallback: bool = False


def hit(limit: str, *keys: str) -> Count:
    """Count one event against `limit` (e.g. "3 per 10 minutes") for these keys."""
    item = parse(limit)
    if time.monotonic() >= _state.primary_down_until:
        try:
            return Count(limiter.limiter.hit(item, *keys))
        except Exception:  # any storage failure: Redis refused, timed out, or lost the reply
            _state.primary_down_until = time.monotonic() + _RETRY_PRIMARY_SECONDS
            log.exception(
                "rate-limit storage %s failed; counting in memory", current_app.config["RATELIMIT_STORAGE_URI"]
            )
    return Count(_state.fallback.hit(item, *keys), storage_fallback=True)


def reset_counts() -> None:
    """Forget every count (tests, and operators after a false alarm)."""
    _state.fallback = MovingWindowRateLimiter(MemoryStorage())
    _state.primary_down_until = 0.0
    try:
        limiter.reset()
    except Exception:  # a store that cannot be reset (or is down) keeps its counts; nothing to undo
        log.info("rate-limit storage not reset")
