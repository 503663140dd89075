"""Conversation tests: `rasa test core` over tests/test_stories.yml must
predict every action (NLU included, since the stories give user text)."""
from __future__ import annotations

import subprocess
import sys

from helpers import ROOT, load_yaml


def test_every_contract_intent_has_a_test_story(domain_yaml):
    used = set()
    for story in load_yaml(ROOT / "tests" / "test_stories.yml")["stories"]:
        used |= {step["intent"] for step in story["steps"] if "intent" in step}
    expected = {i for i in domain_yaml["intents"]}
    assert expected - used == set()


def test_stories_pass_without_prediction_errors(trained_model, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--model", str(trained_model),
         "--stories", "tests/test_stories.yml", "--fail-on-prediction-errors",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + (result.stdout + result.stderr)[-3000:]
