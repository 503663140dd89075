"""The operators' console, attacked: a stranger trying to lock the admin out,
guessing logins to burn Argon2 hashes, hiding behind forged X-Forwarded-For,
a cookie that could leak over HTTP, a session that outlives a password
change, and a curious operator reading tickets nobody has taken.

Each attacker speaks from his own loopback address (127.0.0.2, 127.0.0.3 …:
Linux routes all of 127/8 to lo), so the console sees distinct clients
exactly as it would on a network.
"""
from __future__ import annotations

import dataclasses
import statistics
import time
import uuid
from typing import Callable, Iterator, List

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.handoff.handoff_helpers import SECRET, AppThread, ConsoleClient, handoff_settings

PASSWORD = "correct-horse-battery"
ADMIN_ADDRESS = "127.0.0.1"


class _FromAddress(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_from(url: str, address: str, forwarded_for: str = "") -> ConsoleClient:
    client = ConsoleClient(url)
    client.http.mount("http://", _FromAddress(address))
    if forwarded_for:
        client.http.headers["X-Forwarded-For"] = forwarded_for
    return client


@pytest.fixture
def db_url(tmp_path) -> Iterator[str]:
    from hotline.db.engine import dispose_engine, init_db
    from handoff.admin import add_operator

    url = f"sqlite:///{tmp_path / 'console.db'}"
    init_db(url)
    add_operator("admin", "Администратор", PASSWORD, is_admin=True, via="cli", url=url)
    add_operator("anna", "Анна", PASSWORD, via="cli", url=url)
    add_operator("boris", "Борис", PASSWORD, via="cli", url=url)
    yield url
    dispose_engine(url)


@pytest.fixture
def start_console(db_url, fake_rasa) -> Iterator[Callable[..., str]]:
    started: List[AppThread] = []

    def _start(base=None, **overrides) -> str:
        from handoff.console.app import create_app
        from handoff.rasa_client import RasaApiClient

        chosen = dataclasses.replace(base or handoff_settings(), rasa_url=fake_rasa.url, **overrides)
        thread = AppThread(lambda: create_app(chosen, db_url, rasa=RasaApiClient(chosen, secret=SECRET),
                                              telegram=False))
        started.append(thread)
        return thread.url

    yield _start
    for thread in started:
        thread.stop()


@pytest.fixture
def hashes(monkeypatch) -> List[float]:
    """Every Argon2 verification the console performs (its duration)."""
    from handoff import auth

    real = auth._hasher
    done: List[float] = []

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, *args):
            started = time.perf_counter()
            try:
                return real.verify(*args)
            finally:
                done.append(time.perf_counter() - started)

    monkeypatch.setattr(auth, "_hasher", Counting())
    return done


# --- lockout as a weapon --------------------------------------------------------------

def test_a_stranger_hammering_the_admin_login_does_not_lock_the_admin_out(start_console):
    url = start_console()
    stranger = client_from(url, "127.0.0.2")
    for _ in range(40):
        assert stranger.login("admin", "guess-" + uuid.uuid4().hex[:8]).status_code == 401
    # The stranger himself is stopped: even the right password is refused from his address.
    assert stranger.login("admin", PASSWORD).status_code == 401
    admin = client_from(url, ADMIN_ADDRESS)
    assert admin.login("admin", PASSWORD).status_code == 200
    assert admin.get("/api/queue").status_code == 200


def test_attempts_during_a_lock_do_not_lengthen_it(start_console):
    url = start_console(login_lock_seconds=2.0)
    admin, stranger = client_from(url, ADMIN_ADDRESS), client_from(url, "127.0.0.2")
    for _ in range(5):  # the admin's own typos: a two-second lock, from her address
        assert admin.login("admin", "typo-typo-typo").status_code == 401
    locked_at = time.monotonic()  # the lock began before this, when the fifth attempt arrived
    # While she is locked her browser retries, and a stranger keeps trying from his address.
    while time.monotonic() - locked_at < 0.5:
        assert admin.login("admin", "typo-typo-typo").status_code == 401
        assert stranger.login("admin", "guess-guess-guess").status_code == 401
    while time.monotonic() - locked_at < 2.1:
        assert stranger.login("admin", "guess-guess-guess").status_code == 401
    assert admin.login("admin", PASSWORD).status_code == 200


