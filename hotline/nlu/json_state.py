"""Base for trainable NLU components whose learnt state is one JSON document.

Rasa's graph components repeat the same create/load/persist plumbing; the
project's components only say how to build their state from training data
and how to use it.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


class JsonStateComponent(GraphComponent):
    FILE_NAME = "state.json"

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 state: Optional[Any] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.set_state(state)

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def set_state(self, state: Optional[Any]) -> None:
        raise NotImplementedError

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "JsonStateComponent":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "JsonStateComponent":
        try:
            with model_storage.read_from(resource) as path:
                state = rasa.shared.utils.io.read_json_file(path / cls.FILE_NAME)
        except (ValueError, FileNotFoundError):
            state = None
        return cls(config, model_storage, resource, state)

    def persist(self, state: Any) -> Resource:
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / self.FILE_NAME, state)
        return self._resource
