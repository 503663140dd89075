"""Redis down → do it in this process: the one rule for every use of Redis
that must not stop the assistant (rate-limit counters, conversation locks).

While Redis answers, the shared Redis state is used. After a failing call the
caller serves in process for `retry_after` seconds — without waiting for a
Redis timeout on every message — and then tries Redis again; once it answers,
the state is shared again. One warning per outage in the log; every message
served in process counts in ``hotline_dependency_fallback_total{dependency}``
so that /ops/metrics shows how long the limits were per instance only.
"""
from __future__ import annotations

import logging
import time

from hotline.ops import metrics

logger = logging.getLogger(__name__)

try:  # redis-py is a dependency of Rasa
    from redis.exceptions import RedisError

    REDIS_ERRORS: tuple = (RedisError, OSError)
except ImportError:  # pragma: no cover
    REDIS_ERRORS = (OSError,)


class RedisFallback:
    """The circuit around one Redis use (see the module doc)."""

    def __init__(self, dependency: str, local_means: str, retry_after: float = 5.0) -> None:
        self.dependency = dependency  # the metric's label
        self.local_means = local_means  # what serving in process means, for the warning
        self.retry_after = float(retry_after)
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        """True while Redis is left alone after a failure."""
        return time.monotonic() < self._down_until

    def failed(self, error: BaseException) -> None:
        """A Redis call failed: serve in process for `retry_after` seconds."""
        if not self.down:
            logger.warning("Redis unavailable for %s (%s); %s for %.0f s", self.dependency,
                           type(error).__name__, self.local_means, self.retry_after)
        self._down_until = time.monotonic() + self.retry_after

    def served_locally(self) -> None:
        metrics.DEPENDENCY_FALLBACK.labels(self.dependency).inc()
