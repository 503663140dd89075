"""Escalating fallback: rephrase, then topics, then how to reach a human.

The stage is derived from the tracker (how many user messages in a row were
not understood) rather than counted in a slot, so any understood message
resets it without extra bookkeeping. The action only sets ``fallback_stage``;
the rule that follows utters ``utter_fallback``, whose conditional variations
hold the texts for each stage.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

FALLBACK_INTENT = "nlu_fallback"
STAGES = ("rephrase", "topics", "human")


def consecutive_fallbacks(events: List[Dict[Text, Any]]) -> int:
    count = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


def stage_for(misses: int) -> str:
    return STAGES[min(max(misses, 1), len(STAGES)) - 1]


class ActionFallback(Action):
    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return [SlotSet("fallback_stage", stage_for(consecutive_fallbacks(tracker.events)))]
