"""Long polling for hosts without a public HTTPS address.

    python -m connectors.max.polling        (make max-polling)

Reads updates with ``GET /updates?marker=&timeout=&types=`` and forwards
each one, as is, to Rasa's own MAX webhook
(http://localhost:$RASA_PORT/webhooks/max/webhook) with the
X-Max-Bot-Api-Secret header, as MAX itself would. The same design as
connectors/telegram/polling.py, for the same reasons: one consumer of the
bot's updates whatever the number of Rasa processes, one code path (secret,
de-duplication, the durable inbox, buttons, typing, retries), no
conversation state here.

Nothing is lost: the marker (MAX's acknowledgement) moves past an update only
after Rasa stored it (HTTP 200), and it is written to MAX_MARKER_FILE
(var/max_polling.marker) after every batch, so a restarted poller asks for
what came after the last forwarded update instead of starting over or
skipping. Rasa's inbox drops an update that is forwarded twice.

Exit codes: 0 on SIGINT/SIGTERM, 2 when MAX rejects the token or Rasa the
secret (configuration errors that retrying cannot fix).
"""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import aiohttp

from connectors.max.client import MaxApiError, MaxClient
from connectors.max.config import SECRET_HEADER, UPDATE_TYPES, MaxSettings
from connectors.telegram.config import get_logger
from connectors.webhook_forwarding import ConfigurationError, forward, poller_main
from hotline import settings
from hotline.paths import ROOT

logger = get_logger("connectors.max.polling")



def default_marker_file(env: Optional[Mapping[str, str]] = None) -> Path:
    return Path(settings.get("MAX_MARKER_FILE", env) or ROOT / "var" / "max_polling.marker")


class MarkerFile:
    """The last marker whose updates all reached Rasa, kept across restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Optional[int]:
        try:
            return int(self.path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def save(self, marker: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(str(marker))
        os.replace(temporary, self.path)  # never a half-written marker


class Poller:
    def __init__(self, settings: MaxSettings, forward_url: str, marker_file: MarkerFile,
                 poll_timeout: int = 25, max_backoff: float = 30.0) -> None:
        self.settings = settings
        self.forward_url = forward_url
        self.marker_file = marker_file
        self.poll_timeout = poll_timeout
        self.max_backoff = max_backoff
        self.client = MaxClient(settings)
        self.marker: Optional[int] = marker_file.load()
        self.forwarded = 0
        self._session: Optional[aiohttp.ClientSession] = None

    async def run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            logger.info("MAX long polling started%s; forwarding to %s",
                        " from the saved marker" if self.marker is not None else "", self.forward_url)
            backoff = 1.0
            while True:
                try:
                    page = await self.client.get_updates(self.marker, self.poll_timeout, UPDATE_TYPES)
                    backoff = 1.0
                except MaxApiError as error:
                    if error.status in (401, 403):
                        raise ConfigurationError(f"MAX rejected the token (HTTP {error.status})") from None
                    logger.warning("MAX /updates failed: %s; retrying in %.0f s", self.settings.mask(error), backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                for update in page.get("updates") or []:
                    if isinstance(update, dict):
                        await self.forward(update)
                marker = page.get("marker")
                if marker is not None and marker != self.marker:
                    self.marker = int(marker)
                    self.marker_file.save(self.marker)
        finally:
            await self._session.close()
            await self.client.close()

    async def forward(self, update: Dict[str, Any]) -> None:
        """POST the update to Rasa until it is stored (2xx); retry with backoff."""
        if await forward(self._session, self.forward_url, update, {SECRET_HEADER: self.settings.secret}, logger,
                         "Rasa refused the secret (403): give the poller and Rasa the same "
                         "MAX_TOKEN and MAX_WEBHOOK_SECRET", self.max_backoff):
            self.forwarded += 1


def main(argv: Optional[List[str]] = None) -> int:
    return poller_main(argv, platform="MAX", prefix="MAX", channel="max",
                       timeout_help="/updates long-poll timeout, seconds", load_settings=MaxSettings.load,
                       make_poller=lambda settings, args: Poller(settings, args.rasa_url,
                                                                 MarkerFile(default_marker_file()),
                                                                 poll_timeout=args.timeout),
                       logger=logger, idle_option=True)


if __name__ == "__main__":
    sys.exit(main())
