"""The response editor: domain.yml edited one text at a time with every
other byte kept, placeholders checked, two trainers on one response, and
the voice variant spoken by the project's TTS (espeak-ng)."""
from __future__ import annotations

import difflib
import html
import io
import re
import wave

import pytest
import yaml

from helpers import ROOT
from workbench import responses as editor

DOMAIN = (ROOT / "domain.yml").read_text(encoding="utf-8")


def _changed_lines(before: str, after: str):
    return [line for line in difflib.unified_diff(before.split("\n"), after.split("\n"), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _variation(name: str, voice: bool):
    return next(v for v in editor.find(DOMAIN, name).variations if v.voice == voice and v.editable)


def test_an_edit_changes_one_text_and_keeps_comments_and_order():
    chat = _variation("utter_operator_contacts", voice=False)
    new_text = chat.text.replace("Подготовьте:", "Заранее подготовьте:")
    result = editor.replace_text(DOMAIN, "utter_operator_contacts", chat.index, new_text)
    assert _changed_lines(DOMAIN, result) == [
        "-        Связаться с оператором можно по телефону горячей линии {hotline_phone} или в онлайн‑чате на "
        "портале {portal_url}. Подготовьте:",
        "+        Связаться с оператором можно по телефону горячей линии {hotline_phone} или в онлайн‑чате на "
        "портале {portal_url}. Заранее подготовьте:"]
    assert "# Said when the operators' queue cannot take the conversation." in result
    data = yaml.safe_load(result)
    assert list(data["responses"]) == list(yaml.safe_load(DOMAIN)["responses"])
    assert data["responses"]["utter_operator_contacts"][chat.index]["text"] == new_text + "\n"


def test_a_folded_voice_text_keeps_its_lines():
    voice = _variation("utter_greet", voice=True)
    assert "\n" in voice.text  # shown as its source lines
    lines = voice.text.split("\n")
    lines[1] = lines[1].replace("Скажите коротко", "Скажите в двух словах")
    result = editor.replace_text(DOMAIN, "utter_greet", voice.index, "\n".join(lines))
    assert len(_changed_lines(DOMAIN, result)) == 2
    spoken = yaml.safe_load(result)["responses"]["utter_greet"][voice.index]["text"]
    assert spoken.startswith("Здравствуйте! Это голосовой помощник горячей линии госуслуг. Скажите в двух словах")


@pytest.mark.parametrize("name, voice, text, message", [
    ("utter_operator_contacts", False, "Позвоните по номеру {hotline_phone}.", "пропали плейсхолдеры: {portal_url}"),
    ("utter_operator_contacts", False, "{hotline_phone} {portal_url} {hotline_phon}", "Неизвестные плейсхолдеры: {hotline_phon}"),
    ("utter_operator_contacts", False, "{hotline_phone} {portal_url} {status_number}", "заполняет действие бота"),
    ("utter_operator_contacts", False, "{hotline_phone} {portal_url} {hotline_phone", "лишняя фигурная скобка"),
    ("utter_operator_contacts", False, "{ hotline_phone } {portal_url}", "лишняя фигурная скобка"),
    ("utter_thank", True, "Пожалуйста! Подробности на {portal_url}.", "не зачитывают {portal_url}"),
    ("utter_thank", True, "   ", "не может быть пустым"),
])
def test_placeholders_and_empty_texts_are_refused_in_russian(name, voice, text, message):
    with pytest.raises(editor.ResponseError, match=re.escape(message)):
        editor.replace_text(DOMAIN, name, _variation(name, voice).index, text)


def test_a_setting_placeholder_may_be_added():
    chat = _variation("utter_thank", voice=False)
    result = editor.replace_text(DOMAIN, "utter_thank", chat.index, "Пожалуйста! Мы работаем {hotline_hours}.")
    assert "{hotline_hours}" in yaml.safe_load(result)["responses"]["utter_thank"][chat.index]["text"]


# --- the page ------------------------------------------------------------------------

def _form(page_text: str, index: int) -> dict:
    section = page_text[page_text.index(f'id="v{index}"'):]
    section = section[:section.index("</section>")]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', section))
    fields["text"] = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", section, re.S).group(1))
    return {k: html.unescape(v) for k, v in fields.items()}


def _edit_url(name: str) -> str:
    return f"/responses/edit?name={name}"


def test_a_trainer_edits_a_voice_text_in_the_browser(signed_in, project_dir, db_url):
    from handoff import repository as repo

    client = signed_in("olga")
    listing = client.get("/responses")
    assert listing.status_code == 200 and "utter_goodbye" in listing.text
    index = _variation("utter_goodbye", voice=True).index
    fields = _form(client.get(_edit_url("utter_goodbye")).text, index)
    assert fields["text"] == "Спасибо за звонок. До свидания!"
    fields["text"] = "Спасибо за звонок. Всего доброго!"
    saved = client.post("/responses/edit", data=fields)
    assert saved.status_code == 200 and f'id="saved-{index}"' in saved.text
    written = (project_dir / "domain.yml").read_text(encoding="utf-8")
    assert _changed_lines(DOMAIN, written) == ["-      text: Спасибо за звонок. До свидания!",
                                               "+      text: Спасибо за звонок. Всего доброго!"]
    assert ("wb_response", "utter_goodbye") in [(e.action, e.subject) for e in repo.audit_entries(10, url=db_url)]


def test_a_refused_placeholder_keeps_the_trainers_text(signed_in, project_dir):
    client = signed_in("olga")
    index = _variation("utter_operator_contacts", voice=False).index
    fields = _form(client.get(_edit_url("utter_operator_contacts")).text, index)
    fields["text"] = "Звоните по номеру {hotline_phone}, пишите на {suport_email}."
    refused = client.post("/responses/edit", data=fields)
    assert refused.status_code == 400 and "Неизвестные плейсхолдеры: {suport_email}" in refused.text
    assert _form(refused.text, index)["text"] == fields["text"]
    assert (project_dir / "domain.yml").read_text(encoding="utf-8") == DOMAIN


def test_two_trainers_on_one_text_the_second_is_told_and_loses_nothing(signed_in, project_dir):
    anna, boris = signed_in("anna"), signed_in("boris")
    index = _variation("utter_thank", voice=True).index
    first = _form(anna.get(_edit_url("utter_thank")).text, index)
    second = _form(boris.get(_edit_url("utter_thank")).text, index)
    first["text"] = "Пожалуйста! Чем ещё помочь?"
    assert anna.post("/responses/edit", data=first).status_code == 200
    second["text"] = "Рада помочь! Что-нибудь ещё?"
    conflict = boris.post("/responses/edit", data=second)
    assert conflict.status_code == 409
    assert "изменил другой тренер" in conflict.text
    assert _form(conflict.text, index)["text"] == "Рада помочь! Что-нибудь ещё?"  # Boris's text is kept
    assert "Пожалуйста! Чем ещё помочь?" in conflict.text  # and Anna's is shown
    assert "Пожалуйста! Чем ещё помочь?" in (project_dir / "domain.yml").read_text(encoding="utf-8")
    # Having seen Anna's text, Boris saves his own deliberately.
    assert boris.post("/responses/edit", data=_form(conflict.text, index)).status_code == 200
    assert "Рада помочь! Что-нибудь ещё?" in (project_dir / "domain.yml").read_text(encoding="utf-8")


def test_two_trainers_on_different_texts_both_are_saved(signed_in, project_dir):
    anna, boris = signed_in("anna"), signed_in("boris")
    chat, voice = _variation("utter_thank", voice=False).index, _variation("utter_thank", voice=True).index
    first = _form(anna.get(_edit_url("utter_thank")).text, chat)
    second = _form(boris.get(_edit_url("utter_thank")).text, voice)
    first["text"] = "Пожалуйста! Рады были помочь."
    second["text"] = "Пожалуйста! Что-нибудь ещё?"
    assert anna.post("/responses/edit", data=first).status_code == 200
    assert boris.post("/responses/edit", data=second).status_code == 200
    written = yaml.safe_load((project_dir / "domain.yml").read_text(encoding="utf-8"))["responses"]["utter_thank"]
    assert written[chat]["text"].strip() == "Пожалуйста! Рады были помочь."
    assert written[voice]["text"] == "Пожалуйста! Что-нибудь ещё?"


def _playable(data: bytes) -> float:
    """Seconds of a WAV a browser plays, checked as a WAV reader sees it."""
    import numpy as np

    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(float)
    assert np.sqrt(np.mean(samples ** 2)) > 300  # speech, not silence
    return seconds


def test_the_voice_variant_is_spoken_as_a_playable_wav(signed_in):
    client = signed_in("olga")
    index = _variation("utter_goodbye", voice=True).index
    page = client.get(_edit_url("utter_goodbye"))
    src = html.unescape(re.search(rf'<audio id="player-{index}"[^>]*src="([^"]+)"', page.text).group(1))
    saved = client.get(src)
    assert saved.status_code == 200 and saved.headers["Content-Type"] == "audio/wav"
    assert _playable(saved.content) > 1.0

    # The text in the form, before saving: a longer text, a longer sound.
    reply = client.post("/api/responses/preview", json={"text": "Спасибо за звонок. Линия работает {hotline_hours}."})
    assert reply.status_code == 200
    audio = client.get(reply.json()["url"])
    assert audio.headers["Content-Type"] == "audio/wav" and _playable(audio.content) > _playable(saved.content)
    # Another trainer cannot fetch it; an empty text is refused politely.
    assert signed_in("boris").get(reply.json()["url"]).status_code == 404
    empty = client.post("/api/responses/preview", json={"text": "  "})
    assert empty.status_code == 400 and "текст пустой" in empty.json()["error"]
