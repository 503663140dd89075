"""«Сохранить как тестовую историю» / «как историю» (workbench/stories.py):
a reviewed conversation becomes a story Rasa reads, with the trainer's
corrections, masked, appended without disturbing the file."""
from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine

from helpers import ROOT
from fakes.tracker_seed import PERSONAL_DATA, seed_tracker
from workbench import review, stories

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DOMAIN = stories.DomainInfo.from_text((ROOT / "domain.yml").read_text(encoding="utf-8"))
TEST_STORIES = (ROOT / "tests" / "test_stories.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('stories') / 'tracker.db'}"
    seed_tracker(url, now=NOW)
    engine = create_engine(url, future=True)
    yield engine
    engine.dispose()


def _steps(tracker, sender: str):
    t = review.transcript(tracker, review.conversation_key(sender))
    return t.session_steps(t.sessions[-1])


def _index(steps, kind: str, n: int = 0) -> int:
    return [i for i, s in enumerate(steps) if s.kind == kind][n]


def test_test_story_has_masked_user_lines_and_corrections(tracker):
    steps = _steps(tracker, "telegram_1001")
    fallback = _index(steps, "user", 1)
    lines = stories.build_steps(steps, DOMAIN, intents={fallback: "ask_service_info"}, actions={}, with_text=True)
    text = stories.append_story(TEST_STORIES, "справка о несудимости: передача оператору", lines)

    assert text.startswith(TEST_STORIES)  # every story, comment and blank line kept
    written = yaml.safe_load(text)["stories"][-1]
    assert written["story"] == "справка о несудимости: передача оператору"
    assert written["steps"][:2] == [{"user": "здравствуйте\n", "intent": "greet"}, {"action": "utter_greet"}]
    assert {"user": "а справку о несудимости через мфц можно получить побыстрее\n",
            "intent": "ask_service_info"} in written["steps"]
    assert {"action": "handoff_form"} in written["steps"] and {"active_loop": "handoff_form"} in written["steps"]


def test_masked_turns_become_intent_steps_and_no_personal_data_is_written(tracker):
    for sender in ("web_5a1b", "rest_8c2d", "telegram_1002"):
        steps = _steps(tracker, sender)
        fixes = {i: "inform" for i, s in enumerate(steps) if s.kind == "user" and s.intent == "nlu_fallback"}
        fixes.update({i: "utter_fallback" for i, s in enumerate(steps)
                      if s.kind == "action" and s.action not in DOMAIN.actions})
        lines = stories.build_steps(steps, DOMAIN, intents=fixes, actions=fixes, with_text=True)
        text = stories.append_story(TEST_STORIES, f"персональные данные {sender}", lines)
        added = text[len(TEST_STORIES):]
        for secret in PERSONAL_DATA:
            assert secret not in added, (sender, secret)
        assert "***" not in added


def test_fallback_intent_must_be_corrected(tracker):
    steps = _steps(tracker, "vk_2002")
    with pytest.raises(stories.StoryError, match="выберите намерение"):
        stories.build_steps(steps, DOMAIN, intents={}, actions={}, with_text=True)
    with pytest.raises(stories.StoryError, match="выберите намерение"):
        stories.build_steps(steps, DOMAIN, intents={_index(steps, "user"): "no_such_intent"}, actions={},
                            with_text=True)


def test_duplicate_name_and_personal_data_in_the_name_are_refused(tracker):
    lines = stories.build_steps(_steps(tracker, "telegram_1004"), DOMAIN, {}, {}, with_text=True)
    with pytest.raises(stories.StoryError, match="уже есть"):
        stories.append_story(TEST_STORIES, "greeting, FAQ, thanks, goodbye", lines)
    with pytest.raises(stories.StoryError, match="персональные данные"):
        stories.append_story(TEST_STORIES, "звонила Иванова Мария Петровна 12.03.1985", lines)


def test_training_story_goes_into_a_new_file_with_intents_only(tracker):
    lines = stories.build_steps(_steps(tracker, "telegram_1004"), DOMAIN, {}, {}, with_text=False)
    text = stories.append_story(None, "приветствие, номер линии, спасибо", lines)
    assert text.startswith('version: "3.1"\nstories:\n- story:')
    assert yaml.safe_load(text)["stories"][0]["steps"] == [
        {"intent": "greet"}, {"action": "utter_greet"}, {"intent": "faq"}, {"action": "utter_faq"},
        {"intent": "thank"}, {"action": "utter_thank"}]
    assert stories.story_file("New_Questions.yml") == "data/stories/new_questions.yml"
    with pytest.raises(stories.StoryError):
        stories.story_file("../../etc/passwd")


def _make_validate():
    spec = importlib.util.spec_from_file_location("make_validate", ROOT / "scripts" / "validate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_written_stories_pass_rasa_data_validate_and_read_as_test_stories(tracker, tmp_path):
    """Once, on a copy of the project: Rasa's own validator and story reader."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "data", project / "data")
    (project / "tests").mkdir()
    steps = _steps(tracker, "telegram_1001")
    lines = stories.build_steps(steps, DOMAIN, {_index(steps, "user", 1): "ask_service_info"}, {}, True)
    test_file = project / "tests" / "test_stories.yml"
    test_file.write_text(stories.append_story(TEST_STORIES, "из разбора разговора", lines), encoding="utf-8")
    training = stories.build_steps(_steps(tracker, "telegram_1004"), DOMAIN, {}, {}, with_text=False)
    (project / "data" / "stories" / "reviewed.yml").write_text(
        stories.append_story(None, "из разбора: номер линии", training), encoding="utf-8")

    result = subprocess.run([sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain.yml",
                             "--data", "data", "tests/test_stories.yml", "--config", "config.yml"],
                            cwd=project, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    # The warnings `make validate` accepts (Rasa's known false positives) and no other.
    assert _make_validate().unexpected_warnings(output) == []

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    assert YAMLStoryReader.is_test_stories_file(test_file)
    read = YAMLStoryReader(Domain.load(str(project / "domain.yml"))).read_from_file(test_file)
    assert read[-1].block_name == "из разбора разговора"
    assert sum(1 for e in read[-1].events if getattr(e, "text", None)) == 3
