"""«Обучение»: start a training job, follow it, read its report, activate
its model in the running Rasa server and roll back.

Pages work without JavaScript (forms with the CSRF field, redirects);
static/training.js only refreshes the job page's progress and log by polling
``/api/training/jobs/<id>``. The Rasa API key never reaches a page: the
browser names a job, the server finds its model (workbench.activation).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

from aiohttp import web

from hotline.paths import ROOT
from workbench import evaluate
from hotline.nlu.training import model_path
from workbench.activation import Activation, ActivationError, keep_for_restart
from workbench.jobs import LOG_TAIL, STEPS, Busy, Jobs, NotStopped, Workspace, clock, when
from workbench.web import CONFIG_KEY, actor, audit, form, json, refuse, render

JOBS_KEY = web.AppKey("training_jobs", Jobs)
ACTIVATION_KEY = web.AppKey("training_activation", Activation)
STATUS_WORDS = {"running": "идёт", "succeeded": "готово", "failed": "ошибка", "interrupted": "прервано",
                "cancelled": "остановлено"}
STEP_WORDS = {"pending": "ждёт", "running": "выполняется", "ok": "пройден", "failed": "не пройден",
              "cancelled": "остановлен"}


def register(app: web.Application) -> None:
    config = app[CONFIG_KEY]
    from handoff.web.security import SETTINGS_KEY, TEMPLATES_KEY

    accounts = app[SETTINGS_KEY]
    state = config.project_dir / "var" / "workbench"
    token = (getattr(accounts, "rasa_token", "") or "").strip()
    workspace = Workspace(project=config.project_dir, state=state, rasa_url=accounts.rasa_url,
                          env={"RASA_API_TOKEN": token} if token else {})
    app[JOBS_KEY] = Jobs(workspace)
    evaluate.note_first_start(config.project_dir, state)
    app[ACTIVATION_KEY] = Activation(state, accounts.rasa_url, [workspace.models, config.project_dir / "models",
                                                                ROOT / "models"], key=token or None)
    templates = app[TEMPLATES_KEY]
    templates.filters.update(training_pct=percent, training_delta=delta, training_clock=clock, training_when=when)
    templates.globals.update(TRAINING_STATUS=STATUS_WORDS, TRAINING_STEP=STEP_WORDS)

    app.router.add_get("/training", index)
    app.router.add_post("/training/start", start)
    app.router.add_get("/training/jobs/{job}", job_page)
    app.router.add_get("/training/jobs/{job}/report", report_page)
    app.router.add_get("/training/jobs/{job}/confusion.png", confusion_picture)
    app.router.add_post("/training/jobs/{job}/activate", activate)
    app.router.add_post("/training/jobs/{job}/cancel", cancel)
    app.router.add_post("/api/training/jobs/{job}/cancel", cancel)
    app.router.add_post("/training/rollback", rollback)
    app.router.add_get("/api/training/jobs/{job}", job_api)
    app.router.add_post("/api/training/start", start)
    app.router.add_post("/api/training/jobs/{job}/activate", activate)
    app.router.add_post("/api/training/rollback", rollback)


# --- formatting ------------------------------------------------------------

def percent(value: Optional[float]) -> str:
    """0.9661 → «96,6 %»."""
    return "—" if value is None else f"{value * 100:.1f}".replace(".", ",") + "\u00a0%"


def delta(value: Optional[float]) -> str:
    """A change in percentage points, with its sign: «+1,2 п.п.», «−0,4 п.п.», «без изменений»."""
    if value is None:
        return "—"
    points = round(value * 100, 1)
    if points == 0:
        return "без изменений"
    sign = "+" if points > 0 else "−"
    return f"{sign}{abs(points):.1f}".replace(".", ",") + "\u00a0п.п."


# --- helpers ------------------------------------------------------------------

def _jobs(request: web.Request) -> Jobs:
    return request.app[JOBS_KEY]


def _activation(request: web.Request) -> Activation:
    return request.app[ACTIVATION_KEY]


def _job(request: web.Request) -> Optional[Dict[str, Any]]:
    return _jobs(request).get(request.match_info["job"])


async def _running_model(request: web.Request) -> Dict[str, Any]:
    try:
        name = await asyncio.to_thread(_activation(request).running_name)
        return {"name": name, "error": None}
    except ActivationError as error:
        return {"name": None, "error": str(error)}


def _job_view(job: Dict[str, Any], log: list) -> Dict[str, Any]:
    done = sum(1 for s in job["steps"] if s["status"] == "ok")
    return {"id": job["id"], "status": job["status"], "status_text": STATUS_WORDS.get(job["status"], job["status"]),
            "step": job["step"], "steps_total": len(STEPS), "done": done,
            "steps": [{**s, "status_text": STEP_WORDS.get(s["status"], s["status"])} for s in job["steps"]],
            "trainer": job["trainer"].get("name") or job["trainer"].get("login"), "created": job["created"],
            "finished": job.get("finished"), "error": job.get("error"), "model": job.get("model"),
            "log": log, "report_url": f"/training/jobs/{job['id']}/report" if job["status"] == "succeeded" else None}


# --- pages ---------------------------------------------------------------------

async def index(request: web.Request, notice: Optional[str] = None, error: Optional[str] = None,
                status: int = 200) -> web.Response:
    jobs = _jobs(request)
    history = await asyncio.to_thread(jobs.history, 20)
    running = next((j for j in history if j["status"] == "running"), None)
    return render(request, "training/index.html", status=status, history=history, running=running,
                  model=await _running_model(request), record=_activation(request).record(),
                  notice=notice, error=error)


async def start(request: web.Request) -> web.Response:
    trainer = actor(request)
    try:
        job = await asyncio.to_thread(_jobs(request).start, trainer.login, trainer.display_name)
    except Busy as busy:
        await audit(request, "wb_train_refused", detail=f"running job {(busy.job or {}).get('id')}")
        if request.path.startswith("/api/"):
            return json({"error": str(busy), "job": (busy.job or {}).get("id")}, status=409)
        return await index(request, error=str(busy), status=409)
    await audit(request, "wb_train_start", subject=job["id"])
    if request.path.startswith("/api/"):
        return json({"job": job["id"], "url": f"/training/jobs/{job['id']}"}, status=202)
    raise web.HTTPSeeOther(f"/training/jobs/{job['id']}")


async def job_page(request: web.Request) -> web.Response:
    job = _job(request)
    if job is None:
        return refuse(request, 404, "Такого задания обучения нет.")
    return render(request, "training/job.html", job=_job_view(job, _jobs(request).log(job["id"], LOG_TAIL)))


async def cancel(request: web.Request) -> web.Response:
    await form(request)
    trainer = actor(request)
    job_id = request.match_info["job"]
    try:
        await asyncio.to_thread(_jobs(request).cancel, job_id, trainer.login, trainer.display_name, trainer.is_admin)
    except NotStopped as refused:
        return refuse(request, 409, str(refused))
    await audit(request, "wb_train_cancel", subject=job_id)
    if request.path.startswith("/api/"):
        return json({"job": job_id, "message": "Обучение останавливается."}, status=202)
    raise web.HTTPSeeOther(f"/training/jobs/{job_id}")


async def job_api(request: web.Request) -> web.Response:
    job = _job(request)
    if job is None:
        return refuse(request, 404, "Такого задания обучения нет.")
    return json(_job_view(job, _jobs(request).log(job["id"], LOG_TAIL)))


async def report_page(request: web.Request) -> web.Response:
    job = _job(request)
    if job is None:
        return refuse(request, 404, "Такого задания обучения нет.")
    ws = _jobs(request).ws
    report = await asyncio.to_thread(evaluate.report, ws.job_dir(job["id"]), ws.evaluations, job)
    if report is None:
        return refuse(request, 409, "Отчёта ещё нет: задание не дошло до проверки на отложенных фразах.")
    return render(request, "training/report.html", job=_job_view(job, []), report=report,
                  model=await _running_model(request), record=_activation(request).record())


async def confusion_picture(request: web.Request) -> web.StreamResponse:
    job = _job(request)
    if job is None:
        return refuse(request, 404, "Такого задания обучения нет.")
    data = await asyncio.to_thread(evaluate.picture, _jobs(request).ws.job_dir(job["id"]))
    if data is None:
        return refuse(request, 404, "Для этого задания ещё нет матрицы ошибок.")
    return web.Response(body=data, content_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


async def activate(request: web.Request) -> web.Response:
    await form(request)  # the CSRF field was read by the guard; nothing else is taken from the browser
    job = _job(request)
    if job is None:
        return refuse(request, 404, "Такого задания обучения нет.")
    if job["status"] != "succeeded" or not job.get("model"):
        return refuse(request, 409, "Активировать можно только модель задания, которое прошло все четыре шага.")
    trainer = actor(request)
    model = _jobs(request).ws.models / job["model"]
    try:
        entry = await asyncio.to_thread(_activation(request).activate, model, trainer.login)
    except ActivationError as error:
        await audit(request, "wb_activate_failed", subject=job["model"], detail=str(error)[:500])
        return await _answer(request, error=str(error), status=409)
    await audit(request, "wb_activate", subject=entry["model"], detail=f"job {job['id']}; previous {entry['previous']}")
    kept = await asyncio.to_thread(keep_for_restart, model, _jobs(request).ws.project)
    restart = ("Она обучена на текущих данных проекта, поэтому останется и после перезапуска ассистента."
               if kept or model.name == model_path(root=_jobs(request).ws.project).name else
               "Данные проекта с тех пор менялись: после перезапуска ассистент загрузит модель текущих данных.")
    return await _answer(request, notice=f"Модель {entry['model']} активирована: сервер Rasa отвечает ею. "
                                         f"Предыдущая ({entry['previous']}) сохранена для отката. {restart}",
                         entry={**entry, "kept_for_restart": kept})


async def rollback(request: web.Request) -> web.Response:
    await form(request)
    trainer = actor(request)
    try:
        entry = await asyncio.to_thread(_activation(request).rollback, trainer.login)
    except ActivationError as error:
        await audit(request, "wb_rollback_failed", detail=str(error)[:500])
        return await _answer(request, error=str(error), status=409)
    await audit(request, "wb_rollback", subject=entry["model"], detail=f"from {entry['previous']}")
    return await _answer(request, notice=f"Откат выполнен: сервер Rasa снова отвечает моделью {entry['model']}.",
                         entry=entry)


async def _answer(request: web.Request, notice: Optional[str] = None, error: Optional[str] = None,
                  status: int = 200, entry: Optional[Dict[str, Any]] = None) -> web.Response:
    if request.path.startswith("/api/"):
        return json({"error": error}, status=status) if error else json({"message": notice, **(entry or {})})
    return await index(request, notice=notice, error=error, status=status)
