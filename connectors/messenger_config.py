"""What the messenger channels' settings (Telegram, MAX) share: reading a
settings dataclass from credentials.yml and the environment, the webhook
secret (given, or derived from the token) and masking secrets in text.

Each channel's config module keeps only its own names: environment
variables, defaults, the platform's rule for the secret.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import fields
from typing import Any, Callable, ClassVar, Dict, Mapping, Optional, Pattern, Type, TypeVar

from hotline import settings

# A bot token of the Telegram form inside any text (URLs, error messages).
_TOKEN_IN_TEXT = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")

S = TypeVar("S", bound="MessengerSettings")


def as_bool(value: Any) -> bool:
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


class MessengerSettings:
    """Base of a channel's frozen settings dataclass, which has at least the
    fields `token` and `webhook_secret`. With no token the channel stays
    registered but off, so `make run` works without a bot."""

    # Set by each channel: field -> environment variable, field -> converter
    # of a credentials-file value, the platform's rule for the secret and the
    # error that states it, and the salt of the secret derived from the token.
    ENV_NAMES: ClassVar[Mapping[str, str]]
    KINDS: ClassVar[Mapping[str, Callable[[Any], Any]]]
    SECRET_CHARS: ClassVar[Pattern[str]]
    SECRET_RULE: ClassVar[str]
    SECRET_SALT: ClassVar[bytes]

    token: str
    webhook_secret: str

    @classmethod
    def load(cls: Type[S], credentials: Optional[Mapping[str, Any]] = None,
             env: Optional[Mapping[str, str]] = None) -> S:
        """Credentials-file values win; secrets and URLs normally come from the environment."""
        loaded = cls(**read_fields(cls, credentials, env, cls.ENV_NAMES, cls.KINDS))
        if loaded.webhook_secret and not cls.SECRET_CHARS.match(loaded.webhook_secret):
            raise ValueError(cls.SECRET_RULE)
        return loaded

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    @property
    def secret(self) -> str:
        """The webhook's secret header value: the configured webhook secret if
        set; otherwise derived from the token, so the webhook is never open and
        the polling process (which has the same token) knows the same secret
        without another variable."""
        if self.webhook_secret:
            return self.webhook_secret
        if not self.token:
            return ""
        return hmac.new(self.token.encode(), self.SECRET_SALT, hashlib.sha256).hexdigest()

    def mask(self, text: Any) -> str:
        return mask_secrets(str(text), self.token, self.secret)
