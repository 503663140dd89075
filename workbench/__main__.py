"""`python -m workbench [--host H] [--port P] [--database-url URL] [--project-dir DIR]`

Serves the trainers' workbench on WORKBENCH_HOST:WORKBENCH_PORT
(127.0.0.1:5078 by default: an internal tool, not for the cluster's ingress).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Optional, Sequence

from aiohttp import web

from handoff.config import Settings
from handoff.web.startup import prepare
from hotline.settings import SettingError


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
    settings = Settings.load()
    problem = prepare(settings, args.database_url)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from workbench.app import create_app

    app = create_app(config, settings)
    print(f"Мастерская тренеров: http://{config.host}:{config.port}/  (проект: {config.project_dir})", flush=True)
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
