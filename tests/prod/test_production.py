"""The production profile end to end: conversations through nginx, a Rasa
instance killed mid-run, the action servers, PostgreSQL and Redis failing,
limits, retention. One profile for the module (two Rasa processes take a
minute to start on this machine); the tests run in file order and each one
leaves the profile healthy for the next."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from hotline.status.lockout import conversation_key
from hotline.paths import ROOT
from hotline.rasa.channels import RATE_LIMITED_TEXT, TOO_LONG_TEXT
from hotline.rasa.hooks import DEGRADED_TEXT
from tests.prod.support import bot_texts, health, user_texts, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

STATUS_ANSWER = "в обработке"  # utter_status_in_progress of 1234567890
# The status check asks for the surname, then the date of birth (1234567890 is Иванов's, born 12.03.1985).
ASK_SURNAME = "напишите фамилию заявителя"
ASK_DATE = "укажите дату рождения"
SURNAME = "Иванов"
GREETING = "помощник горячей линии"  # every variation of utter_greet


def metric(url: str, name: str, **labels: str) -> float:
    """Sum of a metric's series on one process (0 while it is restarting)."""
    try:
        text = requests.get(f"{url}/ops/metrics", timeout=10).text
    except requests.RequestException:
        return 0.0
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_every_service_is_healthy_and_only_webhooks_are_public(prod, citizen):
    for i in range(2):
        body = health(prod.rasa_url(i))
        assert body["status"] == "ok", body
        assert set(body["checks"]) == {"model", "tracker_store", "lock_store", "action_server"}
        assert health(prod.action_url(i))["status"] == "ok"
    assert GREETING in " ".join(citizen.send("health-1", "привет"))
    # Operators' endpoints are not routed by nginx.
    for path in ("/ops/health", "/ops/metrics", "/conversations/x/tracker", "/model", "/status"):
        assert requests.get(f"{prod.public_url}{path}", timeout=10).status_code == 404
    # Every instance's API needs a bearer token signed with the profile's key; ?token= is no way in.
    from hotline.rasa_api import BearerAuth

    for i in range(2):
        url = f"{prod.rasa_url(i)}/conversations/rest_health-1/tracker"
        assert requests.get(url, timeout=10).status_code == 401
        assert requests.get(url, params={"token": prod.config.api_token}, timeout=10).status_code == 401
        assert requests.get(url, auth=BearerAuth(prod.config.api_token), timeout=10).status_code == 200
    # Metrics: the message above was counted on one of the instances.
    handled = sum(metric(prod.rasa_url(i), "hotline_messages_total", channel="rest", outcome="handled")
                  for i in range(2))
    assert handled >= 1
    assert sum(metric(prod.rasa_url(i), "hotline_intents_total", intent="greet") for i in range(2)) >= 1
    assert metric(prod.action_url(0), "hotline_action_requests_total") + \
        metric(prod.action_url(1), "hotline_action_requests_total") >= 1


def test_message_size_limit_and_body_cap(prod, citizen):
    texts = citizen.send("size-1", "я " * 800)  # 1600 characters
    assert texts == [TOO_LONG_TEXT.format(limit=1000)]
    assert user_texts(prod, "size-1") == []  # rejected before Rasa: nothing stored
    big = {"sender": "size-2", "message": "x" * 20000}
    assert requests.post(f"{prod.public_url}/webhooks/rest/webhook", json=big, timeout=10).status_code == 413


def test_per_sender_rate_limit_answers_politely_once(prod, citizen):
    answers = [citizen.send("rate-1", "привет") for _ in range(12)]
    assert all(a and a != [RATE_LIMITED_TEXT] for a in answers[:10])
    assert answers[10] == [RATE_LIMITED_TEXT]
    assert answers[11] == []  # dropped quietly for the rest of the window
    assert len(user_texts(prod, "rate-1")) == 10
    # Another citizen is not affected.
    assert citizen.send("rate-2", "привет") != [RATE_LIMITED_TEXT]


