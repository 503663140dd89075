"""Conversation review: the tracker store's conversations, listed and read
as masked transcripts with the NLU's intent and confidence for each user
turn and the policy behind each bot action.

Read-only over Rasa's SQL tracker store (the ``events`` table). A
conversation is named on the page by a digest of its sender id, never by
the id itself: a phone gateway may use the caller's number as the sender.
Every text is masked again here (the tracker store masks what it stores,
but older rows and free text slots get the same rules as the operators'
pre-take transcript: dates, SNILS, names the NLU found, phone numbers,
e-mail addresses, application numbers, and a whole reply to the bot's
question for personal data).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from hotline.privacy import MASK, mask_events, mask_free_text, mask_transcript
from workbench import inbox

FALLBACK_INTENT = inbox.FALLBACK_INTENT
FALLBACK_ACTIONS = ("action_fallback", "action_default_fallback", "action_two_stage_fallback")
HANDOFF_ACTIONS = ("action_handoff_start", "action_handoff_create_ticket")
CHANNEL_LABELS = {**inbox.CHANNEL_LABELS, "other": "другой"}
PER_PAGE = 50
# Actions Rasa runs on every turn; a transcript without them reads like a dialogue.
SILENT_ACTIONS = frozenset({"action_listen", "action_session_start"})

events_table = inbox.events_table
CHANNELS = inbox.CHANNELS
channel_of = inbox.channel_of


def conversation_key(sender_id: str) -> str:
    """What the page, the URLs and the tags table know a conversation by."""
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:24]


def _when(ts: Optional[float]) -> Optional[dt.datetime]:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Filters:
    channel: Optional[str] = None
    since: Optional[dt.datetime] = None  # UTC, inclusive
    until: Optional[dt.datetime] = None  # UTC, exclusive
    has_fallback: Optional[bool] = None
    has_handoff: Optional[bool] = None
    # Only these conversation keys (those with a tag); None: all.
    keys: Optional[FrozenSet[str]] = None


@dataclass
class Summary:
    key: str
    channel: str
    started: Optional[dt.datetime]
    last: Optional[dt.datetime]
    user_turns: int
    fallbacks: int
    handoffs: int
    tags: List[str] = field(default_factory=list)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)


@dataclass
class Page:
    items: List[Summary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_conversations(engine: Engine, filters: Filters = Filters(), page: int = 1,
                       per_page: int = PER_PAGE) -> Page:
    """One page of conversations, the most recently active first; the
    counting happens in SQL, so a page costs one grouped query."""
    e = events_table.c
    fallback = func.sum(case((e.intent_name == FALLBACK_INTENT, 1), (e.action_name.in_(FALLBACK_ACTIONS), 1),
                             else_=0))
    handoff = func.sum(case((e.action_name.in_(HANDOFF_ACTIONS), 1), else_=0))
    users = func.sum(case((e.type_name == "user", 1), else_=0))
    first, last = func.min(e.timestamp), func.max(e.timestamp)
    query = select(e.sender_id, first, last, users, fallback, handoff).group_by(e.sender_id)
    if filters.keys is not None:
        query = query.where(e.sender_id.in_(senders_of(engine, filters.keys)))
    if filters.channel and filters.channel in CHANNELS:
        query = query.where(e.sender_id.like(CHANNELS[filters.channel].replace("_", r"\_") + "%", escape="\\"))
    having = []
    if filters.since is not None:
        having.append(last >= inbox._epoch(filters.since))
    if filters.until is not None:
        having.append(first < inbox._epoch(filters.until))
    if filters.has_fallback is not None:
        having.append(fallback > 0 if filters.has_fallback else fallback == 0)
    if filters.has_handoff is not None:
        having.append(handoff > 0 if filters.has_handoff else handoff == 0)
    if having:
        query = query.having(and_(*having))
    page = max(1, int(page))
    # The total rides along each row (a window over the grouped rows): one
    # scan of the table instead of a second, counting one.
    total_column = func.count().over().label("total")
    with engine.connect() as conn:
        rows = conn.execute(query.add_columns(total_column).order_by(last.desc(), e.sender_id)
                            .limit(per_page).offset((page - 1) * per_page)).all()
        if rows:
            total = rows[0][-1]
        else:  # past the last page (or nothing at all): count once
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = []
    for sender, start, end, n, fb, ho, _ in rows:
        _remember(sender)
        items.append(Summary(key=conversation_key(sender), channel=channel_of(sender), started=_when(start),
                             last=_when(end), user_turns=int(n or 0), fallbacks=int(fb or 0),
                             handoffs=int(ho or 0)))
    return Page(items=items, total=int(total), page=page, per_page=per_page)


# Digest -> sender id of the conversations the list pages showed lately, so
# opening one from the list needs no pass over every sender id.
_KNOWN: "OrderedDict[str, str]" = OrderedDict()
_KNOWN_MAX = 20_000
_known_lock = threading.Lock()


def _remember(sender: str) -> str:
    key = conversation_key(sender)
    with _known_lock:
        _KNOWN[key] = sender
        _KNOWN.move_to_end(key)
        while len(_KNOWN) > _KNOWN_MAX:
            _KNOWN.popitem(last=False)
    return key


def find_sender(engine: Engine, key: str) -> Optional[str]:
    """The sender id behind a page's conversation key: remembered from a list
    page, else one pass over the distinct ids (the key is a digest, so it
    cannot be looked up directly)."""
    if not key or len(key) != 24 or any(c not in "0123456789abcdef" for c in key):
        return None
    with _known_lock:
        sender = _KNOWN.get(key)
    if sender is not None:
        with engine.connect() as conn:  # still there? (retention may have deleted it)
            if conn.execute(select(events_table.c.id).where(events_table.c.sender_id == sender).limit(1)).first():
                return sender
    with engine.connect() as conn:
        for (sender,) in conn.execute(select(events_table.c.sender_id).distinct()):
            if conversation_key(sender) == key:
                _remember(sender)
                return sender
    return None


def senders_of(engine: Engine, keys: FrozenSet[str]) -> List[str]:
    """The sender ids behind some conversation keys (remembered ones first,
    the rest by one pass over the distinct ids)."""
    with _known_lock:
        found = {key: _KNOWN[key] for key in keys if key in _KNOWN}
    if len(found) < len(keys):
        with engine.connect() as conn:
            for (sender,) in conn.execute(select(events_table.c.sender_id).distinct()):
                key = conversation_key(sender)
                if key in keys:
                    found[key] = sender
    return sorted(found.values())


# --- transcripts -------------------------------------------------------------------

@dataclass
class Step:
    """One line of a transcript, already masked.

    kind: user, bot (a message), action (a bot action with its policy),
    loop (a form started or ended), slot (a slot the story needs), session."""
    kind: str
    at: Optional[dt.datetime] = None
    text: str = ""
    intent: Optional[str] = None
    retrieval: Optional[str] = None  # faq/<key> the ResponseSelector chose
    confidence: Optional[float] = None
    entities: List[Tuple[str, str]] = field(default_factory=list)
    action: Optional[str] = None
    policy: Optional[str] = None
    slot: Optional[str] = None
    value: Any = None
    masked_whole: bool = False
    session: int = 0

    @property
    def has_mask(self) -> bool:
        return self.masked_whole or MASK in self.text


@dataclass
class Transcript:
    key: str
    channel: str
    steps: List[Step]

    @property
    def sessions(self) -> List[int]:
        return sorted({s.session for s in self.steps})

    def session_steps(self, session: int) -> List[Step]:
        return [s for s in self.steps if s.session == session]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)


def _events(engine: Engine, sender_id: str) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(events_table.c.data).where(events_table.c.sender_id == sender_id)
                            .order_by(events_table.c.id)).all()
    out = []
    for (data,) in rows:
        try:
            event = json.loads(data or "{}")
        except ValueError:
            continue
        if isinstance(event, dict):
            out.append(event)
    return out


def _policy(name: Optional[str]) -> Optional[str]:
    """«policy_2_RulePolicy» (Rasa's ensemble index) as «RulePolicy»."""
    if not name:
        return None
    parts = str(name).split("_", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "policy" and parts[1].isdigit() else str(name)


def _retrieval(parse: Dict[str, Any]) -> Optional[str]:
    selector = parse.get("response_selector") or {}
    for key, value in selector.items():
        if key == "all_retrieval_intents" or not isinstance(value, dict):
            continue
        name = ((value.get("response") or {}).get("intent_response_key"))
        if name:
            return str(name)
    return None


def steps_from_events(events: Sequence[Dict[str, Any]]) -> List[Step]:
    """Masked transcript steps from serialised Rasa events (oldest first)."""
    masked = mask_events(events)
    steps: List[Step] = []
    session = 0
    seen_user = False
    for event in masked:
        kind = event.get("event")
        at = _when(event.get("timestamp"))
        if kind == "action" and event.get("name") == "action_session_start" and seen_user:
            session += 1
            seen_user = False
        if kind == "user":
            seen_user = True
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            whole = event.get("text") == MASK
            entities = [(str(e.get("entity")), str(e.get("value"))) for e in parse.get("entities") or []
                        if e.get("entity")]
            steps.append(Step(kind="user", at=at, text=str(event.get("text") or ""),
                              intent=intent.get("name"), confidence=_float(intent.get("confidence")),
                              retrieval=_retrieval(parse), entities=entities, masked_whole=whole,
                              session=session))
        elif kind == "bot":
            steps.append(Step(kind="bot", at=at, text=str(event.get("text") or ""),
                              action=(event.get("metadata") or {}).get("utter_action"), session=session))
        elif kind == "action" and event.get("name") not in SILENT_ACTIONS:
            steps.append(Step(kind="action", at=at, action=str(event.get("name")),
                              policy=_policy(event.get("policy")), confidence=_float(event.get("confidence")),
                              session=session))
        elif kind == "active_loop":
            steps.append(Step(kind="loop", at=at, action=event.get("name"), session=session))
        elif kind == "slot":
            steps.append(Step(kind="slot", at=at, slot=str(event.get("name")), value=event.get("value"),
                              session=session))
    return _mask_texts(steps)


def _float(value: Any) -> Optional[float]:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _mask_texts(steps: List[Step]) -> List[Step]:
    """The operators' pre-take rules on top of the store's masking: phone
    numbers, e-mail addresses, application numbers, status answers."""
    items = [{"who": "bot" if s.kind == "bot" else "user", "text": s.text,
              "response": s.action or ""} for s in steps]
    for step, item in zip(steps, mask_transcript(items)):
        if step.kind in ("user", "bot"):
            step.text = item["text"]
        if step.kind == "slot" and isinstance(step.value, str):
            step.value = mask_free_text(step.value)
        step.entities = [(name, mask_free_text(value)) for name, value in step.entities]
    return steps


def transcript(engine: Engine, key: str) -> Optional[Transcript]:
    sender = find_sender(engine, key)
    if sender is None:
        return None
    return Transcript(key=key, channel=channel_of(sender), steps=steps_from_events(_events(engine, sender)))

