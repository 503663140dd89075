"""The operators' console over HTTP (against a fake Rasa server): sign-in,
sessions, CSRF, who may open and write to which ticket, the audit log,
take/reply/close with delivery, canned answers, figures, admin."""
from __future__ import annotations

import re

import requests

from handoff import repository as repo
from tests.handoff.handoff_helpers import ConsoleClient, wait_until

PASSWORD = "correct-horse-battery"


def _ticket(db_url, conversation="conv-1", channel="telegram", summary="не приходит код"):
    ticket, _ = repo.create_ticket(conversation, channel, "request", "ask_login_help", summary, url=db_url)
    return ticket


def _audit(db_url, action):
    return [e for e in repo.audit_entries(500, url=db_url) if e.action == action]


# --- sign-in and sessions ---------------------------------------------------------------

def test_wrong_password_is_refused_and_logged(console, make_operator, db_url):
    make_operator("anna")
    client = ConsoleClient(console.url)
    reply = client.login("anna", "wrong-password-1")
    assert reply.status_code == 401 and "csrf_token" not in reply.text
    assert client.login("nobody", PASSWORD).status_code == 401
    page = client.login_form("anna", "wrong-password-1")
    assert page.status_code == 401 and "Неверный логин или пароль" in page.text
    failures = _audit(db_url, "login_failed")
    assert [e.detail for e in failures] == ["wrong password", "unknown login", "wrong password"]
    assert client.get("/api/queue").status_code == 401


def test_repeated_failures_lock_the_login_even_for_the_right_password(console, make_operator):
    make_operator("anna")
    client = ConsoleClient(console.url)
    for _ in range(5):
        assert client.login("anna", "wrong-password-1").status_code == 401
    assert client.login("anna", PASSWORD).status_code == 401


def test_the_login_form_signs_in_and_needs_its_own_token(console, make_operator):
    make_operator("anna")
    client = ConsoleClient(console.url)
    page = client.login_form("anna", PASSWORD)
    assert page.status_code == 200 and "Очередь обращений" in page.text and 'id="login-form"' not in page.text
    cookie = [c for c in client.http.cookies if c.name == "hotline_console"][0]
    assert cookie.has_nonstandard_attr("HttpOnly")
    forged = requests.post(f"{console.url}/login", data={"login": "anna", "password": PASSWORD}, timeout=30,
                           allow_redirects=False)
    assert forged.status_code == 403


def test_expired_session_is_refused(console_factory, make_operator, db_url):
    console = console_factory(session_idle_minutes=0.05)  # 3 s idle: room for a loaded machine
    make_operator("anna")
    client = ConsoleClient(console.url)
    login = client.login("anna", PASSWORD)
    assert login.status_code == 200
    # Event-driven rather than a fixed sleep: poll until the idle session is refused.
    # Polling cannot keep it alive: the expiry is extended at most every 15 s.
    # (a one-item list: a 401 Response is falsy)
    [reply] = wait_until(lambda: (lambda r: [r] if r.status_code == 401 else None)(client.get("/api/queue")),
                         timeout=30, interval=0.25, what="the idle session to expire")
    assert reply.json()["reason"] == "expired"
    page = client.get("/queue", allow_redirects=False)
    assert page.status_code in (303, 401)  # the cookie was dropped with the 401 above
    assert _audit(db_url, "session_refused")


def test_logout_and_disabling_end_sessions(client_for, make_operator, db_url):
    make_operator("admin", admin=True)
    make_operator("anna")
    admin, anna = client_for("admin"), client_for("anna")
    other_anna = client_for("anna")
    assert anna.post("/api/logout", json={}).status_code == 200
    assert anna.get("/api/queue").status_code == 401
    assert other_anna.get("/api/queue").status_code == 200
    assert admin.post("/api/admin/operators/anna/disable", json={}).status_code == 200
    assert other_anna.get("/api/queue").status_code == 401
    assert ConsoleClient(admin.base).login("anna", PASSWORD).status_code == 401


# --- CSRF and origins -----------------------------------------------------------------------

