"""The console's admin pages: operators (add, enable/disable, the trainer
role) and the audit log. Admins only; every change is audited by
handoff.admin."""
from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from handoff import repository as repo
from handoff.admin import AdminError, add_operator, set_active, set_trainer
from handoff.web.security import GUARD_KEY, client, db, is_api, payload

# The add form's «роль»: (may use the console, may use the workbench).
ROLES = {"operator": (True, False), "trainer": (False, True), "both": (True, True)}


def _require_admin(request: web.Request) -> None:
    if not request["session"].operator.is_admin:
        raise web.HTTPForbidden(text="Только для администраторов")


def _render(request: web.Request, name: str, **context) -> web.Response:
    return request.app[GUARD_KEY].render(request, name, **context)


async def admin_page(request: web.Request) -> web.Response:
    _require_admin(request)
    operators = await db(request, repo.list_operators)
    return _render(request, "operators.html", operators=operators, error=request.query.get("error", ""),
                   notice=request.query.get("notice", ""), page="operators")


def _refused(request: web.Request, exc: Exception) -> web.StreamResponse:
    if is_api(request):
        return web.json_response({"error": str(exc)}, status=400)
    raise web.HTTPSeeOther(f"/admin/operators?error={quote(str(exc))}")


async def admin_add(request: web.Request) -> web.StreamResponse:
    _require_admin(request)
    body = await payload(request)
    try:
        telegram = str(body.get("telegram_user_id", "") or "").strip()
        role = str(body.get("role", "") or "operator")
        if role not in ROLES:
            raise AdminError("Неизвестная роль: выберите оператора, тренера или обе роли")
        is_operator, is_trainer = ROLES[role]
        operator = await db(request, add_operator, str(body.get("login", "")), str(body.get("display_name", "")),
                            str(body.get("password", "")), is_admin=str(body.get("is_admin", "")) in ("1", "on", "true"),
                            telegram_user_id=int(telegram) if telegram else None, is_operator=is_operator,
                            is_trainer=is_trainer, by=request["session"].operator.id, ip=client(request))
    except (AdminError, ValueError) as exc:
        return _refused(request, exc)
    if is_api(request):
        return web.json_response(operator.public())
    raise web.HTTPSeeOther(f"/admin/operators?notice={quote('Оператор добавлен: ' + operator.login)}")


async def admin_toggle(request: web.Request) -> web.StreamResponse:
    _require_admin(request)
    login = request.match_info["login"]
    action = request.match_info["action"]
    by, ip = request["session"].operator.id, client(request)
    try:
        if action in ("enable", "disable"):
            await db(request, set_active, login, action == "enable", by=by, ip=ip)
        else:
            await db(request, set_trainer, login, action == "grant-trainer", by=by, ip=ip)
    except AdminError as exc:
        return _refused(request, exc)
    if is_api(request):
        return web.json_response({"ok": True})
    raise web.HTTPSeeOther("/admin/operators")


async def audit_page(request: web.Request) -> web.Response:
    _require_admin(request)
    entries = await db(request, repo.audit_entries, 300)
    return _render(request, "audit.html", entries=entries, page="audit")


async def api_audit(request: web.Request) -> web.Response:
    _require_admin(request)
    ticket = request.query.get("ticket")
    entries = await db(request, repo.audit_entries, 500, int(ticket) if ticket and ticket.isdigit() else None)
    return web.json_response({"entries": [e.public() for e in entries]})


def add_routes(app: web.Application) -> None:
    actions = "{action:enable|disable|grant-trainer|revoke-trainer}"
    r = app.router
    r.add_get("/admin/operators", admin_page)
    r.add_post("/admin/operators", admin_add)
    r.add_post("/admin/operators/{login}/" + actions, admin_toggle)
    r.add_get("/audit", audit_page)
    r.add_post("/api/admin/operators", admin_add)
    r.add_post("/api/admin/operators/{login}/" + actions, admin_toggle)
    r.add_get("/api/audit", api_audit)
