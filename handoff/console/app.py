"""The operators' web console (aiohttp): pages for people, a JSON API for the
pages' scripts and for tests. `python -m handoff.console` serves it.

Security (handoff.web, shared with the trainers' workbench):
* sign-in with per-operator accounts (handoff.auth: Argon2id hashes;
  handoff.throttle: backoff per (login, address) and per address, the address
  from handoff.web.peers); the session cookie is HttpOnly, SameSite=Strict,
  Secure unless HANDOFF_SECURE_COOKIES=0 (plain-HTTP local use), and expires after
  HANDOFF_SESSION_IDLE_MIN minutes idle or HANDOFF_SESSION_MAX_HOURS hours;
  an account with only the trainer role is refused;
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
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import quote

import jinja2
from aiohttp import web

from handoff import preview
from handoff.admin import role_words
from handoff import repository as repo
from handoff.canned import canned_answers
from handoff.config import Settings
from handoff.console import admin_pages
from handoff.web.peers import parse_networks
from handoff.rasa_client import RasaApiClient
from handoff.service import Actor, DeliveryFailed, HandoffService, Refused
from handoff.wait import estimate_wait_seconds, short_duration, wait_words
from handoff.web import login as login_routes
from handoff.web.security import (GUARD_KEY, PROXIES_KEY, SETTINGS_KEY, TEMPLATES_KEY, URL_KEY, Guard,
                                  authenticate, client, db, is_api, payload, refusal, security_headers, templates)

HERE = Path(__file__).resolve().parent
# The queue page shows the first waiting tickets (positions are counted for all).
QUEUE_PAGE = 50
SERVICE_KEY = web.AppKey("service", HandoffService)
WORKER_KEY = web.AppKey("worker", asyncio.Task)
TELEGRAM_KEY = web.AppKey("telegram", object)
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
    env = templates(HERE / "templates")
    env.filters["wait"] = wait_words
    env.filters["waited"] = short_duration
    env.globals.update(STATUS_WORDS=STATUS_WORDS, REASON_WORDS=REASON_WORDS, CHANNEL_WORDS=CHANNEL_WORDS,
                       role_words=role_words)
    return env


def _service(request: web.Request) -> HandoffService:
    return request.app[SERVICE_KEY]


def _actor(request: web.Request) -> Actor:
    return Actor(request["session"].operator, "console", client(request))


def _render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    session = request.get("session")
    tz = _service(request).schedule.tz if _service(request).schedule else dt.timezone.utc
    env = request.app[TEMPLATES_KEY]
    body = env.get_template(name).render(
        me=session.operator if session else None, csrf_token=session.csrf_token if session else "",
        when=lambda v: _local_time(v, tz), timezone=getattr(tz, "key", "UTC"), **context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


GUARD = Guard(name="console", cookie="hotline_console", login_cookie="hotline_console_login", home="/queue",
              render=_render, allowed=lambda operator: operator.may_operate,
              role_refusal="Консоль операторов этой учётной записи недоступна (у неё только роль тренера). "
                           "Если вам нужен доступ, обратитесь к администратору.")


# --- queue -----------------------------------------------------------------------------

async def queue_data(request: web.Request) -> Dict[str, Any]:
    service = _service(request)
    settings = request.app[SETTINGS_KEY]
    me_ = request["session"].operator
    since = repo.utcnow() - dt.timedelta(hours=1)
    tickets = await db(request, repo.queue, include_closed_since=since, waiting_limit=QUEUE_PAGE)
    counts = await db(request, repo.status_counts)
    state = await db(request, repo.queue_state, settings.chats_per_operator,
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
        return refusal(request, refused.status, refused.message)
    return web.json_response(data)


async def api_ticket_messages(request: web.Request) -> web.Response:
    service = _service(request)
    ticket = await db(request, repo.get_ticket, _ticket_id(request))
    if ticket is None:
        return refusal(request, 404, "Обращение не найдено")
    if not service.can_read(request["session"].operator, ticket):
        await service.audit("refused", _actor(request), ticket, detail="read messages: ticket of another operator")
        return refusal(request, 403, f"Обращение ведёт другой оператор ({ticket.operator_name})")
    try:
        after = int(request.query.get("after", "0") or 0)
    except ValueError:
        after = 0
    found = await db(request, repo.ticket_messages, ticket.id, after)
    if found:
        # A read of new content is a read: logged, but once per poll that brought something.
        await service.audit("read", _actor(request), ticket, detail=f"{len(found)} новых сообщений")
    public = preview.masked_ticket(ticket.public()) if ticket.status == "waiting" else ticket.public()
    return web.json_response({"ticket": public, "messages": service.visible_messages(ticket, found),
                              "can_write": service.can_write(request["session"].operator, ticket)})


async def ticket_action(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    ticket_id = _ticket_id(request)
    action = request.match_info["action"]
    body = await payload(request)
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
        if is_api(request):
            return web.json_response({"error": refused.message}, status=refused.status)
        raise web.HTTPSeeOther(f"/tickets/{ticket_id}?error={quote(refused.message)}")
    except DeliveryFailed as failed:
        if is_api(request):
            return web.json_response({"error": f"Сообщение не доставлено: {failed}"}, status=502)
        raise web.HTTPSeeOther(f"/tickets/{ticket_id}?error={quote('Сообщение не доставлено')}")
    if is_api(request):
        return web.json_response(result)
    raise web.HTTPSeeOther("/queue" if action == "close" else f"/tickets/{ticket_id}")


async def ticket_page(request: web.Request) -> web.Response:
    try:
        data = await _service(request).read(_ticket_id(request), _actor(request))
    except Refused as refused:
        return refusal(request, refused.status, refused.message)
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
    data = await db(request, repo.figures, hours=hours)
    data["console_sessions_live"] = await db(request, repo.live_session_count)
    return data


async def api_figures(request: web.Request) -> web.Response:
    return web.json_response(await figures_data(request))


async def figures_page(request: web.Request) -> web.Response:
    return _render(request, "figures.html", data=await figures_data(request), page="figures")


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/queue")


# --- the application --------------------------------------------------------------------------

def create_app(settings: Optional[Settings] = None, database_url: Optional[str] = None,
               rasa: Optional[RasaApiClient] = None, run_worker: bool = True,
               telegram: Optional[bool] = None) -> web.Application:
    settings = settings or Settings.load()
    app = web.Application(middlewares=[security_headers, authenticate], client_max_size=256 * 1024)
    service = HandoffService(settings, rasa or RasaApiClient(settings), database_url)
    app[GUARD_KEY] = GUARD
    app[SETTINGS_KEY] = settings
    app[SERVICE_KEY] = service
    app[URL_KEY] = database_url or ""
    app[PROXIES_KEY] = parse_networks(settings.trusted_proxies)
    app[TEMPLATES_KEY] = _templates()
    r = app.router
    login_routes.add_routes(app)
    admin_pages.add_routes(app)
    r.add_get("/", index)
    r.add_get("/queue", queue_page)
    r.add_get("/tickets/{ticket_id}", ticket_page)
    r.add_post("/tickets/{ticket_id}/{action}", ticket_action)
    r.add_get("/figures", figures_page)
    r.add_get("/api/queue", api_queue)
    r.add_get("/api/tickets/{ticket_id}", api_ticket)
    r.add_get("/api/tickets/{ticket_id}/messages", api_ticket_messages)
    r.add_post("/api/tickets/{ticket_id}/{action:take|messages|close}", ticket_action)
    r.add_get("/api/canned", api_canned)
    r.add_get("/api/figures", api_figures)
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
