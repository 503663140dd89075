"""Settings of the Telegram channel and the privacy guard for its log lines.

Secrets come from the environment (TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET,
catalogued in hotline.settings); a credentials.yml block may override the
non-secret options. With no token
the channel stays registered but disabled, so `make run` works without a bot.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, Mapping, Optional

from hotline import settings

DEFAULT_API_URL = "https://api.telegram.org"
# The update kinds the channel handles; setWebhook and getUpdates ask for these only.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_IN_TEXT = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")

_ENV = {
    "token": "TELEGRAM_TOKEN",
    "api_url": "TELEGRAM_API_URL",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
}


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "да")
    return bool(value)


def read_fields(cls: Any, credentials: Optional[Mapping[str, Any]], env: Optional[Mapping[str, str]],
                env_names: Mapping[str, str], kinds: Mapping[str, Callable[[Any], Any]]) -> Dict[str, Any]:
    """A messenger channel's settings dataclass values: a credentials-file
    value wins (converted by `kinds`, strings stripped), else the catalogued
    environment variable (`env_names`, typed by hotline.settings, whose
    defaults are the dataclass's: tests/test_settings.py)."""
    credentials = dict(credentials or {})
    values: Dict[str, Any] = {}
    for f in fields(cls):
        if credentials.get(f.name) not in (None, ""):
            value = credentials[f.name]
            if f.name in kinds:
                values[f.name] = kinds[f.name](value)
            else:
                values[f.name] = str(value).strip() if f.name in env_names else value
        elif f.name in env_names:
            values[f.name] = settings.get(env_names[f.name], env)
    return values


@dataclass(frozen=True)
class TelegramSettings:
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

    @classmethod
    def load(cls, credentials: Optional[Mapping[str, Any]] = None,
             env: Optional[Mapping[str, str]] = None) -> "TelegramSettings":
        """Credentials-file values win; secrets and URLs normally come from the environment."""
        settings = cls(**read_fields(cls, credentials, env, _ENV, {
            "private_only": _as_bool, "remove_keyboard_after_press": _as_bool,
            "max_send_attempts": int, "max_concurrent_updates": int,
            "max_retry_after": float, "request_timeout": float}))
        if settings.webhook_secret and not _SECRET_CHARS.match(settings.webhook_secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters A-Z, a-z, 0-9, _ and - only "
                             "(Telegram's rule for secret_token)")
        return settings

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    @property
    def secret(self) -> str:
        """The X-Telegram-Bot-Api-Secret-Token value.

        TELEGRAM_WEBHOOK_SECRET if set; otherwise derived from the token, so the
        webhook is never open and the polling process (which has the same
        token) knows the same secret without another variable.
        """
        if self.webhook_secret:
            return self.webhook_secret
        if not self.token:
            return ""
        return hmac.new(self.token.encode(), b"gov-hotline telegram webhook secret",
                        hashlib.sha256).hexdigest()

    def mask(self, text: str) -> str:
        return mask_secrets(text, self.token, self.secret)


def mask_secrets(text: str, *secrets: str) -> str:
    """Text with bot tokens and the given secrets replaced by '***'."""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _TOKEN_IN_TEXT.sub("***", text)


def same_secret(given: str, expected: str) -> bool:
    """A webhook's secret header against ours; never true when either is empty.
    Digests of equal length: the time taken reveals nothing, not even the length."""
    if not given or not expected:
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


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
