"""Responses that custom actions utter themselves.

Rasa's validator only sees responses used in stories and rules; scripts/
validate.py accepts these names as used because the actions below send them.
"""
from actions.store import STATUSES

RESPONSES_UTTERED_BY_ACTIONS: frozenset[str] = frozenset(
    {
        # actions/application_status.py
        "utter_invalid_application_number",
        "utter_invalid_birth_date",
        "utter_status_not_verified",
        "utter_status_locked",
        "utter_status_unavailable",
        *(f"utter_status_{status}" for status in STATUSES),
    }
)
