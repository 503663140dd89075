"""The inbox of misunderstood messages: groups with counts and filters, a
form per group to label it (intent or faq/<key>, entity spans) into the
training data, or to dismiss it.

GET  /inbox          the list (filters: channel, since, until, intent; page)
POST /inbox/label    write the example (workbench.nlu_writer through workbench.files)
POST /inbox/dismiss  hide the group's messages up to now

Only masked text is rendered (workbench.inbox). The audit rows name the
trainer, the label and the file, never the text; nothing here logs a text.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from hotline.db.engine import StoreUnavailable
from hotline.privacy import mask_free_text
from workbench import files, inbox, inbox_store, nlu_writer, review, tracker
from workbench.web import actor, audit, db, form, project_dir, render, tracker_url

log = logging.getLogger(__name__)

PER_PAGE = 20
DEFAULT_DAYS = 7
SPAN_ROWS = 2
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GROUP_ID = re.compile(r"^[0-9a-f]{32}$")

_results_lock = threading.Lock()
# Tracker URLs whose events table has the inbox's index (tried once each).
_indexed: Set[str] = set()


def _ensure_index(url: str) -> None:
    """The inbox's index, once per URL: at start, or when Rasa has created
    the table since (a fresh deployment, the workbench started first)."""
    with _results_lock:
        if url in _indexed:
            return
        _indexed.add(url)
    inbox.ensure_timestamp_index(tracker.engine(url))


@dataclass
class _Query:
    channel: str = ""
    since: str = ""
    until: str = ""
    intent: str = ""
    page: int = 1

    def filters(self) -> inbox.Filters:
        since = dt.datetime.strptime(self.since, "%Y-%m-%d") if self.since else None
        # «по 30.11» includes the whole day.
        until = dt.datetime.strptime(self.until, "%Y-%m-%d") + dt.timedelta(days=1) if self.until else None
        return inbox.Filters(since=since, until=until, channel=self.channel or None, intent=self.intent or None)

    def link(self, **changes) -> str:
        values = {"channel": self.channel, "since": self.since, "until": self.until, "intent": self.intent,
                  "page": self.page}
        values.update(changes)
        return "/inbox?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


def _query(params, problems: List[str]) -> _Query:
    query = _Query()
    channel = str(params.get("channel") or "")
    if channel in inbox.CHANNELS:
        query.channel = channel
    elif channel:
        problems.append("Такого канала нет: показаны все каналы.")
    for name, label in (("since", "«С»"), ("until", "«По»")):
        value = str(params.get(name) or "").strip()
        if value:
            try:
                if not _DATE.match(value):
                    raise ValueError(value)
                dt.datetime.strptime(value, "%Y-%m-%d")
                setattr(query, name, value)
            except ValueError:
                problems.append(f"Дата в поле {label} не распознана (нужен формат ГГГГ-ММ-ДД): фильтр не применён.")
    if "since" not in params:
        query.since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=DEFAULT_DAYS)).strftime("%Y-%m-%d")
    if query.since and query.until and query.until < query.since:
        problems.append("Дата «По» раньше даты «С»: период перевёрнут.")
        query.since, query.until = query.until, query.since
    intent = str(params.get("intent") or "")
    if intent and re.fullmatch(r"[\w/]{1,128}", intent):
        query.intent = intent
    try:
        query.page = max(1, int(str(params.get("page") or "1")))
    except ValueError:
        query.page = 1
    return query


# The last query results, reused while no event was added (paging, going
# back after a label): (url, filters) -> (newest event id, items).
_results: "OrderedDict[tuple, Tuple[Optional[int], List[inbox.Item]]]" = OrderedDict()
_RESULTS_KEPT = 8


def _load_groups(url: str, filters: inbox.Filters, hidden: Dict[str, dt.datetime]) -> Optional[List[inbox.Group]]:
    """The groups, or None when the tracker store has no conversations yet."""
    if not tracker.has_conversations_table(url):
        return None
    _ensure_index(url)
    engine = tracker.engine(url)
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(inbox.events_table.c.id))).scalar_one()
    key = (url, filters)
    with _results_lock:
        cached = _results.get(key)
    if cached is not None and cached[0] == newest:
        items = cached[1]
    else:
        items = list(inbox.misunderstood(engine, filters))
        with _results_lock:
            _results[key] = (newest, items)
            _results.move_to_end(key)
            while len(_results) > _RESULTS_KEPT:
                _results.popitem(last=False)
    return inbox.group_items(items, hidden)


async def _page(request: web.Request, status: int = 200, params=None, **extra) -> web.Response:
    problems: List[str] = []
    query = _query(params if params is not None else request.query, problems)
    root = project_dir(request)
    choices = nlu_writer.label_choices(root)
    labels = dict(choices)
    groups: Optional[List[inbox.Group]] = None
    unavailable = False
    try:
        hidden = await db(request, inbox_store.decided)
        groups = await asyncio.to_thread(_load_groups, tracker_url(request), query.filters(), hidden)
    except (StoreUnavailable, SQLAlchemyError) as exc:
        log.warning("inbox: the tracker store or the decisions table is unavailable (%s)", type(exc).__name__)
        unavailable = True
    page = inbox.paginate(groups or [], query.page, PER_PAGE)
    return render(
        request, "inbox/list.html", status=status, query=query, page=page, empty_store=groups is None,
        no_conversations=tracker.NO_CONVERSATIONS,
        unavailable=unavailable, problems=problems, choices=choices, labels=labels,
        entities=nlu_writer.entity_choices(root), channels=inbox.CHANNEL_LABELS, reasons=inbox.REASONS,
        span_rows=range(1, SPAN_ROWS + 1), notice=_notice(request.query),
        # Conversations are named by the review's key, never by the sender id
        # (a phone gateway may put the caller's number into it).
        conversation_key=review.conversation_key, **extra)


def _notice(params) -> Optional[str]:
    done = params.get("done")
    if done == "labelled":
        where = str(params.get("file") or "")
        if re.fullmatch(r"data/nlu/[\w.-]+\.yml", where):
            return f"Пример добавлен в {where}. Он попадёт в модель после следующего обучения."
        return "Пример добавлен в обучающие данные."
    if done == "dismissed":
        return "Группа скрыта. Новые такие сообщения появятся в списке снова."
    return None


async def list_page(request: web.Request) -> web.Response:
    return await _page(request)


def _back(data) -> Dict[str, str]:
    """The list's filters the form came from, to return to them."""
    return {k: str(data.get(f"back_{k}") or "") for k in ("channel", "since", "until", "intent", "page")}


