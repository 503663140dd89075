"""What the handoff itself (not the bot's domain) says to a citizen.

The bot's own words (asking for a summary, the position in the queue, the
rating request) are responses in domain.yml, uttered by actions/handoff.py;
these are the messages sent while the bot is paused, when no action runs.
Their wording is in hotline/texts.py with the other texts outside the domain.
"""
from __future__ import annotations

from handoff.wait import duration_words, wait_words
from hotline import texts

RETURN_HINT = texts.RETURN_HINT


def duration_accusative(seconds: float) -> str:
    """After «через»: «1 минуту», «3 минуты», «25 минут», «1 час 30 минут»."""
    return duration_words(seconds, "accusative")


def operator_joined(name: str) -> str:
    return texts.operator_joined(name)


def waiting_ack(position: int, seconds: int) -> str:
    return texts.waiting_ack(position, wait_words(seconds))


def wait_grew(position: int, seconds: int) -> str:
    return texts.wait_grew(position, duration_accusative(seconds))
