"""Spoken Russian numbers, dates and application numbers → entity values."""
from __future__ import annotations

import datetime as dt

import pytest

from voice.numbers import (find_application_number, find_birth_date, normalize_utterance, parse_number,
                           rewrite_numbers, spoken_digits)

TODAY = dt.date(2026, 11, 1)

NUMBERS = [
    ("ноль", 0), ("один", 1), ("семь", 7), ("десять", 10), ("одиннадцать", 11), ("девятнадцать", 19),
    ("двадцать", 20), ("двадцать один", 21), ("сорок два", 42), ("девяносто девять", 99),
    ("сто", 100), ("сто пять", 105), ("сто двадцать три", 123), ("двести одиннадцать", 211),
    ("девятьсот девяносто девять", 999), ("тысяча", 1000), ("две тысячи пять", 2005),
    ("тысяча девятьсот восемьдесят пять", 1985), ("пять тысяч триста", 5300),
    ("сто двадцать три тысячи четыреста пятьдесят шесть", 123456), ("Сто Двадцать Три", 123),
]

DIGITS = [
    ("один два три четыре", "1234"),
    ("один два три четыре пять шесть семь восемь девять ноль", "1234567890"),
    ("ноль ноль семь", "007"),
    ("двенадцать тридцать четыре пятьдесят шесть семьдесят восемь девяносто", "1234567890"),
    ("сто двадцать три четыреста пятьдесят шесть семьсот восемьдесят девять ноль", "1234567890"),
    ("двадцать три двадцать", "2320"),
    ("пятьсот ноль", "5000"),
    ("номер один два три", "123"),
    ("восемь девятьсот двенадцать", "8912"),
]

APPLICATION_NUMBERS = [
    ("эй би девять восемь семь шесть пять четыре три два один", "AB-987654321"),
    ("номер заявления эй би девять восемь семь шесть пять четыре три два один", "AB-987654321"),
    ("кей ди триста четыре девятьсот восемнадцать двести семьдесят пять", "KD-304918275"),
    ("икс кей пять пять шесть шесть семь семь восемь восемь девять", "XK-556677889"),
    ("эм эф четыреста семнадцать двести девять триста восемьдесят шесть", "MF-417209386"),
    ("ab девять восемь семь шесть пять четыре три два один", "AB-987654321"),
    ("ab987654321", "AB-987654321"),
    ("пэ эль ноль девять восемь один два три четыре пять семь", "PL-098123457"),
    ("а бэ дефис девять восемь семь шесть пять четыре три два один", "AB-987654321"),
    ("один два три четыре пять шесть семь восемь девять ноль", "1234567890"),
    ("статус заявки один два три четыре пять шесть семь восемь девять ноль пожалуйста", "1234567890"),
    ("двенадцать тридцать четыре пятьдесят шесть семьдесят восемь девяносто", "1234567890"),
    ("1234567890", "1234567890"),
    ("три девять два девять один семь девять два восемь четыре", "3929179284"),
]

NOT_APPLICATION_NUMBERS = [
    "один два три",  # too short
    "и один два три четыре пять шесть семь восемь девять",  # «и» is no letter prefix: 9 digits only
    "здравствуйте хочу узнать статус",
    "эй би девять восемь",
]

DATES = [
    ("двенадцатое марта восемьдесят пятого года", "1985-03-12"),
    ("двенадцатого марта тысяча девятьсот восемьдесят пятого года", "1985-03-12"),
    ("двенадцать марта тысяча девятьсот восемьдесят пять", "1985-03-12"),
    ("двенадцатое марта восемьдесят пять", "1985-03-12"),
    ("я родился двенадцатого марта восемьдесят пятого", "1985-03-12"),
    ("первое января двухтысячного года", "2000-01-01"),
    ("первого января две тысячи первого года", "2001-01-01"),
    ("тридцать первое декабря тысяча девятьсот девяносто девятого года", "1999-12-31"),
    ("двадцать девятое февраля двухтысячного", "2000-02-29"),
    ("третье сентября семьдесят девятого года", "1979-09-03"),
    ("пятое ноября тысяча девятьсот семьдесят девятого", "1979-11-05"),
    ("седьмое апреля шестьдесят восьмого", "1968-04-07"),
    ("двадцать пятое ноября девяносто второго", "1992-11-25"),
    ("четырнадцатое июня восемьдесят седьмого года", "1987-06-14"),
    ("тридцатое января девяносто пятого", "1995-01-30"),
    ("второе мая две тысячи десятого года", "2010-05-02"),
    ("десятое мая десятого года", "2010-05-10"),
    ("одиннадцатое октября сорокового года", "1940-10-11"),
    ("двенадцать ноль три восемьдесят пять", "1985-03-12"),
    ("двенадцать три восемьдесят пять", "1985-03-12"),
    ("двенадцать ноль три тысяча девятьсот восемьдесят пять", "1985-03-12"),
    ("12 марта 1985", "1985-03-12"),
    ("12 03 1985", "1985-03-12"),
    ("двенадцатое марта девятнадцать восемьдесят пять", "1985-03-12"),
]

