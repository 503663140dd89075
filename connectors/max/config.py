"""Settings of the MAX channel.

Secrets come from the environment (MAX_TOKEN, MAX_WEBHOOK_SECRET); a
credentials.yml block may override the non-secret options. With no token the
channel stays registered but off (its webhook answers 503), so `make run`
works without a bot.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from connectors.telegram.config import mask_secrets, read_fields

DEFAULT_API_URL = "https://platform-api.max.ru"
SECRET_HEADER = "X-Max-Bot-Api-Secret"
# The update kinds the channel handles; the subscription and /updates ask for these only.
UPDATE_TYPES = ("message_created", "message_callback", "bot_started", "message_edited")
# MAX's rule for the subscription secret.
_SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]{5,256}$")

_ENV = {
    "token": "MAX_TOKEN",
    "api_url": "MAX_API_URL",
    "webhook_url": "MAX_WEBHOOK_URL",
    "webhook_secret": "MAX_WEBHOOK_SECRET",
    "max_send_attempts": "MAX_SEND_ATTEMPTS",
    "retry_base_delay": "MAX_RETRY_BASE_DELAY",
}


@dataclass(frozen=True)
class MaxSettings:
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

    @classmethod
    def load(cls, credentials: Optional[Mapping[str, Any]] = None,
             env: Optional[Mapping[str, str]] = None) -> "MaxSettings":
        settings = cls(**read_fields(cls, credentials, env, _ENV, {
            "max_send_attempts": int, "max_concurrent_updates": int, "retry_base_delay": float,
            "max_retry_delay": float, "request_timeout": float}))
        if settings.webhook_secret and not _SECRET_CHARS.match(settings.webhook_secret):
            raise ValueError("MAX_WEBHOOK_SECRET: 5-256 characters A-Z, a-z, 0-9, _ and - only "
                             "(MAX's rule for the subscription secret)")
        return settings

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    @property
    def secret(self) -> str:
        """The X-Max-Bot-Api-Secret value: MAX_WEBHOOK_SECRET, else derived
        from the token, so the webhook is never open and the polling process
        (which has the same token) knows it without another variable."""
        if self.webhook_secret:
            return self.webhook_secret
        if not self.token:
            return ""
        return hmac.new(self.token.encode(), b"gov-hotline max webhook secret", hashlib.sha256).hexdigest()

    def mask(self, text: Any) -> str:
        return mask_secrets(str(text), self.token, self.secret)
