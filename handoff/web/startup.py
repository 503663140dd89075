"""What a guarded web app checks before it serves (`python -m handoff.console`,
`python -m workbench`): logging set up, the accounts' database reachable and
migrated, the trusted proxies parseable. A problem is one Russian line for
the person starting it, not a traceback."""
from __future__ import annotations

import logging
from typing import Optional

from handoff.config import Settings
from handoff.web.peers import parse_networks
from hotline.db.engine import init_db
from hotline.status import StoreUnavailable


def prepare(settings: Settings, database_url: Optional[str]) -> Optional[str]:
    """None when the app may start; otherwise why not."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        init_db(database_url)
    except StoreUnavailable as exc:
        return f"база данных недоступна: {exc.__cause__ or exc}"
    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as exc:
        return f"HANDOFF_TRUSTED_PROXIES: не адрес и не сеть ({exc})"
    return None
