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

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

from connectors.max.client import MaxApiError, MaxClient
from connectors.max.config import SECRET_HEADER, UPDATE_TYPES, MaxSettings
from connectors.telegram.config import get_logger
from connectors.webhook_forwarding import ConfigurationError, forward, run_until_signalled

logger = get_logger("connectors.max.polling")

ROOT = Path(__file__).resolve().parents[2]


def default_forward_url(env=os.environ) -> str:
    if env.get("MAX_FORWARD_URL"):
        return env["MAX_FORWARD_URL"]
    return f"http://localhost:{env.get('RASA_PORT', '5005')}/webhooks/max/webhook"


def default_marker_file(env=os.environ) -> Path:
    return Path(env.get("MAX_MARKER_FILE") or ROOT / "var" / "max_polling.marker")


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


async def _main(args: argparse.Namespace) -> int:
    settings = MaxSettings.load()
    if not settings.enabled:
        if args.idle_without_token:
            # A cluster runs the poller whether or not the deployment has a MAX
            # bot: without a token it waits for its stop instead of crash-looping.
            logger.info("MAX_TOKEN is not set: the MAX channel is off; the poller idles")
            return await run_until_signalled(asyncio.Event().wait, logger, settings.mask,
                                             lambda: "MAX long polling stopped (channel off)")
        logger.error("MAX_TOKEN is not set")
        return 2
    poller = Poller(settings, args.rasa_url or default_forward_url(), MarkerFile(default_marker_file()),
                    poll_timeout=args.timeout)
    return await run_until_signalled(poller.run, logger, settings.mask,
                                     lambda: f"MAX long polling stopped ({poller.forwarded} updates forwarded)")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="MAX long polling for the hotline assistant.")
    parser.add_argument("--rasa-url", help="Rasa's MAX webhook (default: MAX_FORWARD_URL or "
                                           "http://localhost:$RASA_PORT/webhooks/max/webhook)")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("MAX_POLL_TIMEOUT", 25)),
                        help="/updates long-poll timeout, seconds")
    parser.add_argument("--idle-without-token", action="store_true",
                        help="without MAX_TOKEN wait for SIGTERM instead of exiting with 2 (cluster pods)")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