def test_conversations_continue_when_an_instance_is_killed(prod, citizen):
    senders = [f"crash-{i}" for i in range(16)]
    turns = ["привет", "статус заявления 1234567890", SURNAME, "12.03.1985", "спасибо"]
    replies = {s: [] for s in senders}
    killed = threading.Event()

    def talk(sender: str, turn: int) -> None:
        replies[sender].append(citizen.send(sender, turns[turn]))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for turn in range(3):
            list(pool.map(lambda s: talk(s, turn), senders))

        def kill_soon() -> None:
            time.sleep(0.3)
            prod.kill_rasa(0)
            killed.set()

        killer = threading.Thread(target=kill_soon)
        killer.start()
        for turn in range(3, 5):
            list(pool.map(lambda s: talk(s, turn), senders))
        killer.join()
    assert killed.is_set()
    redelivered = 0
    for sender in senders:
        said = [" ".join(r) for r in replies[sender]]
        assert ASK_SURNAME in said[1] and ASK_DATE in said[2], (sender, said)
        stored = user_texts(prod, sender)
        # The surname and the date are both stored masked, so they collapse together.
        collapsed = [t for i, t in enumerate(stored) if i == 0 or t != stored[i - 1]]
        assert collapsed == ["привет", "статус заявления 1234567890", "***", "спасибо"], (sender, stored)
        assert stored.count("***") >= 2, (sender, stored)
        if len(stored) > len(turns):
            # At-least-once: the killed instance had saved the turn but died
            # before answering; the redelivered message found the form done.
            # The answer is in the history all the same.
            redelivered += 1
            assert STATUS_ANSWER in " ".join(bot_texts(prod, sender)), (sender, said)
        else:
            # The form's state (the number from turn 2) came from PostgreSQL,
            # on whichever instance answered turn 3.
            assert STATUS_ANSWER in said[3], (sender, said)
    print(f"crash: {citizen.retries} redeliveries after 502, {redelivered} turns saved before the crash")
    # The survivor is healthy; the killed one is restarted for the later tests.
    assert health(prod.rasa_url(1))["status"] == "ok"
    prod.start_rasa(0)


def test_action_server_down_gives_a_polite_answer_and_the_conversation_goes_on(prod, citizen):
    for i in range(2):
        prod.stop_action_server(i)
    try:
        texts = citizen.send("noact-1", "статус заявления 1234567890")
        assert texts and texts[0].startswith(DEGRADED_TEXT), texts
        # The form stopped: no data asked for in vain.
        assert not any(ASK_SURNAME in t or ASK_DATE in t for t in texts)
        # Rasa's own answers still work, in the same conversation.
        assert GREETING in " ".join(citizen.send("noact-1", "привет"))
        body = health(prod.rasa_url(1))
        assert body["status"] == "degraded" and not body["checks"]["action_server"]["ok"]
        assert metric(prod.rasa_url(1), "hotline_action_errors_total") >= 1
    finally:
        for i in range(2):
            prod.start_action_server(i)
        for i in range(2):
            prod.wait_action_server(i)
        # nginx had marked both as failed; it tries them again after 5 s.
        prod.wait_actions_lb()
    assert ASK_SURNAME in " ".join(citizen.send("noact-1", "статус заявления 1234567890"))
    assert ASK_DATE in " ".join(citizen.send("noact-1", SURNAME))
    assert STATUS_ANSWER in " ".join(citizen.send("noact-1", "12.03.1985"))


def test_postgresql_restart_needs_no_manual_step(prod, citizen):
    assert ASK_SURNAME in " ".join(citizen.send("pg-1", "статус заявления 1234567890"))
    assert ASK_DATE in " ".join(citizen.send("pg-1", SURNAME))
    prod.restart_pg()
    # The very next message: the pooled connections are dead, pool_pre_ping
    # replaces them, and the form's state is read back from PostgreSQL.
    assert STATUS_ANSWER in " ".join(citizen.send("pg-1", "12.03.1985"))
    assert user_texts(prod, "pg-1") == ["статус заявления 1234567890", "***", "***"]
    assert health(prod.rasa_url(1))["checks"]["tracker_store"]["ok"]
    assert health(prod.action_url(0))["status"] == "ok"


