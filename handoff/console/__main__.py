"""`python -m handoff.console [--host H] [--port P] [--database-url URL]`

Serves the operators' console on its own port (HANDOFF_CONSOLE_PORT, 5077)
and runs the handoff worker (resuming the bot, telling waiting citizens
about their place) and, with HANDOFF_TG_TOKEN and HANDOFF_TG_CHAT_ID, the
operators' Telegram group.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from aiohttp import web

from handoff.config import Settings
from handoff.web.startup import prepare


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = Settings.load()
    parser = argparse.ArgumentParser(prog="python -m handoff.console", description="Консоль операторов")
    parser.add_argument("--host", default=settings.console_host)
    parser.add_argument("--port", type=int, default=settings.console_port)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-worker", action="store_true", help="serve pages only (another console runs the worker)")
    args = parser.parse_args(argv)
    problem = prepare(settings, args.database_url)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from handoff.console.app import create_app

    app = create_app(settings, args.database_url, run_worker=not args.no_worker)
    print(f"Консоль операторов: http://{args.host}:{args.port}/  (Rasa: {settings.rasa_url})", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
