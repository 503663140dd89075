"""Labelled messages written into the NLU data (workbench/nlu_writer.py): the
right file and block, comments and order kept, duplicates of training and
held-out data refused, personal data refused, a concurrent edit not lost."""
from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hotline.paths import ROOT
from fakes.tracker_seed import LABELLABLE
from workbench import files, nlu_writer
from workbench.nlu_writer import LabelRefused, Span, add_example


@pytest.fixture
def project(tmp_path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(ROOT / "data", target / "data")
    (target / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "nlu_heldout.yml", target / "tests" / "nlu_heldout.yml")
    for name in ("domain.yml", "config.yml"):
        shutil.copy2(ROOT / name, target / name)
    return target


def _inserted(before: str, after: str) -> list[tuple[int, str]]:
    """The lines `after` adds to `before` (index in `after`); fails on any other change."""
    a, b = before.splitlines(), after.splitlines()
    added = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), (tag, a[i1:i2], b[j1:j2])
        if tag == "insert":
            added += list(zip(range(j1, j2), b[j1:j2]))
    return added


def _examples(path: Path, intent: str) -> list[str]:
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        if block.get("intent") == intent:
            return [l[2:] for l in block["examples"].splitlines() if l.startswith("- ")]
    raise AssertionError(intent)


def test_an_example_is_appended_to_its_intents_block_keeping_everything_else(project):
    path = project / "data" / "nlu" / "service_info.yml"
    before = path.read_text(encoding="utf-8")
    written = add_example("ask_service_info", LABELLABLE[0][0], root=project)
    after = path.read_text(encoding="utf-8")
    assert written.path == "data/nlu/service_info.yml"
    [(index, line)] = _inserted(before, after)
    assert line == f"    - {LABELLABLE[0][0]}"
    assert _examples(path, "ask_service_info")[-1] == LABELLABLE[0][0]
    # Comments are still there, byte for byte.
    assert [l for l in before.splitlines() if l.lstrip().startswith("#")] == \
           [l for l in after.splitlines() if l.lstrip().startswith("#")]


def test_faq_keys_go_to_their_block_in_the_faq_file_and_intents_to_their_main_file(project):
    faq = project / "data" / "nlu" / "faq.yml"
    before = faq.read_text(encoding="utf-8")
    written = add_example("faq/cost", "а звонок с мобильного тарифицируется как межгород", root=project)
    assert written.path == "data/nlu/faq.yml"
    [(index, _)] = _inserted(before, faq.read_text(encoding="utf-8"))
    assert _examples(faq, "faq/cost")[-1] == "а звонок с мобильного тарифицируется как межгород"
    # leave_feedback has a block in handoff.yml (ratings) and its examples in feedback.yml.
    assert add_example("leave_feedback", "спасибо вашему чату всё стало понятно",
                       root=project).path == "data/nlu/feedback.yml"


def test_entity_spans_are_written_in_rasas_markup(project):
    written = add_example("ask_service_info", "сколько сейчас делают загранпаспорт нового образца для ребенка",
                          [Span("загранпаспорт", "service")], root=project)
    assert written.line == "сколько сейчас делают [загранпаспорт](service) нового образца для ребенка"
    assert written.line in _examples(project / "data" / "nlu" / "service_info.yml", "ask_service_info")
    with pytest.raises(LabelRefused, match="нет в тексте"):
        add_example("ask_service_info", "как получить справку об отсутствии судимости онлайн",
                    [Span("паспорт", "service")], root=project)
    with pytest.raises(LabelRefused, match="Неизвестная сущность"):
        add_example("ask_service_info", "как получить справку об отсутствии судимости онлайн",
                    [Span("справку", "document")], root=project)


@pytest.mark.parametrize("text, intent, message", [
    # Already in the training data, after folding case, «ё» and punctuation.
    ("Как зарегистрироваться на Госуслугах?!", "ask_registration_help", "уже есть в обучающих данных"),
    ("как зарегистрироваться на госуслугах", "greet", "уже есть в обучающих данных"),
    # The held-out set: exactly, and one word away.
    ("Здравствуйте! Есть кто живой?", "greet", "контрольного набора"),
    ("здравствуйте есть кто живой там", "greet", "контрольного набора"),
    ("меня зовут Иванова Мария Петровна", "inform", "персональные данные"),
    ("родилась 12.03.1985", "inform", "персональные данные"),
    ("мой телефон +7 912 345-67-89", "inform", "персональные данные"),
    ("статус заявки ***", "check_application_status", "маска"),
    ("как оплатить [пошлину](service)", "ask_service_info", "скобки"),
    ("   ", "ask_service_info", "пустой"),
    ("как оплатить пошлину", "nlu_fallback", "из списка"),
    ("как оплатить пошлину", "faq/no_such_key", "из списка"),
])
def test_refused_examples_say_why_in_russian_and_change_nothing(project, text, intent, message):
    before = {p.name: p.read_bytes() for p in (project / "data" / "nlu").glob("*.yml")}
    with pytest.raises(LabelRefused, match=message):
        add_example(intent, text, root=project)
    assert before == {p.name: p.read_bytes() for p in (project / "data" / "nlu").glob("*.yml")}


def test_a_file_changed_meanwhile_is_not_overwritten(project, monkeypatch):
    """Another trainer (or git) saves the file between our read and our write:
    their edit stays and we get EditConflict's Russian message."""
    path = project / "data" / "nlu" / "tech_issue.yml"
    real_read = files.read

    def read_then_someone_saves(p):
        text, version = real_read(p)
        Path(p).write_text(text + "# правка другого тренера\n", encoding="utf-8")
        return text, version

    monkeypatch.setattr(nlu_writer.files, "read", read_then_someone_saves)
    with pytest.raises(files.EditConflict) as conflict:
        add_example("report_tech_issue", "после обновления приложение показывает белый экран", root=project)
    assert "data/nlu/tech_issue.yml" in conflict.value.message and "другим тренером" in conflict.value.message
    assert path.read_text(encoding="utf-8").endswith("# правка другого тренера\n")
    assert "показывает белый экран" not in path.read_text(encoding="utf-8")


def test_label_choices_are_the_domains_intents_and_faq_keys_with_russian_names(project):
    choices = dict(nlu_writer.label_choices(project))
    assert "nlu_fallback" not in choices and "faq" not in choices
    assert choices["request_operator"] == "просит оператора"
    assert choices["faq/hotline_number"].startswith("FAQ:")
    assert {"service", "application_number"} <= dict(nlu_writer.entity_choices(project)).keys()


@pytest.mark.slow
def test_written_files_pass_rasa_data_validate(project):
    """The seeded messages a trainer labels in the browser journey, and one
    with an entity, written into a copy of the data: `rasa data validate`
    reports nothing but the project's known false positives."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from validate import unexpected_warnings
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for text, intent in LABELLABLE:
        add_example(intent, text, root=project)
    add_example("ask_service_info", "сколько сейчас делают загранпаспорт нового образца для ребенка",
                [Span("загранпаспорт", "service")], root=project)
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain.yml", "--data", "data",
         "--config", "config.yml"], cwd=project, capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert unexpected_warnings(output) == []


def test_the_same_message_sent_under_two_labels_at_once_is_written_once(project):
    from concurrent.futures import ThreadPoolExecutor

    text = "после обновления не открывается раздел с документами"

    def label(intent):
        try:
            return add_example(intent, text, root=project).path
        except LabelRefused as refused:
            return str(refused)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(label, ["report_tech_issue", "ask_service_info"]))
    assert sum(r.startswith("data/nlu/") for r in results) == 1
    assert any("уже есть в обучающих данных" in r for r in results)
