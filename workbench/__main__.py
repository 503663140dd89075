"""`python -m workbench [--host H] [--port P] [--database-url URL] [--project-dir DIR]`

Serves the trainers' workbench on WORKBENCH_HOST:WORKBENCH_PORT
(127.0.0.1:5078 by default: an internal tool, not for the cluster's ingress).
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Optional, Sequence

from aiohttp import web

from handoff.config import Settings
from handoff.web.peers import parse_networks
from hotline.db.engine import init_db
from hotline.settings import SettingError
from hotline.status import StoreUnavailable


def main(argv: Optional[Sequence[str]] = None) -> int:
    from workbench.config import WorkbenchConfig

    try:
        config = WorkbenchConfig.load()
    except SettingError as exc:
        print(exc, file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m workbench", description="Мастерская тренеров")
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--port", type=int, default=config.port)
    parser.add_argument("--database-url", default=None, help="accounts and audit (default: $DATABASE_URL)")
    parser.add_argument("--project-dir", default=None, help="the project copy to edit (default: this repository)")
    args = parser.parse_args(argv)
    config = dataclasses.replace(config, host=args.host, port=args.port, database_url=args.database_url,
                                 project_dir=Path(args.project_dir).resolve() if args.project_dir
                                 else config.project_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    settings = Settings.load()
    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        print(f"HANDOFF_TRUSTED_PROXIES: не адрес и не сеть ({exc})", file=sys.stderr)
        return 2
    try:
        init_db(args.database_url)
    except StoreUnavailable as exc:
        print(f"база данных недоступна: {exc.__cause__ or exc}", file=sys.stderr)
        return 2
    from workbench.app import create_app

    app = create_app(config, settings)
    print(f"Мастерская тренеров: http://{config.host}:{config.port}/  (проект: {config.project_dir})", flush=True)
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
