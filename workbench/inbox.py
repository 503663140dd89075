"""The inbox of misunderstood messages: a read-only query over Rasa's SQL
tracker store (the ``events`` table: one row per event, JSON in ``data``).

A user turn is misunderstood when the NLU fell back (``nlu_fallback``), its
top intent was below the FallbackClassifier's threshold or within its
ambiguity threshold of the second (both read from config.yml, so the inbox
agrees with the running pipeline), or when the citizen's next message asked
for a human or repeated the question.

Memory stays bounded whatever the table's size: conversations with a user
turn in the date range are paged by sender id, and only their events around
the range are read, page by page (no ORDER BY over the whole table, no full
load). ensure_timestamp_index adds the one index the first query needs.

Only masked text leaves this module (hotline.privacy.mask_free_text, and
MASK for a whole reply to the bot's question for a date of birth, a name,
SNILS or a phone number).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import yaml
from sqlalchemy import and_, select
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine

from hotline.db.tables.tracker import events as events_table
from hotline.nlu.examples import near_copy, plain
from hotline.paths import ROOT
from hotline.privacy import MASK, PERSONAL_QUESTIONS, asks_for_personal_data, mask_free_text

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
HUMAN_INTENT = "request_operator"  # shared/docs/intents.md: «wants a human»

# Reason codes and how the page names them.
REASONS = {
    "fallback": "бот не понял (nlu_fallback)",
    "low_confidence": "низкая уверенность",
    "ambiguous": "два намерения почти равны",
    "human_requested": "затем попросили оператора",
    "repeated": "затем повторили вопрос",
}
# Conversation id prefixes of the input channels (connectors/, voice/).
CHANNELS = {"telegram": "telegram_", "vk": "vk_", "max": "max_", "web": "web_", "rest": "rest_", "phone": "phone_"}
CHANNEL_LABELS = {"telegram": "Telegram", "vk": "ВКонтакте", "max": "MAX", "web": "виджет на сайте",
                  "rest": "REST API", "phone": "телефон"}
# The question a repeat answers may have been asked a little before the range
# starts; the reaction that marks a turn may come a little after it ends.
LOOKBACK_SECONDS = 6 * 3600
LOOKAHEAD_SECONDS = 3600
# Short replies («да», «нет», «оператор») repeat without meaning «you did not understand».
REPEAT_MIN_WORDS = 3
SENDERS_PER_PAGE = 200
_EVENT_TYPES = ("user", "bot", "slot", "active_loop", "session_started", "restart")

TIMESTAMP_INDEX = "ix_events_type_name_timestamp"


@dataclass(frozen=True)
class Thresholds:
    threshold: float
    ambiguity: float


@lru_cache(maxsize=4)
def _thresholds_of(path: str, mtime: float) -> Thresholds:
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return Thresholds(float(component.get("threshold", 0.3)),
                              float(component.get("ambiguity_threshold", 0.1)))
    # Rasa's defaults, if the pipeline has no fallback at all.
    return Thresholds(0.3, 0.1)


def thresholds(config_path: Path = ROOT / "config.yml") -> Thresholds:
    """The FallbackClassifier's thresholds as config.yml says now."""
    return _thresholds_of(str(config_path), config_path.stat().st_mtime)


def channel_of(conversation_id: str) -> str:
    for name, prefix in CHANNELS.items():
        if conversation_id.startswith(prefix):
            return name
    return "other"


@dataclass(frozen=True)
class Filters:
    since: Optional[dt.datetime] = None  # UTC, inclusive
    until: Optional[dt.datetime] = None  # UTC, exclusive
    channel: Optional[str] = None
    intent: Optional[str] = None  # the predicted intent (nlu_fallback included)


@dataclass(frozen=True)
class Item:
    """One misunderstood user turn, masked."""
    event_id: int
    conversation_id: str
    channel: str
    at: dt.datetime  # UTC, naive
    text: str
    intent: str
    confidence: float
    # The classifier's own best guess when the intent is nlu_fallback.
    guess: Optional[str]
    guess_confidence: Optional[float]
    reasons: Tuple[str, ...]
    whole_masked: bool


@dataclass
class _Pending:
    """A user turn waiting for the citizen's next message."""
    event_id: int
    at: float
    text: str  # as stored: masked only when shown (emit), compared unshown
    folded: str
    intent: str
    confidence: float
    guess: Optional[str]
    guess_confidence: Optional[float]
    reasons: List[str] = field(default_factory=list)
    whole: bool = False


def ensure_timestamp_index(engine: Engine) -> bool:
    """Create the (type_name, timestamp) index the inbox's first query uses,
    once. Rasa does not manage the table's schema, so an extra index is safe;
    a database user without the right to create it only makes the query slower."""
    try:
        with engine.begin() as conn:
            conn.execute(sql(f"CREATE INDEX IF NOT EXISTS {TIMESTAMP_INDEX} ON events (type_name, timestamp)"))
        return True
    except Exception as exc:  # noqa: BLE001 — a read-only account is a valid deployment
        log.warning("inbox: no index on events.timestamp (%s); the inbox query scans the table",
                    type(exc).__name__)
        return False


