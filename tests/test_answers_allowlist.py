"""Nothing invented: the claims a citizen could act on — numbers, hours,
durations, links, addresses, documents — come from the article or from a
deployment setting (a placeholder), never from the response's own words.

Every response (all channels) and every text of hotline/texts.py is read
without its placeholders; what remains may only contain the risky claims
listed below, each with the article's words it stands on.
"""
from __future__ import annotations

import re

from helpers import ROOT
from hotline import texts
from hotline.answer_text import static_text, variations

ARTICLE = ROOT.parent / "shared" / "seed" / "hotline_article_ru.txt"

# Numbers the texts may state, with the article's words (or why they are an instruction).
NUMBERS = {
    "30": "среднее время ожидания ответа не превышает 30 секунд",
    "85": "процент запросов, закрытых в течение первого часа, достигает 85 %",
    "95": "более 95 % обращений получают окончательное решение в течение рабочего дня",
    "1234567890": "Формат номера обычно выглядит как «1234567890»",
    "987654321": "или «AB‑987654321»",
    "12": "поданной 12 марта 2025 года",
    "2025": "поданной 12 марта 2025 года",
    # Instructions, not facts: the date format the status form accepts, the
    # +7 prefix of a call-back number, the 1–5 rating scale.
    "12.03.1985": "instruction: date format",
    "1985": "instruction: date format",
    "7": "instruction: +7",
    "1": "instruction: rating scale", "2": "instruction: rating scale", "3": "instruction: rating scale",
    "4": "instruction: rating scale", "5": "instruction: rating scale",
}
# Durations and periods, as the article words them (the phone says «тридцати секунд»).
DURATIONS = {
    "30 секунд": "не превышает 30 секунд",
    "тридцати секунд": "не превышает 30 секунд",
    "первого часа": "в течение первого часа",
    "рабочего дня": "в течение рабочего дня; в течение одного рабочего дня",
}
DURATION = re.compile(r"\b(\d+|\w*(?:один|одн|два|две|двух|три|трёх|четыр|пят|шест|сем|восьм|девят|десят|дцат|сорок|"
                      r"сто|нескольк|перв|рабоч|ближайш)\w*)\s+"
                      r"(секунд\w*|минут\w*|час(?:а|ов)?|дн(?:я|ей|ь)|сут\w*|недел\w*|месяц\w*)\b", re.I)
# Documents the texts may name.
DOCUMENTS = {
    "паспорт": "паспорт гражданина РФ", "паспортные": "паспортные реквизиты", "снилс": "СНИЛС",
    "справки": "выдаёт подтверждающие справки", "справка": "справки о доходах", "справку": "справки о доходах",
    "загранпаспорт": "example of a service name from the catalogue (hotline/services.py)",
    "заявление": "заявление, заполненное согласно образцу", "документов": "копии запрашиваемых бумаг",
    "документы": "порядок подачи заявлений и документы",
}
DOCUMENT = re.compile(r"\b(?:загран)?(?:паспорт|снилс|инн\b|полис|свидетельств|справк|выписк|удостоверени|"
                      r"доверенност|квитанци)\w*", re.I)
URL = re.compile(r"https?://|www\.|\b\w+\.(ru|рф|com|org|net)\b", re.I)
EMAIL = re.compile(r"@")
HOURS = re.compile(r"\b\d{1,2}[:.]\d{2}\b(?!\.\d)|\b(пн|вт|ср|чт|пт|сб|вс)\b|по московскому", re.I)
# Claims the issue found on main that neither the article nor a setting supports.
INVENTED = ["ничего делать не нужно", "все документы приняты", "удалённо", "программное обеспечение",
            "зафиксирован", "означает", "ровно 10", "через 15", "позвоните на горячую линию"]


def _texts(domain_yaml):
    for name, variation in variations(domain_yaml):
        yield name, static_text(variation["text"])
    for text in texts.all_texts():
        yield "hotline/texts.py", static_text(text)


def test_numbers_come_from_the_article_or_a_setting(domain_yaml):
    for name, text in _texts(domain_yaml):
        for number in re.findall(r"\d+(?:\.\d+)*", text.replace("\u2011", " ")):
            assert number in NUMBERS, f"{name}: {number!r} is neither the article's nor a setting"


def test_no_hours_links_or_addresses_of_its_own(domain_yaml):
    for name, text in _texts(domain_yaml):
        assert not URL.search(text), (name, "link")
        assert not EMAIL.search(text), (name, "address")
        assert not HOURS.search(text), (name, "hours")


def test_durations_are_the_articles(domain_yaml):
    for name, text in _texts(domain_yaml):
        for match in DURATION.finditer(text):
            phrase = f"{match.group(1)} {match.group(2)}".lower()
            assert phrase in DURATIONS, f"{name}: {phrase!r}"


def test_documents_named_are_the_articles(domain_yaml):
    for name, text in _texts(domain_yaml):
        for match in DOCUMENT.finditer(text):
            assert match.group(0).lower() in DOCUMENTS, f"{name}: {match.group(0)!r}"


def test_no_claim_the_article_does_not_make(domain_yaml):
    for name, text in _texts(domain_yaml):
        lowered = text.lower()
        for claim in INVENTED:
            assert claim not in lowered, (name, claim)


def test_call_backs_are_promised_only_where_the_deployment_enables_them(domain_yaml):
    promising = {name for name, text in _texts(domain_yaml) if re.search(r"перезвон|обратн\w+ звон", text, re.I)}
    # Both are reached only with HANDOFF_CALLBACKS=1 (actions/handoff.py).
    assert promising <= {"utter_ask_handoff_contact", "utter_handoff_callback_accepted"}, promising


def test_the_allow_list_quotes_the_article():
    assert ARTICLE.exists(), f"the article {ARTICLE} is missing: clone shared/ beside the repository"
    article = ARTICLE.read_text(encoding="utf-8")
    flat = " ".join(article.split())
    for source in list(NUMBERS.values()) + list(DURATIONS.values()) + list(DOCUMENTS.values()):
        if source.startswith(("instruction", "example")):
            continue
        for quote in source.split("; "):
            assert quote in flat, quote
