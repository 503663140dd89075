"""Expected wait in the operators' queue, from recent handling times.

The model is deliberately simple and explainable to a citizen:

* ``slots`` = operators at work × chats each handles at once (at least one:
  during hours someone will take the queue even if nobody is signed in yet);
* ``free`` = slots not taken by assigned tickets;
* a citizen at position ``p`` whose turn comes within the free slots waits
  about a minute (an operator only has to notice and take the ticket);
* otherwise ``k = p - free`` citizens must wait for a busy slot; a busy
  operator is on average half-way through a conversation, so the wait is
  ``(ceil(k / slots) - 0.5) × H`` where H is the mean handling time of the
  recent closed tickets (the configured default when there are none).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

PICKUP_SECONDS = 60
MIN_HANDLING_SECONDS = 60
MAX_HANDLING_SECONDS = 3600
RECENT_TICKETS = 20


@dataclass(frozen=True)
class QueueState:
    online_operators: int
    busy_slots: int
    chats_per_operator: int
    handling_seconds: float


def mean_handling_seconds(durations: Iterable[float], default_seconds: float) -> float:
    """Mean of the most recent handling times (assigned → closed), clamped to
    [1 min, 1 h] so one forgotten ticket does not scare everybody away."""
    values = [d for d in durations if d is not None and d >= 0][:RECENT_TICKETS]
    if not values:
        return float(default_seconds)
    return float(min(max(sum(values) / len(values), MIN_HANDLING_SECONDS), MAX_HANDLING_SECONDS))


def estimate_wait_seconds(position: int, state: QueueState) -> int:
    """Expected seconds until an operator takes the ticket at `position` (1-based)."""
    position = max(1, int(position))
    slots = max(1, state.online_operators * max(1, state.chats_per_operator))
    free = max(0, slots - max(0, state.busy_slots))
    if position <= free:
        return PICKUP_SECONDS
    behind = position - free
    rounds = math.ceil(behind / slots)
    return int(max(PICKUP_SECONDS, (rounds - 0.5) * state.handling_seconds))


def _plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


# Word forms of «минута» and «час» after a number, per grammatical case.
_FORMS = {
    "genitive": (("минуты", "минут", "минут"), ("часа", "часов", "часов")),
    "accusative": (("минуту", "минуты", "минут"), ("час", "часа", "часов")),
}


def duration_words(seconds: Optional[float], case: str) -> str:
    minute_forms, hour_forms = _FORMS[case]
    minutes = max(1, math.ceil((seconds or 0) / 60))
    if minutes < 60:
        return f"{minutes} {_plural(minutes, *minute_forms)}"
    hours, rest = divmod(minutes, 60)
    # Rounded to 10 minutes past the hour: precision a citizen can use.
    rest = int(math.ceil(rest / 10) * 10)
    if rest == 60:
        hours, rest = hours + 1, 0
    text = f"{hours} {_plural(hours, *hour_forms)}"
    return text + (f" {rest} минут" if rest else "")


def wait_words(seconds: Optional[float]) -> str:
    """Genitive after «около»: «1 минуты», «5 минут», «1 часа 30 минут»."""
    return duration_words(seconds, "genitive")


def short_duration(seconds: Optional[float]) -> str:
    """A table cell on its own, as the queue page's script writes it when it
    refreshes: «5 мин», «1 ч 30 мин» (no case to agree with, unlike «около …»)."""
    minutes = max(1, math.ceil((seconds or 0) / 60))
    if minutes >= 60:
        return f"{minutes // 60} ч {minutes % 60} мин"
    return f"{minutes} мин"


def should_tell_again(told_seconds: Optional[int], new_seconds: int, threshold_seconds: float) -> bool:
    """A citizen hears again when the wait grew noticeably: by the threshold
    and by half of what he was told."""
    if told_seconds is None:
        return False
    grown = new_seconds - told_seconds
    return grown >= threshold_seconds and new_seconds >= 1.5 * told_seconds


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
