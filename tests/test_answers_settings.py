"""The operators' hours and call-backs are deployment settings: unset, a
citizen reads the article's words and is promised nothing else."""
from __future__ import annotations

import asyncio

from handoff.contacts import contact_overrides
from handoff.config import Settings
from handoff.hours import schedule_from_settings

ARTICLE_HOURS = "в стандартные рабочие часы"


def test_unset_hours_are_the_articles_words(domain_yaml):
    assert domain_yaml["slots"]["operator_hours"]["initial_value"] == ARTICLE_HOURS
    assert "operator_hours" not in contact_overrides({})
    assert schedule_from_settings(Settings.load({})) is None


def test_configured_operator_hours_reach_the_answers():
    told = contact_overrides({"HANDOFF_HOURS": "пн-пт 09:00-18:00"})
    assert told["operator_hours"] == "пн–пт 09:00–18:00 по московскому времени"
    # OPERATOR_HOURS, when given, is what the citizen reads.
    told = contact_overrides({"HANDOFF_HOURS": "пн-пт 09:00-18:00", "OPERATOR_HOURS": "с 9 до 18 по будням"})
    assert told["operator_hours"] == "с 9 до 18 по будням"
    # A schedule that cannot be read is not told at all.
    assert "operator_hours" not in contact_overrides({"HANDOFF_HOURS": "когда придётся"})


def test_support_email_default_says_where_to_find_the_address(domain_yaml):
    value = domain_yaml["slots"]["support_email"]["initial_value"]
    assert value.startswith("адрес указан в разделе «Помощь и поддержка»")


def _required(monkeypatch, make_tracker, dispatcher, **env):
    from actions.handoff import ValidateHandoffForm

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    tracker = make_tracker([], slots={"handoff_offline": True})
    return asyncio.new_event_loop().run_until_complete(ValidateHandoffForm().required_slots(
        ["handoff_summary", "handoff_contact"], dispatcher, tracker, {}))


def test_a_call_back_is_offered_only_when_the_deployment_runs_them(monkeypatch, make_tracker, dispatcher):
    monkeypatch.delenv("HANDOFF_CALLBACKS", raising=False)
    assert _required(monkeypatch, make_tracker, dispatcher) == ["handoff_summary"]
    assert _required(monkeypatch, make_tracker, dispatcher, HANDOFF_CALLBACKS="1") == [
        "handoff_summary", "handoff_contact"]
