"""What a feature page needs from the workbench: who is signed in, how to
render a page, answer JSON or refuse politely, write the audit log, and
where the project, the tracker store and the settings are.

Every handler behind the guard runs for a signed-in account holding the
trainer role (or an admin); the CSRF token is already checked on POSTs.
"""
from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import jinja2
from aiohttp import web

from handoff.config import Settings
from handoff.web import security
from handoff.web.security import TEMPLATES_KEY, database_url, db, payload  # noqa: F401 (re-exported for pages)
from workbench import files
from workbench.config import WorkbenchConfig

CONFIG_KEY = web.AppKey("workbench_config", WorkbenchConfig)
# The navigation bar: (path, label, feature module name).
SECTIONS = (
    ("/inbox", "Непонятые сообщения", "inbox"),
    ("/conversations", "Разговоры", "conversations"),
    ("/responses", "Ответы", "responses"),
    ("/training", "Обучение", "training"),
    ("/changes", "Изменения", "changes"),
)


@dataclass(frozen=True)
class Trainer:
    """The signed-in person: `login` names their git branch and their audit rows."""

    id: int
    login: str
    display_name: str
    is_admin: bool
    ip: str


def actor(request: web.Request) -> Trainer:
    operator = request["session"].operator
    return Trainer(operator.id, operator.login, operator.display_name, operator.is_admin, security.client(request))


def config(request: web.Request) -> WorkbenchConfig:
    return request.app[CONFIG_KEY]


def settings(request: web.Request) -> Settings:
    """The accounts' settings (sessions, cookies); the workbench's own are in `config`."""
    return request.app[security.SETTINGS_KEY]


def project_dir(request: web.Request) -> Path:
    """The repository copy whose data/, domain.yml and tests/ the workbench edits."""
    return config(request).project_dir


def project_file(request: web.Request, relative: str) -> Path:
    """A file of the project named by a request ("data/nlu/faq.yml"); a path leading
    outside the project (absolute, "..", a symlink) is refused with HTTP 400."""
    try:
        return files.inside(project_dir(request), relative)
    except files.OutsideProject:
        raise web.HTTPBadRequest(text="Такого файла в проекте нет.") from None


def tracker_url(request: web.Request) -> str:
    return config(request).tracker_url


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """An HTML page from workbench/templates (a feature's own under templates/<feature>/)."""
    session = request.get("session")
    env: jinja2.Environment = request.app[TEMPLATES_KEY]
    body = env.get_template(template).render(
        me=session.operator if session else None, csrf_token=session.csrf_token if session else "",
        sections=SECTIONS, path=request.path, **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def json(data: Any, status: int = 200) -> web.Response:
    """A JSON answer with Cyrillic kept readable."""
    return web.json_response(data, status=status, dumps=lambda d: jsonlib.dumps(d, ensure_ascii=False))


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    """A polite Russian refusal: JSON {"error": message} under /api/, the error page otherwise."""
    return security.refusal(request, status, message)


async def audit(request: web.Request, action: str, detail: Optional[str] = None,
                subject: Optional[str] = None) -> None:
    """An audit row by the signed-in trainer, via=workbench. `action` ≤ 32 characters
    (e.g. "wb_label", "wb_train"); never put unmasked citizen text into `detail`."""
    await security.audit(request, action, subject=subject, detail=detail)


async def form(request: web.Request) -> Dict[str, Any]:
    """The request's JSON object or form fields."""
    return await payload(request)
