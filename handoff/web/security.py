"""Security middlewares of an aiohttp app signed into with handoff accounts.

* every response carries a strict Content-Security-Policy (no inline
  scripts), frame and sniffing protection, and is never cached (static files
  aside);
* a request outside the app's public paths needs a live session (the
  `Guard.cookie` cookie; handoff.auth: idle and absolute expiry), and the
  account must hold the app's role (`Guard.allowed`), else a polite 403;
* every state-changing request needs the session's CSRF token (the hidden
  ``csrf_token`` form field or the ``X-CSRF-Token`` header) and must come
  from the app's own origin; refusals go to the audit log.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Optional
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web

from handoff import auth
from handoff import repository as repo
from handoff.config import Settings
from handoff.web.peers import client_address
from hotline.status import StoreUnavailable

logger = logging.getLogger(__name__)
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
LOGOUT_PATHS = frozenset({"/logout", "/api/logout"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Render = Callable[..., web.Response]


def _anyone(operator: repo.OperatorView) -> bool:
    return True


@dataclass(frozen=True)
class Guard:
    """What differs between two apps sharing the accounts."""

    name: str                      # the audit log's `via` (≤ 16 characters): console, workbench
    cookie: str                    # the session cookie
    login_cookie: str              # the sign-in form's double-submit cookie (path /login)
    home: str                      # where a sign-in without ?next= lands
    render: Render                 # render(request, template, status=200, **context) -> HTML response
    public: FrozenSet[str] = frozenset({"/login", "/api/login", "/healthz", "/favicon.ico"})
    allowed: Callable[[repo.OperatorView], bool] = field(default=_anyone)
    # Shown (HTTP 403) to a signed-in account without the role.
    role_refusal: str = "Для этой учётной записи вход сюда не предусмотрен."


# Partials both apps' pages include (login_form.html, signed_in.html).
TEMPLATES = Path(__file__).resolve().parent / "templates"
GUARD_KEY = web.AppKey("guard", Guard)
SETTINGS_KEY = web.AppKey("settings", Settings)
URL_KEY = web.AppKey("database_url", str)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
PROXIES_KEY = web.AppKey("trusted_proxies", list)


def templates(directory: Path, **options: Any) -> jinja2.Environment:
    """An app's Jinja environment: its own templates first, then the shared partials."""
    return jinja2.Environment(loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(directory)),
                                                          jinja2.FileSystemLoader(str(TEMPLATES))]),
                              autoescape=jinja2.select_autoescape(["html"]), **options)


def database_url(request: web.Request) -> Optional[str]:
    return request.app[URL_KEY] or None


async def db(request: web.Request, func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking repository call off the event loop, on the app's database."""
    return await asyncio.to_thread(func, *args, url=database_url(request), **kwargs)


def client(request: web.Request) -> str:
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), request.app[PROXIES_KEY])


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def refusal(request: web.Request, status: int, message: str) -> web.Response:
    """A JSON error for the API, the app's error page for a person."""
    if is_api(request):
        return web.json_response({"error": message}, status=status)
    return request.app[GUARD_KEY].render(request, "error.html", status=status, message=message)


async def payload(request: web.Request) -> Dict[str, Any]:
    """A JSON object or a form, as a dict (anything else: empty)."""
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    return dict(await request.post())


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def audit(request: web.Request, action: str, *, subject: Optional[str] = None,
                detail: Optional[str] = None) -> None:
    """An audit entry by the signed-in account (if any), from this app and address."""
    session = request.get("session")
    await db(request, repo.record_audit, action, operator_id=session.operator.id if session else None,
             subject=subject, detail=detail, ip=client(request), via=request.app[GUARD_KEY].name)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except StoreUnavailable:
        logger.warning("%s: database unavailable", request.app[GUARD_KEY].name)
        response = refusal(request, 503, "База данных недоступна. Попробуйте позже.")
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not "no-referrer": with it, browsers send "Origin: null" on form posts and the origin check fails.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    guard = request.app[GUARD_KEY]
    if request.path in guard.public or request.path.startswith("/static/"):
        if request.method in UNSAFE and not same_origin(request):
            return refusal(request, 403, "Запрос с другого сайта отклонён")
        return await handler(request)
    token = request.cookies.get(guard.cookie)
    session, why = await db(request, auth.resolve_session, token, request.app[SETTINGS_KEY])
    if session is None:
        if token and why in ("expired", "closed", "disabled"):
            await db(request, repo.record_audit, "session_refused", subject=why, ip=client(request),
                     detail=f"{request.method} {request.path}", via=guard.name)
        if is_api(request):
            response: web.StreamResponse = web.json_response({"error": "Требуется вход", "reason": why}, status=401)
        else:
            target = "/login" + (f"?next={quote(request.path_qs)}&reason={why}" if request.method == "GET"
                                 else f"?reason={why}")
            response = web.HTTPSeeOther(target)
        if token:
            response.del_cookie(guard.cookie, path="/")
        if isinstance(response, web.HTTPException):
            raise response
        return response
    request["session"] = session
    if request.method in UNSAFE:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = (await request.post()).get("csrf_token")
        if not same_origin(request) or not auth.same(str(given or ""), session.csrf_token):
            await audit(request, "refused", detail=f"CSRF: {request.method} {request.path}")
            return refusal(request, 403, "Запрос отклонён: нет действительного CSRF-токена")
    if not guard.allowed(session.operator) and request.path not in LOGOUT_PATHS:
        # Signing out stays possible: the page that refuses offers it.
        await audit(request, "refused", detail=f"role: {request.method} {request.path}")
        return refusal(request, 403, guard.role_refusal)
    return await handler(request)
