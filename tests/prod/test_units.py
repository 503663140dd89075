"""Pieces of the production profile that need no running servers."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hotline.ops import metrics
from hotline.ops.jsonlog import JsonFormatter
from hotline.ops.ports import free_port
from hotline.ops.supervisor import ProdConfig, ProdProfile
from hotline.rasa.channels import RATE_LIMITED_TEXT, TOO_LONG_TEXT, RateLimiter, guard, reset_limits


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def test_nginx_configuration_renders_and_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx not found; run `make test` as root or install the Debian package nginx",
                    pytrace=False)
    config = ProdConfig.ephemeral(tmp_path, rasa_instances=3)
    profile = ProdProfile(config)
    conf = profile.render_nginx()
    text = conf.read_text()
    assert "@@" not in text
    # Two Rasa upstreams of 3 servers, actions of 2 (the template's comments do not count).
    assert len(re.findall(r"^\s*server 127\.0\.0\.1:\d+ max_fails=1 ", text, flags=re.M)) == 2 * 3 + 2
    assert "hash $remote_addr consistent" in text  # socket.io stickiness
    for route in ("/webhooks/rest/webhook", "/webhooks/telegram/", "/webhooks/vk/", "/socket.io/"):
        assert route in text
    done = subprocess.run([nginx, "-t", "-p", str(conf.parent), "-c", str(conf), "-e", str(conf.parent / "e.log")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_turn_metrics_count_intents_fallbacks_and_handoffs():
    def value(counter, *labels):
        return counter.labels(*labels)._value.get()

    before = (value(metrics.INTENTS, "request_operator"), value(metrics.FALLBACKS, "nlu"),
              value(metrics.HANDOFFS, "request_operator"), value(metrics.HANDOFFS, "fallback"))
    metrics.count_turn([
        {"event": "user", "parse_data": {"intent": {"name": "request_operator"}}},
        {"event": "action", "name": "utter_operator_contacts"},
    ])
    metrics.count_turn([
        {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_fallback"},
        {"event": "slot", "name": "fallback_stage", "value": "human"},
    ])
    after = (value(metrics.INTENTS, "request_operator"), value(metrics.FALLBACKS, "nlu"),
             value(metrics.HANDOFFS, "request_operator"), value(metrics.HANDOFFS, "fallback"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1, 1]
    assert b"hotline_intents_total" in metrics.render()


def test_json_log_lines_mask_personal_data():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "date %s snils %s", ("12.03.1985", "123-456-789 01"),
                               None)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "x"
    assert "1985" not in line and "123-456" not in line and entry["msg"] == "date *** snils ***"
    try:
        raise ValueError("born 1985-03-12")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["exc"]["type"] == "ValueError" and "1985" not in json.dumps(entry)


def test_rate_limiter_counts_per_window_and_falls_back_without_redis():
    limiter = RateLimiter(limit=3, window=60, redis_url=f"redis://127.0.0.1:{free_port()}/2")
    counts = [run(limiter.hit("rest:a", now=1000.0)) for _ in range(4)]
    assert counts == [1, 2, 3, 4]  # Redis refused: counted in process
    assert run(limiter.hit("rest:b", now=1000.0)) == 1
    assert run(limiter.hit("rest:a", now=1060.0)) == 1  # next window


class _Output:
    def __init__(self):
        self.sent = []

    async def send_text_message(self, recipient_id, text, **kwargs):
        self.sent.append(text)


def test_guard_rejects_long_and_too_frequent_messages(monkeypatch):
    from rasa.core.channels.channel import UserMessage

    monkeypatch.setenv("RATE_LIMIT_MESSAGES", "2")
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "20")
    monkeypatch.delenv("REDIS_URL", raising=False)
    reset_limits()
    handled = []

    async def on_new_message(message):
        handled.append(message.text)

    guarded = guard(on_new_message, "rest")
    out = _Output()
    try:
        run(guarded(UserMessage("x" * 21, out, "g-1", input_channel="rest")))
        assert out.sent == [TOO_LONG_TEXT.format(limit=20)] and handled == []
        for _ in range(4):
            run(guarded(UserMessage("привет", out, "g-1", input_channel="rest")))
        assert handled == ["привет", "привет"]
        assert out.sent[1:] == [RATE_LIMITED_TEXT]  # once, then quiet
    finally:
        reset_limits()


def test_lock_store_serves_in_process_when_redis_is_down():
    from rasa.utils.endpoints import EndpointConfig

    from hotline.rasa.lock_store import ResilientRedisLockStore

    store = ResilientRedisLockStore(EndpointConfig(url="127.0.0.1", port=free_port(), db=1, socket_timeout=0.5,
                                                   retry_after=60, type="x"))

    async def use():
        async with store.lock("c-1") as lock:
            return lock.conversation_id

    assert run(use()) == "c-1"
    assert store.redis_down


def test_degraded_reply_mentions_the_hotline_phone():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import FollowupAction, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from hotline.rasa.hooks import DEGRADED_TEXT, degraded_events

    domain = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))
    tracker = DialogueStateTracker.from_events("d-1", [SlotSet("hotline_phone", "8-800-100-200")], domain.slots)
    events = run(degraded_events("action_check_application_status", None, None, tracker, domain))
    assert events[0].text.startswith(DEGRADED_TEXT) and "8-800-100-200" in events[0].text
    assert events[-1] == FollowupAction("action_listen")  # no further predictions this turn
    tracker.update(events[0])
    later = run(degraded_events("action_service_info", None, None, tracker, domain))
    assert later == [FollowupAction("action_listen")]  # one polite reply per turn


def test_a_waiter_whose_ticket_expired_queues_again_instead_of_waiting_forever():
    """Rasa 3.6: the crashed holder's ticket and the waiter's expire together,
    the lock is left with no tickets, and the waiter loops forever."""
    import time as _time

    from rasa.core.lock import TicketLock
    from rasa.utils.endpoints import EndpointConfig

    from hotline.rasa.lock_store import ResilientRedisLockStore

    store = ResilientRedisLockStore(EndpointConfig(url="127.0.0.1", port=free_port(), type="x"))
    saved = {}
    store.get_lock = lambda cid: saved.get(cid)  # a dict stands in for Redis
    store.save_lock = lambda lock: saved.__setitem__(lock.conversation_id, TicketLock.from_dict(json.loads(lock.dumps())))
    store.delete_lock = lambda cid: saved.pop(cid, None)
    dead = TicketLock("c-2")
    dead.issue_ticket(0.2)  # the crashed instance's ticket
    saved["c-2"] = dead
    mine = store._issue_redis_ticket("c-2", 0.25)
    _time.sleep(0.3)  # both expire before the waiter looks again
    store.update_lock("c-2")
    assert saved["c-2"].tickets == type(saved["c-2"].tickets)()  # Rasa's waiter would now spin forever
    lock, ticket = run(asyncio.wait_for(store._acquire("c-2", mine, 10, 0.05), 5))
    assert ticket != mine and not lock.is_locked(ticket)


def test_a_caller_on_the_phone_is_not_told_to_call_the_hotline():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from hotline.rasa.hooks import DEGRADED_TEXT, degraded_events

    domain = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))
    tracker = DialogueStateTracker.from_events(
        "phone_1", [SlotSet("hotline_phone", "8-800-100-200"), UserUttered("статус", input_channel="voice")],
        domain.slots)
    events = run(degraded_events("action_check_application_status", None, None, tracker, domain))
    assert events[0].text == DEGRADED_TEXT
