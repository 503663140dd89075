"""Entity extraction from lookup tables that tolerates Russian inflection.

Rasa's RegexEntityExtractor matches lookup entries letter for letter, so
«загранпаспорт» in the table never matches «загранпаспорта» in a message.
Here both sides are reduced to pymorphy lemmas and compared token by token,
longest entry first. The entity value is the lookup entry as written, so that
EntitySynonymMapper (which follows in the pipeline) maps it to the canonical
id through the ``synonym:`` blocks of the training data.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from hotline import morph

logger = logging.getLogger(__name__)

# (entity type, lemma sequence, lookup entry as written)
Pattern = Tuple[Text, Tuple[Text, ...], Text]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class LemmaLookupEntityExtractor(GraphComponent, EntityExtractorMixin):
    FILE_NAME = "lemma_lookup.json"

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Only these lookup tables are matched; others stay features only.
        return {"lookup_tables": ["service"]}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: Optional[List[Pattern]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._set_patterns(patterns or [])

    def _set_patterns(self, patterns: List[Pattern]) -> None:
        # Longest first, so «заграничный паспорт» wins over «паспорт».
        self.patterns = sorted(
            ((name, tuple(lemmas), written) for name, lemmas, written in patterns),
            key=lambda p: -len(p[1]),
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LemmaLookupEntityExtractor":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        wanted = set(self._config["lookup_tables"])
        patterns: List[Pattern] = []
        for table in training_data.lookup_tables:
            if table["name"] not in wanted:
                continue
            for element in table["elements"]:
                lemmas = morph.lemmatize_phrase(element)
                if lemmas:
                    patterns.append((table["name"], lemmas, element))
        if not patterns:
            rasa.shared.utils.io.raise_warning(
                f"No lookup table named {sorted(wanted)} in the training data: "
                f"{self.__class__.__name__} will extract nothing."
            )
        self._set_patterns(patterns)
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(
                path / self.FILE_NAME, [list(p) for p in self.patterns]
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LemmaLookupEntityExtractor":
        try:
            with model_storage.read_from(resource) as path:
                raw = rasa.shared.utils.io.read_json_file(path / cls.FILE_NAME)
        except (ValueError, FileNotFoundError):
            raw = []
        return cls(config, model_storage, resource, [tuple(p) for p in raw])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = self.add_extractor_name(self.extract(message))
            if found:
                message.set(
                    ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True
                )
        return messages

    def extract(self, message: Message) -> List[Dict[Text, Any]]:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        lemmas = [morph.lemma(t.text) for t in tokens]
        entities = []
        i = 0
        while i < len(tokens):
            for name, pattern, written in self.patterns:
                n = len(pattern)
                if tuple(lemmas[i : i + n]) == pattern:
                    entities.append(
                        {
                            ENTITY_ATTRIBUTE_TYPE: name,
                            ENTITY_ATTRIBUTE_START: tokens[i].start,
                            ENTITY_ATTRIBUTE_END: tokens[i + n - 1].end,
                            ENTITY_ATTRIBUTE_VALUE: written,
                        }
                    )
                    i += n
                    break
            else:
                i += 1
        return entities
