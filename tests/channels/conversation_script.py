"""The scripted conversation every messenger channel must answer as REST does:
a greeting, an FAQ, a button press, a service question. Each step is
("text", what the citizen writes) or ("button", the payload of a button)."""

from typing import Any, Dict, List

SAME_ANSWERS_SCRIPT = [
    ("text", "здравствуйте"),
    ("text", "по какому номеру звонить на горячую линию"),
    ("button", "/ask_service_info"),
    ("text", "какие документы нужны для загранпаспорта"),
]


def bot_turns(events: List[Dict[str, Any]]) -> List[List[str]]:
    """Per user message, the bot's messages: response name if any, else text."""
    turns: List[List[str]] = []
    for event in events:
        if event["event"] == "user":
            turns.append([])
        elif event["event"] == "bot" and turns:
            turns[-1].append((event.get("metadata") or {}).get("utter_action") or event.get("text"))
    return turns


def bot_texts(events: List[Dict[str, Any]]) -> List[List[str]]:
    """Per user message, the bot's texts as a messenger should have delivered them."""
    said: List[List[str]] = []
    for event in events:
        if event["event"] == "user":
            said.append([])
        elif event["event"] == "bot" and said:
            said[-1].append(event["text"].strip())
    return said