def _return_to(back: Dict[str, str]) -> Dict[str, str]:
    # An emptied «С» stays empty (all time), not the default week.
    return {k: v for k, v in back.items() if v or k == "since"}


async def label(request: web.Request) -> web.Response:
    data = await form(request)
    trainer = actor(request)
    group_id = str(data.get("group") or "")
    back = _back(data)
    if not _GROUP_ID.match(group_id):
        return await _page(request, 400, back, error_group=None,
                           error="Форма устарела: обновите страницу и попробуйте ещё раз.")
    intent = str(data.get("intent") or "")
    text = str(data.get("text") or "")
    spans = [nlu_writer.Span(str(data.get(f"span_text_{i}") or ""), str(data.get(f"span_entity_{i}") or ""))
             for i in range(1, SPAN_ROWS + 1)]
    spans = [s for s in spans if s.text.strip() or s.entity]
    if any(not s.text.strip() or not s.entity for s in spans):
        return await _label_error(request, back, group_id, data,
                                  "Для разметки сущности укажите и фрагмент текста, и сущность.")
    try:
        written = await asyncio.to_thread(nlu_writer.add_example, intent, text, spans, project_dir(request))
    except nlu_writer.LabelRefused as refused:
        return await _label_error(request, back, group_id, data, str(refused))
    except files.EditConflict as conflict:
        return await _label_error(request, back, group_id, data, conflict.message, status=409)
    await db(request, inbox_store.decide, group_id, "labelled", trainer.login, intent)
    await audit(request, "wb_label", subject=group_id, detail=f"intent={written.intent} file={written.path}")
    params = _return_to(back)
    params.update(done="labelled", file=written.path)
    raise web.HTTPSeeOther("/inbox?" + urlencode(params))


async def _label_error(request: web.Request, back: Dict[str, str], group_id: str, data,
                       message: str, status: int = 400) -> web.Response:
    # The trainer's input goes back into the form masked: the page shows no
    # personal data even when someone typed it.
    kept = {"text": mask_free_text(" ".join(str(data.get("text") or "").split())),
            "intent": str(data.get("intent") or "")}
    for i in range(1, SPAN_ROWS + 1):
        kept[f"span_text_{i}"] = mask_free_text(str(data.get(f"span_text_{i}") or ""))
        kept[f"span_entity_{i}"] = str(data.get(f"span_entity_{i}") or "")
    return await _page(request, status, back, error_group=group_id, error=message, kept=kept)


async def dismiss(request: web.Request) -> web.Response:
    data = await form(request)
    group_id = str(data.get("group") or "")
    back = _back(data)
    if not _GROUP_ID.match(group_id):
        return await _page(request, 400, back, error_group=None,
                           error="Форма устарела: обновите страницу и попробуйте ещё раз.")
    await db(request, inbox_store.decide, group_id, "dismissed", actor(request).login)
    await audit(request, "wb_dismiss", subject=group_id)
    params = _return_to(back)
    params["done"] = "dismissed"
    raise web.HTTPSeeOther("/inbox?" + urlencode(params))


async def _index_tracker(app: web.Application) -> None:
    from workbench.web import CONFIG_KEY

    url = app[CONFIG_KEY].tracker_url

    def ensure() -> None:
        try:
            if tracker.has_conversations_table(url):
                _ensure_index(url)
        except SQLAlchemyError as exc:
            log.warning("inbox: tracker store not reachable at start (%s)", type(exc).__name__)

    await asyncio.to_thread(ensure)


def register(app: web.Application) -> None:
    app.router.add_get("/inbox", list_page)
    app.router.add_post("/inbox/label", label)
    app.router.add_post("/inbox/dismiss", dismiss)
    app.on_startup.append(_index_tracker)


__all__ = ["register"]
