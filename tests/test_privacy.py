"""Personal data is masked before the tracker store writes it."""
from __future__ import annotations

from hotline.privacy import MASK, mask_event, mask_text


def test_dates_and_snils_are_masked_in_text():
    text = mask_text("родился 12.03.1985, снилс 112-233-445 95, или 12 марта 1985, 1985-03-12")
    assert "1985" not in text and "445" not in text
    assert "1234567890" in mask_text("заявка 1234567890")  # the application number is kept


def test_user_event_and_personal_slots_are_masked():
    user = {"event": "user", "text": "12.03.1985", "parse_data": {
        "text": "12.03.1985", "entities": [{"entity": "birth_date", "value": "12.03.1985"}]}}
    masked = mask_event(user)
    assert masked["text"] == MASK and masked["parse_data"]["entities"][0]["value"] == MASK
    assert user["text"] == "12.03.1985"  # the in-memory event is untouched
    assert mask_event({"event": "slot", "name": "birth_date", "value": "1985-03-12"})["value"] == MASK
    assert mask_event({"event": "slot", "name": "birth_date", "value": None})["value"] is None
    assert mask_event({"event": "slot", "name": "service", "value": "snils"})["value"] == "snils"


def test_names_are_masked_wherever_they_are_written():
    from hotline.privacy import mask_names

    for text in ("меня зовут Иванова Мария Петровна, помогите", "иванов иван иванович",
                 "ИВАНОВ ИВАН ИВАНОВИЧ", "я Гарипова Лейсан Рустамовна", "фамилия Шмыгуль"):
        masked = mask_names(text)
        assert MASK in masked
        for word in ("Иванова", "Мария", "Петровна", "иванов", "ИВАНОВ", "Гарипова", "Лейсан", "Шмыгуль"):
            assert word not in masked, (text, masked)
    # The hotline's own words stay readable.
    for text in ("как зовут президента франции", "где мой ИНН и СНИЛС", "ПОМОГИТЕ МФЦ НЕ РАБОТАЕТ",
                 "поменять фамилию в паспорте после свадьбы"):
        assert mask_names(text) == text


def test_the_reply_to_a_question_for_personal_data_is_masked_whole():
    """Without a requested_slot (an old tracker), the bot's question decides."""
    from hotline.privacy import mask_events

    events = [{"event": "bot", "text": "Напишите фамилию", "metadata": {"utter_action": "utter_ask_full_name"}},
              {"event": "user", "text": "Шмыгуль", "parse_data": {"text": "Шмыгуль"}},
              {"event": "bot", "text": "Спасибо", "metadata": {"utter_action": "utter_greet"}},
              {"event": "user", "text": "статус заявки", "parse_data": {"text": "статус заявки"}}]
    texts = [e["text"] for e in mask_events(events) if e["event"] == "user"]
    assert texts == [MASK, "статус заявки"]
