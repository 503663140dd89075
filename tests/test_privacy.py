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
