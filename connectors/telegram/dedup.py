"""Ignore Telegram updates that arrive twice.

Telegram re-sends a webhook update when the answer was late or lost, and the
polling process may forward an update again after a network error. Update ids
grow by one per update, but after a week without updates Telegram may start
from a random value, so "below the highest id seen" is not a safe rule: the
window of recently seen ids is kept instead, bounded in size.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Hashable


class RecentIds:
    """The last `capacity` distinct ids, oldest forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._seen: "OrderedDict[Hashable, None]" = OrderedDict()

    def seen_before(self, key: Hashable) -> bool:
        """Record `key`; True if it was already among the recent ids."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False

    def __contains__(self, key: Hashable) -> bool:
        return key in self._seen

    def __len__(self) -> int:
        return len(self._seen)


class UpdateDeduplicator(RecentIds):
    """RecentIds keyed by Telegram's update_id."""

    def is_duplicate(self, update_id: int) -> bool:
        return self.seen_before(int(update_id))