def _epoch(value: Optional[dt.datetime]) -> Optional[float]:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def _prediction(data: dict, limits: Thresholds) -> Tuple[str, float, Optional[str], Optional[float], List[str]]:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    ranking.sort(key=lambda r: -float(r.get("confidence") or 0.0))
    top = ranking[0] if ranking else ({"name": name, "confidence": confidence} if name != FALLBACK_INTENT else None)
    reasons = []
    if name == FALLBACK_INTENT:
        reasons.append("fallback")
    if top is not None:
        top_conf = float(top.get("confidence") or 0.0)
        if top_conf < limits.threshold:
            reasons.append("low_confidence")
        elif len(ranking) > 1 and top_conf - float(ranking[1].get("confidence") or 0.0) < limits.ambiguity:
            reasons.append("ambiguous")
    guess = top.get("name") if top is not None and name == FALLBACK_INTENT else None
    guess_conf = float(top.get("confidence") or 0.0) if guess else None
    return name, confidence, guess, guess_conf, reasons


def _conversation_items(sender_id: str, rows: Iterable[tuple], limits: Thresholds,
                        since: Optional[float], until: Optional[float]) -> Iterator[Item]:
    """The misunderstood turns of one conversation's events (id order)."""
    requested_slot: Optional[str] = None
    asked = False
    pending: Optional[_Pending] = None

    def emit(turn: Optional[_Pending]) -> Optional[Item]:
        if turn is None or not turn.reasons:
            return None
        if since is not None and turn.at < since or until is not None and turn.at >= until:
            return None
        masked = MASK if turn.whole else mask_free_text(turn.text)
        return Item(turn.event_id, sender_id, channel_of(sender_id),
                    dt.datetime.fromtimestamp(turn.at, dt.timezone.utc).replace(tzinfo=None), masked,
                    turn.intent, turn.confidence, turn.guess, turn.guess_confidence,
                    tuple(r for r in REASONS if r in turn.reasons), turn.whole)

    for event_id, type_name, timestamp, data_json in rows:
        data_json = data_json or "{}"
        # Most slot and bot events matter to no rule here: not parsed.
        if type_name == "slot" and '"requested_slot"' not in data_json:
            continue
        if type_name == "bot" and '"utter_ask_' not in data_json and '"utter_invalid_' not in data_json:
            asked = False
            continue
        try:
            data = json.loads(data_json)
        except ValueError:
            continue
        if type_name in ("session_started", "restart"):
            item = emit(pending)
            if item:
                yield item
            pending, requested_slot, asked = None, None, False
        elif type_name == "slot" and data.get("name") == "requested_slot":
            requested_slot = data.get("value")
        elif type_name == "active_loop" and not data.get("name"):
            requested_slot = None
        elif type_name == "bot":
            asked = asks_for_personal_data(data)
        elif type_name == "user":
            text = str(data.get("text") or "")
            whole = asked or requested_slot in PERSONAL_QUESTIONS
            folded = "" if whole else plain(text)
            name, confidence, guess, guess_conf, reasons = _prediction(data, limits)
            if pending is not None:
                if name == HUMAN_INTENT and pending.intent != HUMAN_INTENT:
                    pending.reasons.append("human_requested")
                # Replies to personal questions are never repeats: they are not shown.
                elif (folded and pending.folded and len(pending.folded.split()) >= REPEAT_MIN_WORDS
                      and near_copy(pending.folded, folded)):
                    pending.reasons.append("repeated")
                item = emit(pending)
                if item:
                    yield item
            pending = _Pending(event_id, float(timestamp or data.get("timestamp") or 0.0), text,
                               folded, name, confidence, guess, guess_conf, reasons, whole)
            asked = False
    item = emit(pending)
    if item:
        yield item


