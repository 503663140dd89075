"""The status-check lockout, played as an attacker would (issue 11, item 3).

Each test runs on SQLite and on a throw-away PostgreSQL cluster. The clock
is injected (hotline.status.lockout.utcnow), so a day of guessing takes
seconds.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from sqlalchemy import text

import hotline.status as status_store
from actions.application_status import ActionCheckApplicationStatus
from hotline.status import lockout
from hotline.db.engine import dispose_engine, get_engine, init_db
from hotline.status.importer import import_csv
from hotline.ops.metrics import STATUS_LOCKS
from helpers import ROOT, load_yaml, run_action, user_event
# The store fixtures (a fresh SQLite file and a fresh PostgreSQL database).
from status.conftest import csv_row, store, store_url, write_csv  # noqa: F401

NUMBER = "AB-987654321"
OWNER = {"full_name": "Петрова", "birth_date": "1990-07-01"}
T0 = dt.datetime(2026, 11, 30, 8, 0, 0)
# How citizens and attackers may write that one number.
SPELLINGS = ["AB-987654321", "ab 987654321", "AB–987654321", "АВ-987654321", "ab987654321",
             "A B 987 654 321", "ав—987654321"]


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(T0)
    monkeypatch.setattr(lockout, "utcnow", c)
    return c


@pytest.fixture
def citizen(store, write_csv, monkeypatch):  # noqa: F811
    import_csv(write_csv(
        csv_row(number=NUMBER, full_name="Петрова Анна Сергеевна", birth_date="1990-07-01", service="snils"),
        csv_row(number="1234567890"),
    ), store)
    monkeypatch.setenv("DATABASE_URL", store)
    return store


@pytest.fixture
def verifications(monkeypatch) -> list:
    """Every identity comparison the store actually made."""
    made: list = []
    real = status_store.verify_on

    def counting(conn, number, birth_date, full_name):
        made.append(number)
        return real(conn, number, birth_date, full_name)

    monkeypatch.setattr(status_store, "verify_on", counting)
    return made


def ask(make_tracker, number, *, sender, full_name="Петрова", birth_date="1985-01-01", channel="rest"):
    from rasa_sdk.executor import CollectingDispatcher

    from hotline.status import held_names

    dispatcher = CollectingDispatcher()
    event = {**user_event("inform", "***"), "input_channel": channel}
    held_names.hold(sender, full_name)  # as the form leaves it
    tracker = make_tracker([event], sender_id=sender, slots={
        "application_number": number, "full_name": held_names.GIVEN, "birth_date": birth_date})
    run_action(ActionCheckApplicationStatus(), dispatcher, tracker, {})
    return dispatcher.messages[-1]["response"]


def wrong_date(i: int) -> str:
    return (dt.date(1990, 1, 1) + dt.timedelta(days=i)).isoformat()


# --- walking around the lock ------------------------------------------------------

def test_spelling_variants_of_a_number_share_one_counter(citizen, clock, make_tracker, verifications):
    answers = [ask(make_tracker, SPELLINGS[i], sender="attacker", birth_date=wrong_date(i)) for i in range(3)]
    assert answers == ["utter_status_not_verified", "utter_status_not_verified", "utter_status_locked"]
    for spelling in SPELLINGS:
        assert ask(make_tracker, spelling, sender="attacker", **{"birth_date": "1990-07-01"}) \
            == "utter_status_locked"
    assert len(verifications) == 3  # the locked attempts never reached the record


def test_locks_escalate_15_minutes_1_hour_24_hours(citizen, clock, make_tracker, verifications):
    def fail() -> str:
        return ask(make_tracker, NUMBER, sender="typo", birth_date=wrong_date(len(verifications)))

    assert [fail() for _ in range(3)][-1] == "utter_status_locked"
    clock.advance(minutes=14)
    assert fail() == "utter_status_locked" and len(verifications) == 3
    clock.advance(minutes=2)
    assert [fail() for _ in range(3)] == ["utter_status_not_verified"] * 2 + ["utter_status_locked"]
    clock.advance(minutes=59)
    fail()
    assert len(verifications) == 6  # still locked at 59 minutes
    clock.advance(minutes=2)
    assert [fail() for _ in range(4)][-1] == "utter_status_locked"  # the 10th failure in 24 hours
    assert len(verifications) == 10
    clock.advance(hours=23, minutes=59)
    assert ask(make_tracker, NUMBER, sender="typo", **OWNER) == "utter_status_locked"
    clock.advance(minutes=2)
    assert ask(make_tracker, NUMBER, sender="typo", **OWNER) == "utter_status_in_progress"


def test_every_lock_raises_a_metric_and_an_audit_row_and_offers_an_operator(
        citizen, clock, make_tracker, domain_yaml):
    before = STATUS_LOCKS.labels("conversation", "15m")._value.get()
    for i in range(3):
        ask(make_tracker, NUMBER, sender="c1", birth_date=wrong_date(i))
    assert STATUS_LOCKS.labels("conversation", "15m")._value.get() == before + 1
    with get_engine(citizen).connect() as conn:
        rows = conn.execute(text("SELECT action, subject, conversation_id, via FROM handoff_audit")).all()
    assert [tuple(r) for r in rows] == [("status_locked", f"application:{NUMBER}", "c1", "bot")]
    locked = domain_yaml["responses"]["utter_status_locked"]
    chat = [r for r in locked if not r.get("channel")]
    assert any(b["payload"] == "/request_operator" for r in chat for b in r.get("buttons") or [])
    assert any("оператор" in r["text"] for r in locked if r.get("channel") == "voice")


# --- a day of guessing ---------------------------------------------------------------

@pytest.mark.parametrize("rotate_conversations", [False, True])
def test_a_24_hour_guess_campaign_stays_under_the_daily_cap(
        citizen, clock, make_tracker, verifications, rotate_conversations):
    # A guess every two minutes for 24 hours, every spelling, and (second
    # run) a fresh conversation for every guess, as a REST client can make.
    for i in range(24 * 30):
        sender = f"rest_attacker-{i}" if rotate_conversations else "rest_attacker"
        ask(make_tracker, SPELLINGS[i % len(SPELLINGS)], sender=sender, birth_date=wrong_date(i))
        clock.advance(minutes=2)
    limit = lockout.NUMBER_DAILY_CAP if rotate_conversations else lockout.ESCALATION[0][0]
    assert len(verifications) <= limit
    assert len(verifications) <= lockout.NUMBER_DAILY_CAP


# --- the lockout as a weapon -------------------------------------------------------------

def test_a_flood_against_a_number_does_not_lock_its_owner_out(citizen, clock, make_tracker, verifications):
    # Yesterday the owner checked the status from her Telegram chat.
    assert ask(make_tracker, NUMBER, sender="telegram_555", channel="telegram", **OWNER) \
        == "utter_status_in_progress"
    clock.advance(hours=20)
    alerts_before = STATUS_LOCKS.labels("number", "24h")._value.get()
    # A flood from many throw-away REST conversations, with every spelling.
    for i in range(200):
        ask(make_tracker, SPELLINGS[i % len(SPELLINGS)], sender=f"rest_flood-{i}", birth_date=wrong_date(i))
        clock.advance(seconds=30)
    assert len(verifications) <= 1 + lockout.NUMBER_DAILY_CAP
    assert STATUS_LOCKS.labels("number", "24h")._value.get() == alerts_before + 1  # one alert, not 180
    with get_engine(citizen).connect() as conn:
        capped = conn.execute(text("SELECT count(*) FROM handoff_audit WHERE action = 'status_capped'")).scalar()
    assert capped == 1
    # The owner's own conversation still works during the flood...
    assert ask(make_tracker, NUMBER, sender="telegram_555", channel="telegram", **OWNER) \
        == "utter_status_in_progress"
    # ...a new conversation is sent to an operator instead of being checked...
    assert ask(make_tracker, NUMBER, sender="rest_new", **OWNER) == "utter_status_locked"
    # ...and the attempts made while capped did not extend the cap: a day after
    # the flood's counted failures, self-service is back for everyone.
    clock.advance(hours=24)
    assert ask(make_tracker, NUMBER, sender="rest_new", **OWNER) == "utter_status_in_progress"


def test_a_client_chosen_id_cannot_borrow_trust(citizen, clock, make_tracker, verifications):
    ask(make_tracker, NUMBER, sender="telegram_555", channel="telegram", **OWNER)
    for i in range(lockout.NUMBER_DAILY_CAP):
        ask(make_tracker, NUMBER, sender=f"rest_flood-{i}", birth_date=wrong_date(i))
    # Only channels that own their ids are trusted past the cap.
    assert ask(make_tracker, NUMBER, sender="telegram_555", channel="rest", **OWNER) == "utter_status_locked"


# --- two action servers ------------------------------------------------------------------

_GUESSER = textwrap.dedent("""
    import datetime as dt, json, sys, time
    from concurrent.futures import ThreadPoolExecutor
    from hotline.status import check, verify_on
    url, number, start, threads, same_conversation, tag = sys.argv[1:7]
    def guess(i):
        sender = "one-conversation" if same_conversation == "1" else f"{tag}-{i}"
        date = dt.date(1990, 1, 1) + dt.timedelta(days=i)
        while time.time() < float(start):
            time.sleep(0.001)
        result = check(number, sender, lambda conn: verify_on(conn, number, date, "Петрова"), url=url)
        return result.checked
    with ThreadPoolExecutor(int(threads)) as pool:
        print(json.dumps(list(pool.map(guess, range(int(threads) * 3)))))
