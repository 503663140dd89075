"""Operator send → delivery to the citizen, per channel (p50/p95).

Starts the real stack (fakes/handoff_stack.py): Rasa with the REST,
socket.io, Telegram and VK channels (the last two against the channels'
local fakes of the Telegram Bot API and the VK API), the action server, the
event broker, the handoff channel and the console. For each channel one
citizen asks for an operator through the channel itself, an operator takes
the ticket in the console and sends N messages one after another; each is
timed from the moment the console's API is called until:

* REST: the citizen's long poll (GET /webhooks/handoff/rest/<id>/messages) returns it;
* socket.io: the widget client receives the bot_uttered event;
* Telegram / VK: the fake API receives sendMessage / messages.send.

    .venv/bin/python bench/handoff_delivery.py [--messages 30]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

from fakes.waiting import wait_until
from handoff.wait import percentile


def measure(send: Callable[[str], None], arrived: Callable[[str], float], count: int, label: str) -> Dict:
    times: List[float] = []
    for i in range(count):
        text = f"Ответ оператора {label} №{i}: проверьте раздел «Заявления» в личном кабинете."
        started = time.perf_counter()
        send(text)
        times.append((arrived(text) - started) * 1000)
    return {"n": len(times), "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1)}


def wait_for(predicate):
    # Polled every 2 ms: the interval bounds the delivery time measured.
    return wait_until(predicate, timeout=30.0, interval=0.002, what="the delivery")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30)
    args = parser.parse_args()

    from hotline.db.engine import init_db
    from handoff.admin import add_operator
    from fakes.handoff_stack import PASSWORD, VK_GROUP_ID, VK_TOKEN, Stack, WidgetCitizen
    from hotline.nlu.training import train
    from fakes.telegram import FakeTelegramAPI
    from fakes.vk import FakeVK

    model = train()
    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    db_url = f"sqlite:///{workdir / 'store.db'}"
    init_db(db_url)
    add_operator("bench", "Оператор", PASSWORD, via="cli", url=db_url)
    results: Dict[str, Dict] = {}
    with FakeTelegramAPI() as telegram, FakeVK(VK_TOKEN, VK_GROUP_ID) as vk:
        stack = Stack(workdir, model, db_url, telegram=telegram, vk=vk).start()
        try:
            operator = stack.operator("bench")

            def take(conversation: str) -> int:
                ticket = stack.ticket_of(conversation, "bench")
                assert operator.take(ticket["id"]).status_code == 200
                return ticket["id"]

            def sender(ticket_id: int) -> Callable[[str], None]:
                def send(text: str) -> None:
                    reply = operator.reply(ticket_id, text)
                    assert reply.status_code == 200, reply.text
                return send

            # REST: the citizen long-polls.
            stack.servers.send("bench-rest", "позовите оператора")
            stack.servers.send("bench-rest", "не приходит смс с кодом")
            rest_ticket = take("rest_bench-rest")
            cursor = {"after": max([m["id"] for m in stack.pull("bench-rest", wait=5)] or [0])}

            def rest_arrived(text: str) -> float:
                while True:
                    got = stack.pull("bench-rest", after=cursor["after"], wait=20)
                    now = time.perf_counter()
                    cursor["after"] = max([cursor["after"]] + [m["id"] for m in got])
                    if any(m["text"] == text for m in got):
                        return now

            results["rest"] = measure(sender(rest_ticket), rest_arrived, args.messages, "REST")

            # socket.io: the widget.
            widget = WidgetCitizen(stack.servers.url, origin=stack.origin)
            try:
                widget.say("позовите оператора")
                wait_for(lambda: "одной строкой" in widget.texts())
                widget.say("не могу загрузить документы")
                wait_for(lambda: "передано оператору" in widget.texts())
                ticket = take(widget.session_id)
                results["socketio"] = measure(sender(ticket), lambda text: wait_for(
                    lambda: next((r["at"] for r in widget.received if r.get("text") == text), None)),
                    args.messages, "socket.io")
            finally:
                widget.close()

            # Telegram (the project's channel against the fake Bot API).
            chat = 4_440_001
            stack.telegram_say(chat, "позовите оператора")
            stack.telegram_say(chat, "вопрос про пособие")
            ticket = take(f"telegram_{chat}")
            results["telegram"] = measure(sender(ticket), lambda text: wait_for(lambda: next(
                (c.at for c in telegram.calls_of("sendMessage", chat) if c.params.get("text") == text), None)),
                args.messages, "Telegram")

            # VK (the project's channel against the fake VK API).
            peer = 88_001
            stack.vk_say(peer, "позовите оператора")
            stack.vk_say(peer, "вопрос про пособие")
            ticket = take(f"vk_{peer}")
            results["vk"] = measure(sender(ticket), lambda text: wait_for(lambda: next(
                (s.at for s in vk.sent_to(peer) if s.message == text), None)), args.messages, "VK")

            from handoff import repository as repo

            results["console_server_side_delivery_ms"] = repo.figures(url=db_url)["delivery_ms"]
        finally:
            stack.stop()
    print(json.dumps(results, ensure_ascii=False, indent=2))
    print("\nОператор отправил → гражданин получил (мс):")
    for channel in ("rest", "socketio", "telegram", "vk"):
        r = results[channel]
        print(f"  {channel:9s} p50 {r['p50_ms']:7.1f}   p95 {r['p95_ms']:7.1f}   max {r['max_ms']:7.1f}   (n={r['n']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
