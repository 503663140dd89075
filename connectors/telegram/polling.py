"""Long polling for deployments without a public HTTPS address.

    python -m connectors.telegram.polling        (make telegram-polling)

Reads updates with getUpdates and forwards each one, as is, to Rasa's own
Telegram webhook (http://localhost:$RASA_PORT/webhooks/telegram/webhook) with
the secret header, like Telegram would.

Why a separate process that feeds the webhook, not a poller inside Rasa:
  * Telegram allows one getUpdates consumer per bot (a second one gets
    409 Conflict). Rasa may run as several processes or replicas; a poller
    inside each would fight over the updates, while exactly one small poller
    can serve any number of Rasa instances behind one URL.
  * One code path: secret check, de-duplication, button payloads, typing,
    splitting and 429 handling are the webhook's, tested once, and the poller
    keeps no conversation state and never sees Rasa's answers.
  * Nothing is lost: the offset (Telegram's acknowledgement) moves past an
    update only after Rasa accepted it; while Rasa is down or restarting,
    Telegram keeps the updates (up to 24 h) and the poller retries.
  * Rasa's start-up and the channel stay the same in both modes.

Exit codes: 0 on SIGINT/SIGTERM, 2 when the token is rejected by Telegram or
the secret by Rasa (configuration errors that retrying cannot fix).
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any, Dict, List, Optional

import aiohttp
from aiogram.utils import exceptions

from connectors.telegram.client import TelegramClient
from connectors.telegram.config import SECRET_HEADER, TelegramSettings, get_logger
from connectors.webhook_forwarding import ConfigurationError, forward, poller_main

logger = get_logger("connectors.telegram.polling")


class Poller:
    def __init__(self, settings: TelegramSettings, forward_url: str, poll_timeout: int = 25,
                 max_backoff: float = 30.0) -> None:
        self.settings = settings
        self.forward_url = forward_url
        self.poll_timeout = poll_timeout
        self.max_backoff = max_backoff
        self.client = TelegramClient(settings)
        self.offset: Optional[int] = None
        self.forwarded = 0
        self._acknowledged: Optional[int] = None
        self._session: Optional[aiohttp.ClientSession] = None

    async def run(self) -> None:
        """Poll until cancelled; on cancellation confirm what was forwarded."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            await self._drop_webhook()
            logger.info("Telegram long polling started; forwarding to %s", self.forward_url)
            backoff = 1.0
            while True:
                try:
                    updates = await self.client.get_updates(self.offset, self.poll_timeout)
                    backoff = 1.0
                except exceptions.Unauthorized as error:
                    raise ConfigurationError(f"Telegram rejected the token: {error}") from None
                except exceptions.ConflictError as error:
                    # A webhook was set again, or another poller runs with this token.
                    logger.warning("Telegram getUpdates conflict: %s; retrying in %.0f s",
                                   self.settings.mask(str(error)), backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    if "webhook" in str(error).lower():
                        await self._drop_webhook()
                    continue
                except (exceptions.TelegramAPIError, aiohttp.ClientError, asyncio.TimeoutError) as error:
                    logger.warning("Telegram getUpdates failed: %s; retrying in %.0f s",
                                   self.settings.mask(f"{type(error).__name__}: {error}"), backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                for update in sorted(updates or [], key=lambda u: u.get("update_id", 0)):
                    await self.forward(update)
                    self.offset = int(update["update_id"]) + 1
        finally:
            await self._confirm()
            await self._session.close()
            await self.client.close()

    async def _drop_webhook(self) -> None:
        # getUpdates does not work while a webhook is set; pending updates are kept.
        try:
            await self.client.delete_webhook(drop_pending_updates=False)
        except exceptions.Unauthorized as error:
            raise ConfigurationError(f"Telegram rejected the token: {error}") from None

    async def forward(self, update: Dict[str, Any]) -> None:
        """POST the update to Rasa until it is accepted (2xx); retry with backoff."""
        if await forward(self._session, self.forward_url, update, {SECRET_HEADER: self.settings.secret}, logger,
                         "Rasa refused the secret token (403): give the poller and Rasa the same "
                         "TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET", self.max_backoff):
            self.forwarded += 1
            logger.debug("Telegram update %s forwarded", update.get("update_id"))

    async def _confirm(self) -> None:
        """Tell Telegram the forwarded updates are handled, so a restart does not re-send them."""
        if self.offset is None or self.offset == self._acknowledged:
            return
        try:
            await asyncio.wait_for(self.client.get_updates(self.offset, 0, limit=1), timeout=5)
            self._acknowledged = self.offset
        except Exception as error:
            logger.debug("final getUpdates failed: %s", type(error).__name__)


def main(argv: Optional[List[str]] = None) -> int:
    return poller_main(argv, platform="Telegram", prefix="TELEGRAM", channel="telegram",
                       timeout_help="getUpdates long-poll timeout, seconds", load_settings=TelegramSettings.load,
                       make_poller=lambda settings, args: Poller(settings, args.rasa_url, poll_timeout=args.timeout),
                       logger=logger)


if __name__ == "__main__":
    sys.exit(main())
