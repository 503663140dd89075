"""The inbox page as a trainer uses it: groups with counts from a seeded
tracker store, filters, labelling into the project's data, dismissing, and
no personal data on the page, in the logs, the audit or the written files."""
from __future__ import annotations

import html as html_lib
import logging
import re

import pytest

from fakes.tracker_seed import GROUPED, LABELLABLE, PERSONAL_DATA, seed_tracker
from workbench import inbox, inbox_store, nlu_writer


@pytest.fixture
def seeded(workbench_config):
    seed_tracker(workbench_config.tracker_url)
    return workbench_config


@pytest.fixture
def trainer(seeded, signed_in):
    return signed_in("trainer")


def _group_id(text: str) -> str:
    return inbox.group_id(inbox.group_key(text))


def _label(client, text, intent, group=None, **extra):
    data = {"csrf_token": client.csrf, "group": group or _group_id(text), "text": text, "intent": intent,
            "back_since": "", **extra}
    return client.http.post(f"{client.base}/inbox/label", data=data, timeout=60)


def _no_personal_data(text: str) -> None:
    for secret in PERSONAL_DATA:
        assert secret not in text, secret


def test_the_inbox_lists_groups_with_counts_and_no_personal_data(trainer, caplog):
    caplog.set_level(logging.DEBUG)
    page = trainer.get("/inbox", params={"since": ""})
    assert page.status_code == 200
    assert "Непонятые сообщения" in page.text
    # 14 misunderstood messages in 10 groups; the largest first, with its count.
    summary = re.search(r'id="inbox-summary">(.*?)</p>', page.text, re.S).group(1)
    assert "<strong>14</strong>" in summary and "<strong>10</strong>" in summary
    first = page.text.index('class="card inbox-group"')
    assert f"«{GROUPED[1]}»" in page.text[first:first + 400] and 'data-count="3"' in page.text[first:first + 400]
    assert "затем попросили оператора" in page.text and "два намерения почти равны" in page.text
    assert "Текст скрыт целиком" in page.text  # the replies to the form's personal questions
    _no_personal_data(page.text)
    _no_personal_data(caplog.text)
    # Conversations are linked by the review's key, not by their sender ids.
    from workbench.review import conversation_key

    assert "telegram_1003" not in page.text and "rest_8c2d" not in page.text
    assert f'href="/conversations/{conversation_key("telegram_1003")}"' in page.text
    transcript = trainer.get(f"/conversations/{conversation_key('telegram_1003')}")
    assert transcript.status_code == 200 and "госпошлину" in transcript.text


def test_by_default_the_last_week_is_shown_and_filters_narrow_it(trainer):
    week = trainer.get("/inbox")
    assert "<strong>13</strong>" in week.text and "пособие на внука" not in week.text
    vk = trainer.get("/inbox", params={"since": "", "channel": "vk"})
    assert "<strong>3</strong>" in re.search(r'id="inbox-summary">(.*?)</p>', vk.text, re.S).group(1)
    assert "соцзащиты" in vk.text and "несудимости" not in vk.text
    fraud = trainer.get("/inbox", params={"since": "", "intent": "report_fraud"})
    assert "соцзащиты" in fraud.text and "госпошлину" not in fraud.text
    bad = trainer.get("/inbox", params={"since": "вчера", "channel": "fax"})
    assert bad.status_code == 200
    assert "не распознана" in bad.text and "Такого канала нет" in bad.text


def test_labelling_writes_the_example_hides_the_group_and_audits_without_text(trainer, seeded, db_url, caplog):
    from handoff.repository import audit_entries

    caplog.set_level(logging.DEBUG)
    text, intent = LABELLABLE[0]
    reply = _label(trainer, text, intent, span_text_1="приложение", span_entity_1="")
    assert reply.status_code == 400 and "и фрагмент текста, и сущность" in reply.text
    reply = _label(trainer, text, intent)
    assert reply.status_code == 200 and reply.history and reply.history[0].status_code == 303
    assert "Пример добавлен в data/nlu/service_info.yml" in reply.text
    written = (seeded.project_dir / "data" / "nlu" / "service_info.yml").read_text(encoding="utf-8")
    assert f"    - {text}\n" in written
    # The group is gone from the list; the others stay.
    page = trainer.get("/inbox", params={"since": ""})
    assert f"«{GROUPED[1]}»" not in page.text and "соцзащиты" in page.text
    [entry] = [e for e in audit_entries(url=db_url) if e.action == "wb_label"]
    assert entry.operator_login == "trainer" and entry.subject == _group_id(text)
    assert entry.detail == "intent=ask_service_info file=data/nlu/service_info.yml"
    assert inbox_store.decided(url=db_url).keys() == {_group_id(text)}
    assert "госпошлин" not in caplog.text


