"""Console sign-in throttling: a budget of failed attempts per (login,
address) and per address, with exponential backoff.

Why two keys and not one per login:
* per (login, address): a stranger guessing the admin's password locks only
  himself out of that login, from his address; the admin, from hers, still
  signs in. Attempts while locked are refused without being counted, so
  they never lengthen anybody's lock.
* per address: guesses spread over many logins (or logins that do not
  exist) are bounded too. Every allowed attempt costs one Argon2 hash,
  whether the login exists or not, so this is what keeps one stranger from
  spending the server's CPU and memory.
Addresses are IPv6 /64 networks (one subscriber gets a whole /64) or single
IPv4 addresses.

An attempt is charged before its password is checked, in the transaction
that checks the lock, so parallel requests cannot all slip in before the
first failure is written; a successful sign-in gives the charge back.
Rows hold a SHA-256 of the scope and values, never the typed login.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Dict, Optional

from sqlalchemy import delete, select, update

from hotline.db.engine import guarded, write_transaction
from handoff.config import Settings
from hotline.db.base import utcnow
from hotline.db.tables.handoff import login_throttle as table


@dataclass(frozen=True)
class Policy:
    """`free` failures are allowed; the next lock lasts `base_seconds`, and
    every failure after it doubles the lock up to `max_seconds`."""

    free: int
    base_seconds: float
    max_seconds: float

    def lock_seconds(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.max_seconds, self.base_seconds * 2 ** min(failures - self.free, 32))


@dataclass(frozen=True)
class Budget:
    per_login: Policy
    per_address: Policy
    # A key quiet for this long (after its lock ended) starts again from zero.
    forget_seconds: float


def budget_from(settings: Settings) -> Budget:
    cap = settings.login_lock_max_minutes * 60
    return Budget(per_login=Policy(settings.login_max_failures, settings.login_lock_seconds, cap),
                  per_address=Policy(settings.login_address_max_failures, settings.login_lock_seconds, cap),
                  forget_seconds=settings.login_forget_hours * 3600)


def network(address: Optional[str]) -> str:
    """The unit an attacker pays with: one IPv4 address, one IPv6 /64."""
    raw = (address or "").strip()
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _keys(login: str, address: Optional[str], budget: Budget) -> Dict[str, Policy]:
    net = network(address)
    return {_key("login", login.lower(), net): budget.per_login, _key("address", net): budget.per_address}



def _insert_missing(conn, keys, now: dt.datetime) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(table).values([{"key": k, "failures": 0, "last_at": now, "locked_until": None}
                                       for k in keys]).on_conflict_do_nothing(index_elements=["key"]))


@guarded
def charge(login: str, address: Optional[str], budget: Budget, *, now: Optional[dt.datetime] = None,
           url: Optional[str] = None) -> float:
    """Count one attempt against both keys and return 0, or refuse it and
    return the seconds until the longer lock ends (nothing is counted then)."""
    now = now or utcnow()
    keys = _keys(login, address, budget)
    forget = dt.timedelta(seconds=budget.forget_seconds)
    with write_transaction(url) as conn:
        conn.execute(delete(table).where(table.c.last_at < now - forget - dt.timedelta(
            seconds=max(budget.per_login.max_seconds, budget.per_address.max_seconds))))
        _insert_missing(conn, keys, now)
        rows = {r.key: r for r in conn.execute(select(table).where(table.c.key.in_(list(keys))).with_for_update())}
        locked = [(r.locked_until - now).total_seconds() for r in rows.values()
                  if r.locked_until is not None and r.locked_until > now]
        if locked:
            return max(locked)
        for key, policy in keys.items():
            row = rows[key]
            quiet_since = max(row.last_at, row.locked_until or row.last_at)
            failures = (0 if now - quiet_since >= forget else row.failures) + 1
            seconds = policy.lock_seconds(failures)
            conn.execute(update(table).where(table.c.key == key).values(
                failures=failures, last_at=now,
                locked_until=now + dt.timedelta(seconds=seconds) if seconds else None))
    return 0.0


@guarded
def refund(login: str, address: Optional[str], budget: Budget, *, url: Optional[str] = None) -> None:
    """A successful sign-in: its (login, address) key starts afresh, and the
    address gets its one charge back (not more: an attacker with an account
    of his own must not wipe his address's record by signing in)."""
    login_key, address_key = _keys(login, address, budget)
    with write_transaction(url) as conn:
        conn.execute(delete(table).where(table.c.key == login_key))
        row = conn.execute(select(table).where(table.c.key == address_key).with_for_update()).first()
        if row is None:
            return
        failures = max(0, row.failures - 1)
        values = {"failures": failures}
        if not budget.per_address.lock_seconds(failures):
            values["locked_until"] = None
        conn.execute(update(table).where(table.c.key == address_key).values(**values))
