"""What Rasa sends to the action server with each custom-action call."""
from __future__ import annotations

import json

from helpers import ROOT


def _body(monkeypatch):
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from hotline.rasa import hooks

    # A fresh install on Rasa's own method, undone after the test.
    original = getattr(RemoteAction._action_call_format, "__wrapped__", RemoteAction._action_call_format)
    monkeypatch.setattr(RemoteAction, "_action_call_format", original)
    hooks._install_domain_without_responses()
    domain = Domain.load(str(ROOT / "domain.yml"))
    action = RemoteAction("validate_application_status_form", EndpointConfig("http://127.0.0.1:9/webhook"))
    body = action._action_call_format(DialogueStateTracker("citizen-1", domain.slots), domain)
    return body, domain


def test_the_action_server_gets_the_domain_without_response_texts(monkeypatch):
    body, domain = _body(monkeypatch)
    sent = body["domain"]
    assert "responses" not in sent
    # What the form validators read is all there.
    assert sent["forms"] == domain.as_dict()["forms"] and sent["slots"] == domain.as_dict()["slots"]
    # Rasa's own domain object is untouched: it renders the responses.
    assert "utter_greet" in domain.as_dict()["responses"]
    assert len(json.dumps(body)) < len(json.dumps(domain.as_dict())) / 10



def test_action_replies_are_judged_as_rasas_schema_judges_them():
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, FollowupAction, SessionStarted,
                                         SlotSet, UserUttered)

    from hotline.rasa.hooks import _valid_by_event_type

    schema = RemoteAction.action_response_format_spec()
    full = jsonschema.validators.validator_for(schema)(schema)
    fast = _valid_by_event_type(schema, jsonschema.validators.validator_for(schema))
    events = [e.as_dict() for e in (SlotSet("requested_slot", "birth_date"), ActiveLoop(None),
                                    BotUttered("Заявление в обработке", metadata={"a": 1}), FollowupAction("x"),
                                    SessionStarted(), ActionExecuted("action_listen"), UserUttered("привет"))]
    replies = [
        {"events": events, "responses": [{"response": "utter_greet"}]},
        {"events": [], "responses": []},
        {},
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"event": "slot", "value": 1}]},  # a slot event needs a name
        {"events": [{"timestamp": 1.0}]},  # no type
        {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"}]},
        {"events": "not a list"},
        {"events": [events[0], "not an object"]},
        {"responses": "not a list"},
        [],
    ]
    for reply in replies:
        assert fast(reply) == full.is_valid(reply), reply
    assert fast(replies[0]) and not fast(replies[3])