def test_a_refused_label_is_explained_at_its_group_and_writes_nothing(trainer, seeded):
    before = {p.name: p.read_bytes() for p in (seeded.project_dir / "data" / "nlu").glob("*.yml")}
    # A message whose masked text still holds «***».
    masked = "меня зовут *** снилс *** телефон *** по заявлению *** ничего не происходит"
    reply = _label(trainer, masked, "check_application_status")
    assert reply.status_code == 400 and "маска «***»" in reply.text
    assert f'id="error-{_group_id(masked)}"' in reply.text
    # The trainer typed personal data into the form: refused, and not shown back.
    reply = _label(trainer, "меня зовут Иванова Мария Петровна, помогите со статусом", "check_application_status",
                   group=_group_id(masked))
    assert reply.status_code == 400 and "персональные данные" in reply.text
    _no_personal_data(reply.text)
    # A held-out utterance.
    reply = _label(trainer, "Здравствуйте! Есть кто живой?", "greet", group=_group_id(LABELLABLE[1][0]))
    assert reply.status_code == 400 and "tests/nlu_heldout.yml" in reply.text
    assert before == {p.name: p.read_bytes() for p in (seeded.project_dir / "data" / "nlu").glob("*.yml")}


def test_a_concurrent_change_of_the_file_is_reported_politely(trainer, seeded, monkeypatch):
    from workbench import files

    real_read = files.read

    def read_then_someone_saves(path):
        text, version = real_read(path)
        path.write_text(text + "# правка другого тренера\n", encoding="utf-8")
        return text, version

    monkeypatch.setattr(nlu_writer.files, "read", read_then_someone_saves)
    text, intent = LABELLABLE[1]
    reply = _label(trainer, text, intent)
    assert reply.status_code == 409
    assert "изменён другим тренером" in reply.text and "data/nlu/account.yml" in reply.text
    assert text in reply.text  # the form keeps what was submitted, to send it again
    assert text not in (seeded.project_dir / "data" / "nlu" / "account.yml").read_text(encoding="utf-8")


def test_dismissing_hides_the_group_for_everyone(trainer, signed_in, db_url):
    group = _group_id(LABELLABLE[2][0])
    reply = trainer.http.post(f"{trainer.base}/inbox/dismiss",
                              data={"csrf_token": trainer.csrf, "group": group, "back_since": ""}, timeout=60)
    assert reply.status_code == 200 and "Группа скрыта" in reply.text
    assert "соцзащиты" not in reply.text
    assert "соцзащиты" not in signed_in("second").get("/inbox", params={"since": ""}).text
    assert inbox_store.decided(url=db_url).keys() == {group}


def test_posts_need_the_csrf_token(trainer):
    text, intent = LABELLABLE[0]
    reply = trainer.http.post(f"{trainer.base}/inbox/label", timeout=60,
                              data={"group": _group_id(text), "text": text, "intent": intent})
    assert reply.status_code == 403
    reply = trainer.http.post(f"{trainer.base}/inbox/dismiss", data={"group": _group_id(text)}, timeout=60)
    assert reply.status_code == 403
    assert f"«{GROUPED[1]}»" in trainer.get("/inbox", params={"since": ""}).text


def test_an_empty_tracker_store_is_said_plainly(signed_in):
    page = signed_in("trainer").get("/inbox")
    assert page.status_code == 200 and "Разговоров пока нет:" in page.text


def test_labelling_every_group_as_shown_writes_no_personal_data(trainer, seeded):
    """Whatever a trainer submits from the page, the files gain no date of
    birth, SNILS, name, phone or application number of the seeded citizens."""
    nlu = seeded.project_dir / "data" / "nlu"
    before = {p.name: set(p.read_text(encoding="utf-8").splitlines()) for p in nlu.glob("*.yml")}
    page = trainer.get("/inbox", params={"since": ""}).text
    forms = re.findall(r'<form method="post" action="/inbox/label".*?</form>', page, re.S)
    assert len(forms) == 9  # every group but the hidden replies to personal questions
    written = 0
    for html in forms:
        group = re.search(r'name="group" value="([0-9a-f]+)"', html).group(1)
        text = re.search(r'<textarea[^>]*>(.*?)</textarea>', html, re.S).group(1)
        intent = re.search(r'<option value="([^"]+)" selected>', html).group(1)
        reply = _label(trainer, html_lib.unescape(text), intent, group=group)
        assert reply.status_code in (200, 400), reply.status_code
        written += reply.status_code == 200
    added = "\n".join(line for p in nlu.glob("*.yml")
                      for line in set(p.read_text(encoding="utf-8").splitlines()) - before[p.name])
    assert written >= 3 and added.count("\n") + 1 == written
    _no_personal_data(added)
