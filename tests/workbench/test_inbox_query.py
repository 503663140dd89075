"""The inbox query over Rasa's tracker store (workbench/inbox.py), on the
seeded conversations of fakes/tracker_seed.py, on SQLite (make run) and
PostgreSQL (production)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import inspect

from fakes.tracker_seed import GROUPED, MISUNDERSTOOD, PERSONAL_DATA, SEEDED_AT
from workbench import inbox

NOW = SEEDED_AT


@pytest.fixture(scope="module")
def tracker(seeded_tracker):
    return seeded_tracker


def _days_ago(days: float) -> dt.datetime:
    return (NOW - dt.timedelta(days=days)).replace(tzinfo=None)


def _found(items):
    return Counter((i.conversation_id, frozenset(i.reasons)) for i in items)


def test_finds_exactly_the_misunderstood_turns_with_their_reasons(tracker):
    items = list(inbox.misunderstood(tracker, limits=inbox.thresholds()))
    assert _found(items) == Counter((e.conversation_id, e.reasons) for e in MISUNDERSTOOD)
    # The understood conversations, the request for a human itself and the
    # repeat (answered this time) are not there.
    ids = {i.conversation_id for i in items}
    assert not ids & {"telegram_1004", "web_5a1d"}
    assert all(i.intent != "request_operator" for i in items)
    assert [i.text for i in items if i.conversation_id == "phone_7f3c"] == [
        "как получить справку о несудимости для работы"]


def test_each_item_carries_channel_time_intent_and_confidence(tracker):
    items = {i.conversation_id: i for i in inbox.misunderstood(tracker)}
    vk = items["vk_2002"]
    assert vk.channel == "vk" and vk.intent == "nlu_fallback" and vk.confidence == pytest.approx(0.45)
    assert vk.guess == "ask_login_help" and vk.guess_confidence == pytest.approx(0.48)
    assert abs((vk.at - _days_ago(2.0)).total_seconds()) < 120
    assert items["max_3003"].channel == "max" and items["max_3003"].guess is None
    assert items["rest_8c2d"].channel == "rest" and items["phone_7f3c"].channel == "phone"


def test_paging_through_conversations_finds_the_same_turns(tracker):
    """Two conversations per page: the query never needs the whole table at once."""
    assert _found(inbox.misunderstood(tracker, senders_per_page=2)) == _found(inbox.misunderstood(tracker))


def test_filters_by_channel_date_range_and_predicted_intent(tracker):
    vk = list(inbox.misunderstood(tracker, inbox.Filters(channel="vk")))
    assert {i.conversation_id for i in vk} == {"vk_2002", "vk_2003", "vk_2004"}
    week = list(inbox.misunderstood(tracker, inbox.Filters(since=_days_ago(7))))
    assert "telegram_1005" not in {i.conversation_id for i in week} and len(week) == len(MISUNDERSTOOD) - 1
    window = list(inbox.misunderstood(tracker, inbox.Filters(since=_days_ago(2.2), until=_days_ago(1.1))))
    assert {i.conversation_id for i in window} == {"vk_2002", "phone_7f3c", "vk_2003"}
    # A turn near the end of the range still learns what followed it.
    late = list(inbox.misunderstood(tracker, inbox.Filters(since=_days_ago(1.1), until=_days_ago(0.999))))
    assert [(i.conversation_id, "human_requested" in i.reasons) for i in late] == [("telegram_1001", True)]
    fraud = list(inbox.misunderstood(tracker, inbox.Filters(intent="report_fraud")))
    assert [i.conversation_id for i in fraud] == ["vk_2004"]
    login = list(inbox.misunderstood(tracker, inbox.Filters(intent="ask_login_help")))
    assert {i.conversation_id for i in login} == {"vk_2002", "max_3003"}
    assert list(inbox.misunderstood(tracker, inbox.Filters(channel="fax"))) == []


def test_personal_data_never_leaves_the_query(tracker):
    items = list(inbox.misunderstood(tracker))
    shown = "\n".join(i.text for i in items)
    for secret in PERSONAL_DATA:
        assert secret not in shown, secret
    whole = [i for i in items if i.whole_masked]
    assert {i.conversation_id for i in whole} == {"web_5a1b", "telegram_1002"}
    assert all(i.text == "***" for i in whole)
    free = next(i.text for i in items if i.conversation_id == "rest_8c2d" and i.text.startswith("меня"))
    assert free.startswith("меня зовут *** снилс *** телефон *** по заявлению ***")


def test_near_identical_messages_form_one_group_with_a_count(tracker):
    groups = inbox.group_items(inbox.misunderstood(tracker))
    assert sum(g.count for g in groups) == len(MISUNDERSTOOD)
    top = groups[0]
    assert top.count == 3 and top.text == GROUPED[1]
    assert sorted(top.conversations) == ["telegram_1003", "vk_2003", "web_5a1c"]
    assert top.channels == {"telegram": 1, "vk": 1, "web": 1} and top.intents == {"ask_service_info": 3}
    masked = next(g for g in groups if g.whole_masked)
    assert masked.count == 3 and masked.text == "***"
    # Different questions stay apart.
    assert len({g.id for g in groups}) == len(groups) == 10


def test_a_decided_group_hides_its_messages_up_to_the_decision(tracker):
    items = list(inbox.misunderstood(tracker))
    top = inbox.group_items(items)[0]
    hidden = inbox.group_items(items, {top.id: _days_ago(1.0)})
    # telegram_1003 (0.3 days ago) came after the decision; the other two before.
    again = next(g for g in hidden if g.id == top.id)
    assert again.count == 1 and again.conversations == ["telegram_1003"]
    assert top.id not in {g.id for g in inbox.group_items(items, {top.id: _days_ago(0)})}


def test_grouping_folds_case_punctuation_digits_and_inflection():
    key = inbox.group_key
    assert key("Как оплатить ГОСПОШЛИНУ?!") == key("как   оплатить госпошлину")
    assert key("код 1234 не пришёл") == key("код 98 не пришел")
    assert key("не приходит смс") == key("не приходят смс")
    assert key("как записаться в мфц") != key("как записаться к врачу")


def test_thresholds_come_from_the_fallback_classifier_in_config(tmp_path):
    assert inbox.thresholds() == inbox.Thresholds(0.45, 0.05)
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: FallbackClassifier\n    threshold: 0.7\n    ambiguity_threshold: 0.2\n",
                      encoding="utf-8")
    assert inbox.thresholds(config) == inbox.Thresholds(0.7, 0.2)


def test_the_timestamp_index_is_created_once(tracker):
    assert inbox.ensure_timestamp_index(tracker) and inbox.ensure_timestamp_index(tracker)
    names = {ix["name"] for ix in inspect(tracker).get_indexes("events")}
    assert "ix_events_type_name_timestamp" in names


def test_pagination_of_groups():
    groups = [inbox.Group(key=str(i), id=str(i), text=str(i), count=1) for i in range(45)]
    page = inbox.paginate(groups, 3, per_page=20)
    assert (page.page, page.pages, len(page.groups), page.total_groups) == (3, 3, 5, 45)
    assert inbox.paginate(groups, 99, per_page=20).page == 3 and inbox.paginate([], 1).pages == 1
