"""Input channels of every profile (credentials.yml).

**Why a wrapper channel.** Every Rasa input channel hands each incoming
message to one callback, ``on_new_message(UserMessage)``. Wrapping that
callback is the one place that sees every message of every channel — REST,
Telegram, VK, the socket.io widget — together with its sender and the
channel's own output channel, before Rasa spends NLU time or writes the
tracker. So the limits live here, not in an NLU component (which would run
after the message is already in the tracker, needs retraining to add, and
cannot stop the dialogue policy) and not only in nginx (which cannot read a
sender id from a JSON body and cannot answer in the channel's format):

* **size limit**: more than ``MAX_MESSAGE_CHARS`` characters (default 1000)
  → a polite answer, the message is not processed or stored;
* **per-sender rate limit**: more than ``RATE_LIMIT_MESSAGES`` (default 20)
  in ``RATE_LIMIT_WINDOW_SECONDS`` (default 60) from one conversation → one
  polite answer, further messages in that window are dropped silently
  (counted as ``dropped``). Counters live in Redis (``REDIS_URL``), shared
  by all instances; when Redis is unavailable each instance counts in
  process (the limit then applies per instance);
* **metrics and errors**: messages and latency per channel; an unexpected
  exception gets a polite answer instead of silence.

``GuardedRestInput``, ``GuardedTelegramInput``, ``GuardedVKInput``,
``GuardedSocketIOInput`` and ``GuardedVoiceInput`` are the wrapped channels (same names and URLs as
the originals); they are built on first use, so this module does not import
channel code a deployment does not list. ``OpsChannel`` adds
``GET /ops/health`` and ``GET /ops/metrics`` to every Rasa instance and
installs hotline.rasa.hooks.
"""
from __future__ import annotations

import importlib
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from hotline import texts
from hotline.ops import metrics
from hotline.rasa import hooks as rasa_hooks
from hotline.rasa.redis_fallback import RedisFallback
from hotline import settings

logger = logging.getLogger(__name__)

RATE_LIMITED_TEXT = texts.RATE_LIMITED
TOO_LONG_TEXT = texts.TOO_LONG
ERROR_TEXT = texts.ERROR



