"""Service information: find out which service the citizen named.

The texts live in domain.yml (``utter_service_info``): a general answer when
``service_name`` is empty, one naming the service otherwise.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from hotline.services import display_name


class ActionServiceInfo(Action):
    def name(self) -> Text:
        return "action_service_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        # Only this message's entity counts: a service named earlier in the
        # conversation must not leak into a general question.
        service_id = next(tracker.get_latest_entity_values("service"), None)
        name = display_name(service_id)
        return [SlotSet("service", service_id if name else None), SlotSet("service_name", name)]
