"""Register, inspect or remove the bot's webhook by hand.

    python -m connectors.telegram.webhook set [--url https://…/webhooks/telegram/webhook]
    python -m connectors.telegram.webhook info
    python -m connectors.telegram.webhook delete

`set` passes the channel's secret as secret_token, so Telegram signs every
call with it. (Rasa does the same at start-up when TELEGRAM_WEBHOOK_URL is set.)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import List, Optional

from connectors.telegram.client import TelegramClient
from connectors.telegram.config import TelegramSettings


async def _run(args: argparse.Namespace) -> int:
    settings = TelegramSettings.load()
    if not settings.enabled:
        print("TELEGRAM_TOKEN is not set", file=sys.stderr)
        return 2
    client = TelegramClient(settings)
    try:
        if args.action == "set":
            url = args.url or settings.webhook_url
            if not url:
                print("give --url or set TELEGRAM_WEBHOOK_URL", file=sys.stderr)
                return 2
            await client.set_webhook(url, settings.secret)
            print(f"webhook set: {settings.mask(url)}")
        elif args.action == "delete":
            await client.delete_webhook(drop_pending_updates=args.drop_pending)
            print("webhook deleted")
        else:
            info = await client.get_webhook_info()
            print(settings.mask(json.dumps(info, ensure_ascii=False, indent=2)))
        return 0
    except Exception as error:
        print(settings.mask(f"{type(error).__name__}: {error}"), file=sys.stderr)
        return 1
    finally:
        await client.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Manage the Telegram webhook of the hotline bot.")
    parser.add_argument("action", choices=("set", "info", "delete"))
    parser.add_argument("--url", help="public HTTPS URL of /webhooks/telegram/webhook (default TELEGRAM_WEBHOOK_URL)")
    parser.add_argument("--drop-pending", action="store_true", help="with delete: drop queued updates")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
