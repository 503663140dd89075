"""Operators' accounts and their console sessions."""
from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hotline.db.base import utcnow
from hotline.db.engine import StoreUnavailable, guarded, session_scope
from hotline.db.tables.handoff import operators, sessions
from handoff.repository.values import OperatorView, SessionView, operator_from_row, naive_utc


class OperatorExists(ValueError):
    pass


@guarded
def create_operator(login: str, display_name: str, password_hash: str, *, is_admin: bool = False,
                    telegram_user_id: Optional[int] = None, is_operator: bool = True, is_trainer: bool = False,
                    url: Optional[str] = None) -> OperatorView:
    now = utcnow()
    try:
        with session_scope(url) as s:
            s.execute(insert(operators).values(
                login=login, display_name=display_name, password_hash=password_hash, is_admin=is_admin,
                is_active=True, telegram_user_id=telegram_user_id, is_operator=is_operator,
                is_trainer=is_trainer, created_at=now))
    except StoreUnavailable as exc:
        if isinstance(exc.__cause__, IntegrityError):
            raise OperatorExists(login) from None
        raise
    found = operator_by_login(login, url=url)
    assert found is not None
    return found


@guarded
def operator_by_login(login: str, *, url: Optional[str] = None) -> Optional[OperatorView]:
    with session_scope(url) as s:
        row = s.execute(select(operators).where(operators.c.login == login)).first()
        return operator_from_row(row) if row else None


@guarded
def operator_by_id(operator_id: int, *, url: Optional[str] = None) -> Optional[OperatorView]:
    with session_scope(url) as s:
        row = s.execute(select(operators).where(operators.c.id == operator_id)).first()
        return operator_from_row(row) if row else None


@guarded
def operator_by_telegram(telegram_user_id: int, *, url: Optional[str] = None) -> Optional[OperatorView]:
    with session_scope(url) as s:
        row = s.execute(select(operators).where(operators.c.telegram_user_id == int(telegram_user_id))).first()
        return operator_from_row(row) if row else None


@guarded
def list_operators(*, url: Optional[str] = None) -> List[OperatorView]:
    with session_scope(url) as s:
        return [operator_from_row(r) for r in s.execute(select(operators).order_by(operators.c.login))]


@guarded
def count_operators(*, url: Optional[str] = None) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(operators)).scalar_one())


@guarded
def update_operator(login: str, *, url: Optional[str] = None, **values: Any) -> Optional[OperatorView]:
    allowed = {"display_name", "password_hash", "is_admin", "is_active", "telegram_user_id", "disabled_at",
               "is_operator", "is_trainer"}
    values = {k: v for k, v in values.items() if k in allowed}
    if "is_active" in values:
        values["disabled_at"] = None if values["is_active"] else utcnow()
    with session_scope(url) as s:
        s.execute(update(operators).where(operators.c.login == login).values(**values))
        if values.get("is_active") is False:
            # A disabled operator is signed out everywhere at once.
            _close_sessions_of(s, login)
    return operator_by_login(login, url=url)


def _close_sessions_of(s, login: str) -> int:
    return s.execute(update(sessions).where(
        sessions.c.operator_id == select(operators.c.id).where(operators.c.login == login).scalar_subquery(),
        sessions.c.closed_at.is_(None)).values(closed_at=utcnow())).rowcount


@guarded
def close_operator_sessions(login: str, *, url: Optional[str] = None) -> int:
    """End every open session of an operator (a new password: whoever knew
    the old one and signed in with it is out)."""
    with session_scope(url) as s:
        return _close_sessions_of(s, login)


@guarded
def touch_operator(operator_id: int, at: Optional[dt.datetime] = None, *, url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(update(operators).where(operators.c.id == operator_id).values(last_seen_at=naive_utc(at)))


# --- console sessions ---------------------------------------------------------------

@guarded
def create_session(operator_id: int, token_hash: str, csrf_token: str, expires_at: dt.datetime,
                   ip: Optional[str] = None, *, url: Optional[str] = None) -> None:
    now = utcnow()
    with session_scope(url) as s:
        s.execute(insert(sessions).values(token_hash=token_hash, operator_id=operator_id, csrf_token=csrf_token,
                                          created_at=now, last_seen_at=now, expires_at=expires_at, ip=ip))
        s.execute(update(operators).where(operators.c.id == operator_id).values(last_seen_at=now))


@guarded
def session_by_token_hash(token_hash: str, *, url: Optional[str] = None) -> Optional[SessionView]:
    with session_scope(url) as s:
        row = s.execute(
            select(sessions.c.id, sessions.c.csrf_token, sessions.c.created_at, sessions.c.last_seen_at,
                   sessions.c.expires_at, sessions.c.closed_at, *[c.label(f"op_{c.name}") for c in operators.c])
            .select_from(sessions.join(operators, sessions.c.operator_id == operators.c.id))
            .where(sessions.c.token_hash == token_hash)).first()
    if row is None:
        return None
    m = row._mapping
    op = OperatorView(id=m["op_id"], login=m["op_login"], display_name=m["op_display_name"],
                      is_admin=bool(m["op_is_admin"]), is_active=bool(m["op_is_active"]),
                      telegram_user_id=m["op_telegram_user_id"], created_at=m["op_created_at"],
                      last_seen_at=m["op_last_seen_at"], is_operator=bool(m["op_is_operator"]),
                      is_trainer=bool(m["op_is_trainer"]))
    return SessionView(id=m["id"], operator=op, csrf_token=m["csrf_token"], created_at=m["created_at"],
                       last_seen_at=m["last_seen_at"], expires_at=m["expires_at"], closed_at=m["closed_at"])


@guarded
def touch_session(session_id: int, operator_id: int, expires_at: dt.datetime, *, url: Optional[str] = None) -> None:
    now = utcnow()
    with session_scope(url) as s:
        s.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now, expires_at=expires_at))
        s.execute(update(operators).where(operators.c.id == operator_id).values(last_seen_at=now))


@guarded
def close_session(token_hash: str, *, url: Optional[str] = None) -> None:
    with session_scope(url) as s:
        s.execute(update(sessions).where(sessions.c.token_hash == token_hash, sessions.c.closed_at.is_(None))
                  .values(closed_at=utcnow()))


@guarded
def live_session_count(now: Optional[dt.datetime] = None, *, url: Optional[str] = None) -> int:
    now = naive_utc(now)
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(sessions).where(
            sessions.c.closed_at.is_(None), sessions.c.expires_at > now)).scalar_one())
