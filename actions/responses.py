"""Responses that custom actions utter themselves.

Rasa's validator only sees responses used in stories and rules; scripts/
validate.py accepts these names as used because the actions below send them.
"""
from hotline.status import STATUSES

RESPONSES_UTTERED_BY_ACTIONS: frozenset[str] = frozenset(
    {
        # actions/application_status.py
        "utter_invalid_application_number",
        "utter_invalid_birth_date",
        "utter_invalid_full_name",
        "utter_status_not_verified",
        "utter_status_locked",
        "utter_status_unavailable",
        *(f"utter_status_{status}" for status in STATUSES),
        # actions/handoff.py
        "utter_invalid_handoff_summary",
        "utter_invalid_handoff_contact",
        "utter_handoff_offline",
        "utter_handoff_queued",
        "utter_handoff_already_queued",
        "utter_handoff_reply_accepted",
        "utter_handoff_callback_accepted",
        "utter_handoff_unavailable",
        "utter_operator_contacts",
        "utter_handoff_closed_rate",
        "utter_handoff_left_rate",
        "utter_handoff_returned",
        "utter_handoff_back",
        "utter_handoff_rating_thanks",
        "utter_leave_feedback",
    }
)