def test_each_failure_after_a_lock_doubles_it(start_console):
    url = start_console(login_lock_seconds=2.0)
    guesser = client_from(url, "127.0.0.2")
    for _ in range(5):
        assert guesser.login("anna", "wrong-password-1").status_code == 401
    time.sleep(2.1)
    sent = time.monotonic()
    assert guesser.login("anna", "wrong-password-2").status_code == 401  # a sixth failure: four seconds now
    answered = time.monotonic()
    time.sleep(max(0.0, sent + 2.5 - time.monotonic()))
    assert guesser.login("anna", PASSWORD).status_code == 401
    time.sleep(max(0.0, answered + 4.1 - time.monotonic()))
    assert guesser.login("anna", PASSWORD).status_code == 200


# --- unknown logins and the cost of a hash ----------------------------------------------

def test_unknown_logins_cost_one_hash_each_only_up_to_the_address_limit(start_console, hashes):
    url = start_console()
    limit = handoff_settings().login_address_max_failures
    scanner = client_from(url, "127.0.0.3")
    replies = [scanner.login("nobody-" + uuid.uuid4().hex[:10], "password-" + str(i)) for i in range(3 * limit)]
    assert {r.status_code for r in replies} == {401}
    assert len({r.text for r in replies}) == 1  # locked or not, the same answer
    assert len(hashes) == limit
    # Another address is not punished for it.
    assert client_from(url, "127.0.0.4").login("anna", PASSWORD).status_code == 200


def test_an_unknown_login_takes_as_long_as_a_wrong_password(start_console, hashes):
    url = start_console()

    def timed(login: str, address: str) -> float:
        client = client_from(url, address)
        started = time.perf_counter()
        assert client.login(login, "not-the-password").status_code == 401
        return time.perf_counter() - started

    unknown, known = [], []
    for i in range(6):  # alternate, so a busy moment of the machine hits both
        unknown.append(timed("nobody-" + uuid.uuid4().hex[:8], f"127.0.1.{i + 1}"))
        known.append(timed("anna", f"127.0.2.{i + 1}"))
    assert len(hashes) == 12  # one verification per attempt, whether the login exists or not
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (unknown, known)


def test_a_forged_x_forwarded_for_does_not_buy_fresh_attempts(start_console, hashes):
    url = start_console()
    limit = handoff_settings().login_address_max_failures
    attacker = client_from(url, "127.0.0.5")
    for i in range(2 * limit):
        attacker.http.headers["X-Forwarded-For"] = f"198.51.100.{i + 1}"
        assert attacker.login("nobody-" + uuid.uuid4().hex[:8], "x" * 12).status_code == 401
    assert len(hashes) == limit


def test_behind_a_trusted_proxy_clients_are_told_apart(start_console):
    url = start_console(trusted_proxies="127.0.0.1")
    stranger = client_from(url, ADMIN_ADDRESS, forwarded_for="203.0.113.5")
    for _ in range(40):
        assert stranger.login("admin", "guess-guess-guess").status_code == 401
    # The proxy appends what it saw; the stranger's own claims further left count for nothing.
    sly = client_from(url, ADMIN_ADDRESS, forwarded_for="198.51.100.7, 203.0.113.5")
    assert sly.login("admin", PASSWORD).status_code == 401
    admin = client_from(url, ADMIN_ADDRESS, forwarded_for="198.51.100.7")
    assert admin.login("admin", PASSWORD).status_code == 200


# --- cookies and sessions -------------------------------------------------------------------

def test_the_session_cookie_is_secure_unless_explicitly_disabled():
    from handoff.config import Settings

    assert Settings.load({}).secure_cookies is True
    assert Settings.load({"HANDOFF_SECURE_COOKIES": "0"}).secure_cookies is False


