"""Settings of the MAX channel.

Secrets come from the environment (MAX_TOKEN, MAX_WEBHOOK_SECRET); a
credentials.yml block may override the non-secret options. With no token the
channel stays registered but off (its webhook answers 503), so `make run`
works without a bot.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from connectors.messenger_config import MessengerSettings

DEFAULT_API_URL = "https://platform-api.max.ru"
SECRET_HEADER = "X-Max-Bot-Api-Secret"
# The update kinds the channel handles; the subscription and /updates ask for these only.
UPDATE_TYPES = ("message_created", "message_callback", "bot_started", "message_edited")

_ENV = {
    "token": "MAX_TOKEN",
    "api_url": "MAX_API_URL",
    "webhook_url": "MAX_WEBHOOK_URL",
    "webhook_secret": "MAX_WEBHOOK_SECRET",
    "max_send_attempts": "MAX_SEND_ATTEMPTS",
    "retry_base_delay": "MAX_RETRY_BASE_DELAY",
}


@dataclass(frozen=True)
class MaxSettings(MessengerSettings):
    token: str = ""
    api_url: str = DEFAULT_API_URL
    # Public HTTPS URL of Rasa's /webhooks/max/webhook; when set, the channel
    # subscribes it (POST /subscriptions) at start-up.
    webhook_url: str = ""
    webhook_secret: str = ""
    max_send_attempts: int = 5
    retry_base_delay: float = 0.5
    max_retry_delay: float = 30.0
    request_timeout: float = 30.0
    max_concurrent_updates: int = 64

    ENV_NAMES = _ENV
    KINDS = {"max_send_attempts": int, "max_concurrent_updates": int, "retry_base_delay": float,
             "max_retry_delay": float, "request_timeout": float}
    # MAX's rule for the subscription secret.
    SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{5,256}$")
    SECRET_RULE = ("MAX_WEBHOOK_SECRET: 5-256 characters A-Z, a-z, 0-9, _ and - only "
                   "(MAX's rule for the subscription secret)")
    SECRET_SALT = b"gov-hotline max webhook secret"