def test_forged_requests_without_the_csrf_token_are_refused(client_for, make_operator, db_url, fake_rasa):
    make_operator("anna")
    ticket = _ticket(db_url)
    anna = client_for("anna")
    assert anna.post(f"/api/tickets/{ticket.id}/take", json={}, csrf=False).status_code == 403
    assert anna.post(f"/api/tickets/{ticket.id}/take", json={}, csrf=False,
                     headers={"X-CSRF-Token": "forged"}).status_code == 403
    # A cross-site HTML form: the browser sends the cookie (if SameSite failed) but cannot know the token.
    form = anna.http.post(f"{anna.base}/tickets/{ticket.id}/take", data={"csrf_token": "x"}, timeout=30,
                          allow_redirects=False)
    assert form.status_code == 403
    # The right token from another origin is refused too.
    assert anna.post(f"/api/tickets/{ticket.id}/take", json={},
                     headers={"Origin": "https://evil.example"}).status_code == 403
    assert repo.get_ticket(ticket.id, url=db_url).status == "waiting"
    assert len([e for e in _audit(db_url, "refused") if "CSRF" in (e.detail or "")]) == 4
    assert fake_rasa.fake.deliveries == []


def test_pages_forbid_framing_and_inline_scripts(client_for, make_operator):
    make_operator("anna")
    page = client_for("anna").get("/queue")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.text


# --- who may see and write -------------------------------------------------------------------

def test_an_operator_cannot_open_a_ticket_assigned_to_another(client_for, make_operator, db_url):
    make_operator("anna")
    make_operator("boris")
    make_operator("chief", admin=True)
    ticket = _ticket(db_url)
    anna, boris, chief = client_for("anna"), client_for("boris"), client_for("chief")
    assert boris.get(f"/api/tickets/{ticket.id}").status_code == 200  # waiting: anyone may look
    assert anna.take(ticket.id).status_code == 200
    refused = boris.get(f"/api/tickets/{ticket.id}")
    assert refused.status_code == 403 and "другой оператор" in refused.json()["error"]
    assert boris.get(f"/tickets/{ticket.id}").status_code == 403
    assert boris.get(f"/api/tickets/{ticket.id}/messages").status_code == 403
    assert boris.take(ticket.id).status_code == 409
    assert boris.reply(ticket.id, "я тоже помогу").status_code == 403
    assert boris.close(ticket.id).status_code == 403
    assert chief.get(f"/api/tickets/{ticket.id}").status_code == 200  # supervision: read only
    assert chief.reply(ticket.id, "вмешаюсь").status_code == 403
    refusals = [e for e in _audit(db_url, "refused") if e.ticket_id == ticket.id]
    assert len(refusals) == 7 and {e.operator_login for e in refusals} == {"boris", "chief"}
    reads = [e for e in _audit(db_url, "read") if e.ticket_id == ticket.id]
    assert {e.operator_login for e in reads} == {"boris", "chief"}


