"""Chat answers are short, lead somewhere, and read as good Russian."""
from __future__ import annotations

import re

from hotline import texts
from hotline.answer_text import is_voice, render, sentences, slot_defaults, variations, words

MAX_CHAT_WORDS = 80
MAX_BULLETS = 3
TOPIC_ANSWERS = {"utter_service_info", "utter_registration_help", "utter_login_help", "utter_tech_issue",
                 "utter_book_mfc_visit", "utter_report_fraud"}
# Buttons whose payload is text the assistant understands rather than an intent.
TEXT_PAYLOADS = {
    "в чате": "the handoff form's answer «reply here»",
    "где найти ответы на часто задаваемые вопросы": "«Частые вопросы»: faq/knowledge_base (tests/test_rest.py)",
}
# The assistant's own past forms would be male or female; it speaks without them.
GENDERED = re.compile(r"\b(понял|поняла|остановил|остановила|смог|смогла|рад|рада|готов|готова|расслышал|"
                      r"расслышала|зафиксировал|зафиксировала|передал|передала|нашёл|нашла|увидел|увидела)\b",
                      re.I)
# Calques and wording the issue found.
AWKWARD = ["Мне жаль", "После звонка вы попадаете", "г..", "живым оператором"]


def _chat(domain_yaml):
    return [(name, v) for name, v in variations(domain_yaml) if not is_voice(v)]


def test_chat_answers_stay_under_eighty_words(domain_yaml):
    defaults = slot_defaults(domain_yaml)
    for name, variation in _chat(domain_yaml):
        count = len(words(render(variation["text"], defaults)))
        assert count <= MAX_CHAT_WORDS, f"{name}: {count} words"


def test_at_most_three_bullets_after_a_short_direct_answer(domain_yaml):
    for name, variation in _chat(domain_yaml):
        bullets = [line for line in variation["text"].splitlines() if line.lstrip().startswith("•")]
        assert len(bullets) <= MAX_BULLETS, name
        if name.startswith("utter_faq/") or name in TOPIC_ANSWERS:
            first_line = variation["text"].strip().splitlines()[0]
            assert len(sentences(first_line)) <= 2, f"{name}: {first_line}"


def test_buttons_lead_somewhere(domain_yaml):
    intents = set(domain_yaml["intents"])
    for name, variation in _chat(domain_yaml):
        for button in variation.get("buttons") or []:
            payload = button["payload"]
            if payload.startswith("/"):
                assert re.match(r"/(\w+)", payload).group(1) in intents, (name, payload)
            else:
                assert payload in TEXT_PAYLOADS, (name, payload)


def _buttons(domain_yaml, name):
    return {b["title"]: b["payload"] for v in domain_yaml["responses"][name] for b in v.get("buttons") or []}


def test_statuses_that_need_a_person_offer_an_operator(domain_yaml):
    for name in ("utter_status_rejected", "utter_status_needs_documents", "utter_status_not_verified",
                 "utter_status_locked"):
        assert "/request_operator" in _buttons(domain_yaml, name).values(), name


def test_frequent_questions_button_asks_a_knowledge_base_question(domain_yaml):
    payload = _buttons(domain_yaml, "utter_fallback")["Частые вопросы"]
    assert TEXT_PAYLOADS[payload].startswith("«Частые вопросы»")


def _all_chat_texts(domain_yaml):
    return [(name, v["text"]) for name, v in _chat(domain_yaml)] + [("hotline/texts.py", t) for t in texts.all_texts()]


def test_the_assistant_speaks_without_gendered_forms(domain_yaml):
    for name, variation in variations(domain_yaml):
        assert not GENDERED.search(variation["text"]), (name, GENDERED.search(variation["text"]).group(0))
    for text in texts.all_texts():
        assert not GENDERED.search(text), text


def test_no_awkward_wording_and_one_kind_of_hyphen(domain_yaml):
    defaults = slot_defaults(domain_yaml)
    for name, text in _all_chat_texts(domain_yaml) + [(n, v["text"]) for n, v in variations(domain_yaml)]:
        rendered = render(text, defaults)
        for phrase in AWKWARD:
            assert phrase not in rendered, (name, phrase)
        # «онлайн‑чат», «ПИН‑код», «800‑100‑200»: the article's non-breaking hyphen everywhere.
        assert not re.search(r"\w-\w", rendered), (name, re.search(r"\w-\w", rendered).group(0))
        assert not re.search(r"\d{4} г\.", rendered), name


def test_the_round_the_clock_line_is_said_once_not_in_every_answer(domain_yaml):
    using_hours = {name for name, v in variations(domain_yaml) if "{hotline_hours}" in v["text"]}
    assert using_hours == {"utter_faq/working_hours"}
    using_phone = {name for name, v in variations(domain_yaml) if "{hotline_phone}" in v["text"]}
    assert len(using_phone) <= 5, sorted(using_phone)


def test_dates_in_status_answers_end_cleanly():
    import datetime as dt

    from hotline.entities import russian_date

    sentence = f"Дата подачи: {russian_date(dt.date(2026, 12, 2))}."
    assert sentence == "Дата подачи: 2 декабря 2026 года."
