"""Trainers' decisions on inbox groups (hotline/db/tables/inbox_decisions.py):
which groups are labelled or dismissed, and since when. Blocking calls with
`url=` last, the shape workbench.web.db() runs off the event loop."""
from __future__ import annotations

import datetime as dt
from typing import Dict, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.db.base import utcnow
from hotline.db.engine import get_engine, guarded
from hotline.db.tables.inbox_decisions import DECISIONS, inbox_decisions


@guarded
def decided(url: Optional[str] = None) -> Dict[str, dt.datetime]:
    """group id -> when it was last labelled or dismissed."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(inbox_decisions.c.group_id, inbox_decisions.c.decided_at))
        return {group_id: at for group_id, at in rows}


@guarded
def decide(group_id: str, decision: str, login: str, label: Optional[str] = None,
           url: Optional[str] = None) -> None:
    """Record (or renew) the decision on a group: its messages up to now leave the inbox."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    values = dict(decision=decision, label=label, decided_by=login[:64], decided_at=utcnow())
    update = inbox_decisions.update().where(inbox_decisions.c.group_id == group_id).values(**values)
    try:
        with get_engine(url).begin() as conn:
            if not conn.execute(update).rowcount:
                conn.execute(inbox_decisions.insert().values(group_id=group_id, **values))
    except IntegrityError:
        # Two trainers decided on the same group at once: the later one wins.
        with get_engine(url).begin() as conn:
            conn.execute(update)
