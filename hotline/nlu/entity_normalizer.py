"""Puts regex-extracted application numbers into their canonical form.

Runs after the extractors so that every consumer of the parse — stories,
forms, the evaluation — sees «AB-987654321» however the citizen typed it
(lower case, a Unicode dash, no dash, Cyrillic letters).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from hotline.entities import normalize_application_number


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class EntityNormalizer(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EntityNormalizer":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = []
            for entity in entities:
                if entity.get("entity") == "application_number":
                    value = normalize_application_number(str(entity.get("value")))
                    if value is None:
                        continue
                    entity["value"] = value
                kept.append(entity)
            if entities:
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
