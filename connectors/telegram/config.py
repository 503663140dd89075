"""Settings of the Telegram channel and the privacy guard for its log lines.

Secrets come from the environment (TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET,
catalogued in hotline.settings); a credentials.yml block may override the
non-secret options. With no token
the channel stays registered but disabled, so `make run` works without a bot.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Dict

from connectors.messenger_config import MessengerSettings, as_bool, mask_secrets

DEFAULT_API_URL = "https://api.telegram.org"
# The update kinds the channel handles; setWebhook and getUpdates ask for these only.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_ENV = {
    "token": "TELEGRAM_TOKEN",
    "api_url": "TELEGRAM_API_URL",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
}


@dataclass(frozen=True)
class TelegramSettings(MessengerSettings):
    token: str = ""
    api_url: str = DEFAULT_API_URL
    # Public HTTPS URL of Rasa's /webhooks/telegram/webhook; when set, the
    # channel registers it with setWebhook at start-up.
    webhook_url: str = ""
    webhook_secret: str = ""
    # Citizens write to the bot in private; group chats are ignored by default
    # so that other members' messages never reach the assistant.
    private_only: bool = True
    remove_keyboard_after_press: bool = True
    max_send_attempts: int = 5
    max_retry_after: float = 60.0
    request_timeout: float = 30.0
    max_concurrent_updates: int = 64
    # "/start" and "/help" arrive as commands; they open the greeting.
    commands: Dict[str, str] = field(default_factory=lambda: {"start": "/greet", "help": "/greet"})

    ENV_NAMES = _ENV
    KINDS = {"private_only": as_bool, "remove_keyboard_after_press": as_bool,
             "max_send_attempts": int, "max_concurrent_updates": int,
             "max_retry_after": float, "request_timeout": float}
    SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
    SECRET_RULE = ("TELEGRAM_WEBHOOK_SECRET: 1-256 characters A-Z, a-z, 0-9, _ and - only "
                   "(Telegram's rule for secret_token)")
    SECRET_SALT = b"gov-hotline telegram webhook secret"


class MaskSecretsFilter(logging.Filter):
    """Masks anything that looks like a bot token in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def get_logger(name: str) -> logging.Logger:
    """A module logger of the channel, guarded by MaskSecretsFilter.

    (A filter on a logger does not apply to its children, hence one per module.)
    """
    guard_logging()
    logger = logging.getLogger(name)
    if not any(isinstance(f, MaskSecretsFilter) for f in logger.filters):
        logger.addFilter(MaskSecretsFilter())
    return logger


def guard_logging() -> None:
    """No token, message text or chat data in aiogram's log lines.

    aiogram logs every request with its parameters (message texts, chat ids)
    and every response body at DEBUG, and `rasa run --debug` turns DEBUG on
    for all loggers; keep aiogram at INFO and mask tokens in what remains.
    """
    logger = logging.getLogger("aiogram")
    if logger.level in (logging.NOTSET, logging.DEBUG):
        logger.setLevel(logging.INFO)
    if not any(isinstance(f, MaskSecretsFilter) for f in logger.filters):
        logger.addFilter(MaskSecretsFilter())
