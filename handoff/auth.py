"""Operator accounts: Argon2id password hashes, session tokens, CSRF tokens,
and sign-in throttling (handoff.throttle) after repeated wrong passwords.

Passwords are hashed with argon2-cffi's defaults (Argon2id, RFC 9106 low-memory
profile). The session cookie carries a random token; the database keeps only
its SHA-256, so a copy of the database signs nobody in. Each session has its
own CSRF token, required on every state-changing request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from handoff import repository as repo
from handoff import throttle
from handoff.config import Settings

_hasher = PasswordHasher()
# Verified when the login does not exist, so a wrong login costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# Each verification holds 64 MiB for ~50 ms: a burst of sign-ins (even from many
# addresses) queues here instead of exhausting the console's memory.
_HASH_SLOTS = threading.BoundedSemaphore(2)
MIN_PASSWORD_LENGTH = 10
# AuthError.reason of a right password on an account without the app's role.
NO_ROLE = "no role"


class AuthError(Exception):
    """Sign-in refused; `reason` is for the audit log, never for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    with _HASH_SLOTS:
        try:
            return _hasher.verify(password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: Optional[str], b: Optional[str]) -> bool:
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    operator: repo.OperatorView
    expires_at: dt.datetime


def _expiry(settings: Settings, created: dt.datetime, now: dt.datetime) -> dt.datetime:
    idle = now + dt.timedelta(minutes=settings.session_idle_minutes)
    absolute = created + dt.timedelta(hours=settings.session_max_hours)
    return min(idle, absolute)


def sign_in(login: str, password: str, settings: Settings, ip: Optional[str] = None,
            url: Optional[str] = None, via: str = "console",
            allowed: Optional[Callable[[repo.OperatorView], bool]] = None) -> NewSession:
    """Check the password and open a session; AuthError (and an audit entry) otherwise.

    The attempt is charged to (login, address) and to the address before any
    hash is computed; a locked attempt is refused at once, known login or not,
    and an allowed one costs exactly one Argon2 verification (against a dummy
    hash for an unknown login), so neither the answer nor its timing tells
    whether a login exists. `allowed` is the app's role: an account without
    it gets no session (AuthError(NO_ROLE), audited) even with the right password."""
    login = (login or "").strip()[:64]
    now = repo.utcnow()
    budget = throttle.budget_from(settings)
    if throttle.charge(login, ip, budget, url=url):
        # Refused even when the password is right: a guesser learns nothing.
        repo.record_audit("login_failed", subject=login, detail="locked: too many failures", ip=ip, via=via,
                          url=url)
        raise AuthError("locked")
    operator = repo.operator_by_login(login, url=url) if login else None
    ok = verify_password(operator.password_hash if operator else _DUMMY_HASH, password)
    if not ok or operator is None or not operator.is_active:
        reason = "unknown login" if operator is None else ("disabled" if ok else "wrong password")
        repo.record_audit("login_failed", subject=login, detail=reason, ip=ip, via=via,
                          operator_id=operator.id if operator else None, url=url)
        raise AuthError(reason)
    throttle.refund(login, ip, budget, url=url)
    if allowed is not None and not allowed(operator):
        repo.record_audit("login_failed", subject=login, detail=f"{NO_ROLE} for {via}", ip=ip, via=via,
                          operator_id=operator.id, url=url)
        raise AuthError(NO_ROLE)
    if _hasher.check_needs_rehash(operator.password_hash):
        repo.update_operator(login, password_hash=_hasher.hash(password), url=url)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = _expiry(settings, now, now)
    repo.create_session(operator.id, token_hash(token), csrf, expires, ip=ip, url=url)
    repo.record_audit("login", operator_id=operator.id, subject=login, ip=ip, via=via, url=url)
    return NewSession(token, csrf, operator, expires)


def resolve_session(token: Optional[str], settings: Settings, url: Optional[str] = None,
                    touch: bool = True) -> Tuple[Optional[repo.SessionView], str]:
    """(session, "") for a live session; (None, why) otherwise: missing,
    unknown, closed, expired or disabled. Extends the idle expiry."""
    if not token:
        return None, "missing"
    session = repo.session_by_token_hash(token_hash(token), url=url)
    if session is None:
        return None, "unknown"
    now = repo.utcnow()
    if session.closed_at is not None:
        return None, "closed"
    if session.expires_at <= now:
        return None, "expired"
    if not session.operator.is_active:
        return None, "disabled"
    if touch and (now - session.last_seen_at).total_seconds() >= 15:
        repo.touch_session(session.id, session.operator.id, _expiry(settings, session.created_at, now), url=url)
    return session, ""


def sign_out(token: Optional[str], url: Optional[str] = None) -> None:
    if token:
        repo.close_session(token_hash(token), url=url)
