"""A section still being built: one page saying so, until its real module
replaces workbench/pages/<feature>.py."""
from __future__ import annotations

from aiohttp import web

from workbench.web import SECTIONS, render


def register_stub(app: web.Application, path: str) -> None:
    title = next(label for p, label, _ in SECTIONS if p == path)

    async def page(request: web.Request) -> web.Response:
        return render(request, "stub.html", title=title)

    app.router.add_get(path, page)
