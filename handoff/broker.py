"""Rasa event broker that feeds the handoff (endpoints.yml)::

    event_broker:
      type: handoff.broker.HandoffEventBroker

Rasa publishes every event of every conversation to it. It

* records each conversation once (handoff_conversations: the containment figure);
* while an operator has a conversation (the bot is paused), stores what the
  citizen writes as the ticket's messages, which the console and the
  operators' Telegram group show at once;
* accepts such messages only from the ticket's own input channel;
* when the citizen asks to return to the bot during that time («вернуться к
  боту» — the bot itself cannot answer while paused), closes the ticket on
  his behalf; the console then resumes the bot.

Database work runs on one background thread, in order, so Rasa's event loop
never waits for it. Messages are masked like the tracker store masks them.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from hotline.status import StoreUnavailable
from handoff import repository as repo
from hotline.privacy import mask_text

logger = logging.getLogger(__name__)

RETURN_INTENT = "return_to_bot"
# Said while paused, these return to the bot whatever the NLU made of them.
_RETURN_TEXTS = re.compile(r"^\W*(/return_to_bot|вернуться к боту|вернуть бота|верните бота|назад к боту|"
                           r"обратно к боту|к боту)\W*$", re.I)


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def is_return_to_bot(intent: Optional[str], text: str) -> bool:
    return intent == RETURN_INTENT or bool(_RETURN_TEXTS.match((text or "").strip().lower().replace("ё", "е")))


class HandoffEventBroker(EventBroker):
    def __init__(self, database_url: Optional[str] = None) -> None:
        self.database_url = database_url
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="handoff-broker")
        self._seen: "OrderedDict[str, None]" = OrderedDict()

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: Optional[asyncio.AbstractEventLoop] = None) -> "HandoffEventBroker":
        kwargs = getattr(broker_config, "kwargs", None) or {}
        return cls(kwargs.get("database_url"))

    def publish(self, event: Dict[Text, Any]) -> None:
        if event.get("event") != "user":
            return
        self._executor.submit(self._safely, dict(event))

    def _safely(self, event: Dict[Text, Any]) -> None:
        try:
            self.handle(event)
        except StoreUnavailable:
            logger.warning("handoff broker: database unavailable, event skipped")
        except Exception:  # never let a broker error reach Rasa
            logger.exception("handoff broker failed on an event")

    def handle(self, event: Dict[Text, Any]) -> None:
        sender = str(event.get("sender_id") or "")
        if not sender:
            return
        metadata = event.get("metadata") or {}
        if metadata.get("is_external"):
            return  # trigger_intent (the console resuming the bot), not the citizen
        if sender not in self._seen:
            repo.register_conversation(sender, event.get("input_channel") or "unknown", url=self.database_url)
            self._seen[sender] = None
            if len(self._seen) > 50_000:
                self._seen.popitem(last=False)
        ticket = repo.open_ticket_for(sender, url=self.database_url)
        if ticket is None or (ticket.offline and ticket.status == "waiting"):
            return  # the bot has the conversation
        if (event.get("input_channel") or "") != ticket.channel:
            # Only the ticket's own channel speaks for its citizen: a message
            # that reached this conversation any other way (the HTTP API, a
            # channel that let a client pick the id) neither shows up as his
            # nor closes his ticket.
            logger.warning("handoff broker: a %s message for a %s ticket ignored",
                           event.get("input_channel") or "unknown", ticket.channel)
            return
        sent_at = event.get("timestamp")
        if isinstance(sent_at, (int, float)) and _utc(sent_at) < (ticket.assigned_at if ticket.offline
                                                                   else ticket.created_at):
            # Published with the turn that created the ticket (the summary):
            # written before the bot was paused, so the bot answered it.
            return
        text = str(event.get("text") or "")
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if is_return_to_bot(intent, text):
            repo.add_message(ticket.id, "system", "Гражданин вернулся к боту", "broker", delivered=True,
                             url=self.database_url)
            repo.request_resume(sender, url=self.database_url)
            return
        if text.strip():
            repo.add_message(ticket.id, "citizen", mask_text(text), "broker", delivered=True, url=self.database_url)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for the events handed in so far (tests)."""
        self._executor.submit(lambda: None).result(timeout=timeout)

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
