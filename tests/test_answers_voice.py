"""The phone never reads a chat text: every response has a `channel: voice`
variation that is short, has nothing to click or read, announces the keypad
keys that really exist, and never sends the caller to the line he is on."""
from __future__ import annotations

import re

import pytest

from hotline import texts
from hotline.answer_text import NOT_ON_THE_PHONE, is_voice, placeholders, sentences, static_text, variations, words
from voice.dtmf import KEYPAD_MENU

MAX_SENTENCE_WORDS = 25
MAX_VOICE_WORDS = 45
KEY_WORDS = {"0": "ноль", "1": "один", "2": "два", "3": "три", "4": "четыре", "5": "пять", "9": "девять"}
# Placeholders a caller must not hear: a link, an address to write to, the
# number he has already dialled.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F]")
URL = re.compile(r"https?://|www\.|\.(ru|рф|com|org)\b", re.I)
CALL_THE_LINE = re.compile(r"позвон|звоните|перезвон|набери\w* номер", re.I)
# While a form asks, keypad digits are its answer (voice/dtmf.py): no menu key works.
FORM_QUESTIONS = ("utter_ask_application_number", "utter_ask_birth_date", "utter_invalid_application_number",
                  "utter_invalid_birth_date")
# Answers that inform and leave the caller to choose: they say how to repeat and reach a person.
INFORMATIVE_PREFIXES = ("utter_faq/", "utter_status_")
INFORMATIVE = {"utter_greet", "utter_service_info", "utter_registration_help", "utter_login_help",
               "utter_tech_issue", "utter_book_mfc_visit", "utter_report_fraud", "utter_out_of_scope",
               "utter_leave_feedback", "utter_status_check_cancelled"}
NOT_INFORMATIVE_STATUS = {"utter_status_locked", "utter_status_unavailable"}


def _voice(domain_yaml):
    return [(name, v) for name, v in variations(domain_yaml) if is_voice(v)]


def test_every_response_has_a_voice_variation(domain_yaml):
    voiced = {name for name, _ in _voice(domain_yaml)}
    missing = sorted(set(domain_yaml["responses"]) - voiced)
    assert not missing, f"no channel: voice variation: {missing}"


def test_each_condition_of_a_response_has_its_voice_variation(domain_yaml):
    # Rasa picks only among the voice variations on the phone: a condition
    # without one would fall to the unconditioned voice text.
    for name, items in domain_yaml["responses"].items():
        chat_conditions = {str(v.get("condition")) for v in items if not is_voice(v)}
        voice_conditions = {str(v.get("condition")) for v in items if is_voice(v)}
        assert chat_conditions <= voice_conditions, name


@pytest.mark.parametrize("limit", [MAX_VOICE_WORDS])
def test_voice_texts_are_short_enough_to_hear(domain_yaml, limit):
    for name, variation in _voice(domain_yaml):
        text = static_text(variation["text"])
        assert len(words(text)) <= limit, f"{name}: {len(words(text))} words"
        for sentence in sentences(text):
            assert len(words(sentence)) <= MAX_SENTENCE_WORDS, f"{name}: {sentence}"


def test_voice_texts_have_nothing_to_click_or_read(domain_yaml):
    for name, variation in _voice(domain_yaml):
        text = variation["text"]
        assert not URL.search(text), name
        assert not EMOJI.search(text), name
        assert "кнопк" not in text.lower(), name
        assert "buttons" not in variation, name
        assert not set(placeholders(text)) & NOT_ON_THE_PHONE, name
        assert not re.search(r"\d", static_text(text)), f"{name}: digits are written as they are said"


def test_the_caller_is_never_told_to_call_the_line(domain_yaml):
    for name, variation in _voice(domain_yaml):
        assert not CALL_THE_LINE.search(variation["text"]), name
    for text in texts.PHONE_FIXED:
        assert not CALL_THE_LINE.search(text), text


def test_the_spoken_menu_matches_the_keypad(domain_yaml):
    topics = {"/check_application_status": "статус заявления", "/ask_service_info": "услуги",
              "/ask_registration_help": "регистрация", "/report_tech_issue": "технические проблемы",
              "/book_mfc_visit": "запись в мфц"}
    menus = [v["text"].lower() for v in domain_yaml["responses"]["utter_greet"] if is_voice(v)]
    menus += [v["text"].lower() for v in domain_yaml["responses"]["utter_fallback"]
              if is_voice(v) and (v.get("condition") or [{}])[0].get("value") == "topics"]
    assert len(menus) == 2
    for menu in menus:
        for key, payload in KEYPAD_MENU.items():
            label = "повторить" if payload == "/repeat" else topics[payload]
            assert re.search(rf"{label}[^.,—]*— {KEY_WORDS[key]}\b", menu), (label, menu)
        assert "оператор — ноль" in menu


def test_informative_answers_say_how_to_repeat_and_reach_a_person(domain_yaml):
    for name, variation in _voice(domain_yaml):
        informative = (name in INFORMATIVE or name.startswith(INFORMATIVE_PREFIXES)) \
            and name not in NOT_INFORMATIVE_STATUS
        if not informative or variation.get("condition") and name == "utter_fallback":
            continue
        text = variation["text"].lower()
        assert "девять" in text and "ноль" in text, name


def test_form_questions_offer_no_menu_key(domain_yaml):
    # «1» or «9» typed while the number is asked is a digit of the number.
    for name in FORM_QUESTIONS:
        for variation in domain_yaml["responses"][name]:
            if is_voice(variation):
                text = variation["text"].lower()
                assert not re.search(r"— (один|два|три|четыре|пять|девять)\b", text), name
                assert "решётк" in text, name