def test_take_reply_close_deliver_to_the_citizen_and_resume_the_bot(client_for, make_operator, db_url, fake_rasa):
    make_operator("anna", name="Анна")
    ticket = _ticket(db_url, conversation="telegram_777")
    fake = fake_rasa.fake
    fake.trackers["telegram_777"] = [
        {"event": "user", "text": "не приходит код", "timestamp": 1.0, "parse_data": {"intent": {"name": "x"}}},
        {"event": "bot", "text": "Ваше обращение №1 передано оператору.", "timestamp": 2.0,
         "metadata": {"utter_action": "utter_handoff_queued"}},
        {"event": "pause", "timestamp": 3.0}]
    anna = client_for("anna")
    queue = anna.queue()
    assert queue["waiting"] == 1 and queue["tickets"][0]["position"] == 1
    assert anna.take(ticket.id).json()["status"] == "assigned"
    joined = wait_until(lambda: fake.deliveries, what="the 'operator joined' notice")
    assert joined[0]["channel"] == "telegram" and "Анна" in joined[0]["text"]
    sent = anna.reply(ticket.id, "Здравствуйте! Проверьте номер телефона в профиле.")
    assert sent.status_code == 200 and sent.json()["delivered"]
    assert fake.deliveries[-1]["text"] == "Здравствуйте! Проверьте номер телефона в профиле."
    operator_events = [e for e in fake.trackers["telegram_777"] if e.get("metadata", {}).get("handoff")]
    assert operator_events[-1]["metadata"]["handoff"]["kind"] == "operator"
    detail = anna.get(f"/api/tickets/{ticket.id}").json()
    whos = [item["who"] for item in detail["transcript"]]
    assert whos[:3] == ["citizen", "bot", "event"] and "operator" in whos
    # The citizen answers (the broker stores it); the console shows it to the operator.
    repo.add_message(ticket.id, "citizen", "Спасибо, номер старый", "broker", delivered=True, url=db_url)
    after = detail["last_message_id"]
    fresh = anna.get(f"/api/tickets/{ticket.id}/messages?after={after}").json()["messages"]
    assert [m["text"] for m in fresh] == ["Спасибо, номер старый"]
    # Whatever the bot says on its return goes to the citizen as it is, every
    # reply in order with its buttons, and is written to the tracker once (by Rasa).
    rating = [{"title": str(n), "payload": f"/rate{{\"rating\": {n}}}"} for n in range(1, 6)]
    fake.resume_replies = [{"text": "Ответ бота 1"}, {"text": "Ответ бота 2", "buttons": rating}]
    delivered_before = len(fake.deliveries)
    closed = anna.close(ticket.id, "подсказал сменить номер")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    # The console's worker may have claimed the resumption a moment before the
    # close did: then it is still delivering when the close answers.
    wait_until(lambda: repo.get_ticket(ticket.id, url=db_url).resumed_at, timeout=30, what="the bot's return")
    assert fake.triggered == [("telegram_777", "return_to_bot")]
    events = fake.trackers["telegram_777"]
    assert [e["event"] for e in events[-3:]] == ["resume", "bot", "bot"]
    assert [e.get("text") for e in events].count("Ответ бота 2") == 1
    back = [(d["conversation_id"], d["channel"], d["text"], d.get("buttons"))
            for d in fake.deliveries[delivered_before:]]
    assert back == [("telegram_777", "telegram", "Ответ бота 1", None),
                    ("telegram_777", "telegram", "Ответ бота 2", rating)]
    stored = [(m.direction, m.text) for m in repo.ticket_messages(ticket.id, url=db_url)]
    assert stored[-2:] == [("bot", "Ответ бота 1"), ("bot", "Ответ бота 2")]
    assert repo.get_ticket(ticket.id, url=db_url).resumed_at is not None
    actions = [e.action for e in repo.audit_entries(100, ticket_id=ticket.id, url=db_url)]
    assert {"take", "write", "close", "read"} <= set(actions)


def test_a_failed_delivery_is_reported_and_kept(client_for, make_operator, db_url, fake_rasa):
    make_operator("anna")
    ticket = _ticket(db_url)
    anna = client_for("anna")
    anna.take(ticket.id)
    fake_rasa.fake.fail_delivery = True
    reply = anna.reply(ticket.id, "ответ")
    assert reply.status_code == 502
    stored = [m for m in repo.ticket_messages(ticket.id, url=db_url) if m.direction == "operator"]
    assert stored[-1].delivery_error and stored[-1].delivered_at is None


def test_waiting_citizens_get_an_acknowledgement_and_word_when_the_wait_grows(console_factory, make_operator,
                                                                             db_url, fake_rasa):
    from handoff.console.app import SERVICE_KEY

    console = console_factory(default_handling_minutes=20.0)
    ticket = _ticket(db_url, conversation="vk_1", channel="vk")
    repo.set_ticket_fields(ticket.id, told_wait_seconds=60, url=db_url)
    fake = fake_rasa.fake
    repo.add_message(ticket.id, "citizen", "алло?", "broker", delivered=True, url=db_url)
    ack = wait_until(lambda: [d for d in fake.deliveries if "сообщение получено" in d["text"]], what="ack")
    assert ack[0]["conversation_id"] == "vk_1" and "1‑й в очереди" in ack[0]["text"]
    service = console.app[SERVICE_KEY]
    # The only operator is busy now: 1-й in the queue waits half a conversation, 10 minutes.
    make_operator("anna")
    repo.take_ticket(_ticket(db_url, conversation="busy", channel="rest").id,
                     repo.operator_by_login("anna", url=db_url).id, url=db_url)
    repo.set_ticket_fields(ticket.id, told_wait_seconds=600, url=db_url)
    assert console.call(service.tell_grown_waits()) == 0  # told 10 minutes: nothing new
    repo.set_ticket_fields(ticket.id, told_wait_seconds=60, url=db_url)
    assert console.call(service.tell_grown_waits()) == 1  # told 1 minute: it grew
    assert "ожидание увеличилось" in fake.deliveries[-1]["text"]
    assert "через 10 минут" in fake.deliveries[-1]["text"]
    assert repo.get_ticket(ticket.id, url=db_url).told_wait_seconds == 600


# --- canned answers, figures, admin -------------------------------------------------------------

