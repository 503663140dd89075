"""«Изменения»: the diff of what the workbench changed (data/, domain.yml,
tests/) against HEAD, and a commit of it to the trainer's branch
(workbench/changes.py), audited."""
from __future__ import annotations

import asyncio
from typing import List, Tuple

from aiohttp import web

from workbench import changes
from workbench.web import actor, audit, form, project_dir, render


def _lines(patch: str) -> List[Tuple[str, str]]:
    """The diff's lines with a class for the page's colours."""
    out = []
    for line in patch.splitlines():
        if line.startswith(("+++", "---", "diff --git", "index ", "new file", "deleted file")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


async def _page(request: web.Request, status: int = 200, **context) -> web.Response:
    repo = project_dir(request)
    trainer = actor(request)
    try:
        diff = await asyncio.to_thread(changes.diff, repo)
        branch = await asyncio.to_thread(changes.current_branch, repo)
        problem = None
    except changes.ChangesError as exc:
        diff, branch, problem = changes.Diff(), "", exc.args[0]
    context.setdefault("error", problem)
    return render(request, "changes/index.html", status=status, diff=diff, lines=_lines(diff.patch),
                  branch=changes.branch_for(trainer.login), working_branch=branch, **context)


async def index(request: web.Request) -> web.Response:
    return await _page(request)


async def commit(request: web.Request) -> web.Response:
    data = await form(request)
    message = str(data.get("message") or "")
    trainer = actor(request)
    try:
        result = await asyncio.to_thread(changes.commit, project_dir(request), trainer.login, message,
                                         trainer.display_name)
    except changes.ChangesError as exc:
        return await _page(request, status=400, error=exc.args[0], message=message)
    if result is None:
        return await _page(request, notice="Изменений нет: всё, что сделано в мастерской, уже в вашей ветке "
                                           "или совпадает с основной версией. Коммитить нечего.")
    await audit(request, "wb_commit", subject=result.branch,
                detail=f"{result.sha} ({len(result.files)} файлов)")
    return await _page(request, committed=result)


def register(app: web.Application) -> None:
    app.router.add_get("/changes", index)
    app.router.add_post("/changes", commit)