NOT_DATES = [
    "тридцать второе марта восемьдесят пятого",  # no such day
    "тридцатое февраля девяностого",
    "двенадцатое марта две тысячи двадцать седьмого года",  # in the future
    "один два три четыре пять шесть семь восемь девять ноль",
    "завтра",
]

REWRITES = [
    ("статус заявления один два три четыре пять шесть семь восемь девять ноль",
     "статус заявления 1234567890"),
    ("какой статус у заявки эй би девять восемь семь шесть пять четыре три два один",
     "какой статус у заявки AB-987654321"),
    ("заявление подано двенадцатого марта восемьдесят пятого года что с ним",
     "заявление подано 12.03.1985 что с ним"),
    ("один вопрос про загранпаспорт", "один вопрос про загранпаспорт"),
    ("у меня сто двадцать три рубля", "у меня 123 рубля"),
]


def test_table_has_at_least_fifty_spoken_forms():
    forms = (NUMBERS + DIGITS + APPLICATION_NUMBERS + DATES + REWRITES)
    assert len(forms) + len(NOT_APPLICATION_NUMBERS) + len(NOT_DATES) >= 50


@pytest.mark.parametrize("spoken,value", NUMBERS)
def test_cardinal_numbers(spoken, value):
    assert parse_number(spoken) == value


def test_a_sequence_is_not_one_number():
    assert parse_number("один два три") is None
    assert parse_number("двадцать три двадцать") is None


@pytest.mark.parametrize("spoken,digits", DIGITS)
def test_digit_strings(spoken, digits):
    assert spoken_digits(spoken) == digits


@pytest.mark.parametrize("spoken,number", APPLICATION_NUMBERS)
def test_application_numbers(spoken, number):
    assert find_application_number(spoken) == number


@pytest.mark.parametrize("spoken", NOT_APPLICATION_NUMBERS)
def test_not_application_numbers(spoken):
    assert find_application_number(spoken) is None


@pytest.mark.parametrize("spoken,iso", DATES)
def test_birth_dates(spoken, iso):
    assert find_birth_date(spoken, today=TODAY) == dt.date.fromisoformat(iso)


@pytest.mark.parametrize("spoken", NOT_DATES)
def test_not_birth_dates(spoken):
    assert find_birth_date(spoken, today=TODAY) is None


@pytest.mark.parametrize("spoken,text", REWRITES)
def test_numbers_rewritten_inside_sentences(spoken, text):
    assert rewrite_numbers(spoken, today=TODAY) == text


def test_expected_slot_sends_the_value_in_the_text_channels_format():
    assert normalize_utterance("эй би девять восемь семь шесть пять четыре три два один",
                               expect="application_number") == "AB-987654321"
    assert normalize_utterance("двенадцатое марта восемьдесят пятого года", expect="birth_date",
                               today=TODAY) == "12.03.1985"
    # Not understood as the expected value: the words go to the assistant as they are.
    assert normalize_utterance("не помню", expect="birth_date", today=TODAY) == "не помню"


def test_values_pass_the_assistants_own_validation():
    from hotline.entities import normalize_application_number, parse_birth_date

    assert normalize_application_number(find_application_number(APPLICATION_NUMBERS[0][0])) == "AB-987654321"
    spoken = normalize_utterance(DATES[0][0], expect="birth_date", today=TODAY)
    assert parse_birth_date(spoken, today=TODAY) == dt.date(1985, 3, 12)
