"""The workbench's aiohttp application: the shared guard (handoff.web), the
sign-in pages, the index and the feature modules of FEATURES (see the
package docstring for the convention)."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

from aiohttp import web

from handoff.config import Settings
from handoff.web.peers import parse_networks
from handoff.web import login as login_routes
from handoff.web.security import (GUARD_KEY, PROXIES_KEY, SETTINGS_KEY, TEMPLATES_KEY, URL_KEY, Guard,
                                  authenticate, security_headers, templates)
from workbench.config import WorkbenchConfig
from workbench.web import CONFIG_KEY, SECTIONS, render

HERE = Path(__file__).resolve().parent
# The feature modules, workbench/pages/<name>.py, each with register(app).
FEATURES = ("inbox", "conversations", "responses", "training", "changes")

GUARD = Guard(name="workbench", cookie="hotline_workbench", login_cookie="hotline_workbench_login", home="/",
              render=render, allowed=lambda operator: operator.may_train,
              role_refusal="У этой учётной записи нет роли тренера, поэтому мастерская тренеров ей недоступна. "
                           "Попросите администратора выдать роль в консоли операторов (раздел «Операторы»).")


async def index(request: web.Request) -> web.Response:
    return render(request, "index.html")


def create_app(config: Optional[WorkbenchConfig] = None, settings: Optional[Settings] = None,
               features: tuple = FEATURES) -> web.Application:
    """`config`: the workbench's settings (default from the environment);
    `settings`: the accounts' (handoff.config: session lifetimes, secure cookies, proxies)."""
    config = config or WorkbenchConfig.load()
    settings = settings or Settings.load()
    # Room for a pasted data file, not for uploads of models.
    app = web.Application(middlewares=[security_headers, authenticate], client_max_size=2 * 1024 * 1024)
    app[GUARD_KEY] = GUARD
    app[SETTINGS_KEY] = settings
    app[URL_KEY] = config.database_url or ""
    app[PROXIES_KEY] = parse_networks(settings.trusted_proxies)
    app[TEMPLATES_KEY] = templates(HERE / "templates")
    app[CONFIG_KEY] = config
    login_routes.add_routes(app)
    app.router.add_get("/", index)
    for name in features:
        importlib.import_module(f"workbench.pages.{name}").register(app)
    app.router.add_static("/static/", HERE / "static", show_index=False)
    return app


__all__ = ["create_app", "FEATURES", "SECTIONS"]
