"""Sign-in and sign-out of an app guarded by handoff.web.security: the form
(with its own double-submit token, since there is no session yet), the JSON
API, /api/me, /healthz. `add_routes(app)` installs them.

A correct password of an account without the app's role opens no session:
the person is told (politely, HTTP 403) whom to ask for access."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Optional

from aiohttp import web

from handoff import auth
from handoff import repository as repo
from handoff.web.security import GUARD_KEY, SETTINGS_KEY, client, db, is_api

LOGIN_REASONS = {"expired": "Сессия истекла — войдите снова.", "closed": "Вы вышли из системы.",
                 "disabled": "Учётная запись отключена.", "missing": "", "unknown": "Сессия не найдена — войдите снова."}


def _login_token(request: web.Request) -> str:
    """The sign-in form's double-submit token: kept while the browser has one, so a
    second tab (or a favicon request redirected here) does not spoil the first."""
    existing = request.cookies.get(request.app[GUARD_KEY].login_cookie, "")
    return existing if re.fullmatch(r"[A-Za-z0-9_-]{32}", existing) else secrets.token_urlsafe(24)


def safe_next(request: web.Request, target: Optional[str]) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return request.app[GUARD_KEY].home


def _form(request: web.Request, status: int = 200, error: str = "", notice: str = "", next_: str = "",
          login: str = "") -> web.Response:
    guard = request.app[GUARD_KEY]
    login_csrf = _login_token(request)
    response = guard.render(request, "login.html", status=status, error=error, notice=notice,
                            next=safe_next(request, next_), login_csrf=login_csrf, login=login)
    response.set_cookie(guard.login_cookie, login_csrf, httponly=True, samesite="Strict", path="/login",
                        secure=request.app[SETTINGS_KEY].secure_cookies, max_age=3600)
    return response


async def login_page(request: web.Request) -> web.Response:
    return _form(request, notice=LOGIN_REASONS.get(request.query.get("reason", ""), ""),
                 next_=request.query.get("next", ""))


def _set_session_cookie(request: web.Request, response: web.StreamResponse, session: auth.NewSession) -> None:
    settings = request.app[SETTINGS_KEY]
    response.set_cookie(request.app[GUARD_KEY].cookie, session.token, httponly=True, samesite="Strict", path="/",
                        secure=settings.secure_cookies, max_age=int(settings.session_max_hours * 3600))


async def _sign_in(request: web.Request, login: str, password: str) -> auth.NewSession:
    guard = request.app[GUARD_KEY]
    return await db(request, auth.sign_in, login, password, request.app[SETTINGS_KEY], client(request),
                    via=guard.name, allowed=guard.allowed)


async def login_submit(request: web.Request) -> web.StreamResponse:
    guard = request.app[GUARD_KEY]
    form = await request.post()
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    if not auth.same(str(form.get("login_csrf", "")), request.cookies.get(guard.login_cookie)):
        return guard.render(request, "login.html", status=403, error="Форма устарела — попробуйте ещё раз.",
                            notice="", next=guard.home, login_csrf="", login=login)
    try:
        session = await _sign_in(request, login, password)
    except auth.AuthError as exc:
        if exc.reason == auth.NO_ROLE:
            return _form(request, status=403, error=guard.role_refusal, next_=str(form.get("next", "")), login=login)
        return _form(request, status=401, error="Неверный логин или пароль.", next_=str(form.get("next", "")),
                     login=login)
    response = web.HTTPSeeOther(safe_next(request, str(form.get("next", ""))))
    _set_session_cookie(request, response, session)
    response.del_cookie(guard.login_cookie, path="/login")
    return response


async def api_login(request: web.Request) -> web.Response:
    # JSON only: a cross-site form cannot send it without a CORS preflight we never allow.
    if request.content_type != "application/json":
        return web.json_response({"error": "Ожидается JSON"}, status=415)
    body = await request.json()
    if not isinstance(body, dict):
        return web.json_response({"error": "Ожидается объект JSON"}, status=400)
    try:
        session = await _sign_in(request, str(body.get("login", "")), str(body.get("password", "")))
    except auth.AuthError as exc:
        if exc.reason == auth.NO_ROLE:
            return web.json_response({"error": request.app[GUARD_KEY].role_refusal}, status=403)
        return web.json_response({"error": "Неверный логин или пароль"}, status=401)
    response = web.json_response({"csrf_token": session.csrf_token, "operator": session.operator.public(),
                                  "expires_at": session.expires_at.replace(tzinfo=dt.timezone.utc).isoformat()})
    _set_session_cookie(request, response, session)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    guard = request.app[GUARD_KEY]
    await db(request, auth.sign_out, request.cookies.get(guard.cookie))
    await db(request, repo.record_audit, "logout", operator_id=request["session"].operator.id, ip=client(request),
             via=guard.name)
    response: web.StreamResponse = (web.json_response({"ok": True}) if is_api(request)
                                    else web.HTTPSeeOther("/login?reason=closed"))
    response.del_cookie(guard.cookie, path="/")
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def me(request: web.Request) -> web.Response:
    session = request["session"]
    return web.json_response({"operator": session.operator.public(), "csrf_token": session.csrf_token})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/favicon.ico", favicon)
    r.add_get("/login", login_page)
    r.add_post("/login", login_submit)
    r.add_post("/logout", logout)
    r.add_post("/api/login", api_login)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