def misunderstood(engine: Engine, filters: Filters = Filters(), limits: Optional[Thresholds] = None,
                  senders_per_page: int = SENDERS_PER_PAGE) -> Iterator[Item]:
    """Every misunderstood user turn matching the filters, conversation by
    conversation (sender ids in order), read page by page."""
    limits = limits or thresholds()
    ev = events_table.c
    since, until = _epoch(filters.since), _epoch(filters.until)
    in_range = [ev.type_name == "user"]
    if since is not None:
        in_range.append(ev.timestamp >= since)
    if until is not None:
        in_range.append(ev.timestamp < until)
    if filters.channel:
        prefix = CHANNELS.get(filters.channel)
        if prefix is None:
            return
        in_range.append(ev.sender_id.startswith(prefix, autoescape=True))
    # The events of a page of conversations are found by Rasa's sender_id
    # index. The type and time conditions are written so that no database
    # can use the (type_name, timestamp) index for them instead: that plan
    # reads every event of the whole range for each page (measured: 2.5× slower).
    stamp = ev.timestamp + 0
    around = [ev.type_name.concat("").in_(_EVENT_TYPES)]
    if since is not None:
        around.append(stamp >= since - LOOKBACK_SECONDS)
    if until is not None:
        around.append(stamp < until + LOOKAHEAD_SECONDS)
    # One range scan for the conversations (ids only: a week of a busy line
    # is a few thousand strings), then their events page by page.
    with engine.connect() as conn:
        senders = sorted(set(conn.execute(select(ev.sender_id).where(and_(*in_range))).scalars()))
    for start in range(0, len(senders), senders_per_page):
        page = senders[start:start + senders_per_page]
        by_sender: Dict[str, List[tuple]] = {}
        with engine.connect() as conn:
            rows = conn.execute(
                select(ev.sender_id, ev.id, ev.type_name, ev.timestamp, ev.data)
                .where(and_(ev.sender_id.in_(page), *around)).order_by(ev.sender_id, ev.id))
            for sender_id, event_id, type_name, timestamp, data in rows:
                by_sender.setdefault(sender_id, []).append((event_id, type_name, timestamp, data))
        for sender_id in page:
            for item in _conversation_items(sender_id, by_sender.pop(sender_id, ()), limits, since, until):
                if filters.intent and item.intent != filters.intent and item.guess != filters.intent:
                    continue
                yield item


# --- grouping -------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def group_key(masked_text: str) -> str:
    """Near-identical messages share a key: case, «ё», punctuation and
    whitespace folded, digits and masks as one token, words lemmatised
    («оплатить госпошлину» = «оплачу госпошлину» is not wanted, «госпошлину» =
    «госпошлина» is)."""
    from hotline.nlu.morph import lemma

    text = masked_text.replace(MASK, " маска ")
    text = _DIGITS.sub(" 0 ", text)
    words = plain(text).split()
    return " ".join(lemma(w) if not w.isdigit() else w for w in words)


@dataclass
class Group:
    key: str
    id: str  # stable, for forms and the dismissed table: a hash of the key
    text: str  # the most frequent masked wording
    count: int = 0
    conversations: List[str] = field(default_factory=list)
    channels: Dict[str, int] = field(default_factory=dict)
    intents: Dict[str, int] = field(default_factory=dict)
    reasons: Dict[str, int] = field(default_factory=dict)
    first_at: Optional[dt.datetime] = None
    last_at: Optional[dt.datetime] = None
    whole_masked: bool = False
    _wordings: Dict[str, int] = field(default_factory=dict, repr=False)


EXAMPLE_CONVERSATIONS = 5


def group_id(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def group_items(items: Iterable[Item], hidden: Optional[Dict[str, dt.datetime]] = None) -> List[Group]:
    """Groups of near-identical messages, the largest first. `hidden` maps a
    group id to the time it was dismissed or labelled: the messages up to
    then are not shown again, newer ones are."""
    hidden = hidden or {}
    groups: Dict[str, Group] = {}
    for item in items:
        key = group_key(item.text)
        gid = group_id(key)
        decided = hidden.get(gid)
        if decided is not None and item.at <= decided:
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key=key, id=gid, text=item.text, whole_masked=item.whole_masked)
        group.count += 1
        group._wordings[item.text] = group._wordings.get(item.text, 0) + 1
        if item.conversation_id not in group.conversations and len(group.conversations) < EXAMPLE_CONVERSATIONS:
            group.conversations.append(item.conversation_id)
        group.channels[item.channel] = group.channels.get(item.channel, 0) + 1
        shown_intent = item.guess or item.intent
        group.intents[shown_intent] = group.intents.get(shown_intent, 0) + 1
        for reason in item.reasons:
            group.reasons[reason] = group.reasons.get(reason, 0) + 1
        group.first_at = min(filter(None, (group.first_at, item.at)))
        group.last_at = max(filter(None, (group.last_at, item.at)))
    for group in groups.values():
        # The wording most citizens used; ties go to the lower-case one.
        group.text = sorted(group._wordings.items(), key=lambda kv: (-kv[1], kv[0] != kv[0].lower(), kv[0]))[0][0]
    return sorted(groups.values(), key=lambda g: (-g.count, -(g.last_at.timestamp() if g.last_at else 0), g.key))


@dataclass
class Page:
    groups: List[Group]
    total_groups: int
    total_messages: int
    page: int
    pages: int


def paginate(groups: Sequence[Group], page: int, per_page: int = 20) -> Page:
    pages = max(1, -(-len(groups) // per_page))
    page = min(max(1, page), pages)
    return Page(list(groups[(page - 1) * per_page: page * per_page]), len(groups),
                sum(g.count for g in groups), page, pages)
