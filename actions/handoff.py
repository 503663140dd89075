"""Handing the conversation to a human operator (docs/handoff.md).

    request_operator ─► action_handoff_start ─► handoff_form (one-line summary;
    outside hours also «phone or chat») ─► action_handoff_create_ticket
    ─► position and expected wait, ConversationPaused
    … operator (console or Telegram group) …
    return_to_bot (the citizen, or the console after «Завершить»)
    ─► action_handoff_resume ─► ConversationResumed, rating request
    leave_feedback ─► action_handoff_feedback (a 1–5 rating of the operator,
    or the usual thanks for feedback)

The queue is in the SQL database (handoff.repository); the texts are
responses in domain.yml. Summaries are masked like the tracker store masks
messages (dates of birth, SNILS).
"""
from __future__ import annotations

import asyncio

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, ConversationResumed, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from hotline.status import StoreUnavailable
from handoff import pickup
from handoff import repository as repo
from handoff.config import Settings
from handoff.hours import Schedule, ScheduleError, schedule_from_settings
from handoff.resumption import operator_talked, resume_response, still_to_resume
from handoff.wait import wait_words
from hotline.privacy import mask_text

logger = logging.getLogger(__name__)

FORM = "handoff_form"
SUMMARY, CONTACT, REASON, OFFLINE = "handoff_summary", "handoff_contact", "handoff_reason", "handoff_offline"
HANDOFF_SLOTS = (SUMMARY, CONTACT, REASON, OFFLINE)
CHAT = "chat"
MAX_SUMMARY = 300

# Intents that name a topic for the operator; the rest (greetings, yes/no) do not.
_TOPIC_SKIP = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "cancel", "return_to_bot"}
_LOCKED_RESPONSE = "utter_status_locked"
_LOCKED_SUMMARY = "Не удаётся проверить статус заявления: проверка закрыта после нескольких неудачных попыток"
_PHONE = re.compile(r"^\+?[78]?[\s\-()]*\d(?:[\s\-()]*\d){9}$")
_CHAT_WORDS = re.compile(r"\b(чат\w*|здесь|тут|сюда|переписк\w*|ответ\w*|сообщени\w*|напиш\w*)\b", re.I)
_RATING_WORDS = {
    "один": 1, "единица": 1, "единицу": 1, "кол": 1, "два": 2, "двойка": 2, "двойку": 2, "три": 3,
    "тройка": 3, "тройку": 3, "троечка": 3, "троечку": 3, "четыре": 4, "четверка": 4, "четвёрка": 4,
    "четверку": 4, "четвёрку": 4, "пять": 5, "пятерка": 5, "пятёрка": 5, "пятерку": 5, "пятёрку": 5,
    "отлично": 5, "отличный": 5, "превосходно": 5,
}


def settings() -> Settings:
    return Settings.load()


def schedule() -> Optional[Schedule]:
    try:
        return schedule_from_settings(settings())
    except ScheduleError as exc:
        # A broken HANDOFF_HOURS must not stop the handoff: treat as always open.
        logger.error("HANDOFF_HOURS/HANDOFF_TZ unusable (%s); operators treated as always at work", exc)
        return None


