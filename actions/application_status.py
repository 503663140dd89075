"""The verified application-status check.

validate_application_status_form normalises what the citizen typed;
action_check_application_status asks the store, enforces the lockout and
answers in the wording of the application's status. Personal data never
reaches a log line and the date of birth is cleared after every check.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import store
from hotline.entities import normalize_application_number, parse_birth_date, russian_date
from hotline.services import display_name

logger = logging.getLogger(__name__)

STATUS_RESPONSES = {status: f"utter_status_{status}" for status in store.STATUSES}


class ValidateApplicationStatusForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_application_status_form"

    def validate_application_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = normalize_application_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_invalid_application_number")
        return {"application_number": number}

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
        number = tracker.get_slot("application_number")
        birth_date = _date(tracker.get_slot("birth_date"))
        keys = [f"number:{number}", f"conversation:{tracker.sender_id}"]
        # The date is used once, here, and never kept.
        clear = [SlotSet("birth_date", None), SlotSet("requested_slot", None)]
        try:
            if store.is_locked(keys):
                dispatcher.utter_message(response="utter_status_locked")
                return clear
            view = store.verify(number, birth_date) if number and birth_date else None
            for key in keys:
                store.record_attempt(key, success=view is not None)
        except store.StoreUnavailable:
            logger.warning("status store unavailable for a status check")
            dispatcher.utter_message(response="utter_status_unavailable")
            return clear
        if view is None:
            locked_now = _locked(keys)
            dispatcher.utter_message(response="utter_status_locked" if locked_now else "utter_status_not_verified")
            return clear + [SlotSet("application_number", None)]
        dispatcher.utter_message(response=STATUS_RESPONSES[view.status], **status_details(view))
        return clear


def _date(value: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _locked(keys: List[str]) -> bool:
    try:
        return store.is_locked(keys)
    except store.StoreUnavailable:
        return False
