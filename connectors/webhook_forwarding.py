"""What the long-polling processes (Telegram, MAX) share: forwarding an
update to Rasa's own webhook until it is stored, and the process around the
poller (signals, exit codes).

A poller moves the platform's acknowledgement (offset, marker) past an
update only after `forward` returned, so an update Rasa did not store is
asked for again rather than lost.
"""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, Awaitable, Callable, Dict

import aiohttp


class ConfigurationError(Exception):
    """A setting that retrying cannot fix (a rejected token or secret): exit 2."""


async def forward(session: aiohttp.ClientSession, url: str, update: Dict[str, Any], headers: Dict[str, str],
                  logger: logging.Logger, refused_secret: str, max_backoff: float = 30.0) -> bool:
    """POST the update until Rasa accepts it (2xx): True; False when Rasa
    refuses it for good (a 4xx other than 403/404/408/429: skipped)."""
    backoff = 0.5
    while True:
        try:
            async with session.post(url, json=update, headers=headers) as reply:
                status = reply.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            status, problem = None, type(error).__name__
        else:
            problem = f"HTTP {status}"
        if status is not None and 200 <= status < 300:
            return True
        if status == 403:
            raise ConfigurationError(refused_secret)
        if status is not None and 400 <= status < 500 and status not in (404, 408, 429):
            logger.warning("Rasa refused an update (%s); skipped", problem)
            return False
        logger.warning("Rasa is not accepting updates (%s); retrying in %.1f s", problem, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)


async def run_until_signalled(run: Callable[[], Awaitable[Any]], logger: logging.Logger,
                              mask: Callable[[str], str], stopped: Callable[[], str]) -> int:
    """Run the poller until SIGINT/SIGTERM (exit 0) or a ConfigurationError (exit 2)."""
    task = asyncio.get_running_loop().create_task(run())
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        logger.info("%s", stopped())
        return 0
    except ConfigurationError as error:
        logger.error("%s", mask(str(error)))
        return 2
    return 0
