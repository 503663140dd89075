"""Wait estimation, operators' hours in a time zone, and the parsing the
handoff actions do (summaries, contacts, ratings)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from handoff.hours import Schedule, ScheduleError
from handoff.texts import duration_accusative
from handoff.wait import (QueueState, estimate_wait_seconds, mean_handling_seconds, percentile, should_tell_again,
                          short_duration, wait_words)

MSK = ZoneInfo("Europe/Moscow")


# --- wait ------------------------------------------------------------------------

def state(online=2, busy=0, chats=1, handling=600.0) -> QueueState:
    return QueueState(online_operators=online, busy_slots=busy, chats_per_operator=chats, handling_seconds=handling)


def test_free_operators_take_the_first_citizens_within_a_minute():
    assert estimate_wait_seconds(1, state(online=2, busy=0)) == 60
    assert estimate_wait_seconds(2, state(online=2, busy=0)) == 60


def test_behind_busy_operators_the_wait_grows_in_handling_rounds():
    s = state(online=2, busy=2, handling=600)
    # The first two wait for a busy operator who is half-way: 5 minutes; the next two a round more.
    assert estimate_wait_seconds(1, s) == 300
    assert estimate_wait_seconds(2, s) == 300
    assert estimate_wait_seconds(3, s) == 900
    assert estimate_wait_seconds(5, s) == 1500


def test_chats_per_operator_multiply_the_slots():
    assert estimate_wait_seconds(2, state(online=2, busy=2, chats=2)) == 60
    assert estimate_wait_seconds(3, state(online=2, busy=2, chats=2)) == 300
    assert estimate_wait_seconds(5, state(online=2, busy=4, chats=2)) == 900


def test_nobody_signed_in_still_counts_one_slot():
    assert estimate_wait_seconds(1, state(online=0, busy=0)) == 60
    assert estimate_wait_seconds(2, state(online=0, busy=0, handling=300)) == 150


def test_handling_time_comes_from_recent_tickets_clamped():
    assert mean_handling_seconds([], 360) == 360
    assert mean_handling_seconds([120, 240], 360) == 180
    assert mean_handling_seconds([5, 5], 360) == 60
    assert mean_handling_seconds([100_000], 360) == 3600
    assert mean_handling_seconds([60] * 20 + [3000] * 5, 360) == 60  # only the 20 most recent


def test_citizen_hears_again_only_when_the_wait_really_grew():
    assert not should_tell_again(None, 900, 180)
    assert not should_tell_again(300, 400, 180)   # +100 s
    assert not should_tell_again(600, 800, 180)   # +200 s but not +50 %
    assert should_tell_again(300, 600, 180)
    assert should_tell_again(60, 300, 180)


@pytest.mark.parametrize("seconds,words", [
    (0, "1 минуты"), (60, "1 минуты"), (61, "2 минут"), (300, "5 минут"), (21 * 60, "21 минуты"),
    (3600, "1 часа"), (5400, "1 часа 30 минут"), (2 * 3600 + 60, "2 часов 10 минут")])
def test_wait_words_are_russian_genitive(seconds, words):
    assert wait_words(seconds) == words


@pytest.mark.parametrize("seconds,words", [(0, "1 мин"), (61, "2 мин"), (3599, "1 ч 0 мин"),
                                           (5400, "1 ч 30 мин")])
def test_the_queue_cell_shows_the_wait_as_its_script_does(seconds, words):
    # The page is rendered on the server and refreshed by console.js's minutes():
    # one format for both, never a genitive «1 минуты» standing alone.
    assert short_duration(seconds) == words


@pytest.mark.parametrize("seconds,words", [(60, "1 минуту"), (180, "3 минуты"), (300, "5 минут"),
                                           (21 * 60, "21 минуту"), (3600, "1 час"), (7200, "2 часа")])
def test_duration_after_cherez_is_accusative(seconds, words):
    assert duration_accusative(seconds) == words


def test_percentile_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3, 1, 2], 50) == 2
    assert percentile(list(range(1, 101)), 95) == 95


# --- hours -----------------------------------------------------------------------

WEEKDAYS = Schedule.parse("пн-пт 09:00-18:00; сб 10:00-14:00", "Europe/Moscow", "2026-12-31")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def test_open_inside_the_windows_in_the_schedules_zone():
    assert WEEKDAYS.is_open(msk(2026, 11, 25, 9, 0))        # Wednesday 09:00 MSK
    assert not WEEKDAYS.is_open(msk(2026, 11, 25, 18, 0))   # end is exclusive
    assert WEEKDAYS.is_open(msk(2026, 11, 28, 13, 59))      # Saturday
    assert not WEEKDAYS.is_open(msk(2026, 11, 29, 12, 0))   # Sunday
    # Naive datetimes are UTC (the database convention): 06:30 UTC = 09:30 MSK.
    assert WEEKDAYS.is_open(dt.datetime(2026, 11, 25, 6, 30))
    assert not WEEKDAYS.is_open(dt.datetime(2026, 11, 25, 5, 30))


def test_next_open_skips_nights_weekends_and_holidays():
    assert WEEKDAYS.next_open(msk(2026, 11, 25, 19, 0)) == msk(2026, 11, 26, 9, 0)
    assert WEEKDAYS.next_open(msk(2026, 11, 28, 15, 0)) == msk(2026, 11, 30, 9, 0)  # Saturday evening → Monday
    assert WEEKDAYS.next_open(msk(2026, 12, 30, 20, 0)) == msk(2027, 1, 1, 9, 0)    # 31 Dec is a holiday
    now = msk(2026, 11, 25, 12, 0)
    assert WEEKDAYS.next_open(now) == now


def test_windows_past_midnight_and_other_zones():
    night = Schedule.parse("пт 20:00-02:00", "Asia/Vladivostok")
    vl = ZoneInfo("Asia/Vladivostok")
    assert night.is_open(dt.datetime(2026, 11, 27, 23, 0, tzinfo=vl))
    assert night.is_open(dt.datetime(2026, 11, 28, 1, 30, tzinfo=vl))
    assert not night.is_open(dt.datetime(2026, 11, 28, 2, 0, tzinfo=vl))
    # A zone with daylight saving time: 09:00 local is 08:00 UTC in summer, 09:00 UTC in winter (Lisbon).
    lisbon = Schedule.parse("mon-fri 09:00-17:00", "Europe/Lisbon")
    assert lisbon.is_open(dt.datetime(2026, 7, 1, 8, 30))
    assert not lisbon.is_open(dt.datetime(2026, 12, 2, 8, 30))


def test_always_open_and_bad_specs():
    always = Schedule.parse("24/7")
    assert always.is_open(msk(2026, 11, 29, 3, 0)) and always.describe() == "круглосуточно"
    for spec in ("каждый день", "пн 9-18", "xx 09:00-10:00", ""):
        with pytest.raises(ScheduleError):
            Schedule.parse(spec)
    with pytest.raises(ScheduleError):
        Schedule.parse("пн 09:00-18:00", "Mars/Olympus")


def test_schedule_in_words():
    assert WEEKDAYS.describe() == "пн–пт 09:00–18:00, сб 10:00–14:00 по московскому времени"
    now = msk(2026, 11, 25, 19, 0)
    assert WEEKDAYS.when_words(msk(2026, 11, 26, 9, 0), now) == "завтра в 09:00 по московскому времени"
    assert WEEKDAYS.when_words(msk(2026, 11, 30, 9, 0), now) == \
        "в понедельник, 30 ноября, в 09:00 по московскому времени"


# --- what the actions parse ------------------------------------------------------------

def test_contacts_phone_or_chat():
    from actions.handoff import CHAT, parse_contact

    assert parse_contact("+7 912 345-67-89") == "+79123456789"
    assert parse_contact("8 (912) 345 67 89") == "+79123456789"
    assert parse_contact("9123456789") == "+79123456789"
    assert parse_contact("в чате") == CHAT
    assert parse_contact("ответьте здесь") == CHAT
    assert parse_contact("12345") is None
    assert parse_contact("не знаю") is None


@pytest.mark.parametrize("text,entities,rating", [
    ("5", None, 5), ("оценка 4", None, 4), ("ставлю пятерку", None, 5), ("на троечку", None, 3),
    ('/leave_feedback{"rating": "2"}', [{"entity": "rating", "value": "2"}], 2), ("4 из 5", None, 4),
    ("оцениваю на 3 из 10", None, None), ("жалоба на мфц", None, None), ("10", None, None)])
def test_ratings_from_buttons_digits_and_words(text, entities, rating):
    from actions.handoff import parse_rating

    assert parse_rating(text, entities) == rating


def test_summaries_are_masked_and_checked():
    from actions.handoff import clean_summary, summary_is_usable

    assert clean_summary("  не  проходит   оплата ") == "не проходит оплата"
    assert "12.03.1985" not in clean_summary("родился 12.03.1985, не могу войти")
    assert clean_summary("/request_operator") == ""
    assert summary_is_usable("не приходит смс")
    assert not summary_is_usable("ыы")
    assert not summary_is_usable("12345")
