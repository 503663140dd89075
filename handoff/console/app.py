"""The operators' web console (aiohttp): pages for people, a JSON API for the
pages' scripts and for tests. `python -m handoff.console` serves it.

Security:
* sign-in with per-operator accounts (handoff.auth: Argon2id hashes;
  handoff.throttle: backoff per (login, address) and per address, the address
  from handoff.console.peers); the session cookie is HttpOnly, SameSite=Strict,
  Secure unless HANDOFF_SECURE_COOKIES=0 (plain-HTTP local use), and expires after
  HANDOFF_SESSION_IDLE_MIN minutes idle or HANDOFF_SESSION_MAX_HOURS hours;
* every state-changing request needs the session's CSRF token: the hidden
  ``csrf_token`` field of a form, or the ``X-CSRF-Token`` header of an API
  call; a request from another origin is refused as well;
* who may read, take, write and close a ticket: handoff.service; every read,
  write and refusal goes to the audit log;
* pages carry a strict Content-Security-Policy (no inline scripts) and are
  never cached.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web

from hotline.status import StoreUnavailable
from handoff import auth, preview
from handoff import repository as repo
from handoff.canned import canned_answers
from handoff.console.peers import client_address, parse_networks
from handoff.config import Settings
from handoff.rasa_client import RasaApiClient
from handoff.service import Actor, DeliveryFailed, HandoffService, Refused
from handoff.wait import estimate_wait_seconds, wait_words

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
COOKIE = "hotline_console"
LOGIN_COOKIE = "hotline_console_login"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC = {"/login", "/api/login", "/healthz", "/favicon.ico"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# The queue page shows the first waiting tickets (positions are counted for all).
QUEUE_PAGE = 50
SETTINGS_KEY = web.AppKey("settings", Settings)
SERVICE_KEY = web.AppKey("service", HandoffService)
URL_KEY = web.AppKey("database_url", str)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
WORKER_KEY = web.AppKey("worker", asyncio.Task)
TELEGRAM_KEY = web.AppKey("telegram", object)
PROXIES_KEY = web.AppKey("trusted_proxies", list)
STATUS_WORDS = {"waiting": "ждёт", "assigned": "у оператора", "closed": "закрыто"}
REASON_WORDS = {"request": "просьба гражданина", "fallback": "бот не понял", "status_locked": "блокировка проверки",
                "fraud": "мошенничество", "complaint": "жалоба"}
CHANNEL_WORDS = {"rest": "REST", "socketio": "веб-виджет", "telegram": "Telegram", "vk": "ВКонтакте",
                 "voice": "телефон"}


def _local_time(value: Any, schedule_tz: Any = None) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(schedule_tz).strftime("%d.%m.%Y %H:%M:%S") if schedule_tz else value.isoformat()


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=jinja2.select_autoescape(["html"]))
    env.filters["wait"] = wait_words
    env.globals.update(STATUS_WORDS=STATUS_WORDS, REASON_WORDS=REASON_WORDS, CHANNEL_WORDS=CHANNEL_WORDS)
    return env


def _service(request: web.Request) -> HandoffService:
    return request.app[SERVICE_KEY]


def _url(request: web.Request) -> Optional[str]:
    return request.app[URL_KEY] or None


async def _db(request: web.Request, func: Callable, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(func, *args, url=_url(request), **kwargs)


def _client(request: web.Request) -> str:
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), request.app[PROXIES_KEY])


def _is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def _actor(request: web.Request) -> Actor:
    return Actor(request["session"].operator, "console", _client(request))


def _render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    session = request.get("session")
    tz = _service(request).schedule.tz if _service(request).schedule else dt.timezone.utc
    env = request.app[TEMPLATES_KEY]
    body = env.get_template(name).render(
        me=session.operator if session else None, csrf_token=session.csrf_token if session else "",
        when=lambda v: _local_time(v, tz), timezone=getattr(tz, "key", "UTC"), **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def _refusal(request: web.Request, status: int, message: str) -> web.Response:
    if _is_api(request):
        return web.json_response({"error": message}, status=status)
    return _render(request, "error.html", status=status, message=message)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


# --- middlewares ---------------------------------------------------------------

@web.middleware
async def security_headers(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
    try:
        response = await handler(request)
    except StoreUnavailable:
        logger.warning("console: database unavailable")
        response = _refusal(request, 503, "База данных недоступна. Попробуйте позже.")
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; script-src 'self'; "
                                "style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'; object-src 'none'")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not "no-referrer": with it, browsers send "Origin: null" on form posts and the origin check fails.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def authenticate(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                       ) -> web.StreamResponse:
    if request.path in PUBLIC or request.path.startswith("/static/"):
        if request.method in UNSAFE and not _same_origin(request):
            return _refusal(request, 403, "Запрос с другого сайта отклонён")
        return await handler(request)
    token = request.cookies.get(COOKIE)
    session, why = await _db(request, auth.resolve_session, token, request.app[SETTINGS_KEY])
    if session is None:
        if token and why in ("expired", "closed", "disabled"):
            await _db(request, repo.record_audit, "session_refused", subject=why, ip=_client(request),
                      detail=f"{request.method} {request.path}")
        if _is_api(request):
            response: web.StreamResponse = web.json_response({"error": "Требуется вход", "reason": why}, status=401)
        else:
            target = "/login" + (f"?next={quote(request.path_qs)}&reason={why}" if request.method == "GET"
                                 else f"?reason={why}")
            response = web.HTTPSeeOther(target)
        if token:
            response.del_cookie(COOKIE, path="/")
        if isinstance(response, web.HTTPException):
            raise response
        return response
    request["session"] = session
    if request.method in UNSAFE:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = (await request.post()).get("csrf_token")
        if not _same_origin(request) or not auth.same(str(given or ""), session.csrf_token):
            await _db(request, repo.record_audit, "refused", operator_id=session.operator.id, ip=_client(request),
                      detail=f"CSRF: {request.method} {request.path}")
            return _refusal(request, 403, "Запрос отклонён: нет действительного CSRF-токена")
    return await handler(request)


# --- sign-in ------------------------------------------------------------------------

LOGIN_REASONS = {"expired": "Сессия истекла — войдите снова.", "closed": "Вы вышли из консоли.",
                 "disabled": "Учётная запись отключена.", "missing": "", "unknown": "Сессия не найдена — войдите снова."}


def _login_token(request: web.Request) -> str:
    """The sign-in form's double-submit token: kept while the browser has one, so a
    second tab (or a favicon request redirected here) does not spoil the first."""
    existing = request.cookies.get(LOGIN_COOKIE, "")
    return existing if re.fullmatch(r"[A-Za-z0-9_-]{32}", existing) else secrets.token_urlsafe(24)


async def login_page(request: web.Request) -> web.Response:
    login_csrf = _login_token(request)
    response = _render(request, "login.html", error="", notice=LOGIN_REASONS.get(request.query.get("reason", ""), ""),
                       next=_safe_next(request.query.get("next")), login_csrf=login_csrf, login="")
    response.set_cookie(LOGIN_COOKIE, login_csrf, httponly=True, samesite="Strict", path="/login",
                        secure=request.app[SETTINGS_KEY].secure_cookies, max_age=3600)
    return response


def _safe_next(target: Optional[str]) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


def _set_session_cookie(request: web.Request, response: web.StreamResponse, session: auth.NewSession) -> None:
    settings = request.app[SETTINGS_KEY]
    response.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict", path="/",
                        secure=settings.secure_cookies, max_age=int(settings.session_max_hours * 3600))


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    if not auth.same(str(form.get("login_csrf", "")), request.cookies.get(LOGIN_COOKIE)):
        return _render(request, "login.html", status=403, error="Форма устарела — попробуйте ещё раз.", notice="",
                       next="/queue", login_csrf="", login=login)
    try:
        session = await _db(request, auth.sign_in, login, password, request.app[SETTINGS_KEY], _client(request))
    except auth.AuthError:
        login_csrf = _login_token(request)
        response = _render(request, "login.html", status=401, error="Неверный логин или пароль.", notice="",
                           next=_safe_next(str(form.get("next", ""))), login_csrf=login_csrf, login=login)
        response.set_cookie(LOGIN_COOKIE, login_csrf, httponly=True, samesite="Strict", path="/login",
                            secure=request.app[SETTINGS_KEY].secure_cookies, max_age=3600)
        return response
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    _set_session_cookie(request, response, session)
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


async def api_login(request: web.Request) -> web.Response:
    # JSON only: a cross-site form cannot send it without a CORS preflight we never allow.
    if request.content_type != "application/json":
        return web.json_response({"error": "Ожидается JSON"}, status=415)
    body = await request.json()
    try:
        session = await _db(request, auth.sign_in, str(body.get("login", "")), str(body.get("password", "")),
                            request.app[SETTINGS_KEY], _client(request))
    except auth.AuthError:
        return web.json_response({"error": "Неверный логин или пароль"}, status=401)
    response = web.json_response({"csrf_token": session.csrf_token, "operator": session.operator.public(),
                                  "expires_at": session.expires_at.replace(tzinfo=dt.timezone.utc).isoformat()})
    _set_session_cookie(request, response, session)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await _db(request, auth.sign_out, request.cookies.get(COOKIE))
    await _db(request, repo.record_audit, "logout", operator_id=request["session"].operator.id, ip=_client(request))
    response: web.StreamResponse = (web.json_response({"ok": True}) if _is_api(request)
                                    else web.HTTPSeeOther("/login?reason=closed"))
    response.del_cookie(COOKIE, path="/")
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


# --- queue -----------------------------------------------------------------------------

async def queue_data(request: web.Request) -> Dict[str, Any]:
    service = _service(request)
    settings = request.app[SETTINGS_KEY]
    me_ = request["session"].operator
    since = repo.utcnow() - dt.timedelta(hours=1)
    tickets = await _db(request, repo.queue, include_closed_since=since, waiting_limit=QUEUE_PAGE)
    counts = await _db(request, repo.status_counts)
    state = await _db(request, repo.queue_state, settings.chats_per_operator,
                      settings.default_handling_minutes * 60)
    now = repo.utcnow()
    rows, position = [], 0
    for ticket in tickets:
        readable = service.can_read(me_, ticket)
        row = ticket.public(now)
        if ticket.status == "waiting" or not readable:
            row = preview.masked_ticket(row)
        row["mine"] = ticket.operator_id == me_.id
        row["readable"] = readable
        if ticket.status == "waiting":
            position += 1
            row["position"] = position
            row["expected_wait_seconds"] = estimate_wait_seconds(position, state)
        rows.append(row)
    schedule = service.schedule
    return {
        "tickets": rows,
        "waiting": counts["waiting"],
        "assigned": counts["assigned"],
        "waiting_shown": position,
        "operators_online": state.online_operators,
        "handling_seconds": state.handling_seconds,
        "open_now": schedule.is_open() if schedule else True,
        "hours": schedule.describe() if schedule else "не заданы (HANDOFF_HOURS)",
    }


async def api_queue(request: web.Request) -> web.Response:
    return web.json_response(await queue_data(request))


async def queue_page(request: web.Request) -> web.Response:
    return _render(request, "queue.html", data=await queue_data(request), page="queue")


# --- tickets -----------------------------------------------------------------------------

def _ticket_id(request: web.Request) -> int:
    try:
        return int(request.match_info["ticket_id"])
    except ValueError:
        raise web.HTTPNotFound()


async def api_ticket(request: web.Request) -> web.Response:
    try:
        data = await _service(request).read(_ticket_id(request), _actor(request))
    except Refused as refused:
        return _refusal(request, refused.status, refused.message)
    return web.json_response(data)


async def api_ticket_messages(request: web.Request) -> web.Response:
    service = _service(request)
    ticket = await _db(request, repo.get_ticket, _ticket_id(request))
    if ticket is None:
        return _refusal(request, 404, "Обращение не найдено")
    if not service.can_read(request["session"].operator, ticket):
        await service.audit("refused", _actor(request), ticket, detail="read messages: ticket of another operator")
        return _refusal(request, 403, f"Обращение ведёт другой оператор ({ticket.operator_name})")
    try:
        after = int(request.query.get("after", "0") or 0)
    except ValueError:
        after = 0
    found = await _db(request, repo.ticket_messages, ticket.id, after)
    if found:
        # A read of new content is a read: logged, but once per poll that brought something.
        await service.audit("read", _actor(request), ticket, detail=f"{len(found)} новых сообщений")
    public = preview.masked_ticket(ticket.public()) if ticket.status == "waiting" else ticket.public()
    return web.json_response({"ticket": public, "messages": service.visible_messages(ticket, found),
                              "can_write": service.can_write(request["session"].operator, ticket)})


async def _payload(request: web.Request) -> Dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    return dict(await request.post())


async def ticket_action(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    ticket_id = _ticket_id(request)
    action = request.match_info["action"]
    body = await _payload(request)
    actor = _actor(request)
    try:
        if action == "take":
            result: Any = (await service.take(ticket_id, actor)).public()
        elif action in ("messages", "reply"):
            result = (await service.send(ticket_id, actor, str(body.get("text", "")))).public()
        elif action == "close":
            result = (await service.close(ticket_id, actor, str(body.get("resolution", "")))).public()
        else:
            raise web.HTTPNotFound()
    except Refused as refused:
        if _is_api(request):
            return web.json_response({"error": refused.message}, status=refused.status)
        raise web.HTTPSeeOther(f"/tickets/{ticket_id}?error={quote(refused.message)}")
    except DeliveryFailed as failed:
        if _is_api(request):
            return web.json_response({"error": f"Сообщение не доставлено: {failed}"}, status=502)
        raise web.HTTPSeeOther(f"/tickets/{ticket_id}?error={quote('Сообщение не доставлено')}")
    if _is_api(request):
        return web.json_response(result)
    raise web.HTTPSeeOther("/queue" if action == "close" else f"/tickets/{ticket_id}")


async def ticket_page(request: web.Request) -> web.Response:
    try:
        data = await _service(request).read(_ticket_id(request), _actor(request))
    except Refused as refused:
        return _refusal(request, refused.status, refused.message)
    return _render(request, "ticket.html", data=data, ticket=data["ticket"], canned=canned_answers(),
                   error=request.query.get("error", ""), page="ticket")


async def api_canned(request: web.Request) -> web.Response:
    return web.json_response({"answers": canned_answers()})


# --- figures ------------------------------------------------------------------------------

async def figures_data(request: web.Request) -> Dict[str, Any]:
    try:
        hours = min(max(int(request.query.get("hours", "24")), 1), 24 * 31)
    except ValueError:
        hours = 24
    data = await _db(request, repo.figures, hours=hours)
    data["console_sessions_live"] = await _db(request, repo.live_session_count)
    return data


async def api_figures(request: web.Request) -> web.Response:
    return web.json_response(await figures_data(request))


async def figures_page(request: web.Request) -> web.Response:
    return _render(request, "figures.html", data=await figures_data(request), page="figures")


# --- admin ---------------------------------------------------------------------------------

def _require_admin(request: web.Request) -> None:
    if not request["session"].operator.is_admin:
        raise web.HTTPForbidden(text="Только для администраторов")


async def admin_page(request: web.Request) -> web.Response:
    _require_admin(request)
    operators = await _db(request, repo.list_operators)
    return _render(request, "operators.html", operators=operators, error=request.query.get("error", ""),
                   notice=request.query.get("notice", ""), page="operators")


async def admin_add(request: web.Request) -> web.StreamResponse:
    _require_admin(request)
    from handoff.admin import AdminError, add_operator

    body = await _payload(request)
    try:
        telegram = str(body.get("telegram_user_id", "") or "").strip()
        operator = await _db(request, add_operator, str(body.get("login", "")), str(body.get("display_name", "")),
                             str(body.get("password", "")), is_admin=str(body.get("is_admin", "")) in ("1", "on", "true"),
                             telegram_user_id=int(telegram) if telegram else None,
                             by=request["session"].operator.id, ip=_client(request))
    except (AdminError, ValueError) as exc:
        if _is_api(request):
            return web.json_response({"error": str(exc)}, status=400)
        raise web.HTTPSeeOther(f"/admin/operators?error={quote(str(exc))}")
    if _is_api(request):
        return web.json_response(operator.public())
    raise web.HTTPSeeOther(f"/admin/operators?notice={quote('Оператор добавлен: ' + operator.login)}")


async def admin_toggle(request: web.Request) -> web.StreamResponse:
    _require_admin(request)
    from handoff.admin import AdminError, set_active

    login = request.match_info["login"]
    active = request.match_info["action"] == "enable"
    try:
        await _db(request, set_active, login, active, by=request["session"].operator.id, ip=_client(request))
    except AdminError as exc:
        if _is_api(request):
            return web.json_response({"error": str(exc)}, status=400)
        raise web.HTTPSeeOther(f"/admin/operators?error={quote(str(exc))}")
    if _is_api(request):
        return web.json_response({"ok": True})
    raise web.HTTPSeeOther("/admin/operators")


async def audit_page(request: web.Request) -> web.Response:
    _require_admin(request)
    entries = await _db(request, repo.audit_entries, 300)
    return _render(request, "audit.html", entries=entries, page="audit")


async def api_audit(request: web.Request) -> web.Response:
    _require_admin(request)
    ticket = request.query.get("ticket")
    entries = await _db(request, repo.audit_entries, 500, int(ticket) if ticket and ticket.isdigit() else None)
    return web.json_response({"entries": [e.public() for e in entries]})


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/queue")


# --- the application --------------------------------------------------------------------------

def create_app(settings: Optional[Settings] = None, database_url: Optional[str] = None,
               rasa: Optional[RasaApiClient] = None, run_worker: bool = True,
               telegram: Optional[bool] = None) -> web.Application:
    settings = settings or Settings.load()
    app = web.Application(middlewares=[security_headers, authenticate], client_max_size=256 * 1024)
    service = HandoffService(settings, rasa or RasaApiClient(settings), database_url)
    app[SETTINGS_KEY] = settings
    app[SERVICE_KEY] = service
    app[URL_KEY] = database_url or ""
    app[PROXIES_KEY] = parse_networks(settings.trusted_proxies)
    app[TEMPLATES_KEY] = _templates()
    r = app.router
    r.add_get("/", index)
    r.add_get("/healthz", healthz)
    r.add_get("/favicon.ico", favicon)
    r.add_get("/login", login_page)
    r.add_post("/login", login_submit)
    r.add_post("/logout", logout)
    r.add_get("/queue", queue_page)
    r.add_get("/tickets/{ticket_id}", ticket_page)
    r.add_post("/tickets/{ticket_id}/{action}", ticket_action)
    r.add_get("/figures", figures_page)
    r.add_get("/admin/operators", admin_page)
    r.add_post("/admin/operators", admin_add)
    r.add_post("/admin/operators/{login}/{action:enable|disable}", admin_toggle)
    r.add_get("/audit", audit_page)
    r.add_post("/api/login", api_login)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
    r.add_get("/api/queue", api_queue)
    r.add_get("/api/tickets/{ticket_id}", api_ticket)
    r.add_get("/api/tickets/{ticket_id}/messages", api_ticket_messages)
    r.add_post("/api/tickets/{ticket_id}/{action:take|messages|close}", ticket_action)
    r.add_get("/api/canned", api_canned)
    r.add_get("/api/figures", api_figures)
    r.add_post("/api/admin/operators", admin_add)
    r.add_post("/api/admin/operators/{login}/{action:enable|disable}", admin_toggle)
    r.add_get("/api/audit", api_audit)
    r.add_static("/static/", HERE / "static", show_index=False)

    stop = asyncio.Event()

    async def on_startup(app: web.Application) -> None:
        if run_worker:
            await service.prepare()
            app[WORKER_KEY] = asyncio.create_task(service.run_worker(stop))
        use_telegram = settings.tg_token and settings.tg_chat_id if telegram is None else telegram
        if use_telegram:
            from handoff.operators_telegram import TelegramWorkspace

            workspace = TelegramWorkspace(service, settings)
            await workspace.start()
            app[TELEGRAM_KEY] = workspace

    async def on_cleanup(app: web.Application) -> None:
        stop.set()
        if TELEGRAM_KEY in app:
            await app[TELEGRAM_KEY].stop()
        if WORKER_KEY in app:
            await asyncio.wait([app[WORKER_KEY]], timeout=10)
        await service.rasa.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
