"""Custom actions against real rasa-sdk trackers and dispatchers."""
from __future__ import annotations

from actions.fallback import ActionFallback, stage_for
from actions.service_info import ActionServiceInfo
from actions.session import ActionSessionStart
from helpers import run_action, user_event


def _slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_fallback_escalates_with_consecutive_misses(make_tracker, dispatcher):
    events = [user_event("greet"), {"event": "bot", "text": "Здравствуйте"}]
    stages = []
    for _ in range(4):
        events.append(user_event("nlu_fallback"))
        result = run_action(ActionFallback(), dispatcher, make_tracker(events), {})
        stages.append(_slots(result)["fallback_stage"])
    assert stages == ["rephrase", "topics", "human", "human"]


def test_an_understood_message_resets_the_fallback(make_tracker, dispatcher):
    events = [user_event("nlu_fallback"), user_event("nlu_fallback"), user_event("faq"),
              user_event("nlu_fallback")]
    result = run_action(ActionFallback(), dispatcher, make_tracker(events), {})
    assert _slots(result)["fallback_stage"] == "rephrase"
    assert stage_for(0) == "rephrase"


def test_service_info_names_the_service_of_this_message(make_tracker, dispatcher):
    events = [user_event("ask_service_info", "документы для загранпаспорта",
                         [{"entity": "service", "value": "passport_foreign"}])]
    slots = _slots(run_action(ActionServiceInfo(), dispatcher, make_tracker(events), {}))
    assert slots == {"service": "passport_foreign", "service_name": "Оформление загранпаспорта"}


def test_service_info_without_a_service_clears_the_name(make_tracker, dispatcher):
    events = [user_event("ask_service_info", "какие услуги есть")]
    tracker = make_tracker(events, slots={"service": "snils", "service_name": "Получение СНИЛС"})
    slots = _slots(run_action(ActionServiceInfo(), dispatcher, tracker, {}))
    assert slots == {"service": None, "service_name": None}


def test_session_start_applies_contact_overrides_from_environment(make_tracker, dispatcher, monkeypatch):
    monkeypatch.setenv("HOTLINE_PHONE", "8 800 000-00-00")
    monkeypatch.delenv("HOTLINE_HOURS", raising=False)
    monkeypatch.delenv("HANDOFF_HOURS", raising=False)
    result = run_action(ActionSessionStart(), dispatcher, make_tracker([]), {})
    assert result[0]["event"] == "session_started"
    assert _slots(result) == {"hotline_phone": "8 800 000-00-00"}
    assert result[-1]["name"] == "action_listen"
