"""The queue in the SQL database: tickets, positions, taking, closing,
ratings, figures; the event broker; the handoff actions; and that nothing
is lost across a restart (a new process sees the same queue)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest

from handoff import repository as repo
from handoff.broker import HandoffEventBroker, is_return_to_bot
from tests.handoff.handoff_helpers import rasa_user_event

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url(db_url_each_backend) -> str:
    """Every test here runs on SQLite and on PostgreSQL."""
    return db_url_each_backend


def test_one_open_ticket_per_conversation_and_positions(db_url):
    t1, created1 = repo.create_ticket("c1", "rest", "request", "report_tech_issue", "не проходит оплата", url=db_url)
    t2, _ = repo.create_ticket("c2", "telegram", "fallback", "", "не понимаю бота", url=db_url)
    again, created_again = repo.create_ticket("c1", "rest", "request", "", "другое", url=db_url)
    assert created1 and not created_again and again.id == t1.id and again.summary == "не проходит оплата"
    assert repo.waiting_position(t1, url=db_url) == 1
    assert repo.waiting_position(t2, url=db_url) == 2
    assert [t.id for t in repo.queue(url=db_url)] == [t1.id, t2.id]


def test_take_is_atomic_and_close_requests_resumption(db_url, make_operator):
    anna, boris = make_operator("anna"), make_operator("boris")
    ticket, _ = repo.create_ticket("c1", "rest", "request", "", "вопрос по СНИЛС", url=db_url)
    taken = repo.take_ticket(ticket.id, anna.id, url=db_url)
    assert taken.status == "assigned" and taken.operator_name == "Anna"
    with pytest.raises(repo.TakeRefused) as refused:
        repo.take_ticket(ticket.id, boris.id, url=db_url)
    assert refused.value.ticket.operator_id == anna.id
    closed = repo.close_ticket(ticket.id, closed_by="operator", resolution="объяснил", url=db_url)
    assert closed.status == "closed" and closed.resume_pending
    assert repo.close_ticket(ticket.id, closed_by="operator", resolution="", url=db_url) is None
    assert repo.claim_resume(ticket.id, url=db_url) and not repo.claim_resume(ticket.id, url=db_url)
    repo.mark_resumed(ticket.id, rating_requested=True, url=db_url)
    awaiting = repo.ticket_awaiting_rating("c1", url=db_url)
    assert awaiting.id == ticket.id
    repo.rate_ticket(ticket.id, 5, url=db_url)
    assert repo.ticket_awaiting_rating("c1", url=db_url) is None
    assert repo.open_ticket_for("c1", url=db_url) is None


def test_queue_state_and_wait_use_recent_handling_times(db_url, make_operator):
    anna = make_operator("anna")
    repo.touch_operator(anna.id, url=db_url)
    start = repo.utcnow() - dt.timedelta(hours=1)
    for i in range(3):
        ticket, _ = repo.create_ticket(f"old{i}", "rest", "request", "", "старый вопрос", at=start, url=db_url)
        repo.take_ticket(ticket.id, anna.id, at=start, url=db_url)
        repo.close_ticket(ticket.id, closed_by="operator", resolution="", at=start + dt.timedelta(minutes=4),
                          url=db_url)
    state = repo.queue_state(1, 600, url=db_url)
    assert state.online_operators == 1 and state.busy_slots == 0 and state.handling_seconds == 240
    busy, _ = repo.create_ticket("busy", "rest", "request", "", "занят", url=db_url)
    repo.take_ticket(busy.id, anna.id, url=db_url)
    waiting, _ = repo.create_ticket("w", "rest", "request", "", "ждёт", url=db_url)
    assert repo.expected_wait(waiting, 1, 600, url=db_url) == (1, 120)


def test_figures(db_url, make_operator):
    anna = make_operator("anna")
    for conv in ("a", "b", "c", "d"):
        repo.register_conversation(conv, "rest", url=db_url)
    assert not repo.register_conversation("a", "rest", url=db_url)
    now = repo.utcnow()
    ticket, _ = repo.create_ticket("a", "rest", "request", "", "вопрос", at=now - dt.timedelta(minutes=10), url=db_url)
    repo.take_ticket(ticket.id, anna.id, at=now - dt.timedelta(minutes=8), url=db_url)
    repo.close_ticket(ticket.id, closed_by="operator", resolution="", at=now - dt.timedelta(minutes=2), url=db_url)
    repo.rate_ticket(ticket.id, 4, url=db_url)
    repo.create_ticket("b", "rest", "request", "", "ждёт", url=db_url)
    figures = repo.figures(url=db_url)
    assert figures["tickets"] == 2 and figures["waiting_now"] == 1
    assert figures["waiting_seconds"]["mean"] == 120 and figures["handling_seconds"]["mean"] == 360
    assert figures["conversations"] == 4 and figures["conversations_with_operator"] == 1
    assert figures["containment"] == 0.75 and figures["rating"] == {"count": 1, "mean": 4.0}
    assert sum(figures["tickets_per_hour"].values()) == 2


def test_the_queue_survives_a_restart(db_url):
    ticket, _ = repo.create_ticket("restart-1", "socketio", "request", "", "ждёт после перезапуска", url=db_url)
    repo.add_message(ticket.id, "citizen", "я ещё здесь", "broker", delivered=True, url=db_url)
    from hotline.db.engine import dispose_engine

    dispose_engine(db_url)  # as if the process ended
    code = ("from handoff import repository as r; import sys; u=sys.argv[1]; t=r.queue(url=u)[0]; "
            "print(t.id, t.status, t.summary, [m.text for m in r.ticket_messages(t.id, url=u)])")
    out = subprocess.run([sys.executable, "-c", code, db_url], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{ticket.id} waiting ждёт после перезапуска ['я ещё здесь']"


# --- the event broker --------------------------------------------------------------------

def user_event(sender, text, intent="faq", at=None, **extra):
    return {"event": "user", "sender_id": sender, "text": text, "input_channel": "socketio",
            "timestamp": at if at is not None else time.time(),
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}}, **extra}


def test_broker_records_only_what_is_written_while_paused(db_url):
    broker = HandoffEventBroker(db_url)
    before = time.time() - 5
    broker.handle(user_event("s1", "привет", "greet"))  # no ticket: only the conversation is counted
    ticket, _ = repo.create_ticket("s1", "socketio", "request", "", "не приходит код", url=db_url)
    broker.handle(user_event("s1", "не приходит код", "ask_login_help", at=before))  # the summary itself
    broker.handle(user_event("s1", "родился 12.03.1985, код не приходит"))
    broker.handle(user_event("s1", "EXTERNAL: return_to_bot", "return_to_bot", metadata={"is_external": True}))
    texts = [m.text for m in repo.ticket_messages(ticket.id, url=db_url)]
    assert texts == ["родился ***, код не приходит"]
    assert repo.figures(url=db_url)["conversations"] == 1


def test_broker_returns_the_citizen_to_the_bot(db_url):
    broker = HandoffEventBroker(db_url)
    ticket, _ = repo.create_ticket("s2", "telegram", "request", "", "вопрос", url=db_url)
    broker.publish(user_event("s2", "вернуться к боту", "faq", input_channel="telegram"))  # text wins over NLU
    broker.flush()
    closed = repo.get_ticket(ticket.id, url=db_url)
    assert closed.status == "closed" and closed.closed_by == "citizen" and closed.resume_pending
    assert is_return_to_bot("return_to_bot", "что угодно") and not is_return_to_bot("faq", "бот тупой")


def test_broker_leaves_after_hours_requests_to_the_bot(db_url):
    broker = HandoffEventBroker(db_url)
    ticket, _ = repo.create_ticket("s3", "rest", "request", "", "перезвоните", offline=True, url=db_url)
    broker.handle(user_event("s3", "какой телефон горячей линии"))
    assert repo.ticket_messages(ticket.id, url=db_url) == []


# --- the actions --------------------------------------------------------------------------

@pytest.fixture
def action_env(monkeypatch, db_url):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HANDOFF_HOURS", "24/7")
    return db_url


def _run(action, dispatcher, tracker):
    import asyncio

    return asyncio.new_event_loop().run_until_complete(action.run(dispatcher, tracker, {}))


def test_fraud_report_becomes_the_summary_and_the_ticket_pauses_the_bot(action_env, make_tracker, dispatcher):
    from actions.handoff import ActionHandoffCreateTicket, ActionHandoffStart

    events = [rasa_user_event("report_fraud", "мне звонят и просят код из смс"),
              rasa_user_event("request_operator", "соедините с оператором")]
    for event in events:
        event["input_channel"] = "telegram"
    tracker = make_tracker(events, sender_id="telegram_42")
    started = _run(ActionHandoffStart(), dispatcher, tracker)
    slots = {e["name"]: e["value"] for e in started if e["event"] == "slot"}
    assert slots == {"handoff_reason": "fraud", "handoff_offline": False,
                     "handoff_summary": "Мошенничество: мне звонят и просят код из смс"}
    tracker = make_tracker(events, slots=slots, sender_id="telegram_42")
    created = _run(ActionHandoffCreateTicket(), dispatcher, tracker)
    assert {"event": "pause", "timestamp": None} in created and created[-1]["name"] == "action_listen"
    ticket = repo.open_ticket_for("telegram_42", url=action_env)
    assert ticket.channel == "telegram" and ticket.reason == "fraud" and "report_fraud" in ticket.topic
    assert dispatcher.messages[-1]["response"] == "utter_handoff_queued"
    assert dispatcher.messages[-1]["handoff_position"] == "1"


def test_after_hours_the_request_waits_without_pausing(action_env, monkeypatch, make_tracker, dispatcher):
    from actions.handoff import ActionHandoffCreateTicket, ActionHandoffStart

    monkeypatch.setenv("HANDOFF_HOURS", "вс 03:00-03:01")
    events = [rasa_user_event("request_operator", "позовите оператора")]
    started = _run(ActionHandoffStart(), dispatcher, make_tracker(events))
    assert {"event": "slot", "name": "handoff_offline", "value": True, "timestamp": None} in started
    assert dispatcher.messages[0]["response"] == "utter_handoff_offline"
    tracker = make_tracker(events, slots={"handoff_offline": True, "handoff_summary": "нужна справка",
                                          "handoff_contact": "+79123456789"})
    created = _run(ActionHandoffCreateTicket(), dispatcher, tracker)
    assert not any(e["event"] == "pause" for e in created)
    ticket = repo.open_ticket_for("test-user", url=action_env)
    assert ticket.offline and ticket.callback_phone == "+79123456789"
    assert dispatcher.messages[-1]["response"] == "utter_handoff_callback_accepted"


def test_resume_asks_for_a_rating_only_after_an_operator_talked(action_env, make_operator, make_tracker,
                                                                dispatcher):
    from actions.handoff import ActionHandoffFeedback, ActionHandoffResume

    anna = make_operator("anna")
    ticket, _ = repo.create_ticket("test-user", "rest", "request", "", "вопрос", url=action_env)
    repo.take_ticket(ticket.id, anna.id, url=action_env)
    repo.close_ticket(ticket.id, closed_by="operator", resolution="", url=action_env)
    tracker = make_tracker([rasa_user_event("return_to_bot", "EXTERNAL: return_to_bot")])
    events = _run(ActionHandoffResume(), dispatcher, tracker)
    assert events[0] == {"event": "resume", "timestamp": None}
    assert dispatcher.messages[-1]["response"] == "utter_handoff_closed_rate"
    rating = rasa_user_event("leave_feedback", "5", entities=[{"entity": "rating", "value": "5"}])
    _run(ActionHandoffFeedback(), dispatcher, make_tracker([rating]))
    assert dispatcher.messages[-1]["response"] == "utter_handoff_rating_thanks"
    assert repo.get_ticket(ticket.id, url=action_env).rating == 5
    # A citizen who leaves the queue before anyone took the ticket is not asked.
    waiting, _ = repo.create_ticket("test-user", "rest", "request", "", "другой вопрос", url=action_env)
    _run(ActionHandoffResume(), dispatcher, tracker)
    assert dispatcher.messages[-1]["response"] == "utter_handoff_returned"
    assert repo.get_ticket(waiting.id, url=action_env).closed_by == "citizen"
    # Plain feedback stays plain feedback.
    _run(ActionHandoffFeedback(), dispatcher, make_tracker([rasa_user_event("leave_feedback", "хочу пожаловаться")]))
    assert dispatcher.messages[-1]["response"] == "utter_leave_feedback"


def test_the_operators_goodbye_and_rating_question_come_only_within_an_hour_of_closing(
        action_env, make_operator, make_tracker, dispatcher):
    import datetime as dt

    from actions.handoff import ActionHandoffResume

    anna = make_operator("anna")
    tracker = make_tracker([rasa_user_event("return_to_bot", "EXTERNAL: return_to_bot")])
    for minutes, response, rating_asked in ((59, "utter_handoff_closed_rate", True),
                                            (61, "utter_handoff_back", False)):
        ticket, _ = repo.create_ticket("test-user", "rest", "request", "", f"вопрос {minutes}", url=action_env)
        repo.take_ticket(ticket.id, anna.id, url=action_env)
        closed_at = repo.utcnow() - dt.timedelta(minutes=minutes)
        repo.close_ticket(ticket.id, closed_by="operator", resolution="", at=closed_at, url=action_env)
        _run(ActionHandoffResume(), dispatcher, tracker)
        assert dispatcher.messages[-1]["response"] == response
        assert (repo.get_ticket(ticket.id, url=action_env).rating_requested_at is not None) is rating_asked
