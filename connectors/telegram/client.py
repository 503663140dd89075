"""The Bot API calls the channel makes, through aiogram, with retries.

aiogram 2.x talks to any Bot API server (TelegramAPIServer.from_base), so the
base URL comes from TELEGRAM_API_URL: a local Bot API server, a proxy, or the
tests' fake. Flood control (HTTP 429 with parameters.retry_after) is waited
out and retried a bounded number of times.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, TypeVar

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils import exceptions

from connectors.telegram.config import ALLOWED_UPDATES, TelegramSettings, get_logger

logger = get_logger(__name__)
T = TypeVar("T")


def _safe_to_repeat(error: Exception) -> bool:
    """A failed connection never reached Telegram, so repeating cannot duplicate."""
    return isinstance(error, exceptions.NetworkError) and "ClientConnector" in str(error)


class TelegramClient:
    """One aiogram Bot (one aiohttp session), created on first use in the running loop."""

    def __init__(self, settings: TelegramSettings) -> None:
        if not settings.enabled:
            raise ValueError("TELEGRAM_TOKEN is not set")
        self.settings = settings
        self._bot: Optional[Bot] = None

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            self._bot = Bot(
                self.settings.token,
                server=TelegramAPIServer.from_base(self.settings.api_url),
                timeout=self.settings.request_timeout,
            )
        return self._bot

    async def close(self) -> None:
        bot, self._bot = self._bot, None
        session = getattr(bot, "_session", None) if bot else None
        if session is not None and not session.closed:
            await session.close()

    async def call(self, method: str, request: Callable[[], Awaitable[T]], idempotent: bool = False,
                   attempts: Optional[int] = None) -> T:
        """Run `request`, waiting out flood control and transient failures.

        `idempotent` calls are repeated after any network failure; the others
        (sendMessage) only when the connection was never made, so a message is
        not sent twice after a timeout.
        """
        attempts = max(1, attempts or self.settings.max_send_attempts)
        for attempt in range(1, attempts + 1):
            try:
                return await request()
            except exceptions.RetryAfter as error:
                wait = float(error.timeout)
                if attempt == attempts or wait > self.settings.max_retry_after:
                    logger.warning("Telegram %s: flood control asks to wait %.0f s; giving up after %d attempt(s)",
                                   method, wait, attempt)
                    raise
                logger.warning("Telegram %s: flood control, retrying in %.0f s (attempt %d of %d)",
                               method, wait, attempt, attempts)
                await asyncio.sleep(wait)
            except (exceptions.NetworkError, exceptions.RestartingTelegram, asyncio.TimeoutError) as error:
                repeat = idempotent or _safe_to_repeat(error) or isinstance(error, exceptions.RestartingTelegram)
                if not repeat or attempt == attempts:
                    raise
                wait = min(0.5 * 2 ** (attempt - 1), 8.0)
                logger.warning("Telegram %s: %s; retrying in %.1f s (attempt %d of %d)", method,
                               self.settings.mask(f"{type(error).__name__}: {error}"), wait, attempt, attempts)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    # --- the methods the channel uses ---

    async def send_message(self, chat_id: int, text: str,
                           reply_markup: Optional[InlineKeyboardMarkup] = None) -> Any:
        return await self.call("sendMessage", lambda: self.bot.send_message(
            chat_id, text, reply_markup=reply_markup, disable_web_page_preview=True))

    async def send_typing(self, chat_id: int) -> Any:
        # Once only: a typing indicator that arrives late is worse than none.
        return await self.call("sendChatAction", lambda: self.bot.send_chat_action(chat_id, "typing"),
                               idempotent=True, attempts=1)

    async def answer_callback_query(self, callback_query_id: str) -> Any:
        return await self.call("answerCallbackQuery",
                               lambda: self.bot.answer_callback_query(callback_query_id), idempotent=True)

    async def remove_keyboard(self, chat_id: int, message_id: int) -> Any:
        return await self.call("editMessageReplyMarkup", lambda: self.bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=None), idempotent=True)

    async def get_me(self) -> Any:
        return await self.call("getMe", self.bot.get_me, idempotent=True)

    async def set_webhook(self, url: str, secret_token: str,
                          allowed_updates: Iterable[str] = ALLOWED_UPDATES) -> Any:
        # aiogram 2.15 predates secret_token (Bot API 6.1): the raw request
        # goes through the same aiogram session and error handling.
        payload = {"url": url, "secret_token": secret_token, "allowed_updates": json.dumps(list(allowed_updates))}
        return await self.call("setWebhook", lambda: self.bot.request("setWebhook", payload), idempotent=True)

    async def delete_webhook(self, drop_pending_updates: bool = False) -> Any:
        return await self.call("deleteWebhook", lambda: self.bot.delete_webhook(
            drop_pending_updates=drop_pending_updates or None), idempotent=True)

    async def get_webhook_info(self) -> Dict[str, Any]:
        return await self.call("getWebhookInfo", lambda: self.bot.request("getWebhookInfo"), idempotent=True)

    async def get_updates(self, offset: Optional[int], timeout: int, limit: int = 100,
                          allowed_updates: Iterable[str] = ALLOWED_UPDATES) -> List[Dict[str, Any]]:
        """Raw update dicts, exactly as Telegram sent them (nothing dropped by parsing)."""
        payload: Dict[str, Any] = {"timeout": int(timeout), "limit": int(limit),
                                   "allowed_updates": json.dumps(list(allowed_updates))}
        if offset is not None:
            payload["offset"] = int(offset)

        async def request() -> List[Dict[str, Any]]:
            with self.bot.request_timeout(timeout + self.settings.request_timeout):
                return await self.bot.request("getUpdates", payload)

        return await self.call("getUpdates", request, idempotent=True)