def test_a_default_console_sets_secure_cookies(start_console):
    from handoff.config import Settings

    url = start_console(base=dataclasses.replace(Settings.load({"HANDOFF_HOURS": "24/7",
                                                                 "HANDOFF_SECRET": SECRET})))
    page = requests.get(f"{url}/login", timeout=30)
    assert "secure" in page.headers["Set-Cookie"].lower()
    reply = requests.post(f"{url}/api/login", json={"login": "anna", "password": PASSWORD}, timeout=30)
    assert reply.status_code == 200
    cookie = [c for c in reply.headers["Set-Cookie"].split(", hotline") if "hotline_console=" in c][0]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_password_change_ends_every_session(start_console, db_url):
    from handoff.admin import set_password

    url = start_console()
    office, home = client_from(url, ADMIN_ADDRESS), client_from(url, "127.0.0.6")
    assert office.login("anna", PASSWORD).status_code == 200
    assert home.login("anna", PASSWORD).status_code == 200
    set_password("anna", "a-brand-new-password", url=db_url)
    assert office.get("/api/queue").status_code == 401
    assert home.get("/api/queue").status_code == 401
    assert office.login("anna", PASSWORD).status_code == 401
    assert office.login("anna", "a-brand-new-password").status_code == 200


def test_disabling_ends_sessions_for_good(start_console, db_url):
    from handoff.admin import set_active

    url = start_console()
    anna = client_from(url, ADMIN_ADDRESS)
    assert anna.login("anna", PASSWORD).status_code == 200
    set_active("anna", False, url=db_url)
    assert anna.get("/api/queue").status_code == 401
    set_active("anna", True, url=db_url)
    assert anna.get("/api/queue").status_code == 401  # the old session does not come back


# --- a waiting ticket read before anyone takes it ----------------------------------------------

DOB = "12.03.1985"
SNILS = "112-233-445 95"
NUMBER = "AB-987654321"
STATUS_ANSWER = "Заявление AB-987654321 в обработке, ответ придёт до 2 декабря."


def test_a_waiting_tickets_transcript_is_masked_until_it_is_taken(start_console, db_url, fake_rasa):
    from handoff import repository as repo

    conversation = "telegram_5550001"
    fake_rasa.fake.trackers[conversation] = [
        {"event": "user", "text": f"заявление {NUMBER}, дата рождения {DOB}, СНИЛС {SNILS}",
         "timestamp": time.time(), "parse_data": {"intent": {"name": "check_status"}}},
        {"event": "bot", "text": STATUS_ANSWER, "timestamp": time.time(),
         "metadata": {"utter_action": "utter_status_in_progress"}},
    ]
    ticket, _ = repo.create_ticket(conversation, "telegram", "request", "check_status",
                                   f"не пришёл ответ, родился {DOB}", callback_phone="+7 900 123-45-67",
                                   url=db_url)
    repo.add_message(ticket.id, "citizen", f"мой СНИЛС {SNILS}", "broker", url=db_url)
    url = start_console()
    anna, boris = client_from(url, ADMIN_ADDRESS), client_from(url, "127.0.0.7")
    assert anna.login("anna", PASSWORD).status_code == 200
    assert boris.login("boris", PASSWORD).status_code == 200

    seen = [boris.get(f"/api/tickets/{ticket.id}").text, boris.get(f"/tickets/{ticket.id}").text,
            boris.get(f"/api/tickets/{ticket.id}/messages").text, boris.get("/api/queue").text,
            boris.get("/queue").text]
    for text in seen:
        for secret in (DOB, SNILS, NUMBER, STATUS_ANSWER, "123-45-67"):
            assert secret not in text
    assert "***" in seen[0]

    assert anna.take(ticket.id).status_code == 200
    taken = anna.get(f"/api/tickets/{ticket.id}").json()
    assert DOB in taken["transcript"][0]["text"] and SNILS in taken["transcript"][0]["text"]
    assert NUMBER in taken["transcript"][0]["text"] and taken["transcript"][1]["text"] == STATUS_ANSWER
    assert any(SNILS in m["text"] for m in taken["messages"])
    assert taken["ticket"]["callback_phone"] == "+7 900 123-45-67"
    assert DOB not in boris.get("/api/queue").text  # assigned to Anna: Boris still sees it masked
