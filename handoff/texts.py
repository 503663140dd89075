"""What the handoff itself (not the bot's domain) says to a citizen.

The bot's own words (asking for a summary, the position in the queue, the
rating request) are responses in domain.yml, uttered by actions/handoff.py;
these are the messages sent while the bot is paused, when no action runs.
"""
from __future__ import annotations

from handoff.wait import duration_words, wait_words

RETURN_HINT = "Чтобы вернуться к боту, напишите «вернуться к боту»."


def duration_accusative(seconds: float) -> str:
    """After «через»: «1 минуту», «3 минуты», «25 минут», «1 час 30 минут»."""
    return duration_words(seconds, "accusative")


def operator_joined(name: str) -> str:
    return f"К разговору подключился оператор {name}. Он видит вашу переписку с ботом. {RETURN_HINT}"


def waiting_ack(position: int, seconds: int) -> str:
    return (f"Ваше сообщение получено, оператор его увидит. Вы {position}-й в очереди, "
            f"ожидание — около {wait_words(seconds)}. {RETURN_HINT}")


def wait_grew(position: int, seconds: int) -> str:
    return (f"Извините, ожидание увеличилось: вы {position}-й в очереди, оператор ответит примерно через "
            f"{duration_accusative(seconds)}. {RETURN_HINT}")
