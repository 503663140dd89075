"""«Разговоры»: conversations from the tracker store, filtered and paged; a
masked transcript with each user turn's intent and confidence and each bot
action's policy; tags; and the transcript saved as a test story
(tests/test_stories.yml) or a training story (data/stories/) with the
trainer's corrections (workbench/review.py, workbench/stories.py)."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from workbench import files, review, stories, tags, tracker
from workbench.web import actor, audit, db, form, project_dir, project_file, refuse, render, tracker_url

TRACKER_DOWN = ("Хранилище разговоров (tracker store) недоступно; попробуйте позже или обратитесь к "
                "администратору.")
NO_SUCH_CONVERSATION = "Такого разговора нет (возможно, его уже удалили по сроку хранения)."


def _list(url: str, filters: review.Filters, page_no: int) -> Optional[review.Page]:
    """A page of conversations, or None while Rasa has not created its table."""
    if not tracker.has_conversations_table(url):
        return None
    return review.list_conversations(tracker.engine(url), filters, page_no)


def _transcript(url: str, key: str) -> Optional[review.Transcript]:
    """The conversation, or None (also while Rasa has not created its table)."""
    if not tracker.has_conversations_table(url):
        return None
    return review.transcript(tracker.engine(url), key)


def _date(value: str, end: bool = False) -> Optional[dt.datetime]:
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time())


def _yes_no(value: str) -> Optional[bool]:
    return {"yes": True, "no": False}.get(value)


def _filters(query, tagged: Optional[List[str]] = None) -> review.Filters:
    return review.Filters(channel=query.get("channel") or None, since=_date(query.get("since", "")),
                          until=_date(query.get("until", ""), end=True),
                          has_fallback=_yes_no(query.get("fallback", "")),
                          has_handoff=_yes_no(query.get("handoff", "")),
                          keys=None if tagged is None else frozenset(tagged))


async def list_page(request: web.Request) -> web.Response:
    q = request.query
    try:
        page_no = max(1, int(q.get("page", "1")))
    except ValueError:
        page_no = 1
    tag = " ".join(q.get("tag", "").split()).lower()
    tagged = await db(request, tags.keys_with_tag, tag) if tag else None
    try:
        page = await asyncio.to_thread(_list, tracker_url(request), _filters(q, tagged), page_no)
    except SQLAlchemyError:
        return refuse(request, 503, TRACKER_DOWN)
    empty = page is None
    if empty:
        page = review.Page(items=[], total=0, page=1, per_page=review.PER_PAGE)
    found = await db(request, tags.tags_of, [item.key for item in page.items])
    for item in page.items:
        item.tags = found.get(item.key, [])
    keep = {k: v for k, v in q.items() if k != "page" and v}
    known = await db(request, tags.all_tags)
    return render(request, "conversations/list.html", page=page, q=q, channels=review.CHANNEL_LABELS, known_tags=known,
                  no_conversations=tracker.NO_CONVERSATIONS if empty else None,
                  page_url=lambda n: "/conversations?" + urlencode({**keep, "page": n}))


def _domain_info(request: web.Request) -> stories.DomainInfo:
    text, _ = files.read(project_file(request, "domain.yml"))
    return stories.DomainInfo.from_text(text)


def _story_files(request: web.Request):
    folder = project_dir(request) / stories.STORIES_DIR
    return stories.existing_story_files(p.name for p in folder.glob("*.yml")) if folder.is_dir() else []


async def _transcript_page(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    key = request.match_info["key"]
    try:
        transcript = await asyncio.to_thread(_transcript, tracker_url(request), key)
    except SQLAlchemyError:
        return refuse(request, 503, TRACKER_DOWN)
    if transcript is None:
        return refuse(request, 404, NO_SUCH_CONVERSATION)
    sessions = transcript.sessions or [0]
    try:
        session = int(context.pop("session", None) or request.query.get("session", sessions[-1]))
    except ValueError:
        session = sessions[-1]
    if session not in sessions:
        session = sessions[-1]
    found = await db(request, tags.tags_of, [key])
    domain = await asyncio.to_thread(_domain_info, request)
    return render(request, "conversations/transcript.html", status=status, t=transcript, key=key,
                  session=session, steps=transcript.session_steps(session), sessions=sessions,
                  tags=found.get(key, []), intents=domain.intent_choices(), actions=domain.action_choices(),
                  story_files=await asyncio.to_thread(_story_files, request),
                  chosen=context.pop("chosen", {}), **context)


async def transcript_page(request: web.Request) -> web.Response:
    return await _transcript_page(request)


async def tag(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    data = await form(request)
    trainer = actor(request)
    if data.get("remove"):
        await db(request, tags.remove_tag, key, str(data["remove"]))
        await audit(request, "wb_untag", subject=key, detail=str(data["remove"])[:40])
    else:
        try:
            added = await db(request, tags.add_tag, key, str(data.get("tag") or ""), trainer.login)
        except tags.TagError as exc:
            return await _transcript_page(request, status=400, tag_error=exc.args[0])
        await audit(request, "wb_tag", subject=key, detail=added)
    raise web.HTTPSeeOther(f"/conversations/{key}#tags")


def _corrections(data: Dict[str, Any], prefix: str) -> Dict[int, str]:
    out = {}
    for name, value in data.items():
        if name.startswith(prefix) and name[len(prefix):].isdigit() and str(value).strip():
            out[int(name[len(prefix):])] = str(value).strip()
    return out


def _write_story(path, name: str, lines, shown_as: str) -> None:
    with files.editing(path) as (text, version):
        updated = stories.append_story(text if version != files.MISSING else None, name, lines)
        files.write(path, updated, version, shown_as=shown_as)


async def save_story(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    data = await form(request)
    intents, actions = _corrections(data, "intent_"), _corrections(data, "action_")
    chosen = {"kind": data.get("kind"), "name": data.get("name"), "file": data.get("file"),
              "new_file": data.get("new_file"), "intents": intents, "actions": actions}
    try:
        session = int(str(data.get("session") or 0))
    except ValueError:
        session = 0

    async def refused(message: str, status: int = 400) -> web.Response:
        return await _transcript_page(request, status=status, story_error=message, session=session, chosen=chosen)

    try:
        transcript = await asyncio.to_thread(_transcript, tracker_url(request), key)
    except SQLAlchemyError:
        return refuse(request, 503, TRACKER_DOWN)
    if transcript is None:
        return refuse(request, 404, NO_SUCH_CONVERSATION)
    test_story = data.get("kind") != "training"
    try:
        if test_story:
            relative = stories.TEST_STORIES
        elif data.get("file") and data.get("file") != "new":
            relative = stories.story_file(str(data["file"]))
        else:
            relative = stories.story_file(str(data.get("new_file") or ""))
        domain = await asyncio.to_thread(_domain_info, request)
        lines = stories.build_steps(transcript.session_steps(session), domain, intents, actions,
                                    with_text=test_story)
        name = stories.check_name(str(data.get("name") or ""))
        await asyncio.to_thread(_write_story, project_file(request, relative), name, lines, relative)
    except stories.StoryError as exc:
        return await refused(exc.args[0])
    except files.EditConflict as exc:
        return await refused(exc.message, 409)
    await audit(request, "wb_story", subject=key, detail=f"{relative}: {name}"[:2000])
    return await _transcript_page(request, session=session, chosen=chosen,
                                  story_saved=f"История «{name}» записана в {relative}.")


def register(app: web.Application) -> None:
    app.router.add_get("/conversations", list_page)
    app.router.add_get("/conversations/{key:[0-9a-f]{24}}", transcript_page)
    app.router.add_post("/conversations/{key:[0-9a-f]{24}}/tags", tag)
    app.router.add_post("/conversations/{key:[0-9a-f]{24}}/story", save_story)