def test_canned_answers_are_the_bots_faq_with_contacts_filled(client_for, make_operator):
    make_operator("anna")
    answers = client_for("anna").get("/api/canned").json()["answers"]
    keys = {a["key"] for a in answers}
    assert {"hotline_number", "wait_time", "security_tips"} <= keys and len(answers) == 14
    number = next(a for a in answers if a["key"] == "hotline_number")
    assert "800‑100‑200" in number["text"] and "{" not in number["text"]


def test_figures_json_and_page(client_for, make_operator, db_url):
    make_operator("anna")
    _ticket(db_url)
    anna = client_for("anna")
    figures = anna.get("/api/figures").json()
    assert figures["tickets"] == 1 and figures["waiting_now"] == 1 and figures["console_sessions_live"] == 1
    assert {"tickets_per_hour", "waiting_seconds", "handling_seconds", "containment", "rating"} <= set(figures)
    assert "Решено без оператора" in anna.get("/figures").text


def test_admin_adds_and_disables_operators_and_reads_the_audit_log(client_for, make_operator, db_url):
    make_operator("chief", admin=True)
    make_operator("anna")
    chief, anna = client_for("chief"), client_for("anna")
    assert anna.get("/admin/operators").status_code == 403
    assert anna.post("/api/admin/operators", json={"login": "x", "display_name": "X",
                                                   "password": PASSWORD}).status_code == 403
    page = chief.get("/admin/operators")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    added = chief.http.post(f"{chief.base}/admin/operators", timeout=30, data={
        "csrf_token": token, "login": "vera", "display_name": "Вера Петрова", "password": "another-long-pass",
        "telegram_user_id": "5001"})
    assert added.status_code == 200 and "Оператор добавлен: vera" in added.text
    assert ConsoleClient(chief.base).login("vera", "another-long-pass").status_code == 200
    short = chief.post("/api/admin/operators", json={"login": "w", "display_name": "W", "password": "short"})
    assert short.status_code == 400
    assert chief.post("/api/admin/operators/chief/disable", json={}).status_code == 400  # not oneself
    assert chief.post("/api/admin/operators/vera/disable", json={}).status_code == 200
    assert ConsoleClient(chief.base).login("vera", "another-long-pass").status_code == 401
    entries = chief.get("/api/audit").json()["entries"]
    actions = [e["action"] for e in entries]
    assert "admin_add_operator" in actions and "admin_disable_operator" in actions and "login" in actions
    assert "Журнал действий" in chief.get("/audit").text


def test_pages_can_be_clicked_through(client_for, make_operator, db_url, fake_rasa):
    make_operator("anna", name="Анна")
    waiting = _ticket(db_url, conversation="socket-1", channel="socketio", summary="вопрос <b>с разметкой</b>")
    mine = _ticket(db_url, conversation="socket-2", channel="socketio", summary="второй вопрос")
    anna = client_for("anna")
    queue = anna.get("/queue")
    assert queue.status_code == 200
    for element in (f'id="take-{waiting.id}"', f'id="open-{waiting.id}"', 'id="queue-table"', 'id="logout"'):
        assert element in queue.text
    assert "<b>с разметкой</b>" not in queue.text and "&lt;b&gt;" in queue.text  # escaped
    token = re.search(r'name="csrf_token" value="([^"]+)"', queue.text).group(1)
    taken = anna.http.post(f"{anna.base}/tickets/{mine.id}/take", data={"csrf_token": token}, timeout=30)
    assert taken.status_code == 200 and taken.url.endswith(f"/tickets/{mine.id}")
    for element in ('id="reply-text"', 'id="canned"', 'id="send-reply"', 'id="resolution"', 'id="close-ticket"',
                    'id="transcript"', 'id="live-messages"', 'for="reply-text"', 'for="resolution"'):
        assert element in taken.text
    replied = anna.http.post(f"{anna.base}/tickets/{mine.id}/reply", timeout=30,
                             data={"csrf_token": token, "text": "ответ из формы"})
    assert replied.status_code == 200 and "ответ из формы" in replied.text
    closed = anna.http.post(f"{anna.base}/tickets/{mine.id}/close", timeout=30,
                            data={"csrf_token": token, "resolution": "готово"})
    assert closed.status_code == 200 and closed.url.endswith("/queue")
    assert repo.get_ticket(mine.id, url=db_url).status == "closed"
    page = anna.get(f"/tickets/{waiting.id}")
    assert page.status_code == 200 and 'id="take-ticket"' in page.text and 'id="reply-text"' not in page.text
