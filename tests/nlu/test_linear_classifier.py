"""The lean pipeline's classifier, trained on a small data set in-process:
its FAQ choice reaches the citizen through Rasa's own utter_faq, it survives
being saved and loaded, and its confidences leave room for the fallback."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline.nlu.linear_classifier import LinearIntentClassifier

EXAMPLES = {
    "greet": ["здравствуйте", "добрый день", "привет", "доброе утро", "добрый вечер", "здрасьте"],
    "thank": ["спасибо", "благодарю", "спасибо большое", "огромное спасибо", "спасибо за помощь", "благодарствую"],
    "faq/hotline_number": ["какой номер горячей линии", "номер телефона поддержки", "куда звонить",
                           "телефон горячей линии", "по какому номеру звонить", "дайте номер телефона"],
    "faq/working_hours": ["когда работает горячая линия", "часы работы", "вы работаете круглосуточно",
                          "работаете ли в выходные", "до скольки работаете", "режим работы линии"],
    "inform": ["1234567890", "AB-987654321", "номер 5555555555", "вот номер 4444444444",
               "12.03.1985", "01.01.1990"],
}
ANSWERS = {"utter_faq/hotline_number": [{"text": "Номер горячей линии: 8 800 100-70-10."}],
           "utter_faq/working_hours": [{"text": "Линия работает круглосуточно."}]}


def _training_data() -> TrainingData:
    messages = []
    for label, texts in EXAMPLES.items():
        intent, _, key = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if key:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
    return TrainingData(messages, responses=ANSWERS,
                        regex_features=[{"name": "application_number", "pattern": r"\b\d{10}\b"}])


@pytest.fixture(scope="module")
def classifiers(tmp_path_factory):
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("linear")))
    resource = Resource("linear")
    trained = LinearIntentClassifier({}, storage, resource)
    trained.train(_training_data())
    loaded = LinearIntentClassifier.load({}, storage, resource, execution_context=None)
    return trained, loaded


def _parse(classifier, text):
    message = Message.build(text=text)
    classifier.process([message])
    return message.as_dict(only_output_properties=True)


def test_faq_answer_reaches_the_citizen_through_rasa_utter_faq(classifiers, domain_yaml):
    from rasa.core.actions.action import ActionRetrieveResponse
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    parse_data = _parse(classifiers[1], "подскажите номер телефона горячей линии")
    assert parse_data["intent"]["name"] == "faq"
    domain = Domain.from_dict({"intents": ["faq"], "responses": ANSWERS})
    tracker = DialogueStateTracker.from_events("citizen", [UserUttered(parse_data["text"], parse_data["intent"],
                                                                        parse_data=parse_data)])
    events = asyncio.run(ActionRetrieveResponse("utter_faq").run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain))
    assert [e.text for e in events] == ["Номер горячей линии: 8 800 100-70-10."]


def test_faq_key_and_ranking_follow_the_question(classifiers):
    selector = _parse(classifiers[1], "в какие часы вы работаете")["response_selector"]
    assert selector["all_retrieval_intents"] == ["faq"]
    response = selector["faq"]["response"]
    assert response["intent_response_key"] == "faq/working_hours"
    assert response["utter_action"] == "utter_faq/working_hours"
    assert response["responses"] == ANSWERS["utter_faq/working_hours"]
    ranking = selector["faq"]["ranking"]
    assert [r["intent_response_key"] for r in ranking][0] == "faq/working_hours"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_saved_and_loaded_model_predicts_the_same(classifiers):
    trained, loaded = classifiers
    for text in ["спасибо огромное", "добрый день", "какой телефон у поддержки", "9876543210"]:
        before, after = _parse(trained, text)["intent_ranking"], _parse(loaded, text)["intent_ranking"]
        assert [r["name"] for r in before] == [r["name"] for r in after]
        assert [r["confidence"] for r in before] == pytest.approx([r["confidence"] for r in after], abs=1e-6)


def test_bare_number_is_inform_thanks_to_the_regex_feature(classifiers):
    assert _parse(classifiers[1], "7777777777")["intent"]["name"] == "inform"


def test_confidences_are_a_distribution_with_room_for_doubt(classifiers):
    clear = _parse(classifiers[1], "спасибо большое")["intent_ranking"]
    vague = _parse(classifiers[1], "а вот ещё что")["intent_ranking"]
    assert sum(r["confidence"] for r in clear) == pytest.approx(1.0)
    assert clear[0]["name"] == "thank" and clear[0]["confidence"] > 0.6
    # An utterance that resembles nothing must not look as sure as a clear one.
    assert vague[0]["confidence"] < clear[0]["confidence"]


def test_untrained_component_leaves_messages_alone(tmp_path):
    classifier = LinearIntentClassifier({}, LocalModelStorage(tmp_path), Resource("empty"))
    message = Message.build(text="привет")
    classifier.process([message])
    assert message.get("intent") is None