""")


@pytest.fixture
def pg_citizen(pg_cluster, write_csv):
    """The production case: one PostgreSQL database shared by two action servers."""
    name = f"lockout_{uuid.uuid4().hex[:12]}"
    pg_cluster.psql(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    init_db(url)
    import_csv(write_csv(csv_row(number=NUMBER, full_name="Петрова Анна Сергеевна", birth_date="1990-07-01")), url)
    yield url
    dispose_engine(url)
    pg_cluster.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.parametrize("same_conversation, limit", [(True, 3), (False, lockout.NUMBER_DAILY_CAP)])
def test_parallel_guesses_from_two_servers_never_exceed_the_limit(pg_citizen, same_conversation, limit):
    store_url = pg_citizen
    start = time.time() + 3
    servers = [subprocess.Popen(
        [sys.executable, "-c", _GUESSER, store_url, NUMBER, str(start), "6", "1" if same_conversation else "0",
         f"server{n}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in (1, 2)]
    checked = []
    for server in servers:
        out, err = server.communicate(timeout=120)
        assert server.returncode == 0, err
        checked += json.loads(out)
    assert len(checked) == 36
    assert sum(checked) == limit  # never more, and the limit is reached
    with get_engine(store_url).connect() as conn:
        recorded = conn.execute(text("SELECT count(*) FROM status_check_attempts WHERE key = :k"),
                                {"k": f"number:{NUMBER}"}).scalar()
    assert recorded == limit