def test_redis_stopped_loses_no_message(prod, citizen):
    prod.stop_redis()
    try:
        senders = [f"redis-{i}" for i in range(6)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            first = list(pool.map(lambda s: citizen.send(s, "привет"), senders))
            second = list(pool.map(lambda s: citizen.send(s, "статус заявления 1234567890"), senders))
            third = list(pool.map(lambda s: citizen.send(s, SURNAME), senders))
        assert all(GREETING in " ".join(t) for t in first)
        assert all(ASK_SURNAME in " ".join(t) for t in second)
        assert all(ASK_DATE in " ".join(t) for t in third)
        for sender in senders:
            assert user_texts(prod, sender) == ["привет", "статус заявления 1234567890", "***"]
        body = health(prod.rasa_url(1))
        assert body["status"] == "degraded" and not body["checks"]["lock_store"]["ok"]
        assert metric(prod.rasa_url(1), "hotline_dependency_fallback_total", dependency="redis_lock") + \
            metric(prod.rasa_url(0), "hotline_dependency_fallback_total", dependency="redis_lock") >= 1
    finally:
        prod.start_redis()
    assert wait_until(lambda: (health(prod.rasa_url(1)) or {}).get("checks", {}).get("lock_store", {}).get("ok"),
                      timeout=30)
    assert STATUS_ANSWER in " ".join(citizen.send("redis-0", "12.03.1985"))


def _retention(prod, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hotline.ops.retention", *args], cwd=ROOT, env=prod.env(),
                          capture_output=True, text=True, timeout=120)


def _audit(prod) -> list:
    done = _retention(prod, "audit")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_retention_purge_export_and_delete_against_postgresql(prod, citizen):
    from sqlalchemy import create_engine, text

    citizen.send("ret-old", "привет")
    citizen.send("ret-new", "привет")
    # Age one conversation and one status-check attempt by 100 days.
    tracker = create_engine(prod.tracker_url, future=True)
    status = create_engine(prod.status_url, future=True)
    try:
        with tracker.begin() as conn:
            conn.execute(text("UPDATE events SET timestamp = timestamp - 100 * 86400 WHERE sender_id = 'rest_ret-old'"))
        with status.begin() as conn:
            conn.execute(text("INSERT INTO status_check_attempts (key, attempted_at, success) VALUES "
                              "('conversation:rest_ret-old', now() - interval '100 days', false)"))
        done = _retention(prod, "purge", "--days", "90", "--request", "daily")
        assert done.returncode == 0, done.stderr
        purged = json.loads(done.stdout)["purged"]
        assert purged["tracker_conversations_removed"] >= 1 and purged["tracker_events"] >= 1
        assert purged["status_check_attempts"] >= 1
        assert user_texts(prod, "ret-old") == [] and user_texts(prod, "ret-new") == ["привет"]
        record = _audit(prod)[0]
        assert record["action"] == "purge" and record["request_ref"] == "daily"
        assert record["counts"]["tracker_events"] == purged["tracker_events"]

        # A citizen's conversation: export, then delete.
        done = _retention(prod, "export", "--channel", "rest", "--conversation", "ret-new")
        assert done.returncode == 0, done.stderr
        exported = json.loads(done.stdout)
        assert [c["conversation_id"] for c in exported["conversations"]] == ["rest_ret-new"]
        assert any(e.get("text") == "привет" for e in exported["conversations"][0]["events"])
        done = _retention(prod, "delete", "--channel", "rest", "--conversation", "ret-new", "--yes")
        assert done.returncode == 0, done.stderr
        assert user_texts(prod, "ret-new") == []
        records = _audit(prod)
        assert [r["action"] for r in records[:2]] == ["delete", "export"]
        assert records[0]["subject_kind"] == "conversation" and len(records[0]["subject_hash"]) == 64
        assert "ret-new" not in json.dumps(records)  # the audit keeps a hash, not the id

        # By application number: the application, its checks and the conversation that used it.
        citizen.send("ret-app", "статус заявления AB-987654321")
        citizen.send("ret-app", "Петрова")
        assert "требуются" in " ".join(citizen.send("ret-app", "01.07.1990"))
        done = _retention(prod, "export", "--application", "ab 987654321")
        assert done.returncode == 0, done.stderr
        exported = json.loads(done.stdout)
        assert exported["applications"][0]["number"] == "AB-987654321"
        assert exported["applications"][0]["full_name"] == "Петрова Анна Сергеевна"
        assert "rest_ret-app" in [c["conversation_id"] for c in exported["conversations"]]
        # The conversation's counter is keyed on the server-side id (hashed), whatever its namespace.
        assert {s["key"] for s in exported["status_checks"]} >= {"number:AB-987654321"} | {
            conversation_key("AB-987654321", c["conversation_id"]) for c in exported["conversations"]}
        done = _retention(prod, "delete", "--application", "AB-987654321", "--yes")
        assert done.returncode == 0, done.stderr
        deleted = json.loads(done.stdout)["deleted"]
        assert deleted["applications"] == 1 and deleted["applicants"] == 1 and deleted["tracker_events"] > 0
        with status.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM applications WHERE number = 'AB-987654321'")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM status_check_attempts WHERE key LIKE '%AB-987654321%'"
                                     )).scalar() == 0
        assert user_texts(prod, "ret-app") == []
        assert _retention(prod, "export", "--application", "AB-987654321").returncode == 1  # nothing left
        assert [r["action"] for r in _audit(prod)[:3]] == ["export", "delete", "export"]
    finally:
        tracker.dispose()
        status.dispose()


def test_the_killed_instance_rejoins(prod, citizen):
    if prod.procs["rasa-1"].poll() is not None:  # the crash test stopped early
        prod.start_rasa(0)
    prod.wait_rasa(0)
    assert health(prod.rasa_url(0))["status"] == "ok"
    before = metric(prod.rasa_url(0), "hotline_messages_total")
    for i in range(8):
        citizen.send(f"rejoin-{i}", "привет")
    assert metric(prod.rasa_url(0), "hotline_messages_total") > before  # nginx sends it traffic again


def test_logs_are_json_lines_without_personal_data(prod):
    personal = ("12.03.1985", "1985-03-12", "01.07.1990", "1990-07-01", "Петрова", "Иванов")
    checked = 0
    for log in sorted((prod.base / "log").glob("*.log")) + [prod.base / "nginx" / "access.log"]:
        text = log.read_text(errors="replace")
        for trace in personal:
            assert trace not in text, (log.name, trace)
        for line in text.splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                assert "ts" in entry and ("level" in entry or entry.get("service") == "nginx")
                checked += 1
    assert checked > 20
