"""The name a citizen gives for the identity check, held server-side until
the verifying turn.

The form asks for the surname one turn before the date of birth, and Rasa
reads the conversation back from the tracker store between turns — where
the name is masked. So the name never goes into the slot: the form puts it
here (the slot only says «given»), and the check reads it when the date
arrives. Reading cuts its life to REDELIVERY_GRACE instead of deleting it:
a Rasa instance that dies after the check ran but before it saved the turn
has nginx redeliver the date to another instance, and that check needs the
name again (else a citizen with correct data is told nothing matches).
An abandoned check leaves it for HOLD_FOR at most; each new hold clears
expired names.
Keys are SHA-256 of the conversation id.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Optional

from sqlalchemy import delete, insert, select, update

from hotline.db.base import utcnow
from hotline.db.engine import StoreUnavailable, guarded, write_transaction
from hotline.db.tables.status import status_check_names

HOLD_FOR = dt.timedelta(minutes=15)
# Longer than nginx's wait for a dying upstream before it retries elsewhere.
REDELIVERY_GRACE = dt.timedelta(minutes=2)
__all__ = ["GIVEN", "HOLD_FOR", "REDELIVERY_GRACE", "StoreUnavailable", "hold", "take"]
# The full_name slot's value while a name is held.
GIVEN = "***"


def _key(conversation: str) -> str:
    return hashlib.sha256(conversation.encode("utf-8")).hexdigest()


@guarded
def hold(conversation: str, full_name: str, *, now: Optional[dt.datetime] = None,
         url: Optional[str] = None) -> None:
    now = now or utcnow()
    names = status_check_names
    with write_transaction(url) as conn:
        conn.execute(delete(names).where(
            (names.c.expires_at < now) | (names.c.conversation_hash == _key(conversation))))
        conn.execute(insert(names).values(conversation_hash=_key(conversation), full_name=full_name,
                                          expires_at=now + HOLD_FOR))


@guarded
def take(conversation: str, *, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> Optional[str]:
    """The held name, or None if none or expired. It stays readable for
    REDELIVERY_GRACE at most after the first read (a redelivered turn)."""
    now = now or utcnow()
    names = status_check_names
    key = _key(conversation)
    with write_transaction(url) as conn:
        row = conn.execute(select(names.c.full_name, names.c.expires_at)
                           .where(names.c.conversation_hash == key)).first()
        if row is None or row.expires_at <= now:
            conn.execute(delete(names).where(names.c.conversation_hash == key))
            return None
        conn.execute(update(names).where(names.c.conversation_hash == key)
                     .values(expires_at=min(row.expires_at, now + REDELIVERY_GRACE)))
    return row.full_name