def _user_events(tracker: Tracker) -> List[Dict[Text, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"
            and not (e.get("metadata") or {}).get("is_external")]


def _intent(event: Dict[Text, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def topic_of(tracker: Tracker, limit: int = 4) -> str:
    """The last distinct intents of the conversation, most recent last."""
    seen: List[str] = []
    for event in reversed(_user_events(tracker)):
        name = _intent(event)
        if name and name not in _TOPIC_SKIP and name not in seen:
            seen.append(name)
        if len(seen) >= limit:
            break
    return ", ".join(reversed(seen))


def _last_bot_response(tracker: Tracker) -> Optional[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def context_for(tracker: Tracker) -> tuple[str, Optional[str]]:
    """(reason, summary or None) from what happened before the request."""
    users = _user_events(tracker)
    previous = users[-2] if len(users) >= 2 else None
    if _last_bot_response(tracker) == _LOCKED_RESPONSE:
        return "status_locked", _LOCKED_SUMMARY
    if previous is not None:
        intent = _intent(previous)
        text = clean_summary(previous.get("text") or "")
        if intent == "report_fraud" and text:
            return "fraud", f"Мошенничество: {text}"
        if intent == "leave_feedback" and text:
            return "complaint", f"Жалоба: {text}"
        if intent == "nlu_fallback":
            return "fallback", None
    return "request", None


def clean_summary(text: str) -> str:
    text = " ".join((text or "").split())
    if text.startswith("/"):
        return ""
    return mask_text(text)[:MAX_SUMMARY]


def summary_is_usable(text: str) -> bool:
    letters = re.findall(r"[^\W\d_]", text)
    words = re.findall(r"[^\W\d_]{2,}", text)
    return len(words) >= 2 or len(letters) >= 8


def parse_contact(text: str) -> Optional[str]:
    """A phone number for a callback («+7 912 345-67-89»), CHAT for a reply here, None if neither."""
    value = (text or "").strip()
    if _PHONE.match(value):
        digits = re.sub(r"\D", "", value)
        digits = "7" + digits[-10:]
        return "+" + digits
    if _CHAT_WORDS.search(value):
        return CHAT
    return None


def parse_rating(text: str, entities: Optional[List[Dict[str, Any]]] = None) -> Optional[int]:
    for entity in entities or []:
        if entity.get("entity") == "rating":
            try:
                value = int(str(entity.get("value")).strip())
            except ValueError:
                continue
            if 1 <= value <= 5:
                return value
    lowered = (text or "").lower().replace("ё", "е")
    match = re.search(r"(?<!\d)([1-5])(?:\s*(?:из|/)\s*5)?(?!\d)", lowered)
    if match and not re.search(r"\d\s*(?:из|/)\s*(?:[6-9]|10)\b", lowered):
        return int(match.group(1))
    for word in re.findall(r"[а-я]+", lowered):
        if word in _RATING_WORDS:
            return _RATING_WORDS[word]
    return None


def _reset() -> List[EventType]:
    return [SlotSet(slot, None) for slot in HANDOFF_SLOTS]


class ActionHandoffStart(Action):
    """Finds out why the citizen is handed over and whether operators are at
    work; fills the summary when the conversation already gives one."""

    def name(self) -> Text:
        return "action_handoff_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        reason, summary = context_for(tracker)
        events: List[EventType] = [SlotSet(REASON, reason)]
        try:
            existing = await asyncio.to_thread(repo.open_ticket_for, tracker.sender_id)
        except StoreUnavailable:
            existing = None
        if existing is not None:
            # Already queued: the form has nothing to ask, the next action tells the place.
            return events + [SlotSet(SUMMARY, existing.summary), SlotSet(OFFLINE, False)]
        hours = schedule()
        offline = hours is not None and not hours.is_open()
        if offline:
            opens = hours.next_open()
            dispatcher.utter_message(response="utter_handoff_offline", handoff_hours=hours.describe(),
                                     handoff_expect=hours.when_words(opens))
        events.append(SlotSet(OFFLINE, offline))
        if summary:
            events.append(SlotSet(SUMMARY, summary))
        return events


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot(OFFLINE) and settings().callbacks:
            return domain_slots
        return [slot for slot in domain_slots if slot != CONTACT]

    def validate_handoff_summary(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        text = clean_summary(str(value or ""))
        if not summary_is_usable(text):
            dispatcher.utter_message(response="utter_invalid_handoff_summary")
            return {SUMMARY: None}
        return {SUMMARY: text}

    def validate_handoff_contact(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        contact = parse_contact(str(value or ""))
        if contact is None:
            dispatcher.utter_message(response="utter_invalid_handoff_contact")
        return {CONTACT: contact}


def _pickup(dispatcher: CollectingDispatcher, ticket: Any, channel: str, conversation_id: str) -> None:
    """REST clients fetch operators' replies with a token of this ticket (handoff/pickup.py)."""
    if channel in pickup.PICKUP_CHANNELS:
        dispatcher.utter_message(json_message=pickup.payload(ticket.id, conversation_id))


class ActionHandoffCreateTicket(Action):
    """Puts the conversation in the queue and tells the citizen what happens next."""

    def name(self) -> Text:
        return "action_handoff_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        config = settings()
        summary = tracker.get_slot(SUMMARY) or "Гражданин просит соединить с оператором"
        offline = bool(tracker.get_slot(OFFLINE))
        contact = tracker.get_slot(CONTACT)
        channel = tracker.get_latest_input_channel() or "rest"
        try:
            # Every repo call is blocking SQL: in a thread, so the action
            # server's event loop keeps serving other conversations.
            ticket, created = await asyncio.to_thread(
                repo.create_ticket, tracker.sender_id, channel, tracker.get_slot(REASON) or "request",
                topic_of(tracker), summary, offline=offline,
                callback_phone=contact if contact and contact != CHAT else None)
            if ticket.offline and not offline and not created:
                # Asked again during hours: the old after-hours request joins the live queue.
                await asyncio.to_thread(repo.set_ticket_fields, ticket.id, offline=False)
            position, seconds = await asyncio.to_thread(repo.expected_wait, ticket, config.chats_per_operator,
                                                        config.default_handling_minutes * 60)
            if offline:
                hours = schedule()
                opens = hours.next_open() if hours else None
                expect = hours.when_words(opens) if hours and opens else "в рабочее время"
                response = ("utter_handoff_callback_accepted" if ticket.callback_phone
                            else "utter_handoff_reply_accepted")
                _pickup(dispatcher, ticket, channel, tracker.sender_id)
                dispatcher.utter_message(response=response, handoff_ticket=str(ticket.id), handoff_expect=expect)
                logger.info("handoff ticket %s for later (%s)", ticket.id, channel)
                return _reset()
            await asyncio.to_thread(repo.set_ticket_fields, ticket.id, told_wait_seconds=seconds,
                                    told_at=repo.utcnow())
        except StoreUnavailable:
            logger.warning("handoff queue unavailable; operator contacts given instead")
            dispatcher.utter_message(response="utter_handoff_unavailable")
            dispatcher.utter_message(response="utter_operator_contacts")
            return _reset()
        _pickup(dispatcher, ticket, channel, tracker.sender_id)
        dispatcher.utter_message(
            response="utter_handoff_queued" if created else "utter_handoff_already_queued",
            handoff_ticket=str(ticket.id), handoff_position=str(max(position, 1)), handoff_wait=wait_words(seconds))
        logger.info("handoff ticket %s queued (%s), position %s", ticket.id, channel, position)
        # Paused: what the citizen writes now goes to the operator (handoff.broker).
        # The listen event keeps the dialogue state as after any turn, so the
        # rules match again when the bot resumes.
        return _reset() + [ConversationPaused(), ActionExecuted("action_listen")]


class ActionHandoffResume(Action):
    """The bot takes the conversation back: after the operator closed it (the
    console triggers return_to_bot) or when the citizen asks to return."""

    def name(self) -> Text:
        return "action_handoff_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        events: List[EventType] = [ConversationResumed()] + _reset()
        try:
            ticket = await asyncio.to_thread(repo.open_ticket_for, tracker.sender_id)
            if ticket is not None:
                ticket = await asyncio.to_thread(repo.close_ticket, ticket.id, closed_by="citizen",
                                                 resolution="Гражданин вернулся к боту") or ticket
            else:
                ticket = await asyncio.to_thread(repo.latest_ticket_for, tracker.sender_id)
                if ticket is not None and not still_to_resume(ticket, repo.utcnow()):
                    ticket = None
        except StoreUnavailable:
            logger.warning("handoff queue unavailable while resuming")
            ticket = None
        if ticket is None:
            dispatcher.utter_message(response="utter_handoff_back")
            return events
        dispatcher.utter_message(response=resume_response(ticket))
        try:
            await asyncio.to_thread(repo.claim_resume, ticket.id)
            await asyncio.to_thread(repo.mark_resumed, ticket.id, rating_requested=operator_talked(ticket))
        except StoreUnavailable:
            pass
        return events


class ActionHandoffFeedback(Action):
    """leave_feedback: the 1–5 rating of an operator's conversation when one was
    asked for, otherwise the usual thanks for the feedback."""

    def name(self) -> Text:
        return "action_handoff_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        message = tracker.latest_message or {}
        rating = parse_rating(message.get("text") or "", message.get("entities"))
        if rating is not None:
            try:
                ticket = await asyncio.to_thread(repo.ticket_awaiting_rating, tracker.sender_id)
                if ticket is not None:
                    await asyncio.to_thread(repo.rate_ticket, ticket.id, rating)
                    dispatcher.utter_message(response="utter_handoff_rating_thanks")
                    return []
            except StoreUnavailable:
                logger.warning("handoff queue unavailable; rating not stored")
        dispatcher.utter_message(response="utter_leave_feedback")
        return []
