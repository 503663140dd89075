"""Every response is complete Russian text with nothing left unfilled."""
from __future__ import annotations

import re

import pytest

from helpers import ROOT, load_yaml
from hotline.answer_text import ACTION_FILLED


def _variations(domain_yaml):
    for name, variations in domain_yaml["responses"].items():
        for variation in variations:
            yield name, variation


def test_every_response_is_russian_and_non_empty(domain_yaml):
    for name, variation in _variations(domain_yaml):
        text = variation.get("text", "").strip()
        assert text, name
        letters = re.findall(r"[A-Za-zА-Яа-яЁё]", re.sub(r"\{[^}]*\}|https?://\S+", "", text))
        cyrillic = [c for c in letters if re.match(r"[А-Яа-яЁё]", c)]
        assert len(cyrillic) >= 0.9 * len(letters), f"{name}: not Russian enough"


def test_placeholders_are_filled_from_slots_with_defaults(domain_yaml):
    slots = domain_yaml["slots"]
    for name, variation in _variations(domain_yaml):
        for placeholder in re.findall(r"\{([^}]*)\}", variation.get("text", "")):
            if placeholder in ACTION_FILLED:
                continue
            assert placeholder in slots, f"{name}: unknown placeholder {{{placeholder}}}"
            assert slots[placeholder].get("initial_value"), f"{name}: {{{placeholder}}} has no default"


def test_rendered_responses_have_no_unfilled_placeholder(domain_yaml):
    values = {k: v.get("initial_value") for k, v in domain_yaml["slots"].items()}
    values.update({name: "значение" for name in ACTION_FILLED})
    for name, variation in _variations(domain_yaml):
        rendered = variation["text"].format(**{k: v for k, v in values.items() if v is not None})
        assert "{" not in rendered and "None" not in rendered, name


def test_greeting_offers_a_menu_of_buttons(domain_yaml):
    for variation in domain_yaml["responses"]["utter_greet"]:
        if variation.get("channel") == "voice":
            continue  # options are spoken on the phone
        payloads = {b["payload"] for b in variation["buttons"]}
        assert {"/ask_service_info", "/check_application_status", "/request_operator"} <= payloads


def test_faq_answers_keep_the_articles_figures(domain_yaml):
    wait = " ".join(v["text"] for v in domain_yaml["responses"]["utter_faq/wait_time"])
    assert "30 секунд" in wait and "85" in wait and "95" in wait
    number = " ".join(v["text"] for v in domain_yaml["responses"]["utter_faq/application_number_format"])
    assert "1234567890" in number and "987654321" in number
    email = " ".join(v["text"] for v in domain_yaml["responses"]["utter_faq/email"])
    assert "Спам" in email


def test_rules_and_stories_only_use_known_actions(domain_yaml):
    known = (set(domain_yaml["responses"]) | set(domain_yaml["actions"]) | set(domain_yaml["forms"])
             | {"utter_faq", "action_deactivate_loop"})
    for path in list((ROOT / "data").rglob("*.yml")) + [ROOT / "tests" / "test_stories.yml"]:
        content = load_yaml(path)
        for block in content.get("rules", []) + content.get("stories", []):
            for step in block["steps"]:
                if "action" in step:
                    assert step["action"] in known, f"{path.name}: {step['action']}"
