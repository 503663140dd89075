"""«Разговоры» in the browser's terms: the list and its filters, a masked
transcript, tags, and a story saved from it — on the seeded tracker DB,
with no seeded personal data (or sender id) in any page or written file."""
from __future__ import annotations

import re

import pytest
import yaml

from fakes.tracker_seed import PERSONAL_DATA, conversations, seed_tracker
from workbench.review import conversation_key

SENDERS = [c.sender_id for c in conversations()]


@pytest.fixture
def seeded(workbench_config):
    seed_tracker(workbench_config.tracker_url)


def _clean(html: str) -> None:
    for secret in PERSONAL_DATA + tuple(SENDERS):
        assert secret not in html, secret


def test_the_list_filters_and_shows_no_personal_data(seeded, signed_in):
    client = signed_in("olga")
    page = client.get("/conversations")
    assert page.status_code == 200 and f"Найдено разговоров: {len(SENDERS)}" in page.text
    _clean(page.text)
    vk = client.get("/conversations?channel=vk&fallback=yes")
    keys = set(re.findall(r'href="/conversations/([0-9a-f]{24})"', vk.text))
    assert keys == {conversation_key(s) for s in ("vk_2002", "vk_2003", "vk_2004")}
    handed = client.get("/conversations?handoff=yes")
    assert "Найдено разговоров: 0" in handed.text  # the seeded forms never create a ticket
    assert client.get("/conversations?since=not-a-date&page=x").status_code == 200


@pytest.mark.parametrize("sender", ["web_5a1b", "rest_8c2d", "telegram_1002", "telegram_1001"])
def test_a_transcript_is_masked_and_explains_the_model(seeded, signed_in, sender):
    page = signed_in("olga").get(f"/conversations/{conversation_key(sender)}")
    assert page.status_code == 200
    _clean(page.text)
    assert "уверенность" in page.text and "политика RulePolicy" in page.text
    if sender == "web_5a1b":
        assert "ответ на вопрос о персональных данных скрыт целиком" in page.text
        assert "[ответ о статусе заявления скрыт]" in page.text


def test_an_unknown_conversation_is_a_polite_404(seeded, signed_in):
    page = signed_in("olga").get("/conversations/" + "0" * 24)
    assert page.status_code == 404 and "Такого разговора нет" in page.text


def test_tags_are_added_listed_and_removed(seeded, signed_in, db_url):
    from handoff import repository as repo

    client = signed_in("olga")
    key = conversation_key("vk_2002")
    added = client.post(f"/conversations/{key}/tags", data={"tag": "  Ошибка NLU ", "csrf_token": client.csrf})
    assert added.status_code == 200 and "ошибка nlu" in added.text
    assert "ошибка nlu" in client.get("/conversations?channel=vk").text
    tagged = client.get("/conversations?tag=ошибка+nlu")
    assert set(re.findall(r'href="/conversations/([0-9a-f]{24})"', tagged.text)) == {key}
    bad = client.post(f"/conversations/{key}/tags", data={"tag": "<script>", "csrf_token": client.csrf})
    assert bad.status_code == 400 and "Метка: буквы" in bad.text and "<script>" not in bad.text
    removed = client.post(f"/conversations/{key}/tags", data={"remove": "ошибка nlu", "csrf_token": client.csrf})
    assert "ошибка nlu" not in removed.text.split('id="tag-list"')[1].split("</ul>")[0]
    assert ("wb_tag", key) in [(e.action, e.subject) for e in repo.audit_entries(10, url=db_url)]


def _story_form(html: str) -> dict:
    form = html[html.index('id="story-form"'):]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    for name, body in re.findall(r'<select id="[^"]+" name="(\w+)">(.*?)</select>', form, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = selected.group(1) if selected else ""
    return fields


def test_a_corrected_conversation_becomes_a_test_story(seeded, signed_in, project_dir, db_url):
    from handoff import repository as repo

    client = signed_in("olga")
    before = (project_dir / "tests" / "test_stories.yml").read_text(encoding="utf-8")
    key = conversation_key("web_5a1b")
    page = client.get(f"/conversations/{key}")
    fields = _story_form(page.text)
    # The two misunderstood answers to the form get their intent; one unknown action is corrected.
    missing = [name for name, value in fields.items() if name.startswith("intent_") and not value]
    assert len(missing) == 2
    refused = client.post(f"/conversations/{key}/story", data={**fields, "kind": "test", "name": "статус"})
    assert refused.status_code == 400 and "выберите намерение" in refused.text
    fields.update({name: "inform" for name in missing})
    fields.update({"kind": "test", "name": "статус заявления: ответы на вопросы формы"})
    saved = client.post(f"/conversations/{key}/story", data=fields)
    assert saved.status_code == 200 and 'id="story-saved"' in saved.text
    written = (project_dir / "tests" / "test_stories.yml").read_text(encoding="utf-8")
    assert written.startswith(before)
    for secret in PERSONAL_DATA:  # (the file's own examples use a sample date; the new story has none)
        assert secret not in written[len(before):], secret
    story = yaml.safe_load(written)["stories"][-1]
    assert story["story"] == "статус заявления: ответы на вопросы формы"
    assert story["steps"][0] == {"user": "статус заявления\n", "intent": "check_application_status"}
    assert [s for s in story["steps"] if s.get("intent") == "inform" and "user" not in s]  # masked turns
    assert ("wb_story", key) in [(e.action, e.subject) for e in repo.audit_entries(10, url=db_url)]
    again = client.post(f"/conversations/{key}/story", data=fields)
    assert again.status_code == 400 and "уже есть" in again.text


def test_a_conversation_becomes_a_training_story_in_a_new_file(seeded, signed_in, project_dir):
    client = signed_in("olga")
    key = conversation_key("telegram_1004")
    fields = _story_form(client.get(f"/conversations/{key}").text)
    fields.update({"kind": "training", "name": "номер линии", "file": "new", "new_file": "reviewed"})
    assert client.post(f"/conversations/{key}/story", data=fields).status_code == 200
    written = yaml.safe_load((project_dir / "data" / "stories" / "reviewed.yml").read_text(encoding="utf-8"))
    assert written["stories"][0]["steps"][:2] == [{"intent": "greet"}, {"action": "utter_greet"}]
    bad = client.post(f"/conversations/{key}/story", data={**fields, "new_file": "../../x"})
    assert bad.status_code == 400 and "Имя файла" in bad.text
