"""The surname step of the status check by phone: spoken, never keyed in."""
from __future__ import annotations

import pytest

from helpers import ROOT, load_yaml
from voice.dtmf import OPERATOR, interpret
from voice.grammar import grammar_for
from voice.numbers import normalize_utterance
from voice.rasa_client import BotReply


def voice_text(response: str) -> str:
    variants = load_yaml(ROOT / "domain.yml")["responses"][response]
    return next(v["text"] for v in variants if v.get("channel") == "voice")


def test_the_name_question_is_recognised_and_heard_as_free_speech():
    reply = BotReply(messages=[{"text": voice_text("utter_ask_full_name")}])
    assert reply.expected_slot() == "full_name"
    assert grammar_for("full_name") is None  # a surname is not in any closed grammar
    assert normalize_utterance("петрова анна сергеевна", expect="full_name") == "петрова анна сергеевна"


@pytest.mark.parametrize("response", ["utter_ask_full_name", "utter_invalid_full_name"])
def test_the_name_prompts_do_not_offer_the_keypad(response):
    assert "наберите" not in voice_text(response) and "решётк" not in voice_text(response)


def test_keys_pressed_at_the_name_question_are_not_menu_choices():
    assert interpret("1", "full_name").message == "1"  # not «/check_application_status»
    assert interpret("1234567890", "full_name").message == "1234567890"
    assert interpret("0", "full_name").action == OPERATOR  # the operator key always works


@pytest.mark.parametrize("heard, sent", [
    ("пэ е тэ эр о вэ а", "петрова"),
    ("эс эм и эр эн о вэ а", "смирнова"),
    ("ка у зэ эн е цэ о вэ", "кузнецов"),
    ("бэ е эль ы х", "белых"),
    ("эм а и краткое о р о вэ", "майоров"),
    ("петрова", "петрова"),                 # a spoken surname stays as it is
    ("петрова анна", "петрова анна"),
    ("а", "а"),                             # too short to be a spelling
])
def test_a_spelled_surname_is_joined_into_one_word(heard, sent):
    assert normalize_utterance(heard, expect="full_name") == sent
