"""How the conversation review scales with the tracker store's size.

Fills a temporary SQLite tracker DB with N conversations (20,000 by default,
ten events each, Rasa's `events` table layout) and times what the review
pages do: the first page of the list, the list with filters, the lookup of
one conversation by the digest the page shows (a pass over the distinct
sender ids), and its masked transcript.

    .venv/bin/python bench/workbench_review.py [--conversations N]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time

from sqlalchemy import create_engine

from workbench import review

CHANNELS = ["telegram_", "vk_", "web_", "phone_", "max_"]
TEXTS = ["как узнать статус заявления", "не могу войти в личный кабинет", "спасибо", "запишите в мфц",
         "какой номер горячей линии", "соедините с оператором"]


def _rows(n: int, start: float):
    rng = random.Random(7)
    for c in range(n):
        sender = f"{rng.choice(CHANNELS)}{c:07d}"
        at = start + c * 30.0
        for turn in range(3):
            intent = "nlu_fallback" if rng.random() < 0.15 else "greet"
            text = rng.choice(TEXTS)
            yield (sender, "user", at, intent, None, json.dumps({
                "event": "user", "timestamp": at, "text": text,
                "parse_data": {"intent": {"name": intent, "confidence": 0.8}, "entities": [], "text": text}},
                ensure_ascii=False))
            yield (sender, "action", at + 0.1, None, "utter_greet", json.dumps({
                "event": "action", "timestamp": at + 0.1, "name": "utter_greet", "policy": "policy_1_RulePolicy",
                "confidence": 1.0}))
            yield (sender, "bot", at + 0.2, None, None, json.dumps({
                "event": "bot", "timestamp": at + 0.2, "text": "Здравствуйте!", "metadata": {"utter_action": "utter_greet"}},
                ensure_ascii=False))
            at += 5
        yield (sender, "action", at, None, "action_listen", json.dumps({"event": "action", "name": "action_listen"}))


def _time(label: str, func, repeat: int = 3):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<48} {best * 1000:8.1f} ms")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/tracker.db", future=True)
        review.events_table.metadata.create_all(engine)
        start = time.time() - args.conversations * 30.0
        rows = [dict(zip(("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"), r))
                for r in _rows(args.conversations, start)]
        with engine.begin() as conn:
            conn.execute(review.events_table.insert(), rows)
        print(f"tracker DB: {args.conversations} conversations, {len(rows)} events (SQLite)")
        page = _time("list, first page of 50", lambda: review.list_conversations(engine))
        _time("list, channel=vk and with a fallback", lambda: review.list_conversations(
            engine, review.Filters(channel="vk", has_fallback=True)))
        _time("list, page 100", lambda: review.list_conversations(engine, page=100))
        key = page.items[-1].key
        _time("open one conversation from the list (remembered)", lambda: review.transcript(engine, key))
        review._KNOWN.clear()
        _time("open one by a bookmarked link (pass over senders)", lambda: review.transcript(engine, key), repeat=1)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
