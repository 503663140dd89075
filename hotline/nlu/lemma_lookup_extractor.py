"""Entity extraction from lookup tables that tolerates Russian inflection.

Rasa's RegexEntityExtractor matches lookup entries letter for letter, so
«загранпаспорт» in the table never matches «загранпаспорта» in a message.
Here both sides are reduced to pymorphy lemmas and compared token by token,
longest entry first. The entity value is the lookup entry as written, so that
EntitySynonymMapper (which follows in the pipeline) maps it to the canonical
id through the ``synonym:`` blocks of the training data.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import rasa.shared.utils.io
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
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
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from hotline.nlu import morph
from hotline.nlu.json_state import JsonStateComponent

# (entity type, lemma sequence, lookup entry as written)
Pattern = Tuple[Text, Tuple[Text, ...], Text]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class LemmaLookupEntityExtractor(JsonStateComponent, EntityExtractorMixin):
    FILE_NAME = "lemma_lookup.json"

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Only these lookup tables are matched; others stay features only.
        return {"lookup_tables": ["service"]}

    def set_state(self, state: Optional[List[list]]) -> None:
        # Longest first, so «заграничный паспорт» wins over «паспорт».
        self.patterns: List[Pattern] = sorted(
            ((name, tuple(lemmas), written) for name, lemmas, written in state or []),
            key=lambda p: -len(p[1]),
        )

    def train(self, training_data: TrainingData) -> Resource:
        wanted = set(self._config["lookup_tables"])
        patterns = []
        for table in training_data.lookup_tables:
            if table["name"] not in wanted:
                continue
            for element in table["elements"]:
                lemmas = morph.lemmatize_phrase(element)
                if lemmas:
                    patterns.append([table["name"], list(lemmas), element])
        if not patterns:
            rasa.shared.utils.io.raise_warning(
                f"No lookup table named {sorted(wanted)} in the training data: "
                f"{self.__class__.__name__} will extract nothing."
            )
        self.set_state(patterns)
        return self.persist([[n, list(l), w] for n, l, w in self.patterns])

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
