"""Who may fetch an operator's replies to a REST conversation.

REST clients cannot be pushed to, so they fetch operators' messages from
``GET /webhooks/handoff/rest/<conversation id>/messages`` (rasa_channel).
The conversation id alone is no proof (anyone can send as any REST sender),
so when a REST conversation's ticket opens, the bot's reply carries a
per-ticket token (``custom.handoff_pickup``), and the pickup answers only
with that ticket's messages and only to a request presenting the token in
``Authorization: Bearer`` (never in the URL, which logs keep). The token is
``<ticket id>.<HMAC of ticket id and conversation>`` keyed with the handoff's
internal secret: nothing to store, and rotating the secret revokes them all.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from handoff.config import internal_secret
from hotline.secret_files import same, sign

PURPOSE = "rest-pickup"
PICKUP_CHANNELS = frozenset({"rest"})


def pickup_token(ticket_id: int, conversation_id: str, key: Optional[str] = None) -> str:
    return f"{int(ticket_id)}.{sign(key or internal_secret(), PURPOSE, f'{int(ticket_id)}:{conversation_id}')}"


def ticket_id_of(token: str, conversation_id: str, key: Optional[str] = None) -> Optional[int]:
    """The ticket a token was issued for in this conversation, or None."""
    head, _, signature = (token or "").partition(".")
    if not head.isdigit() or len(head) > 18:
        return None
    ticket_id = int(head)
    expected = sign(key or internal_secret(), PURPOSE, f"{ticket_id}:{conversation_id}")
    return ticket_id if same(signature, expected) else None


def payload(ticket_id: int, conversation_id: str) -> Dict[str, Any]:
    """The custom payload the REST client gets with the ticket's confirmation."""
    from urllib.parse import quote

    return {"handoff_pickup": {
        "ticket": int(ticket_id),
        "token": pickup_token(ticket_id, conversation_id),
        "url": f"/webhooks/handoff/rest/{quote(conversation_id, safe='')}/messages",
        "header": "Authorization: Bearer <token>",
    }}
