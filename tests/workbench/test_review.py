"""Conversation review over Rasa's tracker store (workbench/review.py): the
list with its filters and the masked transcript, on the seeded
conversations of fakes/tracker_seed.py (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest

from hotline.privacy import MASK
from fakes.tracker_seed import PERSONAL_DATA, SEEDED_AT, conversations
from workbench import review

NOW = SEEDED_AT
KEYS = {c.sender_id: review.conversation_key(c.sender_id) for c in conversations()}


@pytest.fixture(scope="module")
def tracker(seeded_tracker):
    return seeded_tracker


def _keys(page):
    return {item.key for item in page.items}


def _ago(days: float) -> dt.datetime:
    return (NOW - dt.timedelta(days=days)).replace(tzinfo=None)


def test_lists_every_conversation_newest_first_with_counts(tracker):
    page = review.list_conversations(tracker)
    assert page.total == len(conversations()) and _keys(page) == set(KEYS.values())
    lasts = [item.last for item in page.items]
    assert lasts == sorted(lasts, reverse=True)
    by_key = {item.key: item for item in page.items}
    web = by_key[KEYS["web_5a1b"]]
    assert (web.channel, web.user_turns, web.fallbacks) == ("web", 4, 2)
    assert by_key[KEYS["telegram_1001"]].handoffs == 0 and by_key[KEYS["telegram_1004"]].fallbacks == 0


def test_filters_by_channel_date_fallback_and_handoff(tracker):
    vk = review.list_conversations(tracker, review.Filters(channel="vk"))
    assert _keys(vk) == {KEYS["vk_2002"], KEYS["vk_2003"], KEYS["vk_2004"]}
    week = review.list_conversations(tracker, review.Filters(since=_ago(7), until=_ago(-1)))
    assert KEYS["telegram_1005"] not in _keys(week) and week.total == len(KEYS) - 1
    recent = review.list_conversations(tracker, review.Filters(since=_ago(0.4)))
    assert _keys(recent) == {KEYS[s] for s in ("rest_8c2d", "telegram_1003", "telegram_1004", "web_5a1d")}
    understood = review.list_conversations(tracker, review.Filters(has_fallback=False))
    assert _keys(understood) == {KEYS[s] for s in ("max_3003", "phone_7f3c", "telegram_1004", "web_5a1d")}
    assert review.list_conversations(tracker, review.Filters(has_fallback=True)).total == len(KEYS) - 4


def test_pages(tracker):
    first = review.list_conversations(tracker, page=1, per_page=5)
    second = review.list_conversations(tracker, page=2, per_page=5)
    assert len(first.items) == 5 and first.pages == 3 and not _keys(first) & _keys(second)
    beyond = review.list_conversations(tracker, page=9, per_page=5)
    assert beyond.items == [] and beyond.total == first.total == len(KEYS)


def test_a_conversation_is_found_by_its_key_without_the_list_too(tracker):
    review._KNOWN.clear()  # a bookmarked link, opened before any list page
    assert review.transcript(tracker, KEYS["vk_2004"]).channel == "vk"


def test_transcript_has_intents_confidences_and_policies(tracker):
    t = review.transcript(tracker, KEYS["telegram_1001"])
    users = [s for s in t.steps if s.kind == "user"]
    assert [(s.intent, round(s.confidence, 2)) for s in users] == [
        ("greet", 0.98), ("nlu_fallback", 0.45), ("request_operator", 0.97)]
    actions = [(s.action, s.policy) for s in t.steps if s.kind == "action"]
    assert ("utter_greet", "RulePolicy") in actions and ("handoff_form", "RulePolicy") in actions
    assert any(s.kind == "bot" and s.text.startswith("Здравствуйте") for s in t.steps)
    assert t.channel_label == "Telegram"


def test_no_personal_data_in_any_transcript(tracker):
    for conversation in conversations():
        t = review.transcript(tracker, KEYS[conversation.sender_id])
        shown = " | ".join(f"{s.text} {s.value} {s.entities}" for s in t.steps)
        for secret in PERSONAL_DATA:
            assert secret not in shown, (conversation.sender_id, secret)
    # The replies to the form's questions for a name and a date of birth are
    # masked whole; the application number by its shape.
    web = [s for s in review.transcript(tracker, KEYS["web_5a1b"]).steps if s.kind == "user"]
    assert [(s.text, s.masked_whole) for s in web[1:]] == [(MASK, False), (MASK, True), (MASK, True)]


def test_unknown_or_malformed_key_finds_nothing(tracker):
    assert review.transcript(tracker, "0" * 24) is None
    assert review.transcript(tracker, "telegram_1001") is None


def test_the_handoff_filter_finds_conversations_handed_to_an_operator(tmp_path):
    import json

    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    review.events_table.metadata.create_all(engine)
    rows = []
    for sender, action in (("telegram_1", "action_handoff_start"), ("telegram_2", "utter_greet")):
        rows.append(dict(sender_id=sender, type_name="user", timestamp=1.0, intent_name="request_operator",
                         action_name=None, data=json.dumps({"event": "user", "text": "оператор"})))
        rows.append(dict(sender_id=sender, type_name="action", timestamp=2.0, intent_name=None, action_name=action,
                         data=json.dumps({"event": "action", "name": action})))
    with engine.begin() as conn:
        conn.execute(review.events_table.insert(), rows)
    handed = review.list_conversations(engine, review.Filters(has_handoff=True))
    assert [item.key for item in handed.items] == [review.conversation_key("telegram_1")]
    assert handed.items[0].handoffs == 1
    assert _keys(review.list_conversations(engine, review.Filters(has_handoff=False))) == {
        review.conversation_key("telegram_2")}
    engine.dispose()
