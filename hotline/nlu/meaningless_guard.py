"""Send messages without a single real word to the fallback.

DIET always picks the nearest intent, often with high confidence, even for
«ккк», «🙂🙂🙂» or a keyboard mash, so the FallbackClassifier threshold alone
does not catch them. A message counts as meaningful when it has an entity or
at least one word that pymorphy knows — directly, or after transliteration
for messages typed in Latin letters («zdravstvuyte») — or a word of the
training data (abbreviations such as «МФЦ», slang such as «пасиб»).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from hotline.morph import analyzer
from hotline.translit import to_cyrillic

FALLBACK_INTENT = "nlu_fallback"


def words(text: str) -> List[str]:
    return re.findall(r"[^\W\d_]{2,}", text.lower().replace("ё", "е"))


def has_known_word(text: str, vocabulary: frozenset = frozenset()) -> bool:
    for word in words(text):
        if word in vocabulary:
            return True
        candidate = to_cyrillic(word) if re.fullmatch(r"[a-z]+", word) else word
        if analyzer().word_is_known(candidate) or candidate in vocabulary:
            return True
    return False


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class MeaninglessMessageGuard(GraphComponent):
    FILE_NAME = "vocabulary.json"

    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 vocabulary: frozenset = frozenset()) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MeaninglessMessageGuard":
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary = {w for m in training_data.training_examples for w in words(m.get(TEXT) or "")}
        self.vocabulary = frozenset(vocabulary)
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / self.FILE_NAME, sorted(vocabulary))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "MeaninglessMessageGuard":
        try:
            with model_storage.read_from(resource) as path:
                vocabulary = frozenset(rasa.shared.utils.io.read_json_file(path / cls.FILE_NAME))
        except (ValueError, FileNotFoundError):
            vocabulary = frozenset()
        return cls(model_storage, resource, vocabulary)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or message.get(ENTITIES) or has_known_word(text, self.vocabulary):
                continue
            intent = {"name": FALLBACK_INTENT, "confidence": 1.0}
            ranking = [intent] + [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK_INTENT]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
