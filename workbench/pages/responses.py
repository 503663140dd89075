"""«Ответы»: the responses of domain.yml, each variation's text editable
(chat and `channel: voice`), placeholders checked (workbench/responses.py),
voice texts playable in the browser (workbench/listen.py).

Two trainers on one response: the form carries the file's version and a
digest of the text it started from. A save after someone else changed
domain.yml still goes through when this variation's text is untouched (the
edit is applied to the new file); when the same text was changed, the save
is refused with the other trainer's text shown and this trainer's kept in
the form, so nothing typed is lost.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from collections import OrderedDict
from typing import Dict, Optional, Tuple
from urllib.parse import urlencode

import yaml
from aiohttp import web

from hotline.answer_text import slot_defaults
from workbench import files, listen
from workbench import responses as editor
from workbench.web import actor, audit, form, json, project_file, refuse, render

DOMAIN = "domain.yml"
# Recent previews, by a random token the page puts in an <audio> src (the
# CSP allows same-origin media only, no blob: URLs).
_PREVIEWS: "OrderedDict[str, Tuple[str, bytes]]" = OrderedDict()
_PREVIEWS_MAX = 32
_previews_lock = threading.Lock()


class ResponseConflict(Exception):
    def __init__(self, current: Optional[str]) -> None:
        self.current = current
        super().__init__("Этот текст изменил другой тренер, пока вы его редактировали. Ваш вариант остался в "
                         "форме; сравните его с сохранённым и нажмите «Сохранить» ещё раз.")


def digest(text: Optional[str]) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:32]


def _variation_text(domain_text: str, name: str, index: int) -> Optional[str]:
    try:
        response = editor.find(domain_text, name)
    except editor.ResponseError:
        return None
    for variation in response.variations:
        if variation.index == index:
            return variation.text
    return None


def _save(path, name: str, index: int, text: str, version: str, original: str) -> bool:
    """Write the edit; False when the text is unchanged. Blocking."""
    with files.editing(path) as (current, found):
        if found != version:
            theirs = _variation_text(current, name, index)
            if theirs is None or digest(theirs) != original:
                raise ResponseConflict(theirs)
        updated = editor.replace_text(current, name, index, text)
        if updated == current:
            return False
        files.write(path, updated, found, shown_as=DOMAIN)
        return True


def _index(request: web.Request) -> Tuple[str, Optional[int]]:
    name = request.query.get("name", "")
    try:
        index = int(request.query.get("index", ""))
    except ValueError:
        index = None
    return name, index


async def list_page(request: web.Request) -> web.Response:
    text, _ = await asyncio.to_thread(files.read, project_file(request, DOMAIN))
    items = await asyncio.to_thread(editor.list_responses, text)
    query = request.query.get("q", "").strip().lower()
    if query:
        items = [r for r in items if query in r.name.lower()
                 or any(query in (v.text or "").lower() for v in r.variations)]
    return render(request, "responses/list.html", items=items, q=request.query.get("q", ""))


async def _edit_page(request: web.Request, name: str, status: int = 200, kept: Optional[Dict[int, str]] = None,
                     errors: Optional[Dict[int, str]] = None, theirs: Optional[Dict[int, str]] = None,
                     saved: Optional[int] = None) -> web.Response:
    text, version = await asyncio.to_thread(files.read, project_file(request, DOMAIN))
    try:
        response = await asyncio.to_thread(editor.find, text, name)
    except editor.ResponseError as exc:
        return refuse(request, 404, exc.args[0])
    return render(request, "responses/edit.html", status=status, response=response, version=version,
                  digests={v.index: digest(v.text) for v in response.variations}, kept=kept or {},
                  errors=errors or {}, theirs=theirs or {}, saved=saved,
                  audio_urls={v.index: "/responses/audio?" + urlencode({"name": name, "index": v.index})
                              for v in response.variations})


async def edit_page(request: web.Request) -> web.Response:
    name, _ = _index(request)
    saved = request.query.get("saved")
    return await _edit_page(request, name, saved=int(saved) if saved and saved.isdigit() else None)


async def save(request: web.Request) -> web.Response:
    data = await form(request)
    name = str(data.get("name") or "")
    text = str(data.get("text") or "")
    try:
        index = int(str(data.get("index")))
    except ValueError:
        return refuse(request, 400, "Не указан вариант ответа; обновите страницу.")
    path = project_file(request, DOMAIN)
    try:
        changed = await asyncio.to_thread(_save, path, name, index, text, str(data.get("version") or ""),
                                          str(data.get("original") or ""))
    except ResponseConflict as exc:
        return await _edit_page(request, name, status=409, kept={index: text}, errors={index: exc.args[0]},
                                theirs={index: exc.current or "(вариант удалён)"})
    except files.EditConflict as exc:
        return await _edit_page(request, name, status=409, kept={index: text}, errors={index: exc.message})
    except editor.ResponseError as exc:
        return await _edit_page(request, name, status=400, kept={index: text}, errors={index: exc.args[0]})
    if changed:
        await audit(request, "wb_response", subject=name[:64], detail=f"вариант {index}")
    raise web.HTTPSeeOther("/responses/edit?" + urlencode({"name": name, "saved": index}) + f"#v{index}")


def _defaults(domain_text: str) -> Dict[str, str]:
    return slot_defaults(yaml.safe_load(domain_text) or {})


async def _wav(request: web.Request, text: str) -> bytes:
    domain_text, _ = await asyncio.to_thread(files.read, project_file(request, DOMAIN))
    defaults = await asyncio.to_thread(_defaults, domain_text)
    return await asyncio.to_thread(listen.preview_wav, text, defaults)


async def saved_audio(request: web.Request) -> web.StreamResponse:
    """The saved text of one variation, spoken (an <audio> src; works without scripts)."""
    name, index = _index(request)
    domain_text, _ = await asyncio.to_thread(files.read, project_file(request, DOMAIN))
    text = None if index is None else await asyncio.to_thread(_variation_text, domain_text, name, index)
    if text is None:
        return refuse(request, 404, "Такого варианта ответа нет.")
    try:
        wav = await _wav(request, editor.joined(text))
    except listen.ListenError as exc:
        return refuse(request, 503, exc.args[0])
    return web.Response(body=wav, content_type="audio/wav")


async def preview(request: web.Request) -> web.Response:
    """POST {text}: the text in the form (not yet saved), spoken; answers the URL to play."""
    data = await form(request)
    try:
        wav = await _wav(request, editor.joined(str(data.get("text") or "")))
    except listen.ListenError as exc:
        return json({"error": exc.args[0]}, status=400)
    token = secrets.token_hex(16)
    with _previews_lock:
        _PREVIEWS[token] = (actor(request).login, wav)
        while len(_PREVIEWS) > _PREVIEWS_MAX:
            _PREVIEWS.popitem(last=False)
    return json({"url": f"/api/responses/preview/{token}"})


async def preview_audio(request: web.Request) -> web.StreamResponse:
    with _previews_lock:
        found = _PREVIEWS.get(request.match_info["token"])
    if found is None or found[0] != actor(request).login:
        return refuse(request, 404, "Запись устарела: нажмите «Прослушать» ещё раз.")
    return web.Response(body=found[1], content_type="audio/wav")


def register(app: web.Application) -> None:
    app.router.add_get("/responses", list_page)
    app.router.add_get("/responses/edit", edit_page)
    app.router.add_post("/responses/edit", save)
    app.router.add_get("/responses/audio", saved_audio)
    app.router.add_post("/api/responses/preview", preview)
    app.router.add_get("/api/responses/preview/{token:[0-9a-f]{32}}", preview_audio)
