"""What the long-polling processes (Telegram, MAX) share: forwarding an
update to Rasa's own webhook until it is stored, and the process around the
poller (command line, signals, exit codes).

A poller moves the platform's acknowledgement (offset, marker) past an
update only after `forward` returned, so an update Rasa did not store is
asked for again rather than lost.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional

import aiohttp

from hotline import settings


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


def default_forward_url(prefix: str, channel: str, env: Optional[Mapping[str, str]] = None) -> str:
    """<PREFIX>_FORWARD_URL, else the channel's webhook on the local Rasa."""
    return (settings.get(f"{prefix}_FORWARD_URL", env)
            or f"http://localhost:{settings.get('RASA_PORT', env)}/webhooks/{channel}/webhook")


def poller_main(argv: Optional[List[str]], *, platform: str, prefix: str, channel: str, timeout_help: str,
                load_settings: Callable[[], Any], make_poller: Callable[[Any, argparse.Namespace], Any],
                logger: logging.Logger, idle_option: bool = False) -> int:
    """`python -m connectors.<channel>.polling`: options, logging, then the
    poller until a signal. `make_poller(settings, args)` gets `args.rasa_url`
    (already defaulted) and `args.timeout`."""
    parser = argparse.ArgumentParser(description=f"{platform} long polling for the hotline assistant.")
    parser.add_argument("--rasa-url", help=f"Rasa's {platform} webhook (default: {prefix}_FORWARD_URL or "
                                           f"http://localhost:$RASA_PORT/webhooks/{channel}/webhook)")
    parser.add_argument("--timeout", type=int, default=settings.get(f"{prefix}_POLL_TIMEOUT"), help=timeout_help)
    if idle_option:
        parser.add_argument("--idle-without-token", action="store_true",
                            help=f"without {prefix}_TOKEN wait for SIGTERM instead of exiting with 2 (cluster pods)")
    parser.add_argument("--log-level", default=settings.get("LOG_LEVEL"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> int:
        settings = load_settings()
        if not settings.enabled:
            if getattr(args, "idle_without_token", False):
                # A cluster runs the poller whether or not the deployment has
                # this bot: without a token it waits for its stop instead of crash-looping.
                logger.info("%s_TOKEN is not set: the %s channel is off; the poller idles", prefix, platform)
                return await run_until_signalled(asyncio.Event().wait, logger, settings.mask,
                                                 lambda: f"{platform} long polling stopped (channel off)")
            logger.error("%s_TOKEN is not set", prefix)
            return 2
        args.rasa_url = args.rasa_url or default_forward_url(prefix, channel)
        poller = make_poller(settings, args)
        return await run_until_signalled(
            poller.run, logger, settings.mask,
            lambda: f"{platform} long polling stopped ({poller.forwarded} updates forwarded)")

    return asyncio.run(run())
