"""The audit trail: who did what to which ticket, from where."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

from sqlalchemy import func, insert, select

from hotline.db.base import utcnow
from hotline.db.engine import guarded, session_scope
from hotline.db.tables.handoff import audit, operators
from handoff.repository.values import AuditView, naive_utc


@guarded
def record_audit(action: str, *, operator_id: Optional[int] = None, ticket_id: Optional[int] = None,
                 conversation_id: Optional[str] = None, subject: Optional[str] = None,
                 detail: Optional[str] = None, ip: Optional[str] = None, via: str = "console",
                 url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(insert(audit).values(at=utcnow(), operator_id=operator_id, action=action, subject=subject,
                                       ticket_id=ticket_id, conversation_id=conversation_id,
                                       detail=(detail or None) and detail[:2000], ip=ip, via=via))


@guarded
def count_audit(action: str, subject: str, since: dt.datetime, *, url: Optional[str] = None) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(audit).where(
            audit.c.action == action, audit.c.subject == subject, audit.c.at >= naive_utc(since))).scalar_one())


@guarded
def last_audit_at(action: str, subject: str, *, url: Optional[str] = None) -> Optional[dt.datetime]:
    with session_scope(url) as s:
        return s.execute(select(func.max(audit.c.at)).where(audit.c.action == action,
                                                             audit.c.subject == subject)).scalar_one()


@guarded
def audit_entries(limit: int = 200, ticket_id: Optional[int] = None, *, url: Optional[str] = None) -> List[AuditView]:
    query = (select(audit, operators.c.login.label("operator_login"))
             .select_from(audit.outerjoin(operators, audit.c.operator_id == operators.c.id))
             .order_by(audit.c.id.desc()).limit(limit))
    if ticket_id is not None:
        query = query.where(audit.c.ticket_id == ticket_id)
    with session_scope(url) as s:
        return [AuditView(**{k: r._mapping[k] for k in AuditView.__dataclass_fields__}) for r in s.execute(query)]
