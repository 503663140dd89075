"""The verified application-status check: number + name + date of birth,
all three matching the department's record, as the article describes.

validate_application_status_form normalises what the citizen typed;
action_check_application_status asks the store through the lockout
(hotline/status/lockout.py) and answers in the wording of the application's
status. Personal data never reaches a log line; the name and the date of
birth are cleared after every check.
"""
from __future__ import annotations

import asyncio

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from hotline import status as store
from hotline.status import held_names
from hotline.status.names import words as name_words
from hotline.entities import normalize_application_number, parse_birth_date, russian_date
from hotline.services import display_name

logger = logging.getLogger(__name__)

STATUS_RESPONSES = {status: f"utter_status_{status}" for status in store.STATUSES}
# Channels whose conversation ids the server owns (authenticated chat ids, a
# server-issued session, the phone call): only their conversations are
# trusted past a number's daily cap (see hotline/status/lockout.py).
SERVER_OWNED_CHANNELS = frozenset({"telegram", "vk", "socketio", "voice"})
PERSONAL_FORM_SLOTS = ("full_name", "birth_date")
MAX_NAME_WORDS = 5
MAX_NAME_CHARS = 200


class ValidateApplicationStatusForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_application_status_form"

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        if tracker.get_slot("requested_slot") is None:
            # The form is starting: a name or date left from a check that was
            # cancelled half-way (or read back masked from the tracker store)
            # must be asked again, never reused.
            fresh = tracker.slots_to_validate()
            events += [SlotSet(slot, None) for slot in PERSONAL_FORM_SLOTS
                       if slot not in fresh and tracker.get_slot(slot) is not None]
        return events

    def validate_application_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = normalize_application_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_invalid_application_number")
        return {"application_number": number}

    def validate_full_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = " ".join(str(value or "").split())
        found = name_words(text)
        # Letters, hyphens, dots of initials: anything else is not a name.
        if (not found or len(found) > MAX_NAME_WORDS or len(text) > MAX_NAME_CHARS
                or any(not w.replace("-", "").isalpha() for w in found)):
            dispatcher.utter_message(response="utter_invalid_full_name")
            return {"full_name": None}
        # Held server-side until the date arrives a turn later: the tracker
        # store masks the slot, so the name could not be read back from it.
        try:
            held_names.hold(tracker.sender_id, text)
        except store.StoreUnavailable:
            logger.warning("status store unavailable while holding a name")
            dispatcher.utter_message(response="utter_status_unavailable")
            return {"full_name": None}
        return {"full_name": held_names.GIVEN}

    def validate_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        date = parse_birth_date(str(value or ""))
        if date is None:
            dispatcher.utter_message(response="utter_invalid_birth_date")
            return {"birth_date": None}
        return {"birth_date": date.isoformat()}


def status_details(view: store.ApplicationView) -> Dict[Text, Text]:
    """Template values for utter_status_<status>; never personal data."""
    missing = "\n".join(f"• {title}" for title in view.missing_documents) or "• —"
    return {
        "status_number": view.number,
        "status_service": display_name(view.service) or view.service,
        "status_submitted": russian_date(view.submitted_at),
        "status_expected": russian_date(view.expected_at) if view.expected_at else "не указана",
        "status_missing": missing,
        # Without the department's instructions nothing is promised: the decision
        # notice in the personal account (the article) says what to do.
        "status_instructions": view.instructions or "смотрите уведомление о решении в личном кабинете.",
    }


class ActionCheckApplicationStatus(Action):
    def name(self) -> Text:
        return "action_check_application_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        number = normalize_application_number(tracker.get_slot("application_number") or "")
        birth_date = _date(tracker.get_slot("birth_date"))
        # The name and the date are used once, here, and never kept.
        clear = [SlotSet("birth_date", None), SlotSet("full_name", None), SlotSet("requested_slot", None)]
        channel = tracker.get_latest_input_channel()
        try:
            full_name = await asyncio.to_thread(held_names.take, tracker.sender_id)
            if number is None or full_name is None:
                # Nothing to compare (no number, or the name expired): no
                # guess was made, so none is counted.
                dispatcher.utter_message(response="utter_status_not_verified")
                return clear + [SlotSet("application_number", None)]
            # The check is blocking SQL: in a thread, so the action server's
            # event loop keeps serving other conversations meanwhile.
            result = await asyncio.to_thread(
                store.check,
                number, tracker.sender_id,
                lambda conn: store.verify_on(conn, number, birth_date, full_name),
                trusted_channel=channel in SERVER_OWNED_CHANNELS,
            )
        except store.StoreUnavailable:
            logger.warning("status store unavailable for a status check")
            dispatcher.utter_message(response="utter_status_unavailable")
            return clear
        if result.refused:
            dispatcher.utter_message(response="utter_status_locked")
            return clear + [SlotSet("application_number", None)]
        if result.value is None:
            dispatcher.utter_message(response="utter_status_not_verified")
            return clear + [SlotSet("application_number", None)]
        view = result.value
        dispatcher.utter_message(response=STATUS_RESPONSES[view.status], **status_details(view))
        return clear


def _date(value: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