class RateLimiter:
    """Fixed-window counter per key: Redis INCR+EXPIRE, in-process while Redis is down."""

    def __init__(self, limit: int, window: int, redis_url: Optional[str] = None, retry_after: float = 5.0) -> None:
        self.limit = limit
        self.window = window
        self._redis: Any = None
        if redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._local: Dict[str, Tuple[int, int]] = {}
        self.fallback = RedisFallback("redis_rate_limit", "counting per instance", retry_after)

    async def hit(self, key: str, now: Optional[float] = None) -> int:
        """Count one message for ``key``; the count in the current window."""
        now = time.time() if now is None else now
        bucket = int(now // self.window)
        if self._redis is None:
            return self._hit_local(key, bucket)
        if not self.fallback.down:
            name = f"rl:{bucket}:{key}"
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.incr(name)
                    pipe.expire(name, self.window + 1)
                    count, _ = await pipe.execute()
                return int(count)
            except Exception as error:  # noqa: BLE001 — any failure of Redis: count locally
                self.fallback.failed(error)
        self.fallback.served_locally()
        return self._hit_local(key, bucket)

    def _hit_local(self, key: str, bucket: int) -> int:
        seen_bucket, count = self._local.get(key, (bucket, 0))
        count = count + 1 if seen_bucket == bucket else 1
        self._local[key] = (bucket, count)
        if len(self._local) > 50_000:  # forget finished windows
            self._local = {k: v for k, v in self._local.items() if v[0] == bucket}
        return count


class Limits:
    def __init__(self) -> None:
        self.max_chars = settings.get("MAX_MESSAGE_CHARS")
        self.limiter = RateLimiter(
            settings.get("RATE_LIMIT_MESSAGES"), settings.get("RATE_LIMIT_WINDOW_SECONDS"),
            settings.get("REDIS_URL") or None,
        )


_limits: Optional[Limits] = None


def limits() -> Limits:
    global _limits
    if _limits is None:
        _limits = Limits()
    return _limits


def reset_limits() -> None:
    """Re-read the settings (tests)."""
    global _limits
    _limits = None


async def _reply(message: UserMessage, text: str) -> None:
    try:
        await message.output_channel.send_text_message(message.sender_id, text)
    except Exception as error:  # noqa: BLE001
        logger.warning("could not send a service reply on %s (%s)", message.input_channel, type(error).__name__)


def guard(on_new_message: Callable[[UserMessage], Awaitable[Any]], channel_name: str) -> Callable[[UserMessage], Awaitable[Any]]:
    async def guarded(message: UserMessage) -> None:
        channel = message.input_channel or channel_name
        started = time.perf_counter()
        outcome = "handled"
        try:
            settings = limits()
            text = message.text if isinstance(message.text, str) else str(message.text or "")
            if len(text) > settings.max_chars:
                outcome = "too_long"
                await _reply(message, TOO_LONG_TEXT.format(limit=settings.max_chars))
                return
            count = await settings.limiter.hit(f"{channel}:{message.sender_id}")
            if count > settings.limiter.limit:
                # One explanation per window; the rest is dropped quietly.
                outcome = "rate_limited" if count == settings.limiter.limit + 1 else "dropped"
                if outcome == "rate_limited":
                    await _reply(message, RATE_LIMITED_TEXT)
                return
            try:
                await on_new_message(message)
            except Exception:  # noqa: BLE001 — the citizen gets an answer, the log gets the type
                outcome = "error"
                logger.exception("handling a message on %s failed", channel)
                await _reply(message, ERROR_TEXT)
        finally:
            metrics.MESSAGES.labels(channel, outcome).inc()
            if outcome == "handled":
                metrics.LATENCY.labels(channel).observe(time.perf_counter() - started)

    return guarded


class GuardedChannelMixin:
    """Put ``guard`` between a channel and Rasa."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rasa_hooks.install()
        return super().blueprint(guard(on_new_message, self.name()))  # type: ignore[misc]


_WRAPPED = {
    "GuardedRestInput": "connectors.rest.RestInput",
    "GuardedTelegramInput": "connectors.telegram.channel.TelegramInput",
    "GuardedVKInput": "connectors.vk.channel.VKInput",
    "GuardedMaxInput": "connectors.max.channel.MaxInput",
    "GuardedSocketIOInput": "connectors.webchat.channel.SocketIOInput",
    "GuardedVoiceInput": "voice.channel.VoiceInput",
}
_built: Dict[str, type] = {}


def guarded_class(base: type, name: Optional[str] = None) -> type:
    name = name or f"Guarded{base.__name__}"
    return type(name, (GuardedChannelMixin, base), {"__module__": __name__, "__doc__": base.__doc__})


def __getattr__(name: str) -> Any:  # PEP 562: Rasa's class_from_module_path uses getattr
    if name in _WRAPPED:
        if name not in _built:
            module_name, _, class_name = _WRAPPED[name].rpartition(".")
            base = getattr(importlib.import_module(module_name), class_name)
            _built[name] = guarded_class(base, name)
        return _built[name]
    raise AttributeError(name)


class OpsChannel(InputChannel):
    """``/ops/health`` and ``/ops/metrics`` on a Rasa instance (not routed by nginx)."""

    @classmethod
    def name(cls) -> Text:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        rasa_hooks.install()
        return cls()

    def url_prefix(self) -> Text:
        # Absolute: urljoin("/webhooks/", "/ops") is "/ops".
        return "/ops"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = Blueprint("hotline_ops", __name__)

        @ops.route("/health", methods=["GET"])
        async def health(request: Request) -> Any:
            from hotline.ops.health import rasa_health

            agent = getattr(request.app.ctx, "agent", None)
            status, body = await rasa_health(agent)
            return response.json(body, status=status)

        @ops.route("/metrics", methods=["GET"])
        async def prometheus(_: Request) -> Any:
            return response.raw(metrics.render(), content_type=metrics.CONTENT_TYPE)

        return ops
