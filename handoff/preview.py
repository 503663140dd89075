"""What an operator sees of a ticket nobody has taken yet.

Any operator may open a waiting ticket to decide whether to take it. Until
one does, the transcript, the citizen's messages, the summary and the
callback number are shown with personal values masked: curiosity about a
queue must not be a way to read strangers' dates of birth, SNILS numbers or
statuses. The operator who takes the ticket sees it whole (handoff.service
keeps everybody else out of it from then on).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List

from hotline.privacy import MASK, mask_transcript


def masked_items(items: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Transcript items or message dicts with their text masked: personal
    values, application numbers and the bot's status answers."""
    return mask_transcript(items)


def masked_ticket(ticket: Dict[str, Any]) -> Dict[str, Any]:
    """A ticket's public dict as the queue and an untaken ticket show it."""
    ticket = dict(ticket)
    ticket["summary"] = masked_items([{"text": ticket.get("summary")}])[0]["text"]
    if ticket.get("callback_phone"):
        ticket["callback_phone"] = MASK
    return ticket
